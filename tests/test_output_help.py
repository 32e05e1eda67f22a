"""``symcount -h`` names every command's purpose with an example, and every example runs."""

import os
import re
import shlex
from pathlib import Path

import pytest

from symcount.cli import EXAMPLES, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_LINES = [line.strip() for line in EXAMPLES.splitlines() if line.strip().startswith("symcount ")]


def test_top_level_help_gives_each_command_its_purpose_and_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["-h"])
    out = capsys.readouterr().out
    commands = build_parser()._subparsers._group_actions[0].choices  # every registered command
    for name in commands:
        assert re.search(rf"^  {name} +\S", out, re.M), f"no purpose line for {name}"
        assert any(line.startswith(f"symcount {name} ") for line in EXAMPLE_LINES), f"no example for {name}"


@pytest.mark.parametrize("example", EXAMPLE_LINES)
def test_every_example_in_the_help_runs(example, tmp_path, capsys, monkeypatch):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    assert main(shlex.split(example)[1:]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out or os.listdir(tmp_path) != ["examples"]


@pytest.mark.parametrize("argv, suggestion", [
    (["summary", "examples/mlp.yaml", "--dpth", "1"], "Did you mean --depth?"),
    (["memory", "examples/mlp.yaml", "--bach-size", "2"], "Did you mean --batch-size?"),
    (["count", "examples/mlp.yaml", "--sett", "n_in=3"], "Did you mean --set?"),
])
def test_a_mistyped_flag_gets_a_suggestion_in_one_line(argv, suggestion, capsys):
    from symcount.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and suggestion in err and len(err.strip().splitlines()) == 1
