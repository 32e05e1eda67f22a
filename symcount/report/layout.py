"""Fitting text to a terminal: its width, names elided in the middle, cells wrapped,
lines packed under a hanging indent, column widths shared out, the box-drawn table.

The width is ``COLUMNS`` when it is set, else the terminal's own width when standard
output is a terminal, else :data:`DEFAULT_COLUMNS` (output piped to a file, captured,
in a notebook); never less than :data:`MIN_COLUMNS`. Every line these functions return is at most the
width they were given. Only formatting happens here.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence

#: the width when neither ``COLUMNS`` nor a terminal says otherwise
DEFAULT_COLUMNS = 100
#: the narrowest width laid out (a smaller ``COLUMNS`` is raised to this)
MIN_COLUMNS = 40


def columns() -> int:
    """The width to fit: ``COLUMNS`` when set, else the terminal's width when standard
    output is a terminal, else 100 (piped, captured, a notebook); at least 40."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return max(MIN_COLUMNS, int(env))
    if sys.stdout is not None and sys.stdout.isatty():
        return max(MIN_COLUMNS, shutil.get_terminal_size((DEFAULT_COLUMNS, 24)).columns)
    return DEFAULT_COLUMNS


def elide(text: str, width: int) -> str:
    """``text`` shortened to ``width`` characters by an ellipsis in the middle, where a
    long layer name repeats least: ``transformer.h.0.…attn.c_proj``."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = width // 2
    head = width - 1 - tail
    return text[:head] + "…" + text[len(text) - tail:]


def wrap(text: str, width: int) -> list[str]:
    """Lines already broken (``\\n``) are kept; each is wrapped at spaces to ``width``
    (a word wider than that is cut)."""
    return [part for line in text.split("\n")
            for part in (textwrap.wrap(line, width, break_on_hyphens=False) or [""])]


def break_factors(text: str, width: int) -> list[str]:
    """A line wider than ``width`` broken after its top-level ``*`` s; a bracketed sum
    still wider, before the signs of its terms; then at spaces."""
    if len(text) <= width:
        return [text]
    factors, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if c == "*" and depth == 0 and text[i - 1:i + 1] != "**" and text[i:i + 2] != "**":
            factors.append(text[start:i + 1])
            start = i + 1
    factors.append(text[start:])
    pieces = [p for f in factors for p in (_sum_terms(f) if len(f) > width else [f])]
    return wrap("\n".join(pack(pieces, width, sep="")), width)


def _sum_terms(factor: str) -> list[str]:
    """``(a + b - c)*`` as ``["(a", " + b", " - c)*"]``: a bracketed sum split before the
    signs of its terms (the pieces join back to the factor); other factors whole."""
    if not factor.startswith("("):
        return [factor]
    pieces, depth, start = [], 0, 0
    for i, c in enumerate(factor):
        depth += (c == "(") - (c == ")")
        if depth == 1 and factor[i:i + 3] in (" + ", " - "):
            pieces.append(factor[start:i])
            start = i
    pieces.append(factor[start:])
    return pieces


def pack(pieces: Sequence[str], width: int, sep: str = " ") -> list[str]:
    """``pieces`` joined by ``sep`` on as few lines of at most ``width`` as they go;
    a piece wider than ``width`` starts its own line (the caller breaks it further)."""
    lines, current = [], ""
    for piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if current and len(candidate) > width:
            lines.append(current)
            current = piece
        else:
            current = candidate
    lines.append(current)
    return lines


def hanging(prefix: str, lines: Sequence[str]) -> list[str]:
    """``lines`` under ``prefix``: the first after it, the rest indented as far."""
    indent = " " * len(prefix)
    return [(prefix if i == 0 else indent) + line for i, line in enumerate(lines)]


def share(natural: Sequence[int], minimum: Sequence[int], available: int,
          preferred: Sequence[int] | None = None, last: Sequence[int] = ()) -> list[int] | None:
    """Column widths that sum to at most ``available``: each column's natural width, the
    widest shrunk first, first no further than its ``preferred`` width, then no further
    than its ``minimum`` — the columns in ``last`` only once the others are at theirs;
    ``None`` when the minimums do not fit."""
    if sum(min(n, m) for n, m in zip(natural, minimum)) > available:
        return None
    widths = list(natural)
    floors = [max(p, m) for p, m in zip(preferred, minimum)] if preferred is not None else list(minimum)
    others_first = [f if i in last else m for i, (f, m) in enumerate(zip(floors, minimum))]
    for floor in (floors, others_first, minimum):
        while sum(widths) > available and any(w > f for w, f in zip(widths, floor)):
            i = max((i for i in range(len(widths)) if widths[i] > floor[i]), key=lambda i: widths[i])
            widths[i] -= 1
    return widths


def borders(n_columns: int) -> int:
    """How many characters a table of ``n_columns`` spends on borders and padding."""
    return 3 * n_columns + 1


def table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
          right: set[int]) -> list[str]:
    """Keras's box-drawn table; each cell wrapped to its column's width."""
    def line(left, mid, fill, r):
        return left + mid.join(fill * (w + 2) for w in widths) + r

    def cells(values):
        wrapped = [wrap(v, w) for v, w in zip(values, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for col, (chunk, w) in enumerate(zip(wrapped, widths)):
                text = chunk[i] if i < len(chunk) else ""
                parts.append(text.rjust(w) if col in right else text.ljust(w))
            out.append("│ " + " │ ".join(parts) + " │")
        return out

    lines = [line("┏", "┳", "━", "┓")]
    lines += [c.replace("│", "┃") for c in cells(header)]
    lines.append(line("┡", "╇", "━", "┩"))
    for i, row in enumerate(rows):
        lines += cells(row)
        lines.append(line("├", "┼", "─", "┤") if i < len(rows) - 1 else line("└", "┴", "─", "┘"))
    if not rows:
        lines.append(line("└", "┴", "─", "┘"))
    return lines
