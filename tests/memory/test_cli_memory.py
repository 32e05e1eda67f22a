"""``symcount memory``: what a user runs, its formats and its errors (one line, status 2)."""

import json

import pytest

from symcount.cli import main

TARGET = "examples/torch_cnn.yaml"


def run(capsys, *argv):
    status = main(["memory", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_rows_and_units(capsys, examples):
    """torch_cnn at its defaults: 3·3·3·16 + 16 = 448 conv, 2·16 = 32 batch-norm,
    16·16·16·10 + 10 = 40,970 linear: 41,450 parameters; the running statistics are
    buffers (2·16 + num_batches_tracked = 33), held but not trained."""
    status, out, err = run(capsys, str(examples / "torch_cnn.yaml"), "--dtype", "fp32", "--optimizer", "sgd")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "torch_cnn: memory per device (float32, training, sgd, batch 1, cuda)"
    assert "= 41,450 parameters" in out
    weights = next(line for line in lines if line.strip().startswith("weights:"))
    assert f"{(41_450 + 33) * 4:,} bytes" in weights
    gradients = next(line for line in lines if line.strip().startswith("gradients:"))
    assert "4*P" in gradients and f"{41_450 * 4:,} bytes" in gradients


def test_json_csv_and_latex_agree(capsys, examples):
    target = str(examples / "torch_cnn.yaml")
    _, out, _ = run(capsys, target, "--dtype", "bf16", "--batch-size", "8", "--json")
    data = json.loads(out)
    rows = data["per_device"]
    assert rows["total"]["bytes"] == sum(rows[k]["bytes"] for k in ("weights", "gradients", "optimizer",
                                                                     "activations", "KV cache"))
    assert rows["weights"]["bytes"] == (41_450 + 33) * 2
    assert data["options"]["batch_size"] == 8 and data["not_counted"] == []
    _, out, _ = run(capsys, target, "--dtype", "bf16", "--batch-size", "8", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "row,formula,bytes"
    assert {line.split(",")[0]: int(line.rsplit(",", 1)[1]) for line in lines[1:]} == \
        {k: v["bytes"] for k, v in rows.items()}
    _, out, _ = run(capsys, target, "--dtype", "bf16", "--batch-size", "8", "--latex")
    assert out.startswith("\\begin{align*}") and "M_{\\mathrm{weights}}" in out
    assert f"{rows['total']['bytes']:,}".replace(",", "{,}") in out


@pytest.mark.parametrize("argv, culprit", [
    (["--tp", "2"], "no layer of this model is tensor-parallel"),
    (["--batch-size", "x"], "--batch-size"),
    (["--batch-size", "0"], "--batch-size"),
    (["--tp", "1" * 40], "--tp"),
    (["--zero", "2"], "needs dp > 1"),
    (["--sp"], "needs tp > 1"),
    (["--dtype", "float12"], "unknown dtype"),
    (["--optimizer", "lion"], "unknown optimizer"),
    (["--seq-len", "128"], "no sequence-length dim"),
    (["--inference"], "no layer of this model keeps a key/value cache"),
    (["--pp", "2"], "has none"),
])
def test_errors_are_one_line_and_status_2(capsys, examples, argv, culprit):
    status, out, err = run(capsys, str(examples / "torch_cnn.yaml"), *argv)
    assert status == 2
    assert out == ""
    assert culprit in err and len(err.strip().splitlines()) == 1


def test_parser_errors_exit_2(capsys, examples):
    with pytest.raises(SystemExit) as exc:
        main(["memory", str(examples / "torch_cnn.yaml"), "--recompute", "most"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
