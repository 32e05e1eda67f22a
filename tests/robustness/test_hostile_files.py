"""Hostile input gets one line and status 2, nothing hangs, nothing is lost (issue 18): the
issue's own cases.

The cases run together in one capped subprocess (:mod:`tests.robustness.runner`: a memory
cap, a timer per case); each must end with status 2 and one ``error:`` line naming the file
or argument and the limit it broke (or, where the issue's answer was wrong, the right one).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from .batch import Case, check, run

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "examples" / "seed_cnn.yaml")
D = "{dir}"
BOMB = "\n".join([f'{chr(97 + i)}: &{chr(97 + i)} [{", ".join([f"*{chr(96 + i)}"] * 9)}]' if i else
                  'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]' for i in range(9)]) + "\n"


def _expression(units: str) -> str:
    return f"name: e\ndims: {{n: 3}}\ninput: [n]\nlayers:\n  - Dense: {{units: \"{units}\"}}\n"


def _twice() -> str:
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "keras_history": ["x", 0, 0]}}
    return json.dumps({"class_name": "Functional", "config": {
        "name": "m", "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]],
        "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [None, 4]}},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3}, "inbound_nodes": [{"args": [tensor]}]},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 5}, "inbound_nodes": [{"args": [tensor]}]},
        ]}})


def _inflating_archive(folder: Path) -> None:
    with zipfile.ZipFile(folder / "bomb.keras", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", " " * (64 * 1024 * 1024) + json.dumps({"class_name": "Sequential"}))
        archive.writestr("metadata.json", "{}")


CASES = [
    # files
    Case("bomb", ["count", f"{D}/bomb.yaml"], error=(f"{D}/bomb.yaml", "more than 200,000 values"),
         files={"bomb.yaml": BOMB}),
    Case("aliases", ["count", f"{D}/aliases.yaml"], error=(f"{D}/aliases.yaml", "more than 100 YAML aliases"),
         files={"aliases.yaml": "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n"}),
    Case("twice-yaml", ["count", f"{D}/twice.yaml"], error=(f"{D}/twice.yaml", "line 2: the key 'name' is given twice"),
         files={"twice.yaml": "name: one\nname: two\nlayers: []\n"}),
    Case("twice-json", ["count", f"{D}/twice.json"], error=(f"{D}/twice.json", "the key 'name' is given twice"),
         files={"twice.json": '{"name": "one", "name": "two"}'}),
    Case("deep-yaml", ["count", f"{D}/deep.yaml"], error=(f"{D}/deep.yaml", "nested more than 64 levels deep"),
         files={"deep.yaml": "x: " + "[" * 200 + "]" * 200 + "\n"}),
    Case("deep-json", ["count", f"{D}/deep.json"], error=(f"{D}/deep.json", "nested more than 64 levels deep"),
         files={"deep.json": "[" * 5000 + "]" * 5000}),
    Case("big", ["count", f"{D}/big.yaml"], error=(f"{D}/big.yaml", "an architecture file is at most 4,194,304"),
         files={"big.yaml": "# " + "x" * (5 * 1024 * 1024) + "\n"}),
    Case("inflating-archive", ["count", f"{D}/bomb.keras"],
         error=(f"{D}/bomb.keras", "config.json is 67,108,892 bytes unpacked; at most 16,777,216")),
    Case("link-out", ["count", f"{D}/link.yaml"], error=(f"{D}/link.yaml", "outside the link's folder; refused")),
    Case("keras-twice-named", ["count", f"{D}/twice-named.json"],
         error=(f"{D}/twice-named.json", "two layers are named 'd'"), files={"twice-named.json": _twice()}),
    # --set values
    Case("set-superscript", ["count", SEED, "--set", "classes=²"],
         error=("must be a positive integer. Received: '²' (digits 0-9 only)",)),
    Case("set-full-width", ["count", SEED, "--set", "classes=１２"],
         error=("must be a positive integer. Received: '１２' (digits 0-9 only)",)),  # not read as 12
    Case("set-5000-digits", ["count", SEED, "--set", "classes=" + "9" * 5000],
         error=("5,000 characters; a value has at most 40 digits",)),
    Case("set-negative", ["count", SEED, "--set", "classes=-5"], error=("must be a positive integer",)),
    # a size that is a fraction of a dim must be whole: not "506/3 parameters" and status 0
    Case("third-22", ["count", f"{D}/third.yaml"], error=("needs H % 3 == 0, which these values break",),
         files={"third.yaml": "name: third\ndims: {H: 22}\ninput: [H]\nlayers:\n  - Dense: {units: \"H/3\"}\n"}),
    Case("third-21", ["count", f"{D}/third.yaml", "--set", "H=21", "--json"], values={"total": 22 * 7}),
    # questions without an answer are not answered
    Case("unreachable-budget", ["solve", "transformers:GPT2Model", "--params", "1", "--for", "n_embd"],
         error=("solve: unreachable: no valid value has a total at most 1; the smallest, n_embd=12, gives 638,004",)),
    Case("shares-unknown-dim", ["shares", "transformers:GPT2Model", "--grow", "nope"],
         error=("--grow nope: not a dim of GPT2Model",)),
    Case("scale-misspelt-dim", ["scale", "transformers:GPT2Model", "--grow", "n_emb"],
         error=("--grow n_emb: not a dim of GPT2Model. Did you mean n_embd?",)),
    # size expressions
    Case("tower", ["count", f"{D}/tower.yaml"], error=("the exponent n holds a dim: a size's exponent must be a number",),
         files={"tower.yaml": _expression("n**n**n**n**n**n")}),
    Case("dim-exponent", ["count", f"{D}/dimexp.yaml"], error=("the exponent n holds a dim",),
         files={"dimexp.yaml": _expression("2**n")}),
    Case("big-exponent", ["count", f"{D}/bigexp.yaml"], error=("exponent 65 is too large for a size",),
         files={"bigexp.yaml": _expression("n**65")}),
    Case("deep-parentheses", ["count", f"{D}/parens.yaml"], error=("parentheses nested more than 50 deep",),
         files={"parens.yaml": _expression("(" * 60 + "n" + ")" * 60)}),
    Case("long-expression", ["count", f"{D}/long.yaml"], error=("an expression of 12,001 characters: at most 10,000",),
         files={"long.yaml": _expression("n+" * 6000 + "n")}),
    Case("long-literal", ["count", f"{D}/digits.yaml"], error=("integer literal of 40 digits is too long for a size",),
         files={"digits.yaml": _expression("9" * 40)}),
    # sweeps too large are refused before they are built
    Case("sweep-arithmetic", ["sweep", "transformers:GPT2Model", "--range", "n_embd=1:100000000:1"],
         error=("n_embd: 100,000,000 points is more than the 1,000,000 a sweep computes",)),
    Case("sweep-geometric", ["sweep", "transformers:GPT2Model", "--range", "n_embd=16:100000:1.0000001x"],
         error=("points is more than the 1,000,000 a sweep computes",)),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    _inflating_archive(folder)
    (folder / "link.yaml").symlink_to("/etc/hostname" if Path("/etc/hostname").exists() else "/etc/passwd")
    return folder, run(CASES, folder)


def test_the_archive_is_small_and_inflates(results):
    folder, _ = results
    assert (folder / "bomb.keras").stat().st_size < 1024 * 1024  # 64 MiB once unpacked


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(results, case):
    folder, outcomes = results
    check(case, outcomes[case.id], folder)
