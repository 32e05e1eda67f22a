"""The notebook-ready examples (examples/notebook/) are what symcount writes today, and
they carry the frameworks' numbers."""

import importlib.util
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook"


def generated() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("notebook_make", NOTEBOOK / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.contents()


class _Balance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open one."""

    VOID = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()


def test_notebook_examples_are_current():
    for name, text in generated().items():
        assert (NOTEBOOK / name).read_text(encoding="utf-8") == text, \
            f"examples/notebook/{name} is stale: run python examples/notebook/make.py"


def test_notebook_examples_carry_the_frameworks_numbers():
    files = generated()
    # transformers.GPT2Model(GPT2Config()): sum(p.numel()) == 124,439,808
    assert "124{,}439{,}808" in files["gpt2.md"]
    assert "| $L$ | `n_layer` | 12 |" in files["gpt2.md"]  # the table of notation
    # keras: the seed CNN at 256x256 and 9 classes has count_params() == 6,029,097
    assert "<td style='text-align:right'>6,029,097</td>" in files["seed_cnn.html"]
    checker = _Balance()
    checker.feed(files["seed_cnn.html"])
    assert checker.open == []
