"""Every ``keras.applications`` model that builds on the torch backend, imported the three
ways a user does — the live model, its ``.keras`` file in a process without Keras, and
``symcount count model.keras`` — at configuration A (96×96 input, 10 classes), and
evaluated there and, through ``subs``, at configuration B (128×128, 1000 classes), against
Keras's own ``count_params()`` and ``FlopCounterMode`` over the forward pass (oneDNN off)
of the model Keras builds at each. Exact: a difference is a wrong rule.

Also: every layer class the applications use has a rule (``symcount.keras``), so none of
them falls back to an opaque layer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

import symcount as sc  # noqa: E402
import symcount.keras as sk  # noqa: E402
from symcount.cli import main  # noqa: E402
from symcount.importers import SymcountImportWarning  # noqa: E402

pytestmark = pytest.mark.oracle

ROOT = Path(__file__).resolve().parents[2]

#: the smallest member of every family keras.applications has (NASNet does not build on torch)
APPS = ("ConvNeXtTiny", "EfficientNetB0", "EfficientNetV2B0", "InceptionV3", "InceptionResNetV2", "MobileNet",
        "MobileNetV2", "MobileNetV3Small", "ResNet50", "ResNet50V2", "DenseNet121", "Xception", "VGG16")
A = {"H": 96, "W": 96, "classes": 10}
B = {"H": 128, "W": 128, "classes": 1000}


def build(app, at):
    return getattr(keras.applications, app)(weights=None, input_shape=(at["H"], at["W"], 3), classes=at["classes"])


def flops(model, at) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, at["H"], at["W"], 3)
    with torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x, training=False)
    return counter.get_total_flops()


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Per application: the live model at A, its file, and (params, FLOPs) at A and at B."""
    folder = tmp_path_factory.mktemp("applications")
    out = {}
    for app in APPS:
        model = build(app, A)
        other = build(app, B)
        model.save(folder / f"{app}.keras")
        out[app] = {"model": model, "file": folder / f"{app}.keras",
                    "A": (model.count_params(), flops(model, A)), "B": (other.count_params(), flops(other, B))}
        keras.backend.clear_session()
    return out


def numbers(count, at):
    c = count.subs(**{k: v for k, v in at.items() if k in {d.name for d in count.free_dims}})
    return int(c.total), int(c.flops)


@pytest.mark.parametrize("app", APPS)
def test_live_model_at_both_configurations(app, references):
    ref = references[app]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymcountImportWarning)  # no opaque layer, the formula checked
        model = sc.from_keras(ref["model"], dims=A)
    count = model.count()
    assert {d.name for d in count.free_dims} == set(A)
    assert model.checked_at is not None  # Keras rebuilt it at a second configuration
    assert (numbers(count, A), numbers(count, B)) == (ref["A"], ref["B"])


FILES_SCRIPT = r"""
import json, sys
import symcount as sc
A = json.loads(sys.argv[1]); B = json.loads(sys.argv[2])
out = {}
for path in sys.argv[3:]:
    count = sc.from_keras(path, dims=A).count()
    at = lambda v: count.subs(**{k: x for k, x in v.items() if k in {d.name for d in count.free_dims}})
    out[path] = [[int(at(v).total), int(at(v).flops)] for v in (A, B)]
out["keras"] = "keras" in sys.modules
print(json.dumps(out))
"""


def test_files_in_a_process_without_keras(references):
    paths = [str(references[app]["file"]) for app in APPS]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", FILES_SCRIPT, json.dumps(A), json.dumps(B), *paths],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out.pop("keras") is False
    for app in APPS:
        ref = references[app]
        assert [tuple(x) for x in out[str(ref["file"])]] == [ref["A"], ref["B"]], app


@pytest.mark.parametrize("app", APPS)
def test_the_cli_counts_the_file(app, references):
    ref = references[app]
    dims = ",".join(f"{k}={v}" for k, v in A.items())
    for at, expected in ((A, ref["A"]), (B, ref["B"])):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(["count", str(ref["file"]), "--dims", dims, "--json",
                           *[f"--set={k}={v}" for k, v in at.items()]])
        assert status == 0
        data = json.loads(out.getvalue())
        assert (data["values"]["total"], data["values"]["flops"]) == expected, (app, at)


def test_every_layer_class_the_applications_use_has_a_rule(references):
    used = set()

    def visit(model):
        for layer in model.layers:
            used.add(type(layer).__name__)
            if hasattr(layer, "layers"):
                visit(layer)

    for app in APPS:
        visit(references[app]["model"])
    known = set(sk.__all__) | {"InputLayer", "Functional", "Sequential"}
    assert sorted(used - known) == []
