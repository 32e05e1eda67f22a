"""LaTeX reports: derivations (``align*``), the Keras-style table (``booktabs``), the
totals as closed forms, and a standalone document with all of them.

The fragments need ``amsmath``; the table also ``booktabs`` and ``array`` (and
``longtable`` for the long variant). Long equations are broken at the terms of a sum,
one stage of a derivation per line when the whole chain does not fit. Only
formatting happens here: every expression comes from the count and its records.
"""

from __future__ import annotations

from ..derivation import Derivation
from .printing import collect, latex, latex_name, latex_number, repeats, shape, terms, tex_escape, width

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


def _rows(lhs: str, stages: list[list[str]]) -> list[str]:
    """``lhs &= stage_1 = stage_2 …`` as align rows: one row if it fits, else one row
    per stage, a long stage continued on indented rows."""
    joined = " = ".join(" ".join(s) for s in stages)
    if width(lhs) + width(joined) + 1.4 <= LINE:
        return [f"{lhs} &= {joined}"]
    rows = []
    for i, pieces in enumerate(stages):
        lines = _pack(pieces, LINE - width(lhs) - 3)
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


def derivation_rows(d: Derivation) -> list[str]:
    return _rows(latex_name(d.lhs.name), [s.pieces("latex") for s in d.steps])


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
    """The derivations of every layer that owns weights or computes a size, as one
    ``align*``: ``P = k_h k_w C_in C_out + C_out = 3·3·3·32 + 32 = 896``."""
    blocks = []
    for key, records, derived in _groups(count):
        names = ", ".join(_name(r) for r in records)
        heading = f"{names} ({tex_escape(records[0].type)}){_context(records[0])}"
        rows = [row for d in derived for row in derivation_rows(d)]
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


def totals(count) -> str:
    """``P = <closed form> = <number>`` for the total, the trainable and the
    non-trainable parameters, and per block when the model has blocks."""
    symbolic = count.symbolic or count
    blocks = []
    lines = [("P", "total")]
    if symbolic.non_trainable != 0:
        lines += [("P_{\\text{trainable}}", "trainable"), ("P_{\\text{non-trainable}}", "non_trainable")]
    rows = []
    keys = repeats(count)
    for lhs, attribute in lines:
        expr, value = getattr(symbolic, attribute), getattr(count, attribute)
        stages = [_closed(collect(expr, keys))]
        if value != expr:
            stages.append(_closed(value))
        rows += _rows(lhs, stages)
    blocks.append((None, rows))
    by_block = {k: v for k, v in symbolic.blocks(1).items() if k}
    if by_block:
        bound = count.blocks(1)
        rows = []
        for key, group in by_block.items():
            lhs = f"P_{{\\text{{{tex_escape(key[0])}}}}}"
            stages = [_closed(collect(group["params"], keys))]
            if bound[key]["params"] != group["params"]:
                stages.append(_closed(bound[key]["params"]))
            rows += _rows(lhs, stages)
        blocks.append(("per block:", rows))
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
        holds = ", ".join(f"${latex(c.relation)}$" for c in conditions)
        parts.append(f"The closed form holds for {holds}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

_COLUMNS = (r"@{}>{\raggedright\arraybackslash}p{0.26\linewidth}"
            r">{\raggedright\arraybackslash}p{0.22\linewidth}"
            r">{\raggedright\arraybackslash}p{0.30\linewidth}r@{}")
_HEADER = r"Layer (type) & Output shape & Param \# (formula) & Param \# \\"


def _number(value) -> str:
    return f"${latex_number(value)}$" if getattr(value, "is_Integer", False) else ""


def _table_rows(count) -> list[str]:
    symbolic = count.symbolic or count
    rows = []
    for record, sym in zip(count.layers, symbolic.layers):
        label = f"{_name(record)} ({tex_escape(record.type)})"
        if not record.counted:
            label += " [shared]"
        if record.repeat != 1:
            label += f" ${{\\times}}\\,{latex(record.repeat)}$"
        out = f"${shape(record.output_shape)}$"
        rows.append(f"{label} & {out} & ${latex(sym.params)}$ & {_number(record.params)} \\\\")
    return rows


def table(count, long: bool = False) -> str:
    """The Keras-style table with ``booktabs`` rules: Layer (type), Output shape, Param #
    as a formula in the model's dims and as a number. ``long=True`` gives a ``longtable``
    that breaks across pages; otherwise a ``table`` float with a ``tabular``."""
    symbolic = count.symbolic or count
    total = f"Total & & ${latex(collect(symbolic.total, repeats(count)))}$ & {_number(count.total)} \\\\"
    body = _table_rows(count)
    setup = "\\small\\setlength{\\tabcolsep}{4pt}"
    if long:
        return "\n".join([
            "{" + setup,
            f"\\begin{{longtable}}{{{_COLUMNS}}}",
            "\\toprule", _HEADER, "\\midrule", "\\endhead",
            "\\bottomrule", "\\endlastfoot",
            *body, "\\midrule", total,
            "\\end{longtable}}",
        ])
    return "\n".join([
        "\\begin{table}[htbp]",
        "\\centering" + setup,
        f"\\caption{{Parameters of \\texttt{{{tex_escape(count.name)}}}}}",
        f"\\begin{{tabular}}{{{_COLUMNS}}}",
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
        f"\\section*{{Parameters of \\texttt{{{name}}}}}",
        totals(count),
        values_sentence(count),
        "\\subsection*{Layers}",
        table(count, long=True),
        "\\subsection*{Derivations}",
        "\\setlength{\\abovedisplayskip}{6pt plus 2pt minus 2pt}\\setlength{\\belowdisplayskip}{6pt plus 2pt minus 2pt}",
        "Each layer's rule in its own notation, with this model's values, and the result; "
        "output sizes where they are computed.",
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
