"""Zoo entries as the CLI's TARGET: defaults, --set for dims and options, --symbolic,
`symcount zoo`, and one-line errors. A small entry is registered for the test (the
real entries have their own tests against the frameworks)."""

from __future__ import annotations

import json

import pytest

from symcount import cli
from symcount.errors import ArgumentError
from symcount.keras import Dense, Flatten, Input, Sequential
from symcount.zoo import registry


@pytest.fixture
def tiny(monkeypatch):
    """``keras:Tiny``: Flatten of (H, W, 3), an optional hidden Dense(32), Dense(classes)."""
    registry.entries()  # load the real families first: they register into the real table
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    registry._symbolic.cache_clear()

    @registry.register("keras:Tiny", dims={"H": 4, "W": 4, "classes": 10},
                       options={"hidden": True, "alpha": 1.0}, source="a test entry")
    def tiny(H, W, classes, hidden, alpha):
        if not isinstance(hidden, bool):
            raise ArgumentError(f"Tiny: hidden must be true or false. Received: {hidden!r}")
        layers = [Input((H, W, 3)), Flatten()]
        if hidden:
            layers.append(Dense(int(32 * alpha)))
        return Sequential(layers + [Dense(classes)], name="tiny")

    yield "keras:Tiny"
    registry._symbolic.cache_clear()


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_zoo_target_takes_the_defaults_and_shows_the_formula(tiny, capsys):
    status, out, _ = run(capsys, "count", tiny, "--json")
    data = json.loads(out)
    # by hand: (4·4·3 + 1)·32 + (32 + 1)·10 = 1568 + 330
    assert status == 0 and data["values"]["total"] == 1898
    assert data["dims"] == {"H": 4, "W": 4, "classes": 10}
    assert data["total"] == "96*H*W + 33*classes + 32"


def test_set_gives_dims_and_options(tiny, capsys):
    _, out, _ = run(capsys, "count", tiny, "--set", "classes=3", "--set", "hidden=false", "--json")
    assert json.loads(out)["values"]["total"] == (4 * 4 * 3 + 1) * 3
    _, out, _ = run(capsys, "count", tiny, "--set", "alpha=0.5", "--json")
    assert json.loads(out)["values"]["total"] == (4 * 4 * 3 + 1) * 16 + 17 * 10


def test_symbolic_keeps_dims_without_values(tiny, capsys):
    _, out, _ = run(capsys, "count", tiny, "--symbolic", "classes", "--json")
    data = json.loads(out)
    assert data["values"] is None and data["dims"] == {"H": 4, "W": 4, "classes": None}
    _, out, _ = run(capsys, "count", tiny, "--symbolic", "all")
    assert "96*H*W + 33*classes + 32" in out and "=" not in out.splitlines()[1]


def test_zoo_lists_entries_with_arguments(tiny, capsys):
    status, out, _ = run(capsys, "zoo", "keras:Ti")
    assert status == 0
    assert out.splitlines() == ["keras:Tiny", "    dims:    H=4, W=4, classes=10",
                                "    options: hidden=True, alpha=1.0", "    as:      a test entry"]


@pytest.mark.parametrize("argv, message", [
    (["count", "keras:Tiny", "--set", "hidden=maybe"], "keras:Tiny's hidden is true or false"),
    (["count", "keras:Tiny", "--set", "depth=3"], "unknown dim 'depth'"),
    (["count", "keras:Tiny", "--symbolic", "depth"], "unknown dim 'depth'"),
    (["count", "keras:tiny"], "unknown zoo entry 'keras:tiny'. Did you mean keras:Tiny?"),
    (["count", "keras:NoSuchNet"], "unknown zoo entry 'keras:NoSuchNet'"),
    (["zoo", "nothing-like-this"], "no zoo entry starts with 'nothing-like-this'"),
])
def test_mistakes_give_one_line_and_exit_2(tiny, capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_gpt2_closed_form_from_the_command_line_is_the_known_formula():
    """`symcount count transformers:GPT2Model` prints a closed form; read back with the
    project's safe parser, it minus the published GPT-2 formula expands to 0."""
    import subprocess
    import sys

    import sympy

    import symcount as sc
    from symcount.expression import parse_expression

    out = subprocess.run([sys.executable, "-m", "symcount", "count", "transformers:GPT2Model", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    names = sc.dims("n_layer n_embd n_head vocab_size n_positions seq_len")
    n_layer, n_embd, _, vocab_size, n_positions, _ = names
    printed = parse_expression(data["total"], {s.name: s for s in names})
    known = 12 * n_layer * n_embd**2 + 13 * n_layer * n_embd + (vocab_size + n_positions) * n_embd + 2 * n_embd
    assert sympy.expand(printed - known) == 0
    assert data["values"]["total"] == 124_439_808
