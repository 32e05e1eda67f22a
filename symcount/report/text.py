"""The terminal table, laid out like Keras 3's ``model.summary()``, with a formula
column beside the number column. Formulas longer than their column wrap at term
boundaries instead of breaking the table. Only formatting happens here."""

from __future__ import annotations

import textwrap

from ..dims import condition_text, size_text

FORMULA_WIDTH = 34
SHAPE_WIDTH = 26


def number(value) -> str:
    """``6,029,097`` for an integer; the expression's text otherwise."""
    return f"{int(value):,}" if getattr(value, "is_Integer", False) or isinstance(value, int) else str(value)


def formula(expr) -> str:
    """An expression as one line, with spaces around ``+`` so it wraps at terms."""
    return str(expr)


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


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


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


def summary(count) -> str:
    """Keras-style summary: Layer (type), Output Shape, Param # as formula and as number."""
    symbolic = count.symbolic or count
    rows = []
    for record, sym in zip(count.layers, symbolic.layers):
        rows.append([
            record.label + ("" if record.counted else " [shared]"),
            size_text(record.output_shape),
            formula(sym.params),
            number(record.params) if record.params.is_Integer else "",
        ])
    label_w = max([len("Layer (type)"), *(len(r[0]) for r in rows)])
    shape_w = min(max([len("Output Shape"), *(len(r[1]) for r in rows)]), SHAPE_WIDTH)
    formula_w = min(max([len("Param # (formula)"), *(len(r[2]) for r in rows)]), FORMULA_WIDTH)
    number_w = max([len("Param #"), *(len(r[3]) for r in rows)])
    lines = [f'Model: "{count.name}"']
    lines += _table(["Layer (type)", "Output Shape", "Param # (formula)", "Param #"], rows,
                    [label_w, shape_w, formula_w, number_w], right={3})
    for title, attribute in (("Total", "total"), ("Trainable", "trainable"), ("Non-trainable", "non_trainable")):
        value, expr = getattr(count, attribute), getattr(symbolic, attribute)
        text = number(value) + readable_bytes(value)
        if value != expr:
            text = f"{expr} = {text}"
        lines.append(f" {title} params: {text}")
    if count.values:
        lines.append(" Values: " + ", ".join(f"{k}={v}" for k, v in count.values.items()))
    conditions = count.conditions
    if conditions:
        lines.append(" Valid for: " + ", ".join(condition_text(c.relation) for c in conditions))
    return "\n".join(lines)
