"""Markdown reports for READMEs and issue threads: the Keras-style table (with a MACs
column), the parameter and cost totals and the derivations (parameters, output sizes,
multiply-accumulates), with formulas as inline math (``$…$``) that MathJax and GitHub render.

Formulas avoid what Markdown would eat before MathJax sees it: no ``|`` (table cells),
no ``\\,`` or other backslash-punctuation escapes. Only formatting happens here.
"""

from __future__ import annotations

from ..printing import for_count, collect, condition, latex, latex_name, repeats, shape

#: the cost totals under the parameter totals: title, Count attribute
COSTS = (("MACs", "macs"), ("FLOPs", "flops"), ("Training FLOPs", "training_flops"))


def _math(tex: str) -> str:
    return f"${tex}$"


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def _number(value) -> str:
    return f"{int(value):,}" if getattr(value, "is_Integer", False) else ""


def _formula(expr) -> str:
    """A number as plain text (``9,248``), anything else as inline math."""
    return _number(expr) if getattr(expr, "is_Integer", False) else _math(latex(expr))


def _shape(values) -> str:
    if all(v is None or getattr(v, "is_Integer", False) for v in values):
        return text_shape(values)
    return _math(shape(values).replace("\\allowbreak ", " "))


def text_shape(values) -> str:
    return "(" + ", ".join("None" if v is None else str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def _total_line(title: str, expr, value, keys=()) -> str:
    formula = latex(collect(expr, keys))
    if value != expr:
        formula += f" = {latex(value)}"
    return f"**{title}:** {_math(formula)}"


@for_count
def markdown(count, depth: int | None = None) -> str:
    """The model's table, totals, values, validity conditions and derivations;
    ``depth`` folds the table's blocks deeper than it into one row each
    (:mod:`symcount.report.rows`)."""
    from .rows import rows

    from .notation import entries

    symbolic = count.symbolic or count
    lines = [f"**{count.name}**", ""]
    notation = entries(count)
    if notation:
        lines += ["| Symbol | Name | Value |", "| --- | --- | ---: |"]
        lines += [f"| {_math(latex_name(name))} | `{name}` | {'' if value is None else f'{int(value):,}'} |"
                  for name, _, value in notation]
        lines.append("")
    lines += ["| Layer (type) | Output shape | Param # (formula) | Param # | MACs |",
              "| --- | --- | --- | ---: | ---: |"]
    for row in rows(count, depth):
        label = f"`{row.name}` ({row.type})"
        if row.shared:
            label += " [shared]"
        if row.repeat != 1:
            label += f" × {_math(latex(row.repeat))}"
        lines.append("| " + " | ".join(_cell(c) for c in (
            label, _shape(row.output_shape), _formula(row.params_formula), _number(row.params),
            _formula(row.macs))) + " |")
    lines.append("")
    keys = repeats(count)
    lines.append(_total_line("Total params", symbolic.total, count.total, keys))
    if symbolic.non_trainable != 0:
        lines.append("")
        lines.append(_total_line("Trainable params", symbolic.trainable, count.trainable, keys))
        lines.append("")
        lines.append(_total_line("Non-trainable params", symbolic.non_trainable, count.non_trainable, keys))
    for title, attribute in COSTS:
        lines.append("")
        lines.append(_total_line(title, getattr(symbolic, attribute), getattr(count, attribute), keys))
    lines += ["", "MACs: multiply-accumulates of one forward pass of one example (per call of a layer); "
              "FLOPs: 2 per MAC, as `torch.utils.flop_counter.FlopCounterMode` counts; "
              "training FLOPs: forward and backward."]
    if count.values:
        lines += ["", "Values: " + ", ".join(_math(f"{latex_name(k)} = {v}") for k, v in count.values.items())]
    conditions = symbolic.conditions
    if conditions:
        lines += ["", "Valid for " + ", ".join(_math(condition(c.relation)) for c in conditions)]
    derived = [(r, r.derivation) for r in count.layers]
    derived = [(r, d) for r, d in derived if d]
    if derived:
        lines += ["", "**Derivations**", ""]
        for record, derivations in derived:
            chains = "; ".join(_math(d.latex) for d in derivations)
            lines.append(f"- `{record.name}` ({record.type}): {chains}")
    return "\n".join(lines) + "\n"
