"""A run killed half-way through writing its output leaves the previous file intact (issue 18).

``symcount latex … -o out.tex`` runs in a subprocess whose write is slowed at one point (half
the text written to the temporary file; or the whole text written and ``os.replace`` not yet
reached); once it signals that it is there, it is killed with SIGKILL — no handler, no clean-up
— and ``out.tex`` must still hold exactly the previous output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = "name: kill\ndims: {n: 3}\ninput: [n]\nlayers:\n  - Dense: {units: 2}\n"

CHILD = r"""
import os, pathlib, sys, time
marker, where = pathlib.Path(sys.argv[1]), sys.argv[2]
if where == "during-write":
    real = pathlib.Path.write_text
    def half_then_wait(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as handle:
            handle.write(text[: len(text) // 2])
            handle.flush()
            os.fsync(handle.fileno())
        marker.write_text("ready")
        time.sleep(120)
    pathlib.Path.write_text = half_then_wait
else:  # before the rename
    def never(src, dst):
        marker.write_text("ready")
        time.sleep(120)
    os.replace = never
from symcount.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("where", ["during-write", "before-rename"])
def test_a_killed_write_leaves_the_previous_output(tmp_path, where):
    spec, out, marker = tmp_path / "kill.yaml", tmp_path / "out.tex", tmp_path / "marker"
    spec.write_text(SPEC, encoding="utf-8")
    previous = "% the previous, good output\n\\begin{align*}P = 8\\end{align*}\n" * 50
    out.write_text(previous, encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": "torch",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), where, "latex", str(spec), "-o", str(out)],
                             env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "the child never reached the write"
            time.sleep(0.05)
        temporaries = [p for p in tmp_path.iterdir() if p.name.startswith(".out.tex.")]
        assert len(temporaries) == 1  # the new text goes to a temporary file beside the target…
        if where == "before-rename":
            assert "kill" in temporaries[0].read_text(encoding="utf-8")  # …written whole, not yet renamed
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert out.read_text(encoding="utf-8") == previous


def test_an_unkilled_run_replaces_the_output(tmp_path):
    """The same command, not interrupted, does replace the file (the test above can fail)."""
    spec, out = tmp_path / "kill.yaml", tmp_path / "out.tex"
    spec.write_text(SPEC, encoding="utf-8")
    out.write_text("old\n", encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": "torch",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "symcount", "latex", str(spec), "-o", str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text != "old\n" and "8" in text  # Dense(2) on 3 features: (3 + 1)·2 = 8 parameters
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tex.")]
