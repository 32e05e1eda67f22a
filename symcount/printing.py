"""How expressions print in reports: LaTeX, plain text (Unicode) and Python-style text.

One small printer, three styles, so that a formula reads the same in a paper, in a
README and in a terminal:

- ``latex``: ``16{,}384 \\cdot \\left(\\left\\lfloor \\frac{H - 32}{12} \\right\\rfloor + 1\\right)``;
  dim names as a person writes them (``d_model`` → ``d_{\\mathrm{model}}``, ``alpha`` →
  ``\\alpha``, ``classes`` → ``\\mathit{classes}``, or the user's ``sc.dim(name, latex=…)``);
- ``unicode``: ``16384·(⌊(H − 32)/12⌋ + 1)``;
- ``python``: ``16384*(floor((H - 32)/12) + 1)``, which SymPy reads back.

A floor's argument is put over one denominator (``floor(H/12 - 8/3)`` prints as
``⌊(H − 32)/12⌋``). Terms of a sum come with the most dims first and the constant last.

``bindings`` (notation symbol → value) are applied *while printing*, not by SymPy: the
rule ``⌊(H_in − p_h)/p_h⌋ + 1`` with ``{H_in: 254, p_h: 3}`` prints as
``⌊(254 − 3)/3⌋ + 1``, the arithmetic left for the reader to follow. A bound value
that is itself a sum is put in parentheses wherever it stands inside a sum or product.
Only formatting happens here.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Mapping, Sequence

import sympy

from .dims import LATEX_NAMES

ADD, MUL, POW, ATOM = 1, 2, 3, 4

GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split()
)

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# ---------------------------------------------------------------------------
# Names and numbers
# ---------------------------------------------------------------------------


def _name_part(part: str) -> str:
    if part in GREEK:
        return "\\" + part
    if part.isdigit() or len(part) == 1:
        return part
    return "\\mathrm{%s}" % part


def _plain_latex_name(name: str) -> str:
    """A name as a paper writes it, without notation: a letter (or Greek letter) with
    its subscripts (``d_model`` → ``d_{\\mathrm{model}}``, ``k_h`` → ``k_h``, ``beta_2`` →
    ``\\beta_2``, ``a_kv`` → ``a_{\\mathrm{kv}}``); a word upright as written, never
    split into nested subscripts (``classes`` → ``\\mathrm{classes}``, ``hidden_size``
    → ``\\mathrm{hidden\\_size}``)."""
    parts = [p for p in name.split("_") if p] or [name]
    base, subs = parts[0], parts[1:]
    if not (len(base) == 1 or base in GREEK) or not name.replace("_", "").isalnum():
        return "\\mathrm{%s}" % name.replace("_", "\\_")
    text = _name_part(base)
    if subs:
        sub = ",".join(_name_part(s) for s in subs)
        text += f"_{sub}" if len(sub) == 1 else f"_{{{sub}}}"
    return text


def latex_name(name: str) -> str:
    """A dim or notation name in LaTeX: the user's symbol (:func:`notation`) first, then
    the user's LaTeX (``sc.dim(name, latex=…)``, :data:`symcount.dims.LATEX_NAMES`), then
    the symbol a zoo family gives it (``hidden_size`` → ``h``), else the name as a paper
    writes it (:func:`_plain_latex_name`)."""
    if name in NOTATION:
        return _plain_latex_name(NOTATION[name])
    if name in LATEX_NAMES:
        return LATEX_NAMES[name]
    family = _ACTIVE.get().get(name)
    return _plain_latex_name(family) if family else _plain_latex_name(name)


def _is_letter(name: str) -> bool:
    """Whether a name prints as one letter (with subscripts): juxtaposed in products."""
    if name in LATEX_NAMES and name not in NOTATION:
        return True
    name = symbol(name) or name
    base = name.split("_")[0] or name
    return len(base) == 1 or base in GREEK


# ---------------------------------------------------------------------------
# Notation: a short symbol for a dim, in math (LaTeX, Markdown)
# ---------------------------------------------------------------------------

#: dim name → the symbol it prints as in math, as the user gave it (:func:`notation`)
NOTATION: dict[str, str] = {}
#: the zoo families' tables of conventional symbols (Kaplan et al. 2020; Narayanan et
#: al. 2021: L layers, h hidden size, a heads, V vocabulary, s sequence), each config
#: name → symbol; a table applies to the count being rendered (:func:`symbols_for`)
FAMILIES: list[dict[str, str]] = []
#: the family symbols of the count being rendered
_ACTIVE: contextvars.ContextVar = contextvars.ContextVar("symcount_family_symbols", default={})

#: a symbol: a letter or a Greek letter's name, then subscripts (``h``, ``d_ff``, ``a_kv``)
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+){0,3}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: the most symbols one call gives, and the longest symbol and dim name
MAX_SYMBOLS, MAX_SYMBOL, MAX_NAME = 64, 16, 100


def _checked(symbols: Mapping) -> dict[str, str]:
    from .errors import ArgumentError

    if len(symbols) > MAX_SYMBOLS:
        raise ArgumentError(f"notation: at most {MAX_SYMBOLS} symbols. Received: {len(symbols)}")
    out = {}
    for name, sym in symbols.items():
        if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.fullmatch(name):
            raise ArgumentError(f"notation: a dim name is a Python identifier of at most {MAX_NAME} "
                                f"characters. Received: {str(name)[:MAX_NAME]!r}")
        if not isinstance(sym, str) or len(sym) > MAX_SYMBOL or not _SYMBOL.fullmatch(sym):
            raise ArgumentError(f"notation: the symbol for {name} must be a letter or a Greek letter's name with "
                                f"up to three subscripts (h, d_ff, a_kv), at most {MAX_SYMBOL} characters. "
                                f"Received: {name}={str(sym)[:MAX_SYMBOL + 4]!r}")
        out[name] = sym
    twice = sorted({s for s in out.values() if list(out.values()).count(s) > 1})
    if twice:
        raise ArgumentError(f"notation: two dims would print as {twice[0]}; give each its own symbol. "
                            f"Received: {', '.join(f'{n}={s}' for n, s in out.items() if s == twice[0])}")
    return out


def notation(mapping: Mapping | None = None, /, **symbols: str) -> dict[str, str]:
    """Print dims as short symbols in math (LaTeX reports, Markdown): ``sc.notation(
    hidden_size="h", num_hidden_layers="L")`` — as papers write them (Kaplan et al.,
    Narayanan et al.). Returns the user's whole table so far. Terminal text, CSV and
    JSON keep the dims' own names (those ``--set`` takes). ``sc.notation(hidden_size=None)``
    removes a symbol. Raises :class:`~symcount.errors.ArgumentError` for a symbol that is
    not a letter with subscripts, or for two dims given one symbol."""
    given = {**(mapping or {}), **symbols}
    removed = [name for name, sym in given.items() if sym is None]
    for name in removed:
        NOTATION.pop(name, None)
    NOTATION.update(_checked({n: s for n, s in given.items() if s is not None}))
    return dict(NOTATION)


def conventional(**symbols: str) -> None:
    """A zoo family's conventional symbols for its config's names. They apply to a
    count whose dims are all names of the family's table (the family's own models, and
    a Hugging Face config of that family), while it is rendered; the user's
    :func:`notation` and ``sc.dim(…, latex=…)`` come first."""
    table = _checked(symbols)
    if table not in FAMILIES:
        FAMILIES.append(table)


def family_symbols(names) -> dict[str, str]:
    """The family table naming every one of ``names`` (at least two), or ``{}``."""
    names = set(names)
    if len(names) < 2:
        return {}
    return next((dict(t) for t in FAMILIES if names <= set(t)), {})


@contextlib.contextmanager
def symbols_for(count):
    """Within: the family symbols of ``count`` apply (see :func:`conventional`)."""
    token = _ACTIVE.set(family_symbols(d.name for d in getattr(count, "dims", ())))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def for_count(render):
    """A renderer ``render(count, …)`` run with the count's family symbols."""
    @functools.wraps(render)
    def wrapper(count, *args, **kwargs):
        with symbols_for(count):
            return render(count, *args, **kwargs)
    return wrapper


def symbol(name: str) -> str | None:
    """The symbol a dim prints as in math, or None (the user's first, then a family's)."""
    return NOTATION.get(name) or (None if name in LATEX_NAMES else _ACTIVE.get().get(name))


def parse_notation(text: str) -> dict[str, str]:
    """``--notation h=hidden_size,L=num_hidden_layers`` → ``{"hidden_size": "h", …}``
    (symbol first, as a paper's table of notation reads)."""
    from .errors import ArgumentError

    if len(text) > MAX_SYMBOLS * (MAX_SYMBOL + MAX_NAME + 2):
        raise ArgumentError(f"--notation: too long ({len(text)} characters)")
    out = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        sym, eq, name = (p.strip() for p in item.partition("="))
        if not eq or not sym or not name:
            raise ArgumentError(f"--notation: expected SYMBOL=DIM (h=hidden_size). Received: {item[:60]!r}")
        if name in out:
            raise ArgumentError(f"--notation: {name} is given twice. Received: {item[:60]!r}")
        out[name] = sym
    return _checked(out)


def latex_number(n) -> str:
    """``5{,}915{,}136``, ``9{,}248``: ``{,}`` keeps TeX from spacing the comma as punctuation."""
    n = int(n)
    digits = str(abs(n))
    if len(digits) >= 4:
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = "{,}".join(groups)
    return ("-" if n < 0 else "") + digits


#: characters of names and product labels (``scores Q·Kᵀ``) that pdflatex's default
#: fonts lack, as text-mode LaTeX
_UNICODE_TEX = {"·": r"\ensuremath{\cdot}", "×": r"\ensuremath{\times}", "−": "-", "–": "--", "—": "---",
                "…": r"\dots{}", "ᵀ": r"\textsuperscript{T}",
                **{c: rf"\textsuperscript{{{d}}}" for c, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")}}


def tex_escape(text: str) -> str:
    """Text for LaTeX text mode (layer names, model names, weight names, product labels)."""
    replacements = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                    **_UNICODE_TEX}
    return "".join(replacements.get(c, c) for c in str(text))


# ---------------------------------------------------------------------------
# The printer
# ---------------------------------------------------------------------------


class Printed(str):
    """A printed piece with its precedence and what it starts/ends with (for joining)."""

    prec: int
    kind: str  # "num", "letter", "word" or "other"
    bound: bool

    def __new__(cls, text: str, prec: int, kind: str = "other", bound: bool = False):
        obj = super().__new__(cls, text)
        obj.prec, obj.kind, obj.bound = prec, kind, bound
        return obj


class Printer:
    """Prints SymPy expressions in one style (``latex``, ``unicode`` or ``python``)."""

    def __init__(self, style: str = "latex", bindings: Mapping | None = None):
        if style not in ("latex", "unicode", "python"):
            raise ValueError(f"unknown style {style!r}")
        self.style = style
        self.bindings = dict(bindings or {})

    # -- style pieces ------------------------------------------------------------

    @property
    def minus(self) -> str:
        return "−" if self.style == "unicode" else "-"

    def paren(self, text: str) -> str:
        return f"\\left({text}\\right)" if self.style == "latex" else f"({text})"

    def times(self) -> str:
        return {"latex": " \\cdot ", "unicode": "·", "python": "*"}[self.style]

    # -- entry points --------------------------------------------------------------

    def __call__(self, expr) -> str:
        return str(self.print(expr))

    def print(self, expr) -> Printed:
        if expr is None:
            return Printed("\\text{None}" if self.style == "latex" else "None", ATOM, "word")
        if isinstance(expr, bool):
            return Printed(str(expr), ATOM)
        if isinstance(expr, int):
            expr = sympy.Integer(expr)
        if isinstance(expr, sympy.Symbol):
            return self._symbol(expr)
        if isinstance(expr, sympy.Integer):
            return self._integer(expr)
        if isinstance(expr, sympy.Rational):
            return self._rational(expr)
        if isinstance(expr, sympy.Add):
            return Printed(self.join_terms(self.terms(expr)), ADD)
        if isinstance(expr, sympy.Mul):
            return self._mul(expr)
        if isinstance(expr, sympy.Pow):
            return self._pow(expr)
        if isinstance(expr, (sympy.floor, sympy.ceiling)):
            return self._floor(expr)
        if isinstance(expr, (sympy.Max, sympy.Min)):
            name = type(expr).__name__.lower()
            args = ", ".join(self.print(a) for a in expr.args)
            return Printed(f"\\{name}{self.paren(args)}" if self.style == "latex" else f"{name}({args})"
                           if self.style == "unicode" else f"{type(expr).__name__}({args})", ATOM)
        if isinstance(expr, sympy.Mod):
            a, b = (self.wrap(x, POW) for x in expr.args)
            op = {"latex": " \\bmod ", "unicode": " mod ", "python": " % "}[self.style]
            return Printed(f"{a}{op}{b}", MUL)
        if isinstance(expr, sympy.core.relational.Relational):
            return self._relation(expr)
        if isinstance(expr, sympy.And):
            return Printed(", ".join(self.print(a) for a in expr.args), ADD)
        text = sympy.latex(expr) if self.style == "latex" else str(expr)
        return Printed(text, ATOM)

    # -- pieces --------------------------------------------------------------------

    def _symbol(self, sym: sympy.Symbol) -> Printed:
        if sym in self.bindings:
            value = Printer(self.style).print(self.bindings[sym])
            return Printed(value, value.prec, value.kind, bound=True)
        if self.style != "latex":
            return Printed(sym.name, ATOM, "letter" if _is_letter(sym.name) else "word")
        return Printed(latex_name(sym.name), ATOM, "letter" if _is_letter(sym.name) else "word")

    def _integer(self, n: sympy.Integer) -> Printed:
        text = latex_number(n) if self.style == "latex" else str(int(n))
        if n < 0:
            return Printed(self.minus + text.lstrip("-"), ADD, "other")
        return Printed(text, ATOM, "num")

    def _rational(self, q: sympy.Rational) -> Printed:
        if q < 0:
            return Printed(self.minus + self.print(-q), ADD)
        if self.style == "latex":
            return Printed(f"\\frac{{{latex_number(q.p)}}}{{{latex_number(q.q)}}}", MUL)
        return Printed(f"{q.p}/{q.q}", MUL)

    def wrap(self, expr, prec: int) -> str:
        """``expr`` printed, in parentheses when it binds less tightly than ``prec``;
        a bound value that is a sum (or a product, inside a product) is bracketed
        wherever it stands, so the reader sees what was substituted."""
        printed = self.print(expr)
        substituted_sum = printed.bound and (printed.prec == ADD or (printed.prec == MUL and prec >= MUL))
        if printed.prec < prec or substituted_sum:
            return Printed(self.paren(printed), ATOM, "bracket")
        return printed

    def terms(self, expr) -> list[tuple[str, Printed]]:
        """The top-level terms of a sum as ``(sign, printed magnitude)``: most dims
        first, the constant last, a positive term in front."""
        args = list(_ordered_terms(expr))
        args.sort(key=lambda t: -len(t.free_symbols))
        positive = next((i for i, t in enumerate(args) if not t.could_extract_minus_sign()), 0)
        args.insert(0, args.pop(positive))
        out = []
        for term in args:
            negative = term.could_extract_minus_sign()
            out.append(("-" if negative else "+", self.wrap(-term if negative else term, MUL if negative else ADD)))
        return out

    def join_terms(self, terms: Sequence[tuple[str, str]]) -> str:
        plus, minus = " + ", f" {self.minus} "
        text = ""
        for i, (sign, piece) in enumerate(terms):
            if i == 0:
                text = piece if sign == "+" else self.minus + piece
            else:
                text += (plus if sign == "+" else minus) + piece
        return text

    def product(self, factors: Sequence) -> Printed:
        """Factors printed and joined: juxtaposed in LaTeX where a letter follows a
        letter or a number (``k_h k_w C_in``, ``2C``); ``\\cdot`` (``·``, ``*``) around
        words, brackets and substituted numbers (``3 \\cdot 3 \\cdot 32``), which also
        lets inline math break there."""
        pieces = [self.wrap(f, MUL if len(factors) > 1 else ADD) for f in factors]
        if self.style != "latex" and len(pieces) > 1:  # a/b·c reads as a/(b·c): bracket fractions
            pieces = [Printed(self.paren(p), ATOM, "bracket") if p.kind == "fraction" else p for p in pieces]
        if not pieces:
            return Printed("1", ATOM, "num")
        if len(pieces) == 1:
            return pieces[0]
        text = pieces[0]
        for left, right in zip(pieces, pieces[1:]):
            juxtapose = (self.style == "latex" and right.kind == "letter" and not right.bound
                         and left.kind in ("num", "letter") and not (left.bound and left.kind == "num"))
            text += (" " if juxtapose else self.times()) + right
        return Printed(text, MUL, pieces[0].kind)

    def _mul(self, expr) -> Printed:
        if expr.could_extract_minus_sign():
            inner = self.print(-expr)
            return Printed(self.minus + (self.paren(inner) if inner.prec <= ADD else inner), ADD)
        numer, denom = sympy.fraction(expr)
        if denom != 1:
            return self._fraction(numer, denom)
        return self.product(sympy.Mul.make_args(expr))

    def _fraction(self, numer, denom) -> Printed:
        if self.style == "latex":
            return Printed(f"\\frac{{{self.print(numer)}}}{{{self.print(denom)}}}", MUL)
        top = self.wrap(numer, MUL)
        bottom = self.wrap(denom, POW)
        return Printed(f"{top}/{bottom}", MUL, "fraction")

    def _pow(self, expr) -> Printed:
        base, exp = expr.args
        if exp.is_negative:
            return self._fraction(sympy.Integer(1), base ** -exp)
        b = self.wrap(base, ATOM)
        if self.style == "latex":
            return Printed(f"{b}^{{{self.print(exp)}}}", POW, b.kind)
        if self.style == "unicode" and exp.is_Integer:
            return Printed(f"{b}{str(int(exp)).translate(_SUPERSCRIPTS)}", POW, b.kind)
        op = "**" if self.style == "python" else "^"
        return Printed(f"{b}{op}{self.wrap(exp, ATOM)}", POW, b.kind)

    def _floor(self, expr) -> Printed:
        arg = _together(expr.args[0])
        inner = self.print(arg)
        if self.style == "latex":
            left, right = ("\\lfloor", "\\rfloor") if isinstance(expr, sympy.floor) else ("\\lceil", "\\rceil")
            return Printed(f"\\left{left} {inner} \\right{right}", ATOM, "bracket")
        if self.style == "unicode":
            left, right = ("⌊", "⌋") if isinstance(expr, sympy.floor) else ("⌈", "⌉")
            return Printed(f"{left}{inner}{right}", ATOM, "bracket")
        return Printed(f"{type(expr).__name__}({inner})", ATOM)

    def _relation(self, rel) -> Printed:
        if isinstance(rel, sympy.Eq) and isinstance(rel.lhs, sympy.Mod) and rel.rhs == 0:
            a, b = (self.wrap(x, MUL) for x in rel.lhs.args)
            text = {"latex": f"{b} \\mid {a}", "unicode": f"{b} | {a}", "python": f"{a} % {b} == 0"}[self.style]
            return Printed(text, 0)
        ops = {
            "latex": {">=": "\\geq", "<=": "\\leq", "==": "=", "!=": "\\neq", ">": ">", "<": "<"},
            "unicode": {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", ">": ">", "<": "<"},
            "python": {">=": ">=", "<=": "<=", "==": "==", "!=": "!=", ">": ">", "<": "<"},
        }[self.style]
        return Printed(f"{self.print(rel.lhs)} {ops[rel.rel_op]} {self.print(rel.rhs)}", 0)


def collect(expr, keys: Sequence) -> sympy.Expr:
    """``expr`` with the terms that are multiples of each key gathered behind it, the
    way a person writes a repeated block: ``n(4d² + 4d) + n(4d² + d) + 4dn`` →
    ``n(8d² + 9d)``. ``keys`` are the model's symbolic repetition counts; nothing is
    expanded, so floors and their products stay as they are."""
    if not isinstance(expr, sympy.Expr):
        return expr
    for key in sorted(set(keys), key=lambda k: -len(sympy.Mul.make_args(k))):
        inside, outside = [], []
        for term in sympy.Add.make_args(expr):
            factor, rest = term.as_independent(*key.free_symbols, as_Add=False)
            (inside if rest == key else outside).append(factor if rest == key else term)
        if len(inside) > 1:
            expr = sympy.Add(sympy.Mul(key, sympy.Add(*inside)), *outside)
    return expr


def repeats(count) -> list:
    """The symbolic repetition counts of a count's records (``n_layer``)."""
    symbolic = count.symbolic or count
    return [r.repeat for r in symbolic.layers if not r.repeat.is_number]


def latex(expr, bindings: Mapping | None = None) -> str:
    """``expr`` in LaTeX (math mode), ``bindings`` printed in place of their symbols."""
    return Printer("latex", bindings)(expr)


def condition(relation) -> str:
    """A validity condition in LaTeX: ``H \\geq 32``; divisibility as a congruence,
    ``d_{\\mathrm{model}} \\equiv 0 \\pmod{n_{\\mathrm{head}}}``."""
    if isinstance(relation, sympy.Eq) and isinstance(relation.lhs, sympy.Mod) and relation.rhs == 0:
        value, modulus = relation.lhs.args
        return rf"{latex(value)} \equiv 0 \pmod{{{latex(modulus)}}}"
    return latex(relation)


def text(expr, bindings: Mapping | None = None) -> str:
    """``expr`` as plain Unicode text: ``16384·(⌊(H − 32)/12⌋ + 1)``."""
    return Printer("unicode", bindings)(expr)


def python(expr) -> str:
    """``expr`` as Python/SymPy text: ``16384*(floor((H - 32)/12) + 1)``."""
    return Printer("python")(expr)


def terms(expr, style: str = "latex", bindings: Mapping | None = None) -> list[str]:
    """The top-level terms of ``expr``, signs attached (``["a", "+ b", "- c"]``), for
    breaking a long sum over lines."""
    printer = Printer(style, bindings)
    pieces = printer.terms(expr) if isinstance(expr, sympy.Add) else [("+", printer.print(expr))]
    out = []
    for i, (sign, piece) in enumerate(pieces):
        if i == 0:
            out.append(piece if sign == "+" else printer.minus + piece)
        else:
            out.append(("+ " if sign == "+" else printer.minus + " ") + piece)
    return out


def shape(values: Sequence, style: str = "latex") -> str:
    """An output shape, ``(None, 254, 254, 32)``; in LaTeX with break points after commas."""
    printer = Printer(style)
    parts = [printer(v) for v in values]
    if style == "latex":
        inner = ",\\allowbreak ".join(parts) + ("," if len(parts) == 1 else "")
        return f"({inner})"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# Rough glyph widths in em (Computer Modern at text size), for breaking displays.
_OPERATORS = {"+": 1.2, "-": 1.2, "=": 1.35, "<": 1.35, ">": 1.35, ",": 0.45, "(": 0.5, ")": 0.5}
_COMMANDS = {"cdot": 0.75, "lfloor": 0.55, "rfloor": 0.55, "lceil": 0.55, "rceil": 0.55, "quad": 1.0,
             "qquad": 2.0, "geq": 1.35, "leq": 1.35, "mid": 0.85, "bmod": 1.6, "max": 1.6, "min": 1.6,
             "times": 1.2, "left": 0.0, "right": 0.0, "allowbreak": 0.0, "displaystyle": 0.0}


def _group(text: str, i: int) -> tuple[str, int]:
    """The brace group starting at ``text[i] == "{"``: its content and the index after it."""
    depth, j = 0, i
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return text[i + 1:], len(text)


def _argument(text: str, i: int) -> tuple[str, int]:
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        return _group(text, i)
    return text[i:i + 1], i + 1


def width(latex_text: str) -> float:
    """A rough width in em of LaTeX display math, to decide where to break lines:
    fractions as wide as their wider part, sub- and superscripts smaller, operators
    with their spacing."""
    total, i, text = 0.0, 0, latex_text
    while i < len(text):
        c = text[i]
        if c == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[i:])
            name = match.group(1)
            i += len(match.group(0))
            if name == "frac":
                top, i = _argument(text, i)
                bottom, i = _argument(text, i)
                total += max(width(top), width(bottom)) + 0.3
            elif name in ("mathrm", "mathit", "text", "texttt", "mathcal", "operatorname"):
                content, i = _argument(text, i)
                total += 0.5 * len(content)
            elif name in _COMMANDS:
                total += _COMMANDS[name]
            elif name == ",":
                total += 0.17
            else:
                total += 0.6  # a Greek letter or another symbol
        elif c in "_^":
            content, i = _argument(text, i + 1)
            total += 0.7 * width(content)
        elif c == "{":
            content, i = _group(text, i)
            total += 0.28 if content == "," else width(content)
        else:
            total += 0 if c in " }&" else _OPERATORS.get(c, 0.8 if c.isupper() else 0.5)
            i += 1
    return total


# A report prints the same sizes many times over (every layer shows its input and
# output shapes, every derivation its rule's values): the costly SymPy steps of
# printing — ordering a sum's terms, putting a floor's argument over one
# denominator — are pure functions of the expression, so they are cached.


@functools.lru_cache(maxsize=4096)
def _ordered_terms(expr) -> tuple:
    """A sum's terms in SymPy's printing order (``as_ordered_terms``); other
    expressions as the one term they are."""
    if isinstance(expr, sympy.Add):
        try:
            return tuple(expr.as_ordered_terms())
        except (TypeError, AttributeError):  # pragma: no cover - exotic terms keep SymPy's order
            pass
    return sympy.Add.make_args(expr)


@functools.lru_cache(maxsize=4096)
def _together(expr):
    """``sympy.together(expr)``, cached."""
    return sympy.together(expr)
