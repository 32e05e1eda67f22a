"""Sweeps: a count evaluated exactly over a grid of dims with NumPy.

    >>> s = sweep(count, n_embd=range(64, 8193, 64), n_layer=[12, 24, 48], given={"vocab_size": 50257, …})
    >>> s["total"]            # an int64 array of shape (128, 3), or Python ints where int64 would overflow
    >>> s.valid               # False where the values break a validity condition

The expression is rewritten into integer arithmetic before ``lambdify``: a rational
coefficient or a quotient becomes ``numerator // denominator`` over integer
polynomials, ``floor(p/q)`` becomes ``p // q`` and ``ceiling(p/q)`` becomes
``-((-p) // q)``. Every intermediate value is bounded by the same polynomial with
absolute coefficients at the grid's largest values (exactly, with SymPy integers):
below ``2**63`` the sweep runs in ``int64``, otherwise with Python integers in object
arrays. Polynomials are nested in Horner form with the longest axis outermost, so
most arithmetic runs on the axes before broadcasting to the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
from sympy import Expr, Integer

from ..count import Count
from ..dims import condition_text
from ..errors import ArgumentError, SymcountError
from .common import bind, conditions_of, find_dim, parse_number, positive_int, quantity, symbols_of

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy comes with the plot extra
    raise SymcountError("sweeps need NumPy: pip install 'symcount[plot]'") from None

INT64_MAX = 2**63 - 1

_floordiv = sympy.Function("_floordiv")
_exactdiv = sympy.Function("_exactdiv")
_mod = sympy.Function("_mod")
_max = sympy.Function("_max")
_min = sympy.Function("_min")


def _exact_quotient(numer, denom):
    """``numer / denom`` where it is an integer; a ``Fraction`` (object array) elsewhere."""
    q, r = np.floor_divide(numer, denom), np.mod(numer, denom)
    if not np.any(r != 0):
        return q
    out = np.asarray(q, dtype=object).copy()
    n, d = np.broadcast_arrays(np.asarray(numer, dtype=object), np.asarray(denom, dtype=object))
    where = np.nonzero(np.broadcast_to(r != 0, out.shape))
    for index in zip(*where):
        out[index] = Fraction(int(n[index]), int(d[index]))
    return out if out.shape else out[()]


_MODULES = [{"_floordiv": np.floor_divide, "_exactdiv": _exact_quotient, "_mod": np.mod,
             "_max": np.maximum, "_min": np.minimum}, "numpy"]


# ---------------------------------------------------------------------------
# integer arithmetic and its bound
# ---------------------------------------------------------------------------


def _nest(expr: Expr, order: tuple) -> Expr:
    """A polynomial in Horner form, the first dim of ``order`` outermost: with the
    longest axis first, most products and sums run on the smaller axes before
    broadcasting (``l·(d·(12·d + 13)) + d·(V + s + 2)``)."""
    order = [x for x in order if x in expr.free_symbols]
    if not order:
        return expr
    x, rest = order[0], order[1:]
    parts = sympy.collect(sympy.expand(expr), x, evaluate=False)
    by_power = {}
    for key, coeff in parts.items():
        power = 0 if key == 1 else int(sympy.degree(key, x))
        by_power[power] = by_power.get(power, 0) + coeff
    result, previous = Integer(0), None
    for power in sorted(by_power, reverse=True):
        if previous is not None:
            result = result * x ** (previous - power)
        result = result + _nest(by_power[power], rest)
        previous = power
    return result * x ** previous if previous else result


def _ratio(expr: Expr, order: tuple = ()) -> tuple[Expr, Expr]:
    """``expr`` (atoms already integer forms) as ``numerator / denominator``, both
    integer-coefficient polynomials in the atoms, the denominator's constant positive."""
    numer, denom = (sympy.expand(e) for e in sympy.fraction(sympy.together(expr)))
    coefficients = [*numer.as_coefficients_dict().values(), *denom.as_coefficients_dict().values()]
    if not all(c.is_Rational for c in coefficients):
        raise SymcountError(f"sweep: cannot evaluate {expr} exactly with integer arithmetic")
    scale = math.lcm(*(int(c.q) for c in coefficients))
    numer, denom = sympy.expand(numer * scale), sympy.expand(denom * scale)
    if denom.is_number:
        if denom < 0:
            numer, denom = -numer, -denom
        g = math.gcd(int(denom), *(int(c) for c in numer.as_coefficients_dict().values()))
        numer, denom = sympy.expand(numer / g), denom / g
    return _nest(numer, order), _nest(denom, order)


def integer_form(expr: Expr, order: tuple = ()) -> Expr:
    """An expression equal to ``expr`` wherever ``expr`` is an integer, computed with
    integer operations only (``+``, ``*``, ``**`` by a positive integer, and the
    floor division, modulo, max and min functions of this module). Polynomials are
    nested in Horner form by the dims in ``order``."""

    def atom(e):
        if isinstance(e, sympy.floor):
            n, d = _ratio(_atoms(e.args[0]), order)
            return n if d == 1 else _floordiv(n, d)
        if isinstance(e, sympy.ceiling):
            n, d = _ratio(_atoms(e.args[0]), order)
            return n if d == 1 else -_floordiv(-n, d)
        if isinstance(e, sympy.Mod):
            a, b = (integer_form(x, order) for x in e.args)
            return _mod(a, b)
        if isinstance(e, sympy.Max):
            return _max(*(integer_form(x, order) for x in e.args))
        if isinstance(e, sympy.Min):
            return _min(*(integer_form(x, order) for x in e.args))
        raise SymcountError(f"sweep: cannot evaluate {e} exactly with integer arithmetic")

    def _atoms(e):
        special = (sympy.floor, sympy.ceiling, sympy.Mod, sympy.Max, sympy.Min)
        inner = [a for a in e.atoms(*special)]
        if not inner:
            unknown = [f for f in e.atoms(sympy.Function)]
            if unknown:
                raise SymcountError(f"sweep: cannot evaluate {unknown[0]} exactly with integer arithmetic")
            return e
        outermost = [a for a in inner if not any(a != b and b.has(a) for b in inner)]
        return e.xreplace({a: atom(a) for a in outermost})

    numer, denom = _ratio(_atoms(Integer(expr) if isinstance(expr, int) else expr), order)
    return numer if denom == 1 else _exactdiv(numer, denom)


def bound_form(form: Expr) -> Expr:
    """A polynomial in the dims, nondecreasing in each, bounding ``|value|`` of every
    subexpression of an integer form for dims ``>= 1`` (each node's bound at least 1)."""
    if form.is_Symbol:
        return form
    if form.is_Integer:
        return Integer(max(abs(int(form)), 1))
    if isinstance(form, sympy.Add) or isinstance(form, sympy.Mul):
        return type(form)(*(bound_form(a) for a in form.args))
    if isinstance(form, sympy.Pow) and form.exp.is_Integer and form.exp > 0:
        return bound_form(form.base) ** form.exp
    if isinstance(form, (_floordiv, _exactdiv, _max, _min)) or form.func in (_floordiv, _exactdiv, _max, _min):
        return sympy.Add(*(bound_form(a) for a in form.args))
    if form.func == _mod:
        return bound_form(form.args[1])
    raise SymcountError(f"sweep: cannot bound {form}")


# ---------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------


#: the most points a sweep computes (each range's, and their product), checked before any
#: value is built; raise it with ``max_points=`` (``sweep --max-points``)
MAX_POINTS = 10**6


def _too_many(name: str, count, limit: int):
    raise ArgumentError(f"{name}: {count:,} points is more than the {limit:,} a sweep computes "
                        f"(raise it with --max-points / max_points=)")


def parse_range(text: str, name: str = "range", max_points: int = MAX_POINTS) -> list[int]:
    """A range of positive integers written as text, every value exact.

    ``256:8192:2x`` (geometric: 256, 512, …, up to 8192, ×2 each time), ``64:1024:64``
    (arithmetic, end included when reached), ``1,2,4,8`` (a list), ``768`` (one
    value). Numbers may be written ``4e3`` or ``4k``; a factor may be a decimal
    (``1.5x``), each value the floor of ``start · factor^i`` (duplicates dropped).
    """
    text = text.strip()
    if len(text) > 100_000:
        raise ArgumentError(f"{name}: a range of {len(text):,} characters; at most 100,000")
    if "," in text and ":" not in text:
        if text.count(",") >= max_points:
            _too_many(name, text.count(",") + 1, max_points)
        return [_range_int(t, name, text) for t in text.split(",") if t.strip()] or _bad_range(name, text)
    parts = text.split(":")
    if len(parts) == 1:
        return [_range_int(parts[0], name, text)]
    if len(parts) != 3:
        _bad_range(name, text)
    start, stop = _range_int(parts[0], name, text), _range_int(parts[1], name, text)
    if stop < start:
        raise ArgumentError(f"{name}: the end {stop} is below the start {start} in {text!r}")
    step = parts[2].strip()
    if step.endswith(("x", "×")):
        factor = parse_number(step[:-1], f"{name} factor")
        if factor <= 1:
            raise ArgumentError(f"{name}: a geometric factor must exceed 1. Received: {step!r}")
        # the number of points, from the range (start·factor^i ≤ stop), before building it
        count = math.floor(math.log(stop / start) / math.log(float(factor))) + 1 if float(factor) > 1 else math.inf
        if count > max_points:
            _too_many(name, count, max_points)
        values, value = [], Integer(start)
        while value <= stop:
            if not values or int(value) != values[-1]:
                values.append(int(sympy.floor(value)))
            value *= factor
        return values
    increment = _range_int(step, name, text)
    count = (stop - start) // increment + 1
    if count > max_points:
        _too_many(name, count, max_points)
    return list(range(start, stop + 1, increment))


def _bad_range(name, text):
    raise ArgumentError(f"{name}: cannot read {text!r}; write START:STOP:STEP, START:STOP:FACTORx, "
                        "a list 1,2,4 or one value")


def _range_int(text: str, name: str, whole: str) -> int:
    value = parse_number(text.strip(), name) if text.strip() else None
    if value is None or not value.is_Integer or value <= 0:
        raise ArgumentError(f"{name}: values must be positive integers. Received: {text.strip()!r} in {whole!r}")
    return int(value)


def _axis(values, name: str, max_points: int = MAX_POINTS) -> np.ndarray:
    if isinstance(values, str):
        values = parse_range(values, name, max_points)
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = [values]
    items = [positive_int(v, name) for v in np.asarray(values, dtype=object).ravel()] if values is not None else []
    if not items:
        raise ArgumentError(f"sweep: the range of {name} is empty")
    big = max(items) > 2**62
    return np.array(items, dtype=object if big else np.int64)


# ---------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """Exact values over a grid. ``axes`` are the values of each swept dim (in order);
    ``columns[what]`` an array of shape ``tuple(len(a) for a in axes)`` (``int64``,
    or ``object`` holding Python ints where int64 would overflow); ``valid`` is False
    where the values break a validity condition (``broken`` names one per point)."""

    axes: dict[str, np.ndarray]
    columns: dict[str, np.ndarray]
    valid: np.ndarray
    given: dict[str, int] = field(default_factory=dict)
    conditions: tuple = ()
    exact_paths: dict[str, str] = field(default_factory=dict)  # what → "int64" | "int64+object" | "object"

    def __getitem__(self, what: str) -> np.ndarray:
        if what not in self.columns:
            raise ArgumentError(f"sweep: no column {what!r}; columns: {', '.join(self.columns)}")
        return self.columns[what]

    @property
    def values(self) -> np.ndarray:
        """The only column (a sweep of one quantity)."""
        if len(self.columns) != 1:
            raise ArgumentError(f"sweep: several columns ({', '.join(self.columns)}); pick one with sweep[what]")
        return next(iter(self.columns.values()))

    @property
    def shape(self) -> tuple:
        return self.valid.shape

    def grid(self) -> dict[str, np.ndarray]:
        """Each dim's value at every point (arrays of the grid's shape)."""
        mesh = np.meshgrid(*self.axes.values(), indexing="ij")
        return dict(zip(self.axes, mesh))

    def rows(self, valid_only: bool = True) -> list[dict]:
        """One dict per point (dims, columns as Python ints, ``valid``), in grid order."""
        grid = {k: v.ravel() for k, v in self.grid().items()}
        columns = {k: np.asarray(v).ravel() for k, v in self.columns.items()}
        valid = self.valid.ravel()
        out = []
        for i in range(valid.size):
            if valid_only and not valid[i]:
                continue
            row = {k: int(v[i]) for k, v in grid.items()}
            row.update({k: _python(v[i]) for k, v in columns.items()})
            row["valid"] = bool(valid[i])
            out.append(row)
        return out

    def table(self, valid_only: bool = False, separator: str = "  ") -> str:
        """A text table (``separator=","``: CSV); invalid points marked ``invalid``."""
        rows = self.rows(valid_only)
        head = [*self.axes, *self.columns] + ([] if valid_only else ["valid"])
        cells = [[str(r[k]) if k != "valid" else ("yes" if r[k] else "invalid") for k in head] for r in rows]
        if separator != "  ":
            return "\n".join(separator.join(line) for line in [head, *cells])
        widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *cells])


def _python(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


class Evaluator:
    """An expression compiled for exact NumPy evaluation over given dims."""

    def __init__(self, expr: Expr, dims: tuple, order: tuple = ()):
        self.dims = dims
        self.form = integer_form(expr, order or dims)
        self.function = sympy.lambdify(dims, self.form, modules=_MODULES)
        self.bound = bound_form(self.form)

    def __call__(self, arrays: list, shape: tuple) -> tuple[np.ndarray, str]:
        corner = {d: Integer(max(int(np.max(a)), 1)) for d, a in zip(self.dims, arrays)}
        peak = int(self.bound.xreplace(corner))
        if peak <= INT64_MAX and all(a.dtype != object for a in arrays):
            return self._run(arrays, shape), "int64"
        return self._run([a.astype(object) for a in arrays], shape), "object"

    def _run(self, arrays, shape) -> np.ndarray:
        result = self.function(*arrays)
        return np.array(np.broadcast_to(result, shape))


def _condition_mask(relation, dims, arrays, shape, order=()) -> np.ndarray:
    """Where ``relation`` holds, exactly: ``lhs − rhs = n/d`` as integer forms and
    the sign of ``n·d`` compared (``Eq``/``Ne``: ``n == 0``)."""
    if isinstance(relation, (sympy.And, sympy.Or)):
        masks = [_condition_mask(r, dims, arrays, shape, order) for r in relation.args]
        return np.logical_and.reduce(masks) if isinstance(relation, sympy.And) else np.logical_or.reduce(masks)
    if relation is sympy.true:
        return np.ones(shape, dtype=bool)
    if relation is sympy.false:
        return np.zeros(shape, dtype=bool)
    if not isinstance(relation, sympy.core.relational.Relational):
        raise SymcountError(f"sweep: cannot evaluate the condition {relation}")
    numer, denom = sympy.fraction(sympy.together(relation.lhs - relation.rhs))
    n = np.broadcast_to(Evaluator(numer, dims, order)(arrays, shape)[0], shape)
    sign = np.asarray(np.sign(n), dtype=np.int64)
    if denom != 1:
        d = np.broadcast_to(Evaluator(denom, dims, order)(arrays, shape)[0], shape)
        sign = sign * np.asarray(np.sign(d), dtype=np.int64)
    if isinstance(relation, sympy.Eq):
        return sign == 0
    if isinstance(relation, sympy.Ne):
        return sign != 0
    if isinstance(relation, sympy.GreaterThan):
        return sign >= 0
    if isinstance(relation, sympy.StrictGreaterThan):
        return sign > 0
    if isinstance(relation, sympy.LessThan):
        return sign <= 0
    return sign < 0


def _degree(expr: Expr, d) -> int:
    try:
        return int(sympy.degree(expr, d))
    except (sympy.PolynomialError, TypeError, ValueError):
        return 0


def sweep(target, ranges: dict | None = None, given: dict | None = None, what="total", causal: bool = False,
          max_points: int = MAX_POINTS, **kwargs) -> Sweep:
    """``what`` of ``target`` at every point of the grid ``ranges`` (the outer product
    of each dim's values), the other dims ``given``.

    Ranges are sequences of positive integers, NumPy arrays or text
    (:func:`parse_range`: ``"256:8192:2x"``). ``what`` is a quantity, a list of
    them (``["total", "flops"]``: one column each) or a dict of expressions by column
    name (the parts of :func:`~symcount.scaling.shares.shares`). Points that break a validity
    condition are computed too and flagged in ``valid``.
    """
    ranges = {**(ranges or {}), **kwargs}
    if not ranges:
        raise ArgumentError("sweep: give at least one dim a range, e.g. sweep(count, n_embd='256:8192:2x')")
    if isinstance(what, dict):  # columns of one's own: {label: expression}
        exprs = {str(k): quantity(v) for k, v in what.items()}
    else:
        exprs = {w: quantity(target, w, causal) for w in ([what] if isinstance(what, str) else list(what))}
    symbols = {}
    for e in exprs.values():
        symbols.update(symbols_of(target, e))
    dims = tuple(find_dim(symbols, n, "sweep: ") for n in ranges)
    mapping = bind(symbols, given, "sweep: ", strict=isinstance(target, Count))
    clash = [d.name for d in dims if d in mapping]
    if clash:
        raise ArgumentError(f"sweep: {clash[0]} has a range; it cannot also be given")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise ArgumentError(f"sweep: max_points must be a positive integer. Received: {max_points!r}")
    axes = {d.name: _axis(v, d.name, max_points) for d, v in zip(dims, ranges.values())}
    shape = tuple(len(a) for a in axes.values())
    if math.prod(shape) > max_points:
        _too_many("sweep", math.prod(shape), max_points)
    arrays = [a.reshape([-1 if i == j else 1 for j in range(len(shape))]) for i, a in enumerate(axes.values())]
    # Horner: the longest axis outermost; among equal lengths the lowest degree (fewest full-size products)
    order = tuple(sorted(dims, key=lambda d: (-len(axes[d.name]), max(_degree(e, d) for e in exprs.values()))))
    columns, paths = {}, {}
    for w, e in exprs.items():
        bound = e.xreplace(mapping)
        left = sorted(s.name for s in bound.free_symbols if s not in dims)
        if left:
            raise ArgumentError(f"sweep: give the other dims values (given= / --set) or ranges; missing: "
                                f"{', '.join(left)}")
        columns[w], paths[w] = Evaluator(bound, dims, order)(arrays, shape)
    relations = [r.xreplace(mapping) for r in conditions_of(target)]
    left = sorted({s.name for r in relations for s in r.free_symbols if s not in dims})
    if left:
        raise ArgumentError(f"sweep: the validity conditions need values for {', '.join(left)} "
                            "(given= / --set, or a range)")
    valid = np.ones(shape, dtype=bool)
    kept = []
    for r in relations:
        if r is sympy.true:
            continue
        valid &= _condition_mask(r, dims, arrays, shape, order)
        kept.append(condition_text(r))
    return Sweep(axes, columns, valid, {k.name: int(v) for k, v in mapping.items()}, tuple(kept), paths)
