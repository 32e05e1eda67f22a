"""Run command-line cases in batches through :mod:`tests.robustness.runner`.

One subprocess (capped in memory, each case under its own timer) runs a whole batch, so
hundreds of cases cost one Python start-up. :func:`check` asserts a case's exact outcome:
the answer (``--json`` values) or status 2 with one ``error:`` line holding every phrase
expected (the culprit: file, layer, argument; and what was wrong).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("runner.py")
MEMORY = 3 * 1024 ** 3


@dataclass
class Case:
    """One command line and its exact expected outcome.

    ``values``: the run succeeds and its ``--json`` ``values`` hold these numbers;
    ``out``: the run succeeds and its output holds these phrases; ``error``: status 2,
    nothing on stdout, one line ``error: …`` holding these phrases."""

    id: str
    argv: list
    values: dict | None = None
    out: tuple = ()
    error: tuple | None = None
    timeout: float = 20
    files: dict = field(default_factory=dict)  # name -> text or bytes, written before the run


def _cap():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(cases: list[Case], folder: Path) -> dict[str, dict]:
    """Write every case's files into ``folder``, run the cases in one capped process and
    return each case's result by id. ``{dir}`` in an argument is ``folder``."""
    for case in cases:
        for name, text in case.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.write_bytes if isinstance(text, bytes) else lambda t: path.write_text(t, encoding="utf-8"))(text)
    payload = [{"argv": [str(a).replace("{dir}", str(folder)) for a in c.argv], "timeout": c.timeout}
               for c in cases]
    env = {**os.environ, "KERAS_BACKEND": "torch",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, str(RUNNER)], input=json.dumps(payload), capture_output=True,
                          text=True, env=env, cwd=folder, preexec_fn=_cap,
                          timeout=sum(c.timeout for c in cases) + 60)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    return {c.id: {**r, "argv": p["argv"]} for c, r, p in zip(cases, results, payload)}


def check(case: Case, result: dict, folder: Path) -> None:
    """Assert the case's exact outcome (see :class:`Case`)."""
    assert result["escaped"] is None, f"{result['argv']}: {result['escaped']}"
    stderr_lines = [line for line in result["stderr"].splitlines() if line.strip()]
    if case.error is not None:
        assert result["status"] == 2, (result["status"], result["stdout"][-500:], result["stderr"][-1000:])
        assert result["stdout"] == "", result["stdout"][-500:]
        assert len(stderr_lines) == 1 and stderr_lines[0].startswith("error: "), result["stderr"][-2000:]
        line = stderr_lines[0]
        for phrase in case.error:
            phrase = phrase.replace("{dir}", str(folder))
            if phrase.startswith("re:"):
                assert re.search(phrase[3:], line), (phrase, line)
            else:
                assert phrase in line, (phrase, line)
        return
    assert result["status"] == 0, (result["status"], result["stderr"][-2000:])
    assert not [line for line in stderr_lines if line.startswith("error")], result["stderr"]
    if case.values is not None:
        previous = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)  # counts of more than 4,300 digits
        try:
            values = json.loads(result["stdout"])["values"]
        finally:
            sys.set_int_max_str_digits(previous)
        assert {k: values[k] for k in case.values} == case.values, (values, case.values)
    squashed = re.sub(r"\s+", "", result["stdout"])  # a long number wrapped over lines is still that number
    for phrase in case.out:
        assert phrase in result["stdout"] or re.sub(r"\s+", "", phrase) in squashed, (phrase, result["stdout"][-2000:])
