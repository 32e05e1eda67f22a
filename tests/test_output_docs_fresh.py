"""Every docs page and the README, run as a new user runs them: in a fresh Python process
per page, in a scratch directory, WITHOUT ``KERAS_BACKEND`` set. The page's python blocks
run in order as one script (a block starting ``# not run:`` is skipped), then each of its
``symcount …`` commands through the CLI's ``main``; a command whose shown output is an
``error: …`` line must exit with status 2, every other one with 0. ``tests/test_docs.py``
compares what they print with what the page shows; this test checks that nothing in them
depends on the environment the test suite sets up (symcount itself never imports Keras:
Keras files are read as JSON and zip)."""

import json
import os
import shlex
import subprocess
import sys

import pytest

from .test_docs import NOT_RUN, PAGES, README, ROOT, blocks, console_commands, is_console, sh_commands

DRIVER = """\
import json, sys
from symcount.cli import main
failures = []
for argv, expect in json.loads(sys.argv[1]):
    try:
        status = main(argv) or 0
    except SystemExit as exit_:
        status = exit_.code
    if status != expect:
        failures.append((argv, status, expect))
print("FAILURES " + json.dumps(failures), file=sys.stderr)
"""


def page_parts(page):
    code, commands = [], []
    for block in blocks(page):
        if block.language == "python" and not block.body.startswith(NOT_RUN):
            code.append(block.body)
        elif is_console(block):
            commands += [(c, 2 if shown.strip().startswith("error:") else 0) for c, shown in console_commands(block.body)]
        elif block.language in ("sh", "bash", "shell"):
            commands += [(c, 0) for c in sh_commands(block.body)]
    return "\n".join(code), commands


def cases():
    for page in [*PAGES, README]:
        code, commands = page_parts(page)
        if code or commands:
            yield pytest.param(page, id=str(page.relative_to(ROOT)))


@pytest.mark.parametrize("page", list(cases()))
def test_page_runs_in_a_fresh_process_without_keras_backend(page, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "docs" / "img").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    code, commands = page_parts(page)
    if code:
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{page.name}: its python fails without KERAS_BACKEND:\n{done.stderr[-3000:]}"
    if commands:
        argvs = [(shlex.split(c)[1:], expect) for c, expect in commands]
        done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(argvs)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        failures = json.loads(done.stderr.rsplit("FAILURES ", 1)[1])
        assert not failures, f"{page.name}: commands with the wrong status (argv, got, expected): {failures}"
