"""The documentation runs: every code block of every page in docs/ (and the README's
commands) is executed, and what a page shows as output is what the code prints.

Conventions a page follows (docs/index.md states them for writers):

- ```` ```python ```` blocks run in order, in one namespace per page; ``assert`` lines
  are the claims. A block whose first line is ``# not run: …`` says why it is not run
  and is skipped (and only it).
- A ```` ```text title="Output" ```` block right after a python block is that block's
  printed output, compared line by line (trailing spaces ignored; a line ``...`` stands
  for any number of lines).
- A ```` ```console ```` block (or a ``text`` or ``sh`` block starting with ``$ symcount``) holds
  ``$ symcount …`` commands, each followed by its output: each is run and compared.
- In a ```` ```sh ```` block every ``symcount …`` command (``&&``-chains and ``\\``
  continuations included) is run and must exit with status 0; other commands (``pip``)
  are set-up and not run.

Commands run in a scratch directory that has the repository's ``examples/`` and an
empty ``docs/img/``, so a command that writes a file never touches the committed docs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
README = ROOT / "README.md"

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                   re.M | re.S)
NOT_RUN = "# not run:"


@dataclass(frozen=True)
class Block:
    language: str
    info: str
    body: str
    line: int

    @property
    def is_output(self) -> bool:
        return self.language == "text" and 'title="Output"' in self.info


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        indent = m.group("indent")
        body = "".join(line[len(indent):] if line.startswith(indent) else line
                       for line in m.group("body").splitlines(keepends=True))
        info = m.group("info").strip()
        out.append(Block(info.split(" ")[0] if info else "", info, body, text.count("\n", 0, m.start()) + 1))
    return out


def lines_match(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces and trailing blank lines ignored; ``...`` matches
    any number of lines."""
    want = [line.rstrip() for line in expected.rstrip().splitlines()]
    got = [line.rstrip() for line in actual.rstrip().splitlines()]

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and want[i] == got[j] and match(i + 1, j + 1)

    return match(0, 0)


# -- commands -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("docs_commands")
    (where / "examples").symlink_to(ROOT / "examples")
    (where / "docs" / "img").mkdir(parents=True)
    return where


def run_symcount(command: str, cwd: Path) -> tuple[int, str]:
    """Run a documented ``symcount …`` command through the CLI's own ``main`` (in this
    process: a subprocess per command would spend most of its time importing SymPy);
    the exit status and what it printed on stdout and stderr."""
    from symcount.cli import main

    argv = shlex.split(command)
    assert argv[0] == "symcount", command
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv[1:])
            except SystemExit as exit_:  # argparse's own errors
                status = exit_.code
    finally:
        os.chdir(here)
    return status or 0, out.getvalue() + err.getvalue()


def console_commands(body: str) -> list[tuple[str, str]]:
    """``(command, shown output)`` pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            pairs.append((command, []))
        elif pairs:
            pairs[-1][1].append(line)
        i += 1
    return [(c, "\n".join(out)) for c, out in pairs]


def sh_commands(body: str) -> list[str]:
    """The ``symcount …`` commands of a shell block."""
    joined = re.sub(r"\\\n\s*", " ", body)
    commands = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        for part in line.split("&&"):
            part = part.strip()
            if part.startswith("symcount "):
                commands.append(part)
    return commands


def is_console(block: Block) -> bool:
    """A console block, or a text or shell block written as a session (``$ symcount …``)."""
    return block.language == "console" or (block.language in ("text", "sh", "bash", "shell")
                                           and block.body.startswith("$ symcount"))


def command_cases():
    for page in [*PAGES, README]:
        for block in blocks(page):
            where = f"{page.relative_to(ROOT)}:{block.line}"
            if is_console(block):
                for command, shown in console_commands(block.body):
                    yield pytest.param(command, shown, id=f"{where}:{command[:60]}")
            elif block.language in ("sh", "bash", "shell"):
                for command in sh_commands(block.body):
                    yield pytest.param(command, None, id=f"{where}:{command[:60]}")


@pytest.mark.parametrize("command, shown", list(command_cases()))
def test_documented_command_runs_as_shown(command, shown, scratch):
    status, printed = run_symcount(command, scratch)
    if shown is None:
        assert status == 0, f"$ {command}\n{printed}"
        return
    assert lines_match(shown, printed), f"$ {command}\n--- shown ---\n{shown}\n--- printed ---\n{printed}"


# -- python ---------------------------------------------------------------------------


def pages_with_python():
    for page in PAGES:
        if any(b.language == "python" for b in blocks(page)):
            yield pytest.param(page, id=str(page.relative_to(ROOT)))


@pytest.mark.parametrize("page", list(pages_with_python()))
def test_page_python_runs_and_prints_what_it_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files a page writes land here; examples/ as in the repo
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    namespace: dict = {"__name__": "__docs__"}
    page_blocks = blocks(page)
    for i, block in enumerate(page_blocks):
        if block.language != "python" or block.body.startswith(NOT_RUN):
            continue
        where = f"{page.relative_to(ROOT)}:{block.line}"
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            exec(compile(block.body, where, "exec"), namespace)  # the page's own code, as a reader runs it
        following = page_blocks[i + 1] if i + 1 < len(page_blocks) else None
        if following is not None and following.is_output:
            assert lines_match(following.body, stdout.getvalue()), (
                f"{where}: the output shown differs from what the code prints\n--- shown ---\n"
                f"{following.body}--- printed ---\n{stdout.getvalue()}")


def test_output_blocks_follow_python_blocks():
    """An Output block that follows no python block would be compared with nothing."""
    for page in PAGES:
        page_blocks = blocks(page)
        for previous, block in zip([None, *page_blocks], page_blocks):
            if block.is_output:
                assert previous is not None and previous.language == "python", f"{page}:{block.line}"
                assert not previous.body.startswith(NOT_RUN), f"{page}:{block.line}: output of a block not run"


def test_every_python_block_not_run_says_why():
    for page in PAGES:
        for block in blocks(page):
            if block.language == "python" and block.body.startswith(NOT_RUN):
                assert len(block.body.splitlines()[0]) > len(NOT_RUN) + 10, f"{page}:{block.line}"


def test_harness_matches_ellipsis_lines():
    assert lines_match("a\n...\nd", "a\nb\nc\nd")
    assert lines_match("a  \nb", "a\nb\n\n")
    assert not lines_match("a\nb", "a\nc")
    assert not lines_match("a", "a\nb")


# -- the site -------------------------------------------------------------------------


def test_mkdocs_builds_strict(tmp_path):
    if not os.environ.get("CI"):  # in CI the docs extra is installed: a missing mkdocs fails
        pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
        pytest.importorskip("material", reason="the docs extra: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "tutorial" / "index.html").is_file()


# -- the layer reference --------------------------------------------------------------


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("front", ["keras", "torch"])
def test_reference_has_an_entry_for_every_exported_layer_class(front):
    import importlib

    from symcount.layer import Layer

    module = importlib.import_module(f"symcount.{front}")
    exported = {name for name in module.__all__
                if isinstance(obj := getattr(module, name), type) and issubclass(obj, Layer)}
    page = (DOCS / "reference" / f"{front}.md").read_text(encoding="utf-8")
    entries = set(re.findall(r"^### (\w+)$", page, re.M))
    assert exported - entries == set(), f"docs/reference/{front}.md has no entry for these"
    assert entries - exported <= {"Input"}, "entries for classes the front end does not export"


def test_reference_pages_are_generated_from_the_current_code():
    generator = _generator()
    for front in generator.FRONT_ENDS:
        path = DOCS / "reference" / f"{front}.md"
        assert path.read_text(encoding="utf-8") == generator.page(front), (
            f"{path.relative_to(ROOT)} is not up to date: run python docs/gen_reference.py")


def test_readme_latex_lines_are_what_symcount_latex_writes(scratch):
    """The README quotes lines of the seed CNN's derivation: they are in symcount's output."""
    quoted = [b for b in blocks(README) if b.language == "latex"]
    command = re.search(r"`(symcount latex examples/seed_cnn\.yaml[^`]*?)(?: --standalone -o \S+)?`",
                        README.read_text(encoding="utf-8")).group(1)
    status, printed = run_symcount(command, scratch)
    assert status == 0, printed
    for block in quoted:
        for line in block.body.strip().splitlines():
            assert line.strip() in printed, f"README's LaTeX line is not in `{command}`'s output: {line}"
