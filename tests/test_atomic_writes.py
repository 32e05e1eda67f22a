"""Outputs never damage the file already there (issue 18): every write goes to a
temporary file beside the target and is renamed into place; an output that is one of the
inputs is refused before anything is written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from symcount.cli import main
from symcount.errors import SymcountError
from symcount.files import write_atomic, write_text

ROOT = Path(__file__).resolve().parent.parent


def test_a_write_that_fails_half_way_leaves_the_previous_file(tmp_path):
    target = tmp_path / "out.tex"
    target.write_text("the good one\n", encoding="utf-8")

    def half(temporary):
        temporary.write_text("half of a new o", encoding="utf-8")
        raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError):
        write_atomic(target, half)
    assert target.read_text(encoding="utf-8") == "the good one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tex"]  # no temporary left behind
    write_text(target, "the new one\n")
    assert target.read_text(encoding="utf-8") == "the new one\n"


def test_a_write_killed_half_way_leaves_the_previous_file(tmp_path):
    target = tmp_path / "out.tex"
    target.write_text("the good one\n", encoding="utf-8")
    code = ("import sys, time\n"
            "from symcount.files import write_atomic\n"
            "def slow(temporary):\n"
            "    with open(temporary, 'w') as handle:\n"
            "        handle.write('half'); handle.flush()\n"
            "        print('writing', flush=True); time.sleep(60)\n"
            "write_atomic(sys.argv[1], slow)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert target.read_text(encoding="utf-8") == "the good one\n"


def test_latex_refuses_to_write_over_its_input(tmp_path, capsys):
    spec = tmp_path / "seed.yaml"
    shutil.copy(ROOT / "examples" / "seed_cnn.yaml", spec)
    before = spec.read_bytes()
    assert main(["latex", str(spec), "--set", "classes=9", "-o", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "it is the input" in err
    assert spec.read_bytes() == before


def test_latex_output_that_cannot_be_written_is_one_line(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder" / "out.tex"
    assert main(["latex", str(ROOT / "examples" / "seed_cnn.yaml"), "--set", "classes=9", "-o", str(missing)]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot write {missing}")


def test_write_errors_are_symcount_errors(tmp_path):
    with pytest.raises(SymcountError, match="cannot write"):
        write_text(tmp_path / "absent" / "x.txt", "x")
