"""``--format csv``: one header row, formula and value columns, readable by the csv module."""

import csv
import io

import pytest

from symcount.cli import main


def run_csv(capsys, monkeypatch, *argv):
    monkeypatch.setenv("COLUMNS", "80")  # CSV ignores the width
    assert main(list(argv)) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_count_csv_gives_each_total_as_formula_and_value(capsys, monkeypatch, examples):
    rows = run_csv(capsys, monkeypatch, "count", str(examples / "seed_cnn.yaml"), "--set", "classes=9", "--format", "csv")
    by_name = {r["quantity"]: r for r in rows}
    assert list(by_name) == ["total", "trainable", "non_trainable", "macs", "flops", "training_flops"]
    # Keras's count_params() of the seed CNN at 256x256 and 9 classes
    assert by_name["total"]["value"] == "6029097"
    assert "129*classes" in by_name["total"]["formula"] and "floor((H - 32)/12)" in by_name["total"]["formula"]
    assert by_name["non_trainable"] == {"quantity": "non_trainable", "formula": "0", "value": "0"}


def test_summary_csv_has_one_row_per_layer_with_formula_and_value(capsys, monkeypatch, examples):
    rows = run_csv(capsys, monkeypatch, "summary", str(examples / "seed_cnn.yaml"), "--set", "classes=9",
                   "--format", "csv")
    assert [r["layer"] for r in rows][:2] == ["conv2d", "conv2d_1"]
    last = rows[-1]
    # Dense(9) on 128 features: 128·9 weights + 9 biases; 128·9 multiply-accumulates
    assert (last["params_formula"], last["params"], last["macs_formula"], last["macs"]) == \
           ("129*classes", str(128 * 9 + 9), "128*classes", str(128 * 9))
    assert last["output_shape"] == "(None, 9)"


def test_summary_csv_folds_blocks_at_depth(capsys, monkeypatch):
    rows = run_csv(capsys, monkeypatch, "summary", "torchvision:resnet18", "--depth", "1", "--format", "csv")
    names = [r["layer"] for r in rows]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"]
    # torchvision's resnet18: sum(p.numel() for p in model.parameters()) == 11,689,512
    assert sum(int(r["params"]) for r in rows) == 11_689_512


def test_count_csv_lists_blocks_at_depth(capsys, monkeypatch):
    rows = run_csv(capsys, monkeypatch, "count", "torchvision:resnet18", "--depth", "1", "--format", "csv")
    blocks = {r["quantity"]: int(r["value"]) for r in rows if r["quantity"].startswith("params:")}
    assert sum(blocks.values()) == 11_689_512
    assert blocks["params:layer1"] == 2 * (2 * 3 * 3 * 64 * 64 + 2 * 2 * 64)


@pytest.mark.parametrize("depth", ["0", "-1"])
def test_a_depth_below_one_is_one_line_error(capsys, depth):
    assert main(["summary", "torchvision:resnet18", "--depth", depth]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "depth must be a whole number from 1 to 64" in err[0]


def test_markdown_summary_folds_blocks_at_depth(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["summary", "torchvision:resnet18", "--depth", "1", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    # layer1 of ResNet-18: two basic blocks of two 3x3 convolutions (64 -> 64) and two batch norms
    assert f"| `layer1` (block of 14 layers) | (None, 64, 56, 56) | {2 * (2 * 36864 + 2 * 128):,} |" in out
    table = out.split("**Total params:**")[0]
    assert "`layer1.0.conv1`" not in table  # folded (the derivations below still list every layer)
