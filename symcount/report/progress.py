"""Progress of long work (importing a large model, a sweep over many points) on standard
error — only when standard error is a terminal, so that pipes, files, CI logs and tests
see nothing of it. ``tqdm`` draws the bar when it is installed; otherwise a line
``symcount: <what>… <done>/<total>`` is rewritten in place. No dependency is added.
``SYMCOUNT_NO_PROGRESS=1`` turns it off. Only output happens here."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator

#: the least time between two rewrites of the plain progress line (seconds)
INTERVAL = 0.2


def enabled(stream=None) -> bool:
    """Whether progress is shown on ``stream`` (standard error by default)."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("SYMCOUNT_NO_PROGRESS")


@contextlib.contextmanager
def status(what: str, stream=None):
    """``symcount: <what>…`` on the terminal while the block runs, erased after it."""
    stream = sys.stderr if stream is None else stream
    if not enabled(stream):
        yield
        return
    stream.write(f"symcount: {what}…")
    stream.flush()
    try:
        yield
    finally:
        stream.write("\r\033[K")
        stream.flush()


def iterate(items: Iterable, total: int | None = None, what: str = "", stream=None) -> Iterator:
    """``items``, with a progress bar (tqdm) or line on the terminal while they are consumed."""
    stream = sys.stderr if stream is None else stream
    if not enabled(stream):
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, total=total, desc=what or None, file=stream, leave=False)
        return
    last, done = 0.0, 0
    of = f"/{total:,}" if total is not None else ""
    try:
        for item in items:
            yield item
            done += 1
            now = time.monotonic()
            if now - last >= INTERVAL:
                stream.write(f"\rsymcount: {what}… {done:,}{of}")
                stream.flush()
                last = now
    finally:
        stream.write("\r\033[K")
        stream.flush()
