"""LaTeX reports: derivations (``align*``: parameters, output sizes, multiply-accumulates),
the Keras-style table (``booktabs``, with a MACs column), the totals as closed forms
(parameters; MACs, FLOPs and training FLOPs per example), and a standalone document with
all of them.

The fragments need ``amsmath``; the table also ``booktabs`` and ``array`` (and
``longtable`` for the long variant). Long equations are broken at the terms of a sum,
one stage of a derivation per line when the whole chain does not fit. Only
formatting happens here: every expression comes from the count and its records.
"""

from __future__ import annotations

from ..derivation import Derivation
from ..printing import collect, condition, latex, latex_name, latex_number, repeats, shape, terms, tex_escape, width

#: the width (em, as :func:`printing.width` estimates it) a display line may take: the
#: text width of an 11pt article on A4 with 2cm margins is 44em; the estimate errs by
#: up to about a tenth, and papers' columns are narrower, so lines break well before
LINE = 34

PACKAGES = ("amsmath", "booktabs", "array", "longtable")


# ---------------------------------------------------------------------------
# Breaking long equations
# ---------------------------------------------------------------------------


def _factors(piece: str) -> list[str]:
    """A term split at its top-level ``\\cdot`` s (outside braces and ``\\left…\\right``)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(piece):
        if piece.startswith("\\left", i) or piece[i] == "{":
            depth += 1
        elif piece.startswith("\\right", i) or piece[i] == "}":
            depth -= 1
        elif depth == 0 and piece.startswith(" \\cdot ", i):
            parts.append(piece[start:i])
            start = i + 1
        i += 1
    return parts + [piece[start:]]


def _pack(pieces: list[str], room: float) -> list[str]:
    """Pieces (terms with their signs) packed greedily into lines of at most ``room``;
    a term wider than a line is broken at its products."""
    split = []
    for piece in pieces:
        split += _factors(piece) if width(piece) > room else [piece]
    lines, current = [], ""
    for piece in split:
        candidate = f"{current} {piece}" if current else piece
        if current and width(candidate) > room:
            lines.append(current)
            current = piece
        else:
            current = candidate
    return lines + [current] if current else lines


def _rows(lhs: str, stages: list[list[str]], lhs_width: float | None = None) -> list[str]:
    """``lhs &= stage_1 = stage_2 …`` as align rows: one row if it fits, else one row
    per stage, a long stage continued on indented rows. ``lhs_width`` is the widest
    left-hand side of the whole ``align*`` (its left column is that wide for every row)."""
    room = LINE - max(width(lhs), lhs_width or 0)
    joined = " = ".join(" ".join(s) for s in stages)
    if width(joined) + 1.4 <= room:
        return [f"{lhs} &= {joined}"]
    rows = []
    for i, pieces in enumerate(stages):
        lines = _pack(pieces, room - 3)
        rows.append(f"{lhs if i == 0 else ''} &= {lines[0]}")
        rows += [f"&\\quad {line}" for line in lines[1:]]
    return rows


def _align(blocks: list[tuple[str | None, list[str]]]) -> str:
    """An ``align*`` of rows, each group optionally headed by an ``\\intertext``; a
    page may break between groups, not inside one (``\\\\*``)."""
    out = []
    for heading, rows in blocks:
        if heading is not None:
            if out:
                out[-1] += r" \\"
            out.append(f"\\intertext{{{heading}}}")
        for i, row in enumerate(rows):
            if i > 0:
                out[-1] += r" \\*"
            elif out and not out[-1].startswith("\\intertext"):
                out[-1] += r" \\"
            out.append(row)
    return "\\begin{align*}\n" + "\n".join(out) + "\n\\end{align*}"


# ---------------------------------------------------------------------------
# Derivations
# ---------------------------------------------------------------------------


def _name(record) -> str:
    return f"\\texttt{{{tex_escape(record.name)}}}"


def _context(record) -> str:
    notes = []
    if record.path:
        notes.append("in " + "/".join(f"\\textit{{{tex_escape(p)}}}" for p in record.path))
    if record.repeat != 1:
        notes.append(f"repeated ${latex(record.repeat)}$ times")
    if not record.counted:
        notes.append("shared: its weights are counted at its first use")
    return ("; " + ", ".join(notes)) if notes else ""


def derivation_rows(d: Derivation, lhs_width: float | None = None) -> list[str]:
    return _rows(d.lhs_printed("latex"), [s.pieces("latex") for s in d.steps], lhs_width)


def _groups(count):
    """Records with derivations, consecutive identical ones (same type, same lines) merged."""
    groups = []
    for record in count.layers:
        derivations = record.derivation
        if not derivations:
            continue
        key = (record.type, tuple(d.latex for d in derivations), _context(record))
        if groups and groups[-1][0] == key:
            groups[-1][1].append(record)
        else:
            groups.append((key, [record], derivations))
    return groups


def derivations(count) -> str:
    """The derivations of every layer that owns weights, computes a size or multiplies,
    as one ``align*``: ``P = k_h k_w C_in C_out + C_out = 3·3·3·32 + 32 = 896``,
    ``MACs = H_in W_in k_h k_w C_in C_out = 256·256·3·3·3·32 = 56,623,104``."""
    blocks = []
    groups = _groups(count)
    lhs_width = max((width(d.lhs_printed("latex")) for _, _, derived in groups for d in derived), default=0)
    for key, records, derived in groups:
        names = ", ".join(_name(r) for r in records)
        heading = f"{names} ({tex_escape(records[0].type)}){_context(records[0])}"
        rows = [row for d in derived for row in derivation_rows(d, lhs_width)]
        blocks.append((heading, rows))
    if not blocks:
        return "% symcount: no layer owns weights or computes a size: nothing to derive"
    return _align(blocks)


# ---------------------------------------------------------------------------
# Totals
# ---------------------------------------------------------------------------


def _closed(expr) -> list[str]:
    """A closed form as its terms (most dims first), for breaking over lines."""
    return terms(expr, "latex")


#: the cost totals: left-hand side, Count attribute
COSTS = ((r"\mathrm{MACs}", "macs"), (r"\mathrm{FLOPs}", "flops"),
         (r"\mathrm{FLOPs}_{\text{training}}", "training_flops"))

COST_NOTE = ("per example (FLOPs: 2 per multiply-accumulate, as PyTorch's FlopCounterMode "
             "counts; training: forward and backward):")


def _total_rows(lhs: str, expr, value, keys, lhs_width: float) -> list[str]:
    stages = [_closed(collect(expr, keys))]
    if value != expr:
        stages.append(_closed(value))
    return _rows(lhs, stages, lhs_width)


def totals(count) -> str:
    """``P = <closed form> = <number>`` for the total, the trainable and the
    non-trainable parameters, per block when the model has blocks, then the
    MACs, FLOPs and training FLOPs per example."""
    symbolic = count.symbolic or count
    blocks = []
    lines = [("P", "total")]
    if symbolic.non_trainable != 0:
        lines += [("P_{\\text{trainable}}", "trainable"), ("P_{\\text{non-trainable}}", "non_trainable")]
    rows = []
    keys = repeats(count)
    by_block = {k: v for k, v in symbolic.blocks(1).items() if k}
    block_lhs = {key: f"P_{{\\text{{{tex_escape(key[0])}}}}}" for key in by_block}
    lhs_width = max(width(lhs) for lhs in [*(l for l, _ in lines), *block_lhs.values(), *(l for l, _ in COSTS)])
    for lhs, attribute in lines:
        rows += _total_rows(lhs, getattr(symbolic, attribute), getattr(count, attribute), keys, lhs_width)
    blocks.append((None, rows))
    if by_block:
        bound = count.blocks(1)
        rows = []
        for key, group in by_block.items():
            rows += _total_rows(block_lhs[key], group["params"], bound[key]["params"], keys, lhs_width)
        blocks.append(("per block:", rows))
    rows = []
    for lhs, attribute in COSTS:
        rows += _total_rows(lhs, getattr(symbolic, attribute), getattr(count, attribute), keys, lhs_width)
    blocks.append((COST_NOTE, rows))
    return _align(blocks)


def values_sentence(count) -> str:
    """``at $H = 256$, …; the closed form holds for $H \\geq 32$, …``."""
    parts = []
    if count.values:
        bound = ", ".join(f"${latex_name(k)} = {latex_number(v)}$" for k, v in count.values.items())
        parts.append(f"Values: {bound}.")
    free = count.free_dims
    if free:
        parts.append("Symbolic in " + ", ".join(f"${latex_name(d.name)}$" for d in free) + ".")
    conditions = (count.symbolic or count).conditions
    if conditions:
        holds = ", ".join(f"${condition(c.relation)}$" for c in conditions)
        parts.append(f"The closed form holds for {holds}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def _columns(numeric_macs: bool) -> str:
    """Layer, shape and formula as ragged paragraphs; the numbers right-aligned; the
    MACs a number column when every layer's MACs are numbers, else a formula paragraph."""
    def para(width):
        return f">{{\\raggedright\\arraybackslash}}p{{{width}\\linewidth}}"

    if numeric_macs:
        return "@{}" + para(0.23) + para(0.19) + para(0.24) + "rr@{}"
    return "@{}" + para(0.23) + para(0.15) + para(0.21) + "r" + para(0.19) + "@{}"


_HEADER = r"Layer (type) & Output shape & Param \# (formula) & Param \# & MACs \\"


def _number(value) -> str:
    return f"${latex_number(value)}$" if getattr(value, "is_Integer", False) else ""


def _cost(value) -> str:
    """A number when it is one, else the formula."""
    return _number(value) if getattr(value, "is_Integer", False) else f"${latex(value)}$"


def _table_rows(count) -> list[str]:
    symbolic = count.symbolic or count
    rows = []
    for record, sym in zip(count.layers, symbolic.layers):
        name = _name(record).replace("\\_", "\\_\\allowbreak{}")  # a long name may break after _
        label = f"{name} ({tex_escape(record.type)})"
        if not record.counted:
            label += " [shared]"
        if record.repeat != 1:
            label += f" ${{\\times}}\\,{latex(record.repeat)}$"
        out = f"${shape(record.output_shape)}$"
        rows.append(f"{label} & {out} & ${latex(sym.params)}$ & {_number(record.params)} & {_cost(record.macs)} \\\\")
    return rows


def table(count, long: bool = False) -> str:
    """The Keras-style table with ``booktabs`` rules: Layer (type), Output shape, Param #
    as a formula in the model's dims and as a number, MACs per example (a number when
    bound, else the formula). ``long=True`` gives a ``longtable`` that breaks across
    pages; otherwise a ``table`` float with a ``tabular``."""
    symbolic = count.symbolic or count
    keys = repeats(count)
    macs = count.macs if count.macs.is_Integer else collect(count.macs, keys)
    total = (f"Total & & ${latex(collect(symbolic.total, keys))}$ & {_number(count.total)} & "
             f"{_cost(macs)} \\\\")
    body = _table_rows(count)
    columns = _columns(all(r.macs.is_Integer for r in count.layers) and count.macs.is_Integer)
    setup = "\\small\\setlength{\\tabcolsep}{4pt}"
    if long:
        return "\n".join([
            "{" + setup,
            f"\\begin{{longtable}}{{{columns}}}",
            "\\toprule", _HEADER, "\\midrule", "\\endhead",
            "\\bottomrule", "\\endlastfoot",
            *body, "\\midrule", total,
            "\\end{longtable}}",
        ])
    return "\n".join([
        "\\begin{table}[htbp]",
        "\\centering" + setup,
        f"\\caption{{Parameters and multiply-accumulates of \\texttt{{{tex_escape(count.name)}}}}}",
        f"\\begin{{tabular}}{{{columns}}}",
        "\\toprule", _HEADER, "\\midrule",
        *body, "\\midrule", total, "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
    ])


# ---------------------------------------------------------------------------
# Fragments and the standalone document
# ---------------------------------------------------------------------------


def fragment(count) -> str:
    """What ``symcount latex`` prints without ``--standalone``: totals, table and
    derivations, to paste into a document that loads the packages named in its first line."""
    return "\n\n".join([
        f"% symcount: {count.name}. Needs \\usepackage{{{','.join(PACKAGES[:3])}}}",
        totals(count),
        values_sentence(count),
        table(count),
        derivations(count),
    ])


def document(count) -> str:
    """A complete document: the model's name, totals, values and validity conditions,
    the table (breaking across pages) and the derivations."""
    name = tex_escape(count.name)
    return "\n".join([
        "% Generated by symcount",
        "\\documentclass[11pt]{article}",
        "\\usepackage[a4paper,margin=2cm]{geometry}",
        f"\\usepackage{{{','.join(PACKAGES)}}}",
        "\\allowdisplaybreaks",
        "\\pagestyle{empty}",
        "\\begin{document}",
        f"\\section*{{Parameters and costs of \\texttt{{{name}}}}}",
        totals(count),
        values_sentence(count),
        "\\subsection*{Layers}",
        table(count, long=True),
        "\\subsection*{Derivations}",
        "\\setlength{\\abovedisplayskip}{6pt plus 2pt minus 2pt}\\setlength{\\belowdisplayskip}{6pt plus 2pt minus 2pt}",
        "Each layer's rule in its own notation, with this model's values, and the result; "
        "output sizes where they are computed; multiply-accumulates (MACs) per example, "
        "for each product of a layer that has several.",
        derivations(count),
        "\\end{document}",
        "",
    ])


def repr_latex(count) -> str:
    """For Jupyter: the total as a closed form and, when bound, its value."""
    symbolic = count.symbolic or count
    text = f"P = {latex(collect(symbolic.total, repeats(count)))}"
    if count.total != symbolic.total:
        text += f" = {latex(count.total)}"
    return f"$\\displaystyle {text}$"
