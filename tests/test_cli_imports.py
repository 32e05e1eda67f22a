"""``symcount count`` imports what counting needs and nothing more: no report renderer,
no scaling (NumPy), no zoo family the target does not name, no framework. Start-up time
is measured by ``benchmarks/run.py``; this keeps the imports that decide it lazy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NEVER = ("numpy", "torch", "keras", "matplotlib", "symcount.scaling",
         "symcount.report.latex", "symcount.report.markdown", "symcount.report.text", "symcount.importers")


def modules_after(*argv: str) -> set[str]:
    """The modules a ``symcount`` run in a new process has imported when it ends."""
    code = ("import json, sys\n"
            "from symcount.cli import main\n"
            f"status = main({list(argv)!r})\n"
            "print(json.dumps([status, sorted(sys.modules)]), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    status, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return set(modules)


def test_counting_a_file_imports_no_renderer_scaling_or_zoo_family():
    modules = modules_after("count", "examples/seed_cnn.yaml", "--set", "classes=9")
    assert not {m for m in modules for never in NEVER if m == never or m.startswith(never + ".")}
    assert not {m for m in modules if m.startswith(("symcount.zoo.keras", "symcount.zoo.torchvision",
                                                    "symcount.zoo.transformers"))}


@pytest.mark.parametrize("target, family", [("transformers:GPT2Model", "transformers"),
                                            ("torchvision:resnet18", "torchvision")])
def test_counting_a_zoo_entry_imports_its_family_only(target, family):
    modules = modules_after("count", target)
    assert f"symcount.zoo.{family}" in modules
    others = {"keras", "torchvision", "transformers"} - {family}
    assert not {m for m in modules for other in others if m.startswith(f"symcount.zoo.{other}")}
    assert not {m for m in modules for never in NEVER if m == never or m.startswith(never + ".")}
