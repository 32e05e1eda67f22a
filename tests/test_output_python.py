"""What a Python user and a terminal user see first (issue 20): a count in one line, a
notebook table, conditions as inequalities, the version, suggestions for a mistyped
target, and public functions documented where they are."""

from __future__ import annotations

import html.parser

import pytest

import symcount as sc
from symcount.cli import main
from symcount.spec import load

SEED = "examples/seed_cnn.yaml"


@pytest.fixture(scope="module")
def seed():
    return load(SEED).model.count()


def test_a_count_prints_in_one_line(seed):
    text = repr(seed)
    assert "\n" not in text and len(text) < 140
    assert text.startswith("<Count seed_cnn: 129*classes + ") and text.endswith("parameters; free dims H, W, classes>")
    assert repr(seed.subs(H=256, W=256, classes=9)) == "<Count seed_cnn: 6,029,097 parameters>"


def test_conditions_print_as_inequalities(seed):
    assert repr(seed.conditions) == "(H >= 32, W >= 32)"


def test_a_notebook_shows_a_table(seed):
    class Cells(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cells = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.cells = []

        def handle_endtag(self, tag):
            if tag == "tr":
                self.rows.append(self.cells)

        def handle_data(self, data):
            if self.cells is not None:
                self.cells.append(data)

    parser = Cells()
    parser.feed(seed.subs(H=256, W=256, classes=9)._repr_html_())
    assert parser.rows[1] == ["conv2d", "Conv2D", "(None, 256, 256, 32)", "896"]
    assert ["Total params", "6,029,097"] in parser.rows
    assert len(parser.rows) == 1 + len(seed.layers) + 4


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"symcount {sc.__version__}"


@pytest.mark.parametrize("target, suggestion", [
    ("resnet18", "Did you mean torchvision:resnet18?"),
    ("ResNet50", "Did you mean keras:ResNet50 or torchvision:resnet50?"),
    ("keras:ResNet5O", "Did you mean keras:ResNet50?"),
])
def test_a_mistyped_target_gets_a_suggestion(target, suggestion, capsys):
    assert main(["count", target]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(suggestion)


@pytest.mark.parametrize("name", ["from_torch", "from_keras", "from_hf"])
def test_public_importers_carry_their_own_docstrings(name):
    doc = getattr(sc, name).__doc__
    assert doc and "importers._" not in doc and "See :func:" not in doc and len(doc) > 200


def test_seq_len_follows_the_positions_it_defaults_to(capsys):
    assert main(["count", "transformers:GPT2Model", "--set", "n_positions=77"]) == 0
    values = next(line for line in capsys.readouterr().out.splitlines() if "values:" in line)
    assert "n_positions=77" in values and "seq_len=77" in values
    # given, it stays as given
    assert main(["count", "transformers:GPT2Model", "--set", "n_positions=77", "--set", "seq_len=50"]) == 0
    assert "seq_len=50" in capsys.readouterr().out
