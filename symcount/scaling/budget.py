"""Budgets: the dim value that meets a parameter or FLOP budget, exactly, and
compute-optimal configurations.

    >>> solve(llama, "6.74e9", for_="hidden_size", multiple_of=128,
    ...       given=dict(num_hidden_layers=32, num_attention_heads=32, ...))
    Solution(hidden_size=4096: 6,738,415,616 …)

The count, a function of the solved dim once the others are given, is evaluated
exactly (SymPy integers) at integer candidates; the search is a bisection over the
multiples of ``multiple_of``, valid because the count is proved nondecreasing in
the dim first. Values that break a validity condition of the closed form are
skipped (and listed), never returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
from sympy import Expr, Integer

from ..count import Count
from ..dims import condition_text, decided
from ..errors import ArgumentError, SymcountError
from .common import (
    as_int, bind, check_given, conditions_of, exact_number, find_dim, name_of, positive_int, quantity,
    symbols_of,
)

_K = sympy.Symbol("_k", integer=True, positive=True)
#: candidates tried past a point that breaks a condition before giving up
MAX_SKIPS = 10_000
#: the largest multiplier searched (beyond it no budget is reachable)
MAX_MULTIPLIER = 2**256


@dataclass(frozen=True)
class Solution:
    """The answer of :func:`solve`: the solved dims' ``values``, the count ``achieved``
    there, and the nearest valid candidates on either side of the budget."""

    budget: sympy.Rational
    what: str
    values: dict[str, int]
    achieved: int | Fraction
    given: dict[str, int]
    nearest: str
    step: dict[str, int]
    below: tuple | None = None  # (values, achieved) of the largest valid candidate <= budget
    above: tuple | None = None  # (values, achieved) of the smallest valid candidate >= budget
    skipped: tuple = field(default=())  # candidates that break a condition: (values, condition text)

    @property
    def value(self) -> int:
        """The solved dim's value (the first one when solving for two)."""
        return next(iter(self.values.values()))

    @property
    def difference(self):
        """``achieved − budget``, exactly."""
        return as_int(sympy.Rational(self.achieved) - self.budget)

    @property
    def relative(self) -> Fraction:
        """``(achieved − budget) / budget``, exactly."""
        return as_int((sympy.Rational(self.achieved) - self.budget) / self.budget)

    @property
    def exact(self) -> bool:
        return self.difference == 0

    def __str__(self) -> str:
        solved = ", ".join(f"{k}={v}" for k, v in self.values.items())
        sign = "+" if self.difference >= 0 else "−"
        lines = [f"{solved}: {self.what} = {_number(self.achieved)} ({sign}{abs(float(self.relative)) * 100:.3g} % "
                 f"of the budget {_number(as_int(self.budget))})"]
        for side, found in (("below", self.below), ("above", self.above)):
            if found is not None and found[0] != self.values:
                lines.append(f"  nearest {side}: " + ", ".join(f"{k}={v}" for k, v in found[0].items())
                             + f" → {_number(found[1])}")
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} value(s) that break a condition, e.g. "
                         + ", ".join(f"{k}={v}" for k, v in self.skipped[0][0].items())
                         + f" ({self.skipped[0][1]})")
        return "\n".join(lines)


def _nondecreasing(expr: Expr, k: sympy.Symbol, start: int) -> bool:
    """Whether ``expr`` provably does not decrease for integers ``k >= start``.

    A polynomial: its derivative has a positive leading coefficient and no real
    root at or beyond ``start`` (counted exactly by Sturm sequences). Otherwise a
    structural proof: sums of nondecreasing terms; a nonnegative constant times
    nondecreasing factors (nonnegative at ``start`` when there are several); positive
    integer powers of such; ``floor``/``ceiling`` of nondecreasing arguments.
    """
    expr = sympy.expand(expr)
    if k not in expr.free_symbols:
        return True
    if expr.is_polynomial(k):
        poly = sympy.Poly(expr, k)
        if not all(c.is_number for c in poly.all_coeffs()):
            return False
        if all(c >= 0 for c in poly.all_coeffs()):
            return True
        derivative = poly.diff(k)
        return derivative.LC() > 0 and derivative.count_roots(start) == 0
    return _structural(expr, k, start)


def _structural(expr: Expr, k, start: int) -> bool:
    """Nondecreasing for integers ``k >= start`` by construction. A factor that
    multiplies another factor in ``k`` must also be nonnegative there: being
    nondecreasing, it is when its value at ``start`` is."""
    if k not in expr.free_symbols or expr == k:
        return True
    if isinstance(expr, sympy.Add):
        return all(_structural(a, k, start) for a in expr.args)
    if isinstance(expr, sympy.Mul):
        coeff, factors = expr.as_coeff_mul()
        varying = [f for f in factors if k in f.free_symbols]
        constant = sympy.Mul(*(f for f in factors if k not in f.free_symbols))
        if coeff < 0 or not constant.is_nonnegative or not all(_structural(f, k, start) for f in varying):
            return False
        return len(varying) == 1 or all(f.xreplace({k: Integer(start)}) >= 0 for f in varying)
    if isinstance(expr, sympy.Pow):
        return (expr.exp.is_Integer and expr.exp > 0 and _structural(expr.base, k, start)
                and (expr.exp == 1 or expr.base.xreplace({k: Integer(start)}) >= 0))
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        return _structural(sympy.expand(expr.args[0]), k, start)
    return False


def _fold(relations, k, step: int, start: int):
    """Divisibility ``Eq(Mod(c·k, n), 0)`` folded into the step (``k`` a multiple of
    ``n / gcd(n, c)``) and linear lower bounds ``a·k + b >= 0`` into the start; the
    rest is returned to be checked per candidate."""
    rest = []
    for rel in relations:
        verdict = decided(rel)
        if verdict is True:
            continue
        if verdict is False:
            rest.append(rel)  # reported by check_given's caller
            continue
        if isinstance(rel, sympy.Eq) and isinstance(rel.lhs, sympy.Mod) and rel.rhs == 0:
            numer, n = rel.lhs.args
            c = sympy.expand(numer / k)
            if n.is_Integer and c.is_Integer and int(c) != 0:
                step = math.lcm(step, int(n) // math.gcd(int(n), abs(int(c))))
                continue
        if isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)):
            diff = sympy.expand(rel.lhs - rel.rhs if isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan))
                                else rel.rhs - rel.lhs)
            if diff.is_polynomial(k) and sympy.degree(diff, k) == 1:
                a, b = sympy.Poly(diff, k).all_coeffs()
                if a.is_Rational and b.is_Rational and a > 0:
                    strict = isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan))
                    bound = -b / a
                    start = max(start, int(sympy.floor(bound)) + 1 if strict else int(sympy.ceiling(bound)))
                    continue
        rest.append(rel)
    return step, start, rest


def _param(solved, ratio):
    """Each solved dim as ``a_i · k``: ``(1,)`` for one dim; ``(p, q)`` for two dims
    whose ratio is ``p/q`` in lowest terms."""
    if len(solved) == 1:
        if ratio is not None:
            raise ArgumentError("solve: ratio= is for two dims (for_=[first, second]); one dim was given")
        return (1,)
    if len(solved) != 2 or ratio is None:
        raise ArgumentError("solve: two dims are solved together under a fixed ratio: for_=[first, second], "
                            "ratio=first/second")
    r = exact_number(ratio, "ratio")
    if r <= 0:
        raise ArgumentError(f"solve: ratio must be positive. Received: {ratio!r}")
    return (int(r.p), int(r.q))


def _steps(solved, coefficients, multiple_of) -> tuple[int, dict]:
    """The step of ``k`` that makes each solved dim a multiple of its ``multiple_of``."""
    if isinstance(multiple_of, dict):
        wanted = {name_of(d): positive_int(m, f"multiple_of[{name_of(d)}]") for d, m in multiple_of.items()}
        unknown = [n for n in wanted if n not in {s.name for s in solved}]
        if unknown:
            raise ArgumentError(f"solve: multiple_of names {unknown[0]!r}, which is not solved for")
    else:
        wanted = {solved[0].name: positive_int(multiple_of, "multiple_of")}
    step = 1
    for s, a in zip(solved, coefficients):
        m = wanted.get(s.name, 1)
        step = math.lcm(step, m // math.gcd(m, a))
    return step, wanted


def _search(evaluate, budget, start, step):
    """Bisection over ``k = step·j`` (``k >= start``) for the last ``j`` with
    ``evaluate(k) <= budget``; returns ``(j_below or None, j_first)``."""
    j_lo = -(-start // step)
    if evaluate(step * j_lo) > budget:
        return None, j_lo
    j_hi = max(j_lo, 1)
    while evaluate(step * j_hi) <= budget:
        j_lo, j_hi = j_hi, 2 * j_hi
        if step * j_hi > MAX_MULTIPLIER:
            raise SymcountError(f"solve: the budget {budget} is not reached for any value up to {MAX_MULTIPLIER}")
    while j_hi - j_lo > 1:
        mid = (j_lo + j_hi) // 2
        if evaluate(step * mid) <= budget:
            j_lo = mid
        else:
            j_hi = mid
    return j_lo, j_hi


def solve(target, budget, for_, given: dict | None = None, what: str = "total", multiple_of=1,
          nearest: str = "closest", causal: bool = False, ratio=None) -> Solution:
    """The value of the dim ``for_`` whose count is nearest the ``budget``.

    ``target`` is a count (or an expression); ``what`` the quantity budgeted
    (``total``, ``flops``, …); ``given`` the values of the other dims; the budget an
    exact number (``7_000_000_000``, ``"6.74e9"``, a SymPy rational). ``nearest``:
    ``"below"`` (the largest value whose count is at most the budget), ``"above"``
    (the smallest at least the budget) or ``"closest"`` (the smaller difference; a
    tie goes below). ``multiple_of`` rounds to multiples (an int for the dim, or a
    dict per dim). Two dims are solved together under a fixed ratio: ``for_=["n_embd",
    "n_layer"], ratio=64`` solves over ``n_embd = 64·k``, ``n_layer = k``.

    The count must be nondecreasing in the solved dims (proved, not assumed:
    :func:`_nondecreasing`); values breaking a validity condition are skipped.
    """
    expr = quantity(target, what, causal)
    return _solve(expr, conditions_of(target), symbols_of(target, expr), budget, for_, given, what,
                  multiple_of, nearest, ratio, strict=isinstance(target, Count))


def _solve(expr, relations, symbols, budget, for_, given, what, multiple_of, nearest, ratio,
           strict: bool = True) -> Solution:
    if nearest not in ("below", "above", "closest"):
        raise ArgumentError(f"solve: nearest must be 'below', 'above' or 'closest'. Received: {nearest!r}")
    budget = exact_number(budget, "budget")
    if budget <= 0:
        raise ArgumentError(f"solve: the budget must be positive. Received: {budget}")
    names = [for_] if isinstance(for_, (str, sympy.Symbol)) else list(for_)
    solved = tuple(find_dim(symbols, n, "solve: ") for n in names)
    if len(set(solved)) != len(solved):
        raise ArgumentError("solve: the dims solved for must differ")
    mapping = bind(symbols, given, "solve: ", strict)
    overlap = [s.name for s in solved if s in mapping]
    if overlap:
        raise ArgumentError(f"solve: {overlap[0]} is solved for; it cannot also be given")
    check_given([r for r in relations if not (r.free_symbols & set(solved))], mapping, "solve: ")
    coefficients = _param(solved, ratio)
    step, wanted = _steps(solved, coefficients, multiple_of)
    in_k = {s: a * _K for s, a in zip(solved, coefficients)}
    f = sympy.expand(expr.xreplace(mapping).xreplace(in_k))
    left = sorted(s.name for s in f.free_symbols if s != _K)
    if left:
        raise ArgumentError(f"solve: give the other dims values (given= / --set); missing: {', '.join(left)}")
    if _K not in f.free_symbols:
        raise ArgumentError(f"solve: the {what} does not depend on {', '.join(names)}")
    step, start, rest = _fold([r.xreplace(mapping).xreplace(in_k) for r in relations], _K, step, 1)
    if not _nondecreasing(f, _K, start):
        raise SymcountError(f"solve: cannot show that the {what} grows with {', '.join(names)} "
                            f"({f.xreplace({_K: sympy.Symbol(names[0])})}); bisection would not be exact")

    cache: dict = {}
    limit = as_int(budget)  # compared as Python int / Fraction: exact

    def evaluate(k: int):
        """The count at ``k``, exactly: an int (a ``Fraction`` for a rational quantity)."""
        if k not in cache:
            cache[k] = as_int(f.xreplace({_K: Integer(k)}))
        return cache[k]

    def values_at(k: int) -> dict[str, int]:
        return {s.name: a * k for s, a in zip(solved, coefficients)}

    skipped: list = []

    def valid(k: int) -> bool:
        for rel in rest:
            if decided(rel.xreplace({_K: Integer(k)})) is False:
                skipped.append((values_at(k), condition_text(rel.xreplace({v: s for s, v in in_k.items()}))))
                return False
        return True

    def walk(j: int, direction: int):
        for _ in range(MAX_SKIPS):
            if step * j < start:
                return None
            if valid(step * j):
                return j
            j += direction
        raise SymcountError(f"solve: no value within {MAX_SKIPS} steps satisfies the conditions")

    j_below, j_first = _search(evaluate, limit, start, step)
    if j_below is not None and evaluate(step * j_below) == limit:
        j_first = j_below
    below = walk(j_below, -1) if j_below is not None else None
    above = walk(j_first, +1)
    candidates = {"below": below, "above": above}
    if nearest == "closest":
        if below is None:
            chosen = None  # even the smallest valid value overshoots: the budget is unreachable
        else:
            chosen = below if limit - evaluate(step * below) <= evaluate(step * above) - limit else above
    else:
        chosen = candidates[nearest]
    if chosen is None:
        k0 = step * (-(-start // step))
        raise SymcountError(f"solve: unreachable: no valid value has a {what} at most {_number(limit)}; the smallest, "
                            + ", ".join(f"{k}={v}" for k, v in values_at(k0).items())
                            + f", gives {_number(evaluate(k0))}")
    side = {k: (values_at(step * j), evaluate(step * j)) if j is not None else None for k, j in candidates.items()}
    return Solution(budget, what, values_at(step * chosen), evaluate(step * chosen),
                    {k.name: int(v) for k, v in mapping.items()}, nearest,
                    {s.name: a * step for s, a in zip(solved, coefficients)},
                    side["below"], side["above"], tuple(skipped))


# ---------------------------------------------------------------------------
# compute-optimal helpers
# ---------------------------------------------------------------------------


def flops_per_token(count, seq, training: bool = True, causal: bool = True) -> Expr:
    """The count's own FLOPs per token: ``cost / seq`` for one sequence of ``seq``
    tokens (a dim name or an integer) — forward + backward when ``training``, the
    masked half of causal attention left out when ``causal``. Its leading term is
    ``6·N`` for a transformer (2 forward, 4 backward per parameter and token):
    derived from the records' products, not assumed.
    """
    expr = quantity(count, "training_flops" if training else "flops", causal)
    if isinstance(seq, (str, sympy.Symbol)):
        length = find_dim(symbols_of(count, expr), seq, "flops_per_token: ")
    else:
        length = Integer(positive_int(seq, "seq"))
    return sympy.expand(expr / length)


@dataclass(frozen=True)
class ComputeOptimal:
    """A configuration for a compute budget: ``params`` ``N``, ``tokens`` ``D =
    tokens_per_param · N``, training ``compute`` ``C = flops_per_token · D``."""

    solution: Solution
    params: int
    tokens: int | Fraction
    flops_per_token: int | Fraction
    compute: int | Fraction

    @property
    def values(self) -> dict[str, int]:
        return self.solution.values

    @property
    def ratio_to_6nd(self) -> Fraction:
        """``C / (6·N·D)``: how far the model's own FLOPs are from the ``6·N·D`` rule."""
        return Fraction(self.compute) / (6 * self.params * Fraction(self.tokens))

    def __str__(self) -> str:
        solved = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return (f"{solved}: N = {_number(self.params)} parameters, D = {_number(self.tokens)} tokens, "
                f"C = {_number(self.compute)} FLOPs ({float(self.ratio_to_6nd):.4f} × 6·N·D)")


def _number(value) -> str:
    """An exact int with thousands separators; a fraction as ``p/q``."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def compute_optimal(count, compute, for_, seq, given: dict | None = None, tokens_per_param=20,
                    params: str = "total", causal: bool = True, multiple_of=1, nearest: str = "closest",
                    ratio=None) -> ComputeOptimal:
    """The configuration whose training compute ``C = F(x) · D(x)`` is nearest ``compute``,
    with ``D = tokens_per_param · N(x)`` tokens (20 in the Chinchilla paper) and ``F``
    the model's own training FLOPs per token (:func:`flops_per_token`); ``N`` the
    count's ``params``. Solved exactly over integer values of ``for_`` like :func:`solve`.
    """
    r = exact_number(tokens_per_param, "tokens_per_param")
    if r <= 0:
        raise ArgumentError(f"compute_optimal: tokens_per_param must be positive. Received: {tokens_per_param!r}")
    n = quantity(count, params)
    per_token = flops_per_token(count, seq, training=True, causal=causal)
    total = sympy.expand(per_token * r * n)
    symbols = symbols_of(count, total)
    solution = _solve(total, conditions_of(count), symbols, compute, for_, given, "compute", multiple_of,
                      nearest, ratio)
    mapping = bind(symbols, {**solution.given, **solution.values}, "compute_optimal: ", strict=False)
    n_value = int(n.xreplace(mapping))
    f_value = as_int(per_token.xreplace(mapping))
    tokens = as_int(r * n_value)
    return ComputeOptimal(solution, n_value, tokens, f_value, as_int(total.xreplace(mapping)))
