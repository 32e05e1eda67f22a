"""Golden outputs of the table-printing commands, at ``COLUMNS`` 80 and 120, blocks folded
at ``--depth`` 1 and 2: each output is compared exactly with the file stored under
``tests/golden/`` (reviewed by hand when written), and every line is at most ``COLUMNS``
wide. The totals in them are also checked against the frameworks' published counts
(torchvision's ResNet-18: 11,689,512 parameters; Hugging Face's GPT-2: 124,439,808), so
a golden file cannot silently store a wrong number.

To rewrite the files after an intended change of layout:
``SYMCOUNT_WRITE_GOLDEN=1 python -m pytest tests/test_output_golden.py`` — then read the diff.
"""

import os
from pathlib import Path

import pytest

from symcount.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOT = GOLDEN.parent.parent

#: target, its published parameter count as the output prints it
TARGETS = {"torchvision:resnet18": "11,689,512", "transformers:GPT2Model": "124,439,808"}
CASES = [(command, target, columns, depth)
         for command in ("count", "summary") for target in TARGETS for columns in (80, 120) for depth in (1, 2)]


def run(monkeypatch, capsys, columns: int, *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.chdir(ROOT)
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def check_golden(name: str, out: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SYMCOUNT_WRITE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: write it with SYMCOUNT_WRITE_GOLDEN=1 and review it"
    assert out == path.read_text(encoding="utf-8")


def assert_fits(out: str, columns: int) -> None:
    too_wide = [line for line in out.splitlines() if len(line) > columns]
    assert not too_wide, f"{len(too_wide)} lines wider than {columns}: {too_wide[0]!r}"


@pytest.mark.parametrize("command, target, columns, depth", CASES)
def test_output_matches_golden_and_fits(monkeypatch, capsys, command, target, columns, depth):
    out = run(monkeypatch, capsys, columns, command, target, "--depth", str(depth))
    assert_fits(out, columns)
    assert TARGETS[target] in out
    check_golden(f"{command}_{target.replace(':', '_')}_c{columns}_d{depth}.txt", out)


@pytest.mark.parametrize("columns", (80, 120))
def test_full_summary_of_a_file_matches_golden_and_fits(monkeypatch, capsys, columns):
    out = run(monkeypatch, capsys, columns, "summary", "examples/seed_cnn.yaml", "--set", "classes=9")
    assert_fits(out, columns)
    assert "6,029,097" in out  # Keras's count_params() of the seed CNN (tests/keras check it)
    check_golden(f"summary_seed_cnn_c{columns}.txt", out)


@pytest.mark.parametrize("columns", (40, 60, 80, 100, 120, 200))
def test_every_line_fits_at_any_width(monkeypatch, capsys, columns):
    for argv in (("summary", "transformers:T5Model"), ("count", "transformers:T5Model", "--depth", "1"),
                 ("summary", "examples/seed_cnn.yaml")):
        assert_fits(run(monkeypatch, capsys, columns, *argv), columns)


#: the other commands whose output is a table: sweep and shares (no --depth: they have no blocks to fold)
TABLES = {"sweep": ("sweep", "transformers:GPT2Model", "--range", "n_embd=256:1024:256", "--range", "n_head=4,12"),
          "shares": ("shares", "transformers:GPT2Model", "--by", "type", "--grow", "n_embd,n_layer"),
          "memory": ("memory", "torchvision:resnet18", "--dtype", "bf16", "--batch-size", "32", "--dp", "8",
                     "--zero", "2")}


@pytest.mark.parametrize("columns", (80, 120))
@pytest.mark.parametrize("name", TABLES)
def test_other_tables_match_golden_and_fit(monkeypatch, capsys, name, columns):
    out = run(monkeypatch, capsys, columns, *TABLES[name])
    assert_fits(out, columns)
    check_golden(f"{name}_c{columns}.txt", out)


@pytest.mark.parametrize("columns", (80, 120))
def test_zoo_listing_fits(monkeypatch, capsys, columns):
    out = run(monkeypatch, capsys, columns, "zoo")
    assert_fits(out, columns)
    assert "transformers:LlamaForCausalLM" in out and "keras:EfficientNetB7" in out


def test_folding_at_depth_1_keeps_the_totals_of_the_unfolded_table(monkeypatch, capsys):
    full = run(monkeypatch, capsys, 120, "summary", "torchvision:resnet18")
    folded = run(monkeypatch, capsys, 120, "summary", "torchvision:resnet18", "--depth", "1")
    assert full.count("│ layer1.") > 10 and "layer1 (block of " in folded and "│ layer1." not in folded
    assert full.split(" Total params:")[1] == folded.split(" Total params:")[1]
    # layer1 of ResNet-18: two basic blocks of two 3x3 convolutions (64 -> 64, no bias)
    # and two batch norms (2 x 64 weights, plus 2 x 64 buffers that are not parameters)
    layer1 = 2 * (2 * (3 * 3 * 64 * 64) + 2 * (2 * 64))
    assert f"{layer1:,}" in folded.split("layer1 (block of ")[1].splitlines()[0]
