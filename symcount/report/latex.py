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

import re

import sympy

from ..derivation import Derivation
from ..printing import for_count, collect, condition, latex, latex_name, latex_number, repeats, shape, terms, tex_escape, width

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


def _split_sum(text: str) -> list[str]:
    """LaTeX of a sum split at its top-level ``+`` and ``-`` (outside braces and
    ``\\left…\\right``), each piece with its sign: ``["a", "+ b", "- c"]``."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith("\\left", i) or text[i] == "{":
            depth += 1
        elif text.startswith("\\right", i) or text[i] == "}":
            depth -= 1
        elif depth == 0 and i > start and (text.startswith(" + ", i) or text.startswith(" - ", i)):
            parts.append(text[start:i])
            start = i + 1
        i += 1
    return parts + [text[start:]]


_BRACKETED = re.compile(r"^((?:[+-]|\\cdot) )?\\left\((.*)\\right\)$", re.DOTALL)


def _matched(inner: str) -> bool:
    """Whether ``\\left``/``\\right`` and braces balance inside ``inner`` (so the outer
    pair encloses all of it)."""
    depth = 0
    for i in range(len(inner)):
        if inner.startswith("\\left", i) or inner[i] == "{":
            depth += 1
        elif inner.startswith("\\right", i) or inner[i] == "}":
            depth -= 1
        if depth < 0:
            return False
    return depth == 0


def _expand(piece: str, room: float) -> list[str]:
    """A piece wider than ``room`` as smaller pieces: at its top-level products, then,
    for a bracketed sum, at the sum's terms, the brackets becoming ``\\bigl(``/``\\bigr)``
    (which, unlike ``\\left``/``\\right``, may stand on different rows of an
    ``align*``). A piece that cannot be split is kept whole."""
    if width(piece) <= room:
        return [piece]
    factors = _factors(piece)
    if len(factors) > 1:
        return [p for f in factors for p in _expand(f, room)]
    match = _BRACKETED.match(piece)
    if match is None or not _matched(match.group(2)):
        return [piece]
    terms_ = _split_sum(match.group(2))
    if len(terms_) < 2:
        return [piece]
    big = "\\Bigl(" if "\\frac" in piece else "\\bigl("
    terms_[0] = (match.group(1) or "") + big + terms_[0]
    terms_[-1] += big.replace("l(", "r)")
    return [p for t in terms_ for p in _expand(t, room)]


def _pack(pieces: list[str], room: float) -> list[str]:
    """Pieces (terms with their signs) packed greedily into lines of at most ``room``;
    a term wider than a line is broken at its products, a bracketed sum at its terms."""
    split = [p for piece in pieces for p in _expand(piece, room)]
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


def breakable(name: str) -> str:
    """A layer or block name in ``\\texttt``; one longer than 16 characters free to break
    after its dots and underscores."""
    text = tex_escape(name)
    if len(name) > 16:
        text = text.replace(".", ".\\allowbreak{}").replace("\\_", "\\_\\allowbreak{}")
    return f"\\texttt{{{text}}}"


def _name(record) -> str:
    return breakable(record.name)


#: a layer name longer than this is printed in the table with its block path abbreviated
ABBREVIATE = 24


def abbreviations(names) -> dict[str, int]:
    """The block paths (a name up to its last dot) of names longer than :data:`ABBREVIATE`,
    numbered in order of first appearance: ``{"encoder.block.0.layer.0": 1, …}``."""
    out: dict[str, int] = {}
    for name in names:
        if len(name) > ABBREVIATE and "." in name:
            prefix = name.rsplit(".", 1)[0]
            if len(prefix) >= 8:
                out.setdefault(prefix, len(out) + 1)
    return out


def _short(name: str, legend: dict[str, int]) -> str:
    """``⟨1⟩.SelfAttention`` for a name whose block path is in the legend."""
    prefix, _, tail = name.rpartition(".")
    if prefix in legend:
        return f"$\\langle {legend[prefix]}\\rangle$.{breakable(tail)}"
    return breakable(name)


def legend_sentence(legend: dict[str, int]) -> str:
    """``Layer names shortened: ⟨1⟩ = encoder.block.0.layer.0, …`` (empty without any)."""
    if not legend:
        return ""
    items = ", ".join(f"$\\langle {k}\\rangle$~=~{breakable(prefix)}" for prefix, k in legend.items())
    return f"{{\\raggedright\\noindent Layer names shortened in the table: {items}.\\par}}\n"


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


@for_count
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
    """``lhs = formula = value``: the formula grouped behind the repetition counts
    (``L(4h² + …) + 2Vh``), or expanded when ``keys`` is None."""
    stages = [_closed(collect(expr, keys) if keys is not None else sympy.expand(expr))]
    if value != expr:
        stages.append(_closed(value))
    return _rows(lhs, stages, lhs_width)


@for_count
def totals(count, expanded: bool = False) -> str:
    """``P = <closed form> = <number>`` for the total, the trainable and the
    non-trainable parameters, per block when the model has blocks, then the
    MACs, FLOPs and training FLOPs per example. Closed forms are grouped behind the
    model's repetition counts (``L \\cdot (…) + 2 h V + h``); ``expanded=True``
    multiplies them out."""
    symbolic = count.symbolic or count
    blocks = []
    lines = [("P", "total")]
    if symbolic.non_trainable != 0:
        lines += [("P_{\\text{trainable}}", "trainable"), ("P_{\\text{non-trainable}}", "non_trainable")]
    keys = None if expanded else repeats(count)
    by_block = {k: v for k, v in symbolic.blocks(1).items() if k}
    block_lhs = {key: f"P_{{\\texttt{{{tex_escape(key[0])}}}}}" for key in by_block}
    lhs_width = max(width(lhs) for lhs in [*(l for l, _ in lines), *block_lhs.values(), *(l for l, _ in COSTS)])
    for lhs, attribute in lines:  # a page may break between equations, not inside one
        blocks.append((None, _total_rows(lhs, getattr(symbolic, attribute), getattr(count, attribute), keys,
                                         lhs_width)))
    if by_block:
        bound = count.blocks(1)
        for i, (key, group) in enumerate(by_block.items()):  # a page may break between blocks
            blocks.append(("per block:" if i == 0 else None,
                           _total_rows(block_lhs[key], group["params"], bound[key]["params"], keys, lhs_width)))
    for i, (lhs, attribute) in enumerate(COSTS):
        blocks.append((COST_NOTE if i == 0 else None,
                       _total_rows(lhs, getattr(symbolic, attribute), getattr(count, attribute), keys, lhs_width)))
    return _align(blocks)


@for_count
def notation_table(count) -> str:
    """The table of notation: symbol, the dim's own name, its value (empty when no dim
    of the model has a symbol)."""
    from .notation import entries

    rows = [f"${latex_name(name)}$ & {breakable(name)} & {'' if value is None else f'${latex_number(value)}$'} \\\\"
            for name, _, value in entries(count)]
    if not rows:
        return ""
    return "\n".join(["\\begin{tabular}{@{}llr@{}}", "\\toprule", "Symbol & Name & Value \\\\", "\\midrule",
                      *rows, "\\bottomrule", "\\end{tabular}"])


@for_count
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

def _number_width(values) -> float:
    """A rough width in pt of the widest number among ``values`` in ``\\small`` type
    (digits 5pt, a grouping comma 2.8pt), at least the header's."""
    widest = 0.0
    for value in values:
        if getattr(value, "is_Integer", False):
            digits = len(str(abs(int(value))))
            widest = max(widest, 5.0 * digits + 2.8 * ((digits - 1) // 3))
    return max(widest, 42.0)  # the header, Param #, in small type


def _columns(numeric_macs: bool, reserved: float) -> str:
    """Layer, shape and formula as ragged paragraphs sharing what the number columns
    (``reserved`` pt with their padding) leave of the line; the numbers right-aligned;
    the MACs a number column when every layer's MACs are numbers, else a formula paragraph."""
    def para(share):
        return f">{{\\raggedright\\arraybackslash}}p{{\\dimexpr {share}\\linewidth - {share * reserved:.1f}pt\\relax}}"

    if numeric_macs:
        return "@{}" + para(0.34) + para(0.29) + para(0.37) + "rr@{}"
    return "@{}" + para(0.29) + para(0.2) + para(0.27) + "r" + para(0.24) + "@{}"


_HEADER = r"Layer (type) & Output shape & Param \# (formula) & Param \# & MACs \\"


def _number(value) -> str:
    return f"${latex_number(value)}$" if getattr(value, "is_Integer", False) else ""


def _cost(value) -> str:
    """A number when it is one, else the formula."""
    return _number(value) if getattr(value, "is_Integer", False) else f"${latex(value)}$"


def _inline(text: str) -> str:
    """Math for a table cell: ``\\bigl(``/``\\bigr)`` for ``\\left(``/``\\right)``, so that
    inline math may break after the ``+`` of a bracketed sum (TeX never breaks inside a
    ``\\left…\\right`` group)."""
    return text.replace("\\left(", "\\bigl(").replace("\\right)", "\\bigr)")


def _table_rows(count, legend: dict[str, int]) -> list[str]:
    symbolic = count.symbolic or count
    rows = []
    for record, sym in zip(count.layers, symbolic.layers):
        label = f"{_short(record.name, legend)} ({tex_escape(record.type)})"
        if not record.counted:
            label += " [shared]"
        if record.repeat != 1:
            label += f" ${{\\times}}\\,{latex(record.repeat)}$"
        out = f"${shape(record.output_shape)}$"
        rows.append(f"{label} & {out} & ${_inline(latex(sym.params))}$ & {_number(record.params)} & "
                    f"{_inline(_cost(record.macs))} \\\\")
    return rows


#: a table of more layers than this is a ``longtable`` (it would not fit one page)
LONG_TABLE = 30


@for_count
def table(count, long: bool | None = None) -> str:
    """The Keras-style table with ``booktabs`` rules: Layer (type), Output shape, Param #
    as a formula in the model's dims and as a number, MACs per example (a number when
    bound, else the formula). ``long=True`` gives a ``longtable`` that breaks across
    pages, ``False`` a ``table`` float with a ``tabular``; by default a ``longtable``
    for more than :data:`LONG_TABLE` layers. Layer names longer than
    :data:`ABBREVIATE` have their block path abbreviated (``⟨1⟩.SelfAttention``), with
    the legend above the table."""
    symbolic = count.symbolic or count
    keys = repeats(count)
    long = len(count.layers) > LONG_TABLE if long is None else long
    legend = abbreviations(r.name for r in count.layers)
    macs = count.macs if count.macs.is_Integer else collect(count.macs, keys)
    total = (f"Total & & ${_inline(latex(collect(symbolic.total, keys)))}$ & {_number(count.total)} & "
             f"{_inline(_cost(macs))} \\\\")
    body = _table_rows(count, legend)
    numeric_macs = all(r.macs.is_Integer for r in count.layers) and count.macs.is_Integer
    numbers = _number_width([count.total, *(r.params for r in count.layers)])
    if numeric_macs:
        numbers += _number_width([count.macs, *(r.macs for r in count.layers)])
    padding = 8.0 * (5 - 1) + 2  # \tabcolsep (4pt) on each side of the inner columns, and slack
    columns = _columns(numeric_macs, numbers + padding)
    setup = "\\small\\setlength{\\tabcolsep}{4pt}"
    if long:
        return legend_sentence(legend) + "\n".join([
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
        *([legend_sentence(legend)] if legend else []),
        f"\\begin{{tabular}}{{{columns}}}",
        "\\toprule", _HEADER, "\\midrule",
        *body, "\\midrule", total, "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
    ])


# ---------------------------------------------------------------------------
# Fragments and the standalone document
# ---------------------------------------------------------------------------


@for_count
def fragment(count, expanded: bool = False) -> str:
    """What ``symcount latex`` prints without ``--standalone``: totals, table and
    derivations, to paste into a document that loads the packages named in its first line."""
    return "\n\n".join([
        f"% symcount: {count.name}. Needs \\usepackage{{{','.join(PACKAGES if len(count.layers) > LONG_TABLE else PACKAGES[:3])}}}",
        *_notation_part(count),
        totals(count, expanded),
        values_sentence(count),
        table(count),
        derivations(count),
    ])


def _notation_part(count) -> list[str]:
    """The table of notation with its heading line, when the model has symbols."""
    notation = notation_table(count)
    return [f"\\noindent Notation:\\par\\smallskip\n{notation}\\par\\medskip"] if notation else []


@for_count
def document(count, expanded: bool = False) -> str:
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
        *_notation_part(count),
        totals(count, expanded),
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


@for_count
def repr_latex(count) -> str:
    """For Jupyter: the total as a closed form and, when bound, its value."""
    symbolic = count.symbolic or count
    text = f"P = {latex(collect(symbolic.total, repeats(count)))}"
    if count.total != symbolic.total:
        text += f" = {latex(count.total)}"
    return f"$\\displaystyle {text}$"
