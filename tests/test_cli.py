"""The `symcount` command as a user runs it: a real subprocess, one-line errors, exit 2."""

import json
import os
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symcount", *args], capture_output=True, text=True, cwd=cwd)


def test_count_json_has_exact_integers_and_formulas(examples):
    out = run("count", str(examples / "seed_cnn.yaml"), "--set", "H=256", "--set", "W=256", "--set", "classes=9", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["model"] == "seed_cnn"
    assert data["dims"] == {"H": 256, "W": 256, "classes": 9}
    values = data["values"]
    assert {k: values[k] for k in ("total", "trainable", "non_trainable")} == \
        {"total": 6029097, "trainable": 6029097, "non_trainable": 0}
    assert values["flops"] == 2 * values["macs"] and values["training_flops"] > 2 * values["flops"]
    assert "classes" in data["total"] and "floor" in data["total"] and "H*W" in data["macs"]
    first = data["layers"][0]
    # by hand: a 3×3×3 kernel at each of 256·256 positions for 32 filters
    assert first == {"name": "conv2d", "type": "Conv2D", "output_shape": [None, "256", "256", "32"],
                     "params": "896", "params_value": 896,
                     "weights": {"kernel": ["3", "3", "3", "32"], "bias": ["32"]},
                     "repeat": "1", "macs": "864*H*W", "macs_value": 256 * 256 * 3 * 3 * 3 * 32}
    dense = next(layer for layer in data["layers"] if layer["name"] == "dense")
    assert dense["params_value"] == 5915136


def test_count_json_without_a_value_keeps_the_formula(examples):
    data = json.loads(run("count", str(examples / "seed_cnn.yaml"), "--json").stdout)
    assert data["values"] is None and data["dims"]["classes"] is None
    assert data["layers"][-1]["params"] == "129*classes" and data["layers"][-1]["params_value"] is None


def test_summary_prints_keras_style_table_with_both_columns(examples):
    out = subprocess.run([sys.executable, "-m", "symcount", "summary", str(examples / "seed_cnn.yaml"), "--set",
                          "classes=9"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert out.returncode == 0, out.stderr
    assert 'Model: "seed_cnn"' in out.stdout
    assert "conv2d (Conv2D)" in out.stdout and "(None, 84, 84, 32)" in out.stdout
    assert "5,915,136" in out.stdout and "Total params: " in out.stdout and "6,029,097" in out.stdout
    assert "129*classes" in out.stdout  # the formula column


def test_console_script_is_installed(examples):
    out = subprocess.run(["symcount", "count", str(examples / "mlp.yaml")], capture_output=True, text=True)
    assert out.returncode == 0 and "209" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["--set", "classes=0"], "classes must be a positive integer"),
    (["--set", "classes=abc"], "must be a positive integer. Received: 'abc'"),
    (["--set", "classes="], "missing value for classes"),
    (["--set", "classes"], "expected NAME=VALUE"),
    (["--set", "depth=3"], "unknown dim 'depth'. The model's dims are: H, W, classes"),
    # by hand: 20 → 18 → pool 6 → 4 → pool 2 → a 3×3 valid conv on 2 fails first
    (["--set", "H=20", "--set", "classes=9"], r"conv2d_5 \(Conv2D\): the closed form needs H >= 26"),
    (["--set", "H=30", "--set", "classes=9"], r"max_pooling2d_2 \(MaxPooling2D\): the closed form needs H >= 32"),
])
def test_bad_values_give_one_line_and_exit_2(examples, args, message):
    import re

    out = run("count", str(examples / "seed_cnn.yaml"), *args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert re.search(message, lines[0]), lines[0]


def test_bad_files_give_one_line_and_exit_2(tmp_path):
    (tmp_path / "conv_on_2d.yaml").write_text("input: [10, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n")
    (tmp_path / "too_big.yaml").write_text("input: [4, 4, 3]\nlayers:\n  - MaxPooling2D: {pool_size: 5}\n")
    (tmp_path / "pwned.yaml").write_text("input: [4]\nlayers:\n  - Dense: {units: \"__import__('os').system('touch PWNED')\"}\n")
    cases = {
        "conv_on_2d.yaml": r"conv_on_2d › conv2d \(Conv2D, layer 1\): expected an input of rank 4 .* Received: input shape=\(None, 10, 3\)",
        "too_big.yaml": r"max_pooling2d \(MaxPooling2D, layer 1\): Computed output size would be zero or negative",
        "pwned.yaml": r"layers\[0\] \(Dense\) units: unexpected character",
        "absent.yaml": "no such architecture file",
    }
    import re

    for name, message in cases.items():
        out = run("count", str(tmp_path / name), cwd=tmp_path)
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and re.search(message, lines[0]), (name, lines)
    assert not (tmp_path / "PWNED").exists()
