"""The terminal table, laid out like Keras 3's ``model.summary()``, with a formula
column beside the number column and a MACs column (multiply-accumulates of one call of
the layer, per example: the number when every dim is bound, else the formula). Formulas
are printed as SymPy reads them back, floors over one denominator
(``16384*(floor((H - 32)/12) + 1) + 512``); a formula longer than its column wraps at
the terms of its sum (then, for a term wider than the column, at spaces) instead of
breaking the table. Below Keras's parameter totals come the costs: MACs, forward FLOPs
(FlopCounterMode's convention, 2 per multiply-accumulate) and training FLOPs (forward +
backward), each as formula = value. Only formatting happens here."""

from __future__ import annotations

import textwrap

from ..dims import condition_text
from .. import printing

FORMULA_WIDTH = 34
SHAPE_WIDTH = 26


def number(value) -> str:
    """``6,029,097`` for an integer; the expression's text otherwise."""
    return f"{int(value):,}" if getattr(value, "is_Integer", False) or isinstance(value, int) else formula(value)


def formula(expr) -> str:
    """An expression as one line, as SymPy reads it back: ``129*classes``,
    ``floor((H - 32)/12)``."""
    return printing.python(expr)


def wrap_terms(expr, width: int) -> str:
    """``expr`` on lines of at most ``width`` characters, broken between the terms of
    its sum (a term wider than that is wrapped at its spaces)."""
    lines, current = [], ""
    for term in printing.terms(expr, "python"):
        candidate = f"{current} {term}" if current else term
        if current and len(candidate) > width:
            lines.append(current)
            current = term
        else:
            current = candidate
    lines.append(current)
    return "\n".join(part for line in lines for part in _wrap_product(line, width))


def _wrap_product(text: str, width: int) -> list[str]:
    """A line wider than ``width`` broken after its top-level ``*`` s, then at spaces."""
    if len(text) <= width:
        return [text]
    factors, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if c == "*" and depth == 0 and text[i - 1:i + 1] != "**" and text[i:i + 2] != "**":
            factors.append(text[start:i + 1])
            start = i + 1
    factors.append(text[start:])
    lines, current = [], ""
    for factor in factors:
        if current and len(current + factor) > width:
            lines.append(current)
            current = factor
        else:
            current += factor
    lines.append(current)
    return [part for line in lines for part in _wrap(line, width)]


def readable_bytes(n_params) -> str:
    """Keras's ``readable_memory_size`` at 4 bytes (float32) per parameter."""
    if not getattr(n_params, "is_Integer", False):
        return ""
    size, units = int(n_params) * 4.0, ["B", "KB", "MB", "GB", "TB"]
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f" ({size:.2f} {unit})"
        size /= 1024
    return ""


def readable_count(value) -> str:
    """`` (56.62 M)`` for an integer of at least a thousand: a cost's magnitude at a glance."""
    if not getattr(value, "is_Integer", False) or int(value) < 1000:
        return ""
    size = float(int(value))
    for unit in ("K", "M", "G", "T", "P"):
        size /= 1000
        if size < 1000 or unit == "P":
            return f" ({size:.2f} {unit})"
    return ""  # pragma: no cover


def _wrap(text: str, width: int) -> list[str]:
    """Lines already broken (``\\n``) are kept; each is wrapped at spaces to ``width``."""
    return [part for line in text.split("\n")
            for part in (textwrap.wrap(line, width, break_on_hyphens=False) or [""])]


def _table(header: list[str], rows: list[list[str]], widths: list[int], right: set[int]) -> list[str]:
    def line(left, mid, fill, r):
        return left + mid.join(fill * (w + 2) for w in widths) + r

    def cells(values):
        wrapped = [_wrap(v, w) for v, w in zip(values, widths)]
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


def _total(count, symbolic, attribute: str, readable) -> str:
    """``formula = value`` for one total (the value alone when it is the formula)."""
    value, expr = getattr(count, attribute), getattr(symbolic, attribute)
    keys = printing.repeats(count)
    text = number(value) + readable(value) if value.is_Integer else formula(printing.collect(value, keys))
    if value != expr:
        text = f"{formula(printing.collect(expr, keys))} = {text}"
    return text


#: the cost totals under the parameter totals: title, Count attribute
COSTS = (("MACs", "macs"), ("FLOPs", "flops"), ("Training FLOPs", "training_flops"))


def summary(count) -> str:
    """Keras-style summary: Layer (type), Output Shape, Param # as formula and as number,
    MACs; then the parameter totals and the cost totals (per example)."""
    symbolic = count.symbolic or count
    rows = []
    for record, sym in zip(count.layers, symbolic.layers):
        rows.append([
            record.label + ("" if record.counted else " [shared]")
            + ("" if record.repeat == 1 else f" ×{formula(record.repeat)}"),
            printing.shape(record.output_shape, "python"),
            formula(sym.params),
            number(record.params) if record.params.is_Integer else "",
            number(record.macs) if record.macs.is_Integer else formula(record.macs),
        ])
    label_w = max([len("Layer (type)"), *(len(r[0]) for r in rows)])
    shape_w = min(max([len("Output Shape"), *(len(r[1]) for r in rows)]), SHAPE_WIDTH)
    formula_w = min(max([len("Param # (formula)"), *(len(r[2]) for r in rows)]), FORMULA_WIDTH)
    macs_w = min(max([len("MACs"), *(len(r[4]) for r in rows)]), FORMULA_WIDTH)
    for row, record, sym in zip(rows, count.layers, symbolic.layers):
        row[2] = wrap_terms(sym.params, formula_w)
        if not record.macs.is_Integer:
            row[4] = wrap_terms(record.macs, macs_w)
    number_w = max([len("Param #"), *(len(r[3]) for r in rows)])
    right = {3} | ({4} if all(record.macs.is_Integer for record in count.layers) else set())
    lines = [f'Model: "{count.name}"']
    lines += _table(["Layer (type)", "Output Shape", "Param # (formula)", "Param #", "MACs"], rows,
                    [label_w, shape_w, formula_w, number_w, macs_w], right=right)
    for title, attribute in (("Total", "total"), ("Trainable", "trainable"), ("Non-trainable", "non_trainable")):
        lines.append(f" {title} params: {_total(count, symbolic, attribute, readable_bytes)}")
    for title, attribute in COSTS:
        lines.append(f" {title}: {_total(count, symbolic, attribute, readable_count)}")
    if count.values:
        lines.append(" Values: " + ", ".join(f"{k}={v}" for k, v in count.values.items()))
    conditions = count.conditions
    if conditions:
        lines.append(" Valid for: " + ", ".join(condition_text(c.relation) for c in conditions))
    return "\n".join(lines)
