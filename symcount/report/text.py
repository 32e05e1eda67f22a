"""The terminal table, laid out like Keras 3's ``model.summary()``, with a formula
column beside the number column and a MACs column (multiply-accumulates of one call of
the layer, per example: the number when every dim is bound, else the formula). Formulas
are printed as SymPy reads them back, floors over one denominator
(``16384*(floor((H - 32)/12) + 1) + 512``).

The table fits the width it is given (``COLUMNS``, see :func:`symcount.report.layout.columns`):
columns take their natural widths, and when those do not fit the widest is narrowed
first; a formula wraps at the terms of its sum (then after the factors of a product,
then at spaces), a layer name too long for its column is elided in the middle
(``transformer.h.0.…attn.c_proj``) with its type on the next line, and where even the
narrowest columns do not fit, the MACs column and then the shape column are left out
(the costs stay in the totals below). ``depth`` folds the blocks deeper than it into
one row each (:mod:`symcount.report.rows`). Below come Keras's parameter totals and
the costs — MACs, forward FLOPs (FlopCounterMode's convention, 2 per multiply-accumulate)
and training FLOPs (forward + backward) — each as ``formula = value``
(:mod:`symcount.report.totals`, the same lines as ``symcount count``). Only formatting
happens here."""

from __future__ import annotations

from ..dims import condition_text
from .. import printing
from .layout import borders, columns, elide, share, table, wrap
from .rows import rows as table_rows
from .totals import COSTS, PARAMS, expr_lines, text_lines, total_lines


def number(value) -> str:
    """``6,029,097`` for an integer; the expression's text otherwise."""
    return f"{int(value):,}" if getattr(value, "is_Integer", False) or isinstance(value, int) else formula(value)


def formula(expr) -> str:
    """An expression as one line, as SymPy reads it back: ``129*classes``,
    ``floor((H - 32)/12)``."""
    return printing.python(expr)


def wrap_terms(expr, width: int) -> str:
    """``expr`` on lines of at most ``width`` characters, broken between the terms of
    its sum (a term wider than that after its factors, then at spaces)."""
    return "\n".join(expr_lines(expr, width))


HEADER = ("Layer (type)", "Output Shape", "Param # (formula)", "Param #", "MACs")
#: the narrowest each column is made before columns are left out
MINIMUM = (20, 10, 14, 0, 10)
#: the widths columns are narrowed to before any is narrowed further (the formula
#: columns wrap best, the names worst)
PREFERRED = (24, 20, 20, 0, 14)


def _label(row, width: int) -> str:
    """``name (Type)`` on one line when it fits, else the name (elided in the middle)
    over its type."""
    if len(row.label) <= width:
        return row.label
    rest = row.label[len(row.name) + 1:]
    return elide(row.name, width) + "\n" + "\n".join(elide(part, width) for part in wrap(rest, width))


def _cells(row) -> list:
    """The natural one-line text of each column."""
    return [row.label, printing.shape(row.output_shape, "python"), formula(row.params_formula),
            number(row.params) if row.params.is_Integer else "",
            number(row.macs) if row.macs.is_Integer else formula(row.macs)]


def _layout(natural: list[int], numeric_macs: bool, width: int) -> tuple[list[int], list[int]]:
    """The columns kept and their widths: every column, shrunk to fit ``width``; else
    without MACs; else without the output shape; at the narrowest, the names and the
    formulas halve what the number column leaves."""
    minimum = list(MINIMUM)
    minimum[3] = natural[3]  # numbers are never wrapped
    if numeric_macs:
        minimum[4] = natural[4]
    for dropped in ((), (4,), (4, 1)):
        kept = [i for i in range(len(HEADER)) if i not in dropped]
        widths = share([natural[i] for i in kept], [minimum[i] for i in kept], width - borders(len(kept)),
                       [PREFERRED[i] for i in kept], last=[0])
        if widths is not None:
            return kept, widths
    rest = max(width - borders(3) - natural[3], 8)
    return [0, 2, 3], [rest - rest // 2, rest // 2, natural[3]]


def summary(count, width: int | None = None, depth: int | None = None) -> str:
    """Keras-style summary fitted to ``width`` columns (default: the terminal's, see
    :func:`symcount.report.layout.columns`): Layer (type), Output Shape, Param # as
    formula and as number, MACs; then the parameter totals and the cost totals (per
    example). ``depth`` folds blocks deeper than it into one row with their totals."""
    width = columns() if width is None else max(width, 40)
    rows = table_rows(count, depth)
    natural_cells = [_cells(row) for row in rows]
    natural = [max([len(HEADER[i]), *(len(c[i]) for c in natural_cells)]) for i in range(len(HEADER))]
    natural[1] = max(len(HEADER[1]), *(len(p) for c in natural_cells for p in wrap(c[1], 26))) \
        if natural_cells else natural[1]
    numeric_macs = all(row.macs.is_Integer for row in rows)
    kept, widths = _layout(natural, numeric_macs, width)
    column = dict(zip(kept, widths))
    cells = []
    for row, natural_row in zip(rows, natural_cells):
        full = list(natural_row)
        full[0] = _label(row, column[0])
        full[2] = wrap_terms(row.params_formula, column[2])
        if 4 in column and not row.macs.is_Integer:
            full[4] = wrap_terms(row.macs, column[4])
        cells.append([full[i] for i in kept])
    right = {kept.index(3)} | ({kept.index(4)} if 4 in column and numeric_macs else set())
    lines = [elide(f'Model: "{count.name}"', width)]
    lines += table([HEADER[i] for i in kept], cells, widths, right=right)
    if 4 not in column:
        left_out = "MACs column is" if 1 in column else "Output Shape and MACs columns are"
        lines += text_lines(" ", f"The {left_out} left out to fit {width} columns (COLUMNS); "
                                 "the totals below include the MACs.", width)
    if depth is not None and any(row.layers for row in rows):
        lines += text_lines(" ", f"Blocks deeper than depth {depth} are folded into one row each, "
                                 "with the totals of their layers over every repetition.", width)
    for title, attribute in PARAMS:
        lines += total_lines(f" {title}: ", count, attribute, width)
    for title, attribute in COSTS:
        lines += total_lines(f" {title}: ", count, attribute, width)
    if count.values:
        lines += text_lines(" Values: ", ", ".join(f"{k}={v}" for k, v in count.values.items()), width)
    conditions = count.conditions
    if conditions:
        lines += text_lines(" Valid for: ", ", ".join(condition_text(c.relation) for c in conditions), width)
    return "\n".join(lines)
