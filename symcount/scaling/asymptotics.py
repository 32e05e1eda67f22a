"""Leading terms, elasticities and comparisons with published formulas.

    >>> from symcount.scaling import leading
    >>> lead = leading(count, grow=["n_embd", "n_layer"])     # GPT-2
    >>> lead.term                                             # 12*n_embd**2*n_layer
    >>> lead.dropped(n_embd=768, n_layer=12, ...)             # exact share of the rest

Growing dims together means ``x → t·x`` for each named dim and ``t → ∞``; the
leading term is the coefficient of the highest power of ``t`` (a polynomial's
terms of highest total degree in the growing dims, the other dims held fixed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy
from sympy import Expr, Integer

from ..errors import ArgumentError, SymcountError
from ..count import Count
from .common import as_int, bind, find_dim, name_of, percent, quantity, relax, symbols_of

_T = sympy.Symbol("_t", positive=True)


def _growth(expr: Expr, grow: tuple) -> tuple[Expr, Expr]:
    """``expr`` with every growing dim scaled by ``t``, as (numerator, denominator) in ``t``."""
    relaxed = relax(expr)
    if relaxed.has(sympy.Max, sympy.Min, sympy.Mod, sympy.Piecewise):
        if any(e.has(*grow) for e in relaxed.atoms(sympy.Max, sympy.Min, sympy.Mod, sympy.Piecewise)):
            raise SymcountError(f"leading terms: cannot take the growth of {expr} (Max, Min, Mod or "
                                "Piecewise of a growing dim)")
    scaled = relaxed.xreplace({x: _T * x for x in grow})
    numer, denom = sympy.fraction(sympy.together(sympy.expand(scaled)))
    return sympy.expand(numer), sympy.expand(denom)


@dataclass(frozen=True)
class Leading:
    """The leading behaviour of ``expr`` as the dims ``grow`` grow together.

    ``term`` is the dominant part (``expr ~ term``), ``degree`` its order in the
    growing dims, ``rest = expr - term`` what is dropped; ``orders`` lists a
    polynomial's parts by decreasing degree (``[(3, 12·l·d²), (2, 13·l·d), (1, …)]``).
    """

    expr: Expr
    grow: tuple[sympy.Symbol, ...]
    term: Expr
    degree: Expr
    orders: tuple[tuple[Expr, Expr], ...] = field(default=())

    @property
    def rest(self) -> Expr:
        return sympy.expand(self.expr - self.term)

    def dropped(self, values: dict | None = None, **kwargs):
        """``(expr − term) / expr`` at a configuration, exactly (a ``Fraction``):
        how much of the count the leading term leaves out there."""
        symbols = {s.name: s for s in self.expr.free_symbols}
        mapping = bind(symbols, {**(values or {}), **kwargs}, "dropped: ", strict=False)
        total = self.expr.xreplace(mapping)
        if not total.is_number:
            missing = ", ".join(sorted(s.name for s in total.free_symbols))
            raise ArgumentError(f"dropped: give every dim a value; missing: {missing}")
        return as_int(1 - self.term.xreplace(mapping) / total)

    def __str__(self) -> str:
        names = ", ".join(s.name for s in self.grow)
        return f"{self.term}  (degree {self.degree} as {names} grow together)"


def leading(target, grow, what: str = "total", causal: bool = False) -> Leading:
    """The dominant terms of ``target`` as the dims in ``grow`` go to infinity together.

    Each growing dim ``x`` becomes ``t·x``; the expression's numerator and
    denominator are polynomials in ``t`` (floors and ceilings relaxed to their
    arguments, which differ by less than one), and the leading term is
    ``LC(numerator) / LC(denominator)`` at ``t = 1``, of degree
    ``deg(numerator) − deg(denominator)``. GPT-2's total with ``grow=["n_embd",
    "n_layer"]`` gives ``12·n_layer·n_embd²`` (Kaplan et al. 2020, ``N ≈ 12·n_layer·d_model²``).
    """
    expr = quantity(target, what, causal)
    symbols = symbols_of(target, expr)
    names = [grow] if isinstance(grow, (str, sympy.Symbol)) else list(grow)
    if not names:
        raise ArgumentError("leading: name at least one dim to grow")
    if not isinstance(target, Count):  # an expression need not contain every growing dim
        symbols = {**{name_of(g): sympy.Symbol(name_of(g), integer=True, positive=True) for g in names}, **symbols}
    dims = tuple(find_dim(symbols, g, "leading: ") for g in names)
    numer, denom = _growth(expr, dims)
    pn, pd = sympy.Poly(numer, _T), sympy.Poly(denom, _T)
    term = sympy.factor_terms(sympy.cancel(pn.LC() / pd.LC()))
    degree = Integer(pn.degree() - pd.degree())
    orders = ()
    if pd.degree() == 0:
        orders = tuple((Integer(k), sympy.factor_terms(sympy.expand(c / pd.LC())))
                       for (k,), c in sorted(pn.terms(), reverse=True))
    return Leading(expr, dims, term, degree, orders)


def elasticity(target, d, at: dict | None = None, what: str = "total", causal: bool = False):
    """``∂ log P / ∂ log x = x · (∂P/∂x) / P``: the percent change of ``P`` per percent of ``x``.

    Without ``at``: the expression (of the continuous relaxation, floors replaced by
    their arguments). With ``at`` (every dim's value): the exact number, a
    ``Fraction``. For a homogeneous polynomial of degree ``k`` the elasticities
    of all its dims add up to ``k``.
    """
    expr = quantity(target, what, causal)
    symbols = symbols_of(target, expr)
    x = find_dim(symbols, d, "elasticity: ")
    smooth = relax(expr)
    value = sympy.cancel(x * sympy.diff(smooth, x) / smooth)
    if at is None:
        return sympy.factor_terms(value)
    mapping = bind(symbols, at, "elasticity: ", strict=False)
    number = value.xreplace(mapping)
    if not number.is_number:
        missing = ", ".join(sorted(s.name for s in number.free_symbols))
        raise ArgumentError(f"elasticity: give every dim a value; missing: {missing}")
    return as_int(number)


def elasticities(target, at: dict | None = None, what: str = "total", causal: bool = False) -> dict:
    """:func:`elasticity` for every dim of ``target``, by name."""
    expr = quantity(target, what, causal)
    names = sorted(s.name for s in expr.free_symbols)
    return {n: elasticity(target, n, at, what, causal) for n in names}


# ---------------------------------------------------------------------------
# published formulas
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """symcount's expression against a published one: ``equal`` and the exact
    ``difference = symcount − published`` (zero when they agree)."""

    ours: Expr
    published: Expr
    difference: Expr

    @property
    def equal(self) -> bool:
        return self.difference == 0

    def __bool__(self) -> bool:
        return self.equal

    def relative(self, values: dict | None = None, **kwargs):
        """``difference / ours`` at a configuration, exactly."""
        symbols = {s.name: s for s in self.ours.free_symbols | self.published.free_symbols}
        mapping = bind(symbols, {**(values or {}), **kwargs}, "relative: ", strict=False)
        return as_int(self.difference.xreplace(mapping) / self.ours.xreplace(mapping))

    def __str__(self) -> str:
        if self.equal:
            return f"equal: {self.ours}"
        return f"symcount − published = {self.difference}"


def compare(target, published, names: dict | None = None, what: str = "total", causal: bool = False) -> Comparison:
    """Whether ``published`` equals ``target``'s expression, and the exact difference.

    ``published`` is a SymPy expression or text in the safe expression grammar
    (integers, names, ``+ - * / // ** ^``, parentheses; never ``eval``). Its symbols
    are matched to the dims by name, after renaming with ``names`` (``{"h":
    "n_embd", "l": "n_layer"}``). Megatron-LM's ``12·l·h²·(1 + 13/(12h) + (V+s)/(12·l·h))``
    differs from GPT-2's total by ``2·n_embd``: the final layer norm.
    """
    ours = quantity(target, what, causal)
    symbols = symbols_of(target, ours)
    names = {str(k): name_str(v) for k, v in (names or {}).items()}
    if isinstance(published, str):
        from ..dims import dim
        from ..expression import parse_expression, tokenize

        used = {text for kind, text, _ in tokenize(published) if kind == "name"}
        table = {n: symbols.get(names.get(n, n)) or dim(names.get(n, n)) for n in used}
        theirs = parse_expression(published, table)
    elif isinstance(published, (int, Expr)) and not isinstance(published, bool):
        theirs = Integer(published) if isinstance(published, int) else published
        rename = {}
        for s in theirs.free_symbols:
            target_name = names.get(s.name, s.name)
            rename[s] = symbols.get(target_name) or sympy.Symbol(target_name, integer=True, positive=True)
        theirs = theirs.xreplace(rename)
    else:
        raise ArgumentError(f"compare: published must be a SymPy expression or text. Received: {published!r}")
    difference = sympy.factor_terms(sympy.cancel(sympy.expand(ours - theirs)))
    if difference != 0 and sympy.simplify(difference) == 0:
        difference = Integer(0)
    return Comparison(ours, theirs, difference)


def name_str(v) -> str:
    return v.name if isinstance(v, sympy.Symbol) else str(v)


__all__ = ["Comparison", "Leading", "compare", "elasticities", "elasticity", "leading", "percent"]
