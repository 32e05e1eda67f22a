"""Hostile input gets one line and status 2, nothing hangs, nothing is lost (issue 18).

Each case runs ``symcount`` in a subprocess under a time limit and a memory cap
(``resource.setrlimit``), and must end with status 2 and one ``error:`` line naming the
file or argument and the limit it broke.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_cnn.yaml"
MEMORY = 2 * 1024 ** 3


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def symcount(*args, timeout=60):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "symcount", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout, preexec_fn=_capped)


def one_line(done) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    assert done.stdout == ""
    return lines[0]


BOMB = "\n".join([f'{chr(97 + i)}: &{chr(97 + i)} [{", ".join([f"*{chr(96 + i)}"] * 9)}]' if i else
                  'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]' for i in range(9)]) + "\n"


@pytest.mark.parametrize("name, text, says", [
    ("bomb.yaml", BOMB, "more than 200,000 values once its aliases are expanded"),
    ("aliases.yaml", "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n", "more than 100 YAML aliases"),
    ("twice.yaml", "name: one\nname: two\nlayers: []\n", "line 2: the key 'name' is given twice"),
    ("twice.json", '{"name": "one", "name": "two"}', "the key 'name' is given twice"),
    ("deep.yaml", "x: " + "[" * 200 + "]" * 200 + "\n", "nested more than 64 levels deep"),
    ("deep.json", "[" * 5000 + "]" * 5000, "nested more than 64 levels deep"),
    ("big.yaml", "# " + "x" * (5 * 1024 * 1024) + "\n", "an architecture file is at most 4,194,304"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_a_hostile_spec_file_is_one_line(tmp_path, name, text, says):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    line = one_line(symcount("count", path))
    assert str(path) in line and says in line


@pytest.mark.parametrize("value, says", [
    ("²", "must be a positive integer. Received: '²' (digits 0-9 only)"),
    ("１２", "must be a positive integer. Received: '１２' (digits 0-9 only)"),  # full-width digits are not read as 12
    ("9" * 5000, "5,000 characters; a value has at most 40 digits"),
    ("-5", "must be a positive integer"),
], ids=["superscript", "full-width", "5000-digits", "negative"])
def test_a_hostile_set_value_is_one_line(value, says):
    line = one_line(symcount("count", SEED, "--set", f"classes={value}"))
    assert says in line


def test_a_keras_archive_whose_config_inflates_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", " " * (64 * 1024 * 1024) + json.dumps({"class_name": "Sequential"}))
        archive.writestr("metadata.json", "{}")
    assert path.stat().st_size < 1024 * 1024
    line = one_line(symcount("count", path))
    assert "config.json is 67,108,892 bytes unpacked; at most 16,777,216" in line


def test_a_size_that_is_a_fraction_of_a_dim_must_be_whole(tmp_path):
    spec = tmp_path / "third.yaml"
    spec.write_text("name: third\ndims: {H: 22}\ninput: [H]\nlayers:\n  - Dense: {units: \"H/3\"}\n", encoding="utf-8")
    line = one_line(symcount("count", spec))  # 22/3 units is no layer: not "506/3 parameters" and status 0
    assert "needs H % 3 == 0, which these values break" in line
    done = symcount("count", spec, "--set", "H=21")
    assert done.returncode == 0 and "= 154" in done.stdout


@pytest.mark.parametrize("args, says", [
    (["solve", "transformers:GPT2Model", "--params", "1", "--for", "n_embd"],
     "solve: unreachable: no valid value has a total at most 1; the smallest, n_embd=12, gives 638,004"),
    (["shares", "transformers:GPT2Model", "--grow", "nope"], "--grow nope: not a dim of GPT2Model"),
    (["scale", "transformers:GPT2Model", "--grow", "n_emb"], "--grow n_emb: not a dim of GPT2Model. Did you mean n_embd?"),
], ids=["unreachable-budget", "shares-unknown-dim", "scale-misspelt-dim"])
def test_a_question_without_an_answer_is_not_answered(args, says):
    assert says in one_line(symcount(*args))


@pytest.mark.parametrize("units, says", [
    ("n**n**n**n**n**n", "the exponent n holds a dim: a size's exponent must be a number"),
    ("2**n", "the exponent n holds a dim"),
    ("n**65", "exponent 65 is too large for a size"),
    ("(" * 60 + "n" + ")" * 60, "parentheses nested more than 50 deep"),
    ("n+" * 6000 + "n", "an expression of 12,001 characters: at most 10,000"),
    ("9" * 40, "integer literal of 40 digits is too long for a size"),
], ids=["tower", "dim-exponent", "big-exponent", "deep", "long", "digits"])
def test_a_hostile_size_expression_is_one_line(tmp_path, units, says):
    spec = tmp_path / "expr.yaml"
    spec.write_text(f"name: e\ndims: {{n: 3}}\ninput: [n]\nlayers:\n  - Dense: {{units: \"{units}\"}}\n",
                    encoding="utf-8")
    line = one_line(symcount("count", spec, timeout=30))
    assert says in line


@pytest.mark.parametrize("spec, says", [
    ("n_embd=1:100000000:1", "n_embd: 100,000,000 points is more than the 1,000,000 a sweep computes"),
    ("n_embd=16:100000:1.0000001x", "points is more than the 1,000,000 a sweep computes"),
], ids=["arithmetic", "geometric"])
def test_a_sweep_too_large_is_refused_before_it_is_built(spec, says):
    assert says in one_line(symcount("sweep", "transformers:GPT2Model", "--range", spec, timeout=30))


def test_a_link_out_of_its_folder_is_refused(tmp_path):
    link = tmp_path / "spec.yaml"
    link.symlink_to("/etc/hostname" if Path("/etc/hostname").exists() else "/etc/passwd")
    line = one_line(symcount("count", link))
    assert "outside the link's folder; refused" in line


def test_two_keras_layers_of_one_name_are_refused(tmp_path):
    model = {"class_name": "Functional", "config": {
        "name": "m", "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]],
        "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [None, 4]}},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                          "config": {"shape": [None, 4], "keras_history": ["x", 0, 0]}}]}]},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 5},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                          "config": {"shape": [None, 4], "keras_history": ["x", 0, 0]}}]}]},
        ]}}
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    assert "two layers are named 'd'" in one_line(symcount("count", path))
