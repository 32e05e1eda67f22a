"""One printing of a total, for every command: ``formula = value``.

The formula is the total before any binding, printed as SymPy reads it back, with the
terms of a repeated block gathered behind its count (``n_layer*(…) + …``, see
:func:`symcount.printing.collect`); the value is the total at the bound dims, digits
grouped (``6,029,097``, or ``129*classes + 6,027,936`` while a dim is free), with its
magnitude for parameters as Keras prints it (4 bytes each: ``(23.00 MB)``) and for costs
(``(1.63 G)``). A total with no dim bound is its formula alone; a number alone is its
value. Long totals wrap between the terms of their sums, under a hanging indent, to the
width given. ``symcount count`` prints :func:`count_text`; the summary's totals are the
same lines. Only formatting happens here.
"""

from __future__ import annotations

import re

from .. import printing
from .layout import break_factors, elide, hanging, pack, wrap
from .rows import check_depth

#: a whole number of four or more digits standing alone in a formula
_NUMBER = re.compile(r"(?<![\w.])\d{4,}(?![\w.])")

#: the parameter totals: title, Count attribute
PARAMS = (("Total params", "total"), ("Trainable params", "trainable"),
          ("Non-trainable params", "non_trainable"))
#: the cost totals (per example): title, Count attribute
COSTS = (("MACs", "macs"), ("FLOPs", "flops"), ("Training FLOPs", "training_flops"))


def grouped(text: str) -> str:
    """Digits of the whole numbers in ``text`` grouped by commas (``6,027,936``), unless
    the text holds a ``Max``/``Min``, whose commas separate arguments."""
    if "Max(" in text or "Min(" in text:
        return text
    return _NUMBER.sub(lambda m: f"{int(m.group()):,}", text)


def readable_bytes(value) -> str:
    """Keras's ``readable_memory_size`` at 4 bytes (float32) per parameter: `` (23.00 MB)``."""
    if not getattr(value, "is_Integer", False):
        return ""
    if int(value) >= 2 ** 1000:  # no float holds it (a count of more than 300 digits): no magnitude shown
        return ""
    size, units = int(value) * 4.0, ["B", "KB", "MB", "GB", "TB"]
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f" ({size:.2f} {unit})"
        size /= 1024
    return ""  # pragma: no cover


def readable_count(value) -> str:
    """`` (56.62 M)`` for an integer of at least a thousand: a cost's magnitude at a glance."""
    if not getattr(value, "is_Integer", False) or not 1000 <= int(value) < 2 ** 1000:  # beyond a float: none
        return ""
    size = float(int(value))
    for unit in ("K", "M", "G", "T", "P"):
        size /= 1000
        if size < 1000 or unit == "P":
            return f" ({size:.2f} {unit})"
    return ""  # pragma: no cover


def expr_lines(expr, width: int, group: bool = False) -> list[str]:
    """``expr`` as SymPy text on lines of at most ``width``, broken between the terms of
    its sum, then after the factors of a product, then at spaces."""
    pieces = printing.terms(expr, "python")
    if group:
        pieces = [grouped(p) for p in pieces]
    return [part for line in pack(pieces, width) for part in break_factors(line, width)]


def total_lines(prefix: str, count, attribute: str, width: int) -> list[str]:
    """``prefix`` then ``formula = value (magnitude)``, wrapped to ``width``."""
    symbolic = count.symbolic or count
    keys = printing.repeats(count)
    value, expr = getattr(count, attribute), getattr(symbolic, attribute)
    return expression_lines(prefix, printing.collect(expr, keys), printing.collect(value, keys), width,
                            readable_count if attribute in COST_ATTRIBUTES else readable_bytes)


#: totals whose magnitude reads as a count (the others are parameters: bytes)
COST_ATTRIBUTES = frozenset(attribute for _, attribute in COSTS)


def expression_lines(prefix: str, formula, value, width: int, readable=readable_bytes) -> list[str]:
    """``prefix`` then ``formula = value (magnitude)`` wrapped to ``width``: the formula
    alone while nothing is bound, the value alone when the formula is a number."""
    room = max(width - len(prefix), 12)
    if value == formula and not value.is_Integer:
        return hanging(prefix, expr_lines(formula, room))
    suffix = readable(value)
    value_lines = expr_lines(value, room - 2, group=True)
    if len(value_lines[-1] + suffix) <= room - 2:
        value_lines[-1] += suffix
    if value == formula:
        return hanging(prefix, value_lines)
    lines = expr_lines(formula, room)
    if len(lines[-1]) + 3 + len(value_lines[0]) <= room:
        lines[-1] += " = " + value_lines[0]
        lines += value_lines[1:]
    else:
        lines += ["= " + value_lines[0]] + ["  " + v for v in value_lines[1:]]
    return hanging(prefix, lines)


def text_lines(prefix: str, text: str, width: int) -> list[str]:
    """``prefix`` then ``text`` wrapped at spaces to ``width``."""
    return hanging(prefix, wrap(text, max(width - len(prefix), 12)))


def count_text(count, width: int, depth: int | None = None) -> str:
    """``symcount count``: the model's name, then each total as ``formula = value``;
    with ``depth``, each block's parameters (blocks deeper than ``depth`` folded, as in
    the summary); what was not counted, the bound values and the validity conditions."""
    check_depth(depth)
    lines = [elide(count.name, width)]

    def prefix(title: str) -> str:
        return f"  {title + ':':<16}"

    titles = (("total", "total"), ("trainable", "trainable"), ("non-trainable", "non_trainable"),
              ("MACs", "macs"), ("FLOPs", "flops"), ("training FLOPs", "training_flops"))
    for title, attribute in titles:
        lines += total_lines(prefix(title), count, attribute, width)
        if attribute == "total" and count.active is not None:  # a mixture of experts: what one token uses
            lines += total_lines(prefix("active"), count, "active_params", width)
    if depth is not None:
        symbolic, keys = (count.symbolic or count).blocks(depth), printing.repeats(count)
        lines.append(f"  parameters by block (depth {depth}):")
        for key, totals in count.blocks(depth).items():
            name = elide(".".join(key) if key else "(outside blocks)", width // 2)
            lines += expression_lines(f"    {name}: ", printing.collect(symbolic[key]["params"], keys),
                                      totals["params"], width)
    if count.uncounted:
        lines += text_lines(prefix("not counted"), "; ".join(str(u) for u in count.uncounted), width)
    if count.values:
        lines += text_lines(prefix("values"), ", ".join(f"{k}={v}" for k, v in count.values.items()), width)
    if count.conditions:
        lines += text_lines(prefix("valid for"), ", ".join(str(c) for c in count.conditions), width)
    return "\n".join(lines)
