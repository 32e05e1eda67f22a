"""Writing a file without ever damaging the one already there.

Every output symcount writes (``symcount latex -o``, ``--plot``) goes to a temporary file
beside the target, flushed to disk, then renamed over it with :func:`os.replace` — one
atomic step: a run that fails half-way (a full disk, an error in the renderer, a killed
process) leaves the previous file exactly as it was. An output path that is one of the
run's inputs is refused before anything is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import ArgumentError, SymcountError


def refuse_input(path, inputs=()) -> None:
    """An error when ``path`` is (or links to) one of ``inputs``: the run would overwrite
    what it reads."""
    target = Path(path)
    for source in inputs:
        if source is None:
            continue
        source = Path(source)
        try:
            same = target.exists() and source.exists() and os.path.samefile(target, source)
        except OSError:
            same = False
        if same or target.resolve() == source.resolve():
            raise ArgumentError(f"{path}: it is the input {source}; write the output to another file")


def write_atomic(path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then move the temporary file over ``path``. If
    ``write`` fails, the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SymcountError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(handle)
    temporary = Path(temporary)
    try:
        write(temporary)
        with open(temporary, "rb+") as flushed:
            os.fsync(flushed.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SymcountError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_text(path, text: str) -> Path:
    """``text`` written to ``path`` atomically (UTF-8)."""
    return write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
