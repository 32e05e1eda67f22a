"""Dimension symbols and the shape arithmetic every front end shares.

A dim is a SymPy ``Symbol`` that is integer and positive, so ``floor``, ``Max``
and comparisons simplify without special cases. The convolution and pooling
length rules live here once; Keras and torch layers call them with their own
argument names (Keras ``operation_utils.compute_conv_output_shape`` and
``compute_pooling_output_shape``; torch ``Conv2d``/``MaxPool2d`` docs).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy
from sympy import Expr, Integer

from .errors import ArgumentError

#: user-chosen LaTeX names, by dim name (``sc.dim("V", latex=r"\lvert V \rvert")``)
LATEX_NAMES: dict[str, str] = {}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dim(name: str, latex: str | None = None) -> sympy.Symbol:
    """A dimension symbol: ``Symbol(name, integer=True, positive=True)``.

    ``latex`` overrides how reports print it (default: ``d_model`` prints as
    ``d_{\\mathrm{model}}``, Greek names as Greek letters).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ArgumentError(
            f"A dim name must be an identifier (letters, digits, underscores). Received: name={name!r}"
        )
    if latex is not None:
        LATEX_NAMES[name] = latex
    return sympy.Symbol(name, integer=True, positive=True)


def dims(names: str | Iterable[str]) -> tuple[sympy.Symbol, ...]:
    """Several dims at once: ``H, W, classes = dims("H W classes")``."""
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    return tuple(dim(n) for n in names)


def is_dim_value(value) -> bool:
    """Whether ``value`` can stand for a size: an int (not bool) or a SymPy expression."""
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, Expr)


def as_expr(value, what: str) -> Expr:
    """Convert a size argument to a SymPy expression; ``what`` names it in errors.

    Accepts ints, SymPy integers and expressions whose free symbols are dims.
    Rejects floats, strings and booleans: sizes are exact.
    """
    if isinstance(value, bool) or not is_dim_value(value):
        raise ArgumentError(
            f"{what} must be a positive integer or an expression in dims. "
            f"Received: {value!r} ({type(value).__name__})"
        )
    expr = Integer(value) if isinstance(value, int) else value
    if expr.is_number and not expr.is_integer:
        raise ArgumentError(f"{what} must be an integer. Received: {value!r}")
    if expr.is_number and expr <= 0:
        raise ArgumentError(f"{what} must be positive. Received: {value!r}")
    return expr


def as_tuple(value, n: int, what: str) -> tuple[Expr, ...]:
    """An int/expression or a length-``n`` sequence of them, as a tuple of ``n``
    expressions (Keras ``standardize_tuple``)."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(
                f"{what} must be an integer or a tuple of {n} integers. Received: {value!r}"
            )
        return tuple(as_expr(v, what) for v in value)
    return (as_expr(value, what),) * n


def _exact(value) -> Expr:
    """An int as a SymPy ``Integer`` (so ``/`` stays exact); expressions unchanged."""
    return Integer(value) if isinstance(value, int) else value


def product(values: Iterable) -> Expr:
    """The product of sizes, as a SymPy expression (1 for none)."""
    return sympy.Mul(*values)


def floor_div(numer: Expr, divisor) -> Expr:
    """``floor(numer / divisor)`` for a positive integer ``divisor``, nested floors merged.

    ``floor((floor(x) + m) / s) = floor((x + m) / s)`` for integer ``m`` and positive
    integer ``s``, so a chain of strided layers stays one floor:
    ``floor((floor((H - 5)/3) - 3)/2)`` becomes ``floor((H - 14)/6)``.
    """
    divisor = _exact(divisor)
    const, rest = sympy.expand(numer).as_coeff_Add()
    if isinstance(rest, sympy.floor) and const.is_integer:
        return _floor((rest.args[0] + const) / divisor)
    return _floor(numer / divisor)


#: the assumptions of a dim (integer, positive); a symbol with more (``even=True``) may let
#: SymPy simplify ``floor`` further, so :func:`_floor` leaves it to SymPy
_DIM_ASSUMPTIONS = sympy.Symbol("_", integer=True, positive=True).assumptions0


def _floor(arg: Expr) -> Expr:
    """``sympy.floor(arg)``, the same expression, without SymPy's costly evaluation when
    ``arg`` is a polynomial in dims with rational coefficients (every convolution and
    pooling length is one).

    ``floor.eval`` then asks whether ``arg`` lies provably in [0, 2) or [-2, 0) (it
    cannot: a non-constant polynomial in positive integers is unbounded) through the
    assumptions system, which costs milliseconds per new expression, and otherwise
    moves the integer terms out: ``floor(H/2 + W + 3) = W + 3 + floor(H/2)``. A term
    is an integer exactly when its coefficient is (SymPy cannot prove ``H/3`` an
    integer for a dim ``H``), so this does the same split directly. Anything else
    (numbers, floors within, other functions, symbols with other assumptions) goes to
    ``sympy.floor``.
    """
    if arg.is_Number:
        return sympy.floor(arg)
    whole, fractional, number = [], [], Integer(0)  # number: a non-integer constant term
    for term in sympy.Add.make_args(arg):
        coeff, monomial = term.as_coeff_Mul()
        if not coeff.is_Rational:
            return sympy.floor(arg)
        if monomial is sympy.S.One:
            if coeff.is_Integer:
                whole.append(coeff)
            else:
                number = coeff
            continue
        for factor in sympy.Mul.make_args(monomial):
            base, exp = factor.as_base_exp()
            if not (base.is_Symbol and exp.is_Integer and exp.is_positive and _is_dim(base)):
                return sympy.floor(arg)
        (whole if coeff.is_Integer else fractional).append(term)
    if not fractional:
        return arg if number == 0 else sympy.Add(*whole, number.floor())
    return sympy.Add(*whole, sympy.floor(sympy.Add(*fractional, number), evaluate=False))


def _dim_at_least(d: sympy.Symbol, bound: Integer) -> sympy.Basic:
    """``d >= bound`` for a dim ``d`` as SymPy evaluates it — true for ``bound <= 1``,
    else the relation as it stands — without asking the assumptions system (the most
    common condition: every output size is at least 1)."""
    return sympy.true if bound <= 1 else sympy.GreaterThan(d, bound, evaluate=False)


def _is_dim(symbol) -> bool:
    known = _DIM_SYMBOLS.get(symbol)
    if known is None:
        known = _DIM_SYMBOLS[symbol] = symbol.assumptions0 == _DIM_ASSUMPTIONS
    return known


_DIM_SYMBOLS: dict = {}


def conv_length(n: Expr, kernel: Expr, stride: Expr = 1, dilation: Expr = 1, pad: Expr = 0) -> Expr:
    """Output length of a convolution or pooling window over ``n`` positions.

    ``floor((n + pad - dilation*(kernel - 1) - 1) / stride) + 1`` where ``pad`` is the
    total padding added (torch: ``2*padding``; Keras ``valid``: 0). This is torch's
    ``Conv2d``/``MaxPool2d`` rule and Keras's ``valid`` rule; pooling is the
    ``dilation = 1`` case.
    """
    return floor_div(n + pad - dilation * (kernel - 1) - 1, stride) + 1


def same_length(n: Expr, stride: Expr = 1) -> Expr:
    """Keras ``padding="same"``: ``floor((n - 1) / strides) + 1``, i.e. ``ceil(n / strides)``."""
    return floor_div(n - 1, stride) + 1


def keras_conv_length(n: Expr, kernel: Expr, stride: Expr, padding: str, dilation: Expr = 1) -> Expr:
    """Keras ``compute_conv_output_shape`` for one spatial axis (``valid`` or ``same``)."""
    if padding == "same":
        return same_length(n, stride)
    return conv_length(n, kernel, stride, dilation)


def transposed_conv_length(n: Expr, kernel: Expr, stride: Expr = 1, dilation: Expr = 1, pad: Expr = 0,
                           output_padding: Expr = 0) -> Expr:
    """Output length of a transposed convolution over ``n`` positions.

    ``(n - 1)*stride - pad + dilation*(kernel - 1) + output_padding + 1`` where ``pad``
    is the total padding removed (torch: ``2*padding``). This is torch's
    ``ConvTranspose2d`` rule: ``H_out = (H_in - 1) × stride - 2 × padding +
    dilation × (kernel_size - 1) + output_padding + 1``.
    """
    return (n - 1) * stride - pad + dilation * (kernel - 1) + output_padding + 1


def ceil_pool_length(n: Expr, kernel: Expr, stride: Expr = 1, dilation: Expr = 1, padding: Expr = 0) -> Expr:
    """Output length of torch pooling with ``ceil_mode=True`` over ``n`` positions,
    ``padding`` on each side.

    torch's docs: ``L_out = ceil((L_in + 2·padding - dilation·(kernel_size - 1) - 1) / stride) + 1``,
    and "sliding windows are allowed to go off-bounds if they start within the left
    padding or the input; windows that would start in the right padded region are
    ignored" (ATen ``pooling_output_shape``: the count drops by one when
    ``(L_out - 1)·stride >= L_in + padding``). Both at once, exactly::

        floor((n + padding - 1 + Min(0, stride + padding - dilation·(kernel - 1) - 1)) / stride) + 1

    i.e. ``min(ceil(m / stride), floor((n + padding - 1) / stride)) + 1`` with
    ``m = n + 2·padding - dilation·(kernel - 1) - 1``: the number of window starts
    that both the ceil rule allows and lie before the right padding. The ``Min`` is of
    the layer's arguments only, so with numeric arguments the length is one floor in
    ``n``. Exact when ``padding <= dilation·(kernel - 1) + 1``, which torch's own check
    ``padding <= kernel_size / 2`` guarantees (ATen drops at most one window).
    """
    shift = sympy.Min(0, stride + padding - dilation * (kernel - 1) - 1)
    return floor_div(n + padding - 1 + shift, stride) + 1


# ---------------------------------------------------------------------------
# Validity conditions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A condition a closed form needs (``H >= 3``, ``Eq(Mod(C, groups), 0)``).

    ``relation`` is a SymPy relational; ``needed_by`` names the layer(s) that impose it.
    """

    relation: sympy.Basic
    needed_by: tuple[str, ...]

    def __str__(self) -> str:
        return condition_text(self.relation)

    def __repr__(self) -> str:
        """The inequality, as a tuple of conditions prints it: ``(H >= 4, W >= 4)``."""
        return condition_text(self.relation)


def condition_text(relation) -> str:
    """``H >= 3``; ``C % groups == 0`` for divisibility."""
    if isinstance(relation, sympy.Eq) and isinstance(relation.lhs, sympy.Mod) and relation.rhs == 0:
        return f"{relation.lhs.args[0]} % {relation.lhs.args[1]} == 0"
    if isinstance(relation, sympy.Eq):
        return f"{relation.lhs} == {relation.rhs}"
    return str(relation)


@functools.lru_cache(maxsize=4096)
def at_least(expr: Expr, k) -> sympy.Basic:
    """The condition ``expr >= k`` as the plainest relation SymPy can decide.

    Floors are peeled off exactly for integer ``k``: ``floor(X) + c >= k`` iff
    ``X >= k - c``, and ``a*X >= m`` iff ``X >= ceiling(m / a)`` for integer-valued X.
    ``floor((H - 3)/3) + 1 >= 1`` becomes ``H >= 3``. Returns ``sympy.true``,
    ``sympy.false`` or a relational in the dims.

    Cached: a model asks it for every output axis of every layer, mostly of the same
    few sizes.
    """
    k = sympy.Integer(k)
    if k == 1 and isinstance(expr, sympy.Pow) and expr.base.is_integer and expr.exp.is_Integer \
            and expr.exp.is_positive:
        return at_least(expr.base, 1)  # x**n >= 1 iff x >= 1, for an integer x >= 0 and n > 0
    if k == 1 and isinstance(expr, sympy.Mul) and all(f.is_integer for f in expr.args):
        # a product of sizes (Flatten) is >= 1 when each factor is (sizes are never negative
        # once the earlier layers' conditions hold); a positive constant factor drops out
        factors = [f for f in expr.args if not (f.is_number and f >= 1)]
        if all(not f.is_number for f in factors):
            return sympy.And(*(at_least(f, 1) for f in factors))
    expr = sympy.expand(expr)
    for _ in range(64):  # each pass strips one floor or one denominator
        const, rest = expr.as_coeff_Add()
        if rest == 0:
            return sympy.true if const >= k else sympy.false
        coeff, term = rest.as_coeff_Mul()
        if coeff.is_positive and term.is_integer:
            bound = sympy.ceiling((k - const) / coeff)
        else:
            bound = None
        if bound is not None and isinstance(term, sympy.floor):
            expr, k = sympy.expand(term.args[0]), bound  # floor(X) >= b  iff  X >= b
            continue
        if bound is not None and isinstance(term, sympy.ceiling):
            expr, k = sympy.expand(term.args[0]), bound - 1  # ceil(X) >= b iff X > b - 1
            return _greater(expr, k)
        denom = _denominator(expr)
        if denom is None:
            numer, denom = sympy.fraction(sympy.together(expr - k))
            if denom != 1 and denom.is_positive and denom.is_number:
                expr, k = sympy.expand(numer), Integer(0)
                continue
        elif denom != 1:  # what together() would give, without its cost
            expr, k = sympy.expand(denom * (expr - k)), Integer(0)
            continue
        if bound is not None and term.is_Symbol:
            return _dim_at_least(term, bound) if _is_dim(term) else term >= bound
        return expr >= k
    return expr >= k


def _denominator(expr):
    """The common denominator ``together(expr - k)`` has for an integer ``k``, computed
    cheaply — the least common multiple of the coefficients' denominators — when ``expr``
    is a sum of rational multiples of products of symbols, functions (``floor(…)``,
    taken whole, as ``together`` takes them) and positive integer powers of symbols;
    ``None`` for anything else (``together`` then decides). ``together`` is the costly
    part of :func:`at_least`, which runs for every output axis of every layer."""
    denom = 1
    for term in sympy.Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        if not coeff.is_Rational:
            return None
        for factor in sympy.Mul.make_args(rest):
            if factor.is_Symbol or factor.is_Function or factor is sympy.S.One:
                continue
            if factor.is_Pow and factor.base.is_Symbol and factor.exp.is_Integer and factor.exp.is_positive:
                continue
            return None
        denom = sympy.ilcm(denom, coeff.q)
    return Integer(denom)


def _greater(expr, k):
    """``expr > k`` for a real ``expr``: strip a denominator, else return the relation."""
    numer, denom = sympy.fraction(sympy.together(expr - k))
    if denom.is_number and denom.is_positive and numer.is_integer:
        return at_least(numer, 1)
    return expr > k


def divisible(numer: Expr, denom: Expr) -> sympy.Basic:
    """``numer`` divisible by ``denom``: ``true``, ``false``, or ``Eq(Mod(numer, denom), 0)``."""
    if isinstance(numer, sympy.Symbol) and isinstance(denom, sympy.Symbol) and numer != denom \
            and _is_dim(numer) and _is_dim(denom):
        # SymPy leaves Mod of two different dims as it is, after asking the assumptions
        # system much about them (a head count dividing a width: every attention layer)
        rem = sympy.Mod(numer, denom, evaluate=False)
    else:
        rem = sympy.Mod(numer, denom)
    if rem.is_number:
        return sympy.true if rem == 0 else sympy.false
    coeff, rest = rem.as_coeff_Mul()
    if coeff.is_nonzero and isinstance(rest, sympy.Mod):
        rem = rest  # SymPy writes Mod(2*C, 4) as 2*Mod(C, 2): the condition is C % 2 == 0
    return sympy.Eq(rem, 0, evaluate=False)


def decided(relation) -> bool | None:
    """True/False when SymPy decides the relation from the dims' assumptions, else None."""
    if relation is sympy.true or relation is True:
        return True
    if relation is sympy.false or relation is False:
        return False
    if isinstance(relation, sympy.Eq) and isinstance(relation.lhs, sympy.Mod):
        val = relation.lhs
        return None if not val.is_number else bool(val == relation.rhs)
    try:
        value = relation.doit() if hasattr(relation, "doit") else relation
    except TypeError:
        return None
    if value is sympy.true:
        return True
    if value is sympy.false:
        return False
    return None


def size_text(shape: Sequence) -> str:
    """``(None, 254, 254, 32)`` the way Keras prints shapes."""
    parts = ["None" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def prod_int(values: Iterable[int]) -> int:
    return math.prod(values)


# ---------------------------------------------------------------------------
# Keras shape rules beyond the plain convolution: pooling, transposed convolution;
# arguments that may be zero (padding, cropping, output_padding)
# ---------------------------------------------------------------------------


def as_nonnegative(value, what: str) -> Expr:
    """Like :func:`as_expr`, but 0 is allowed: paddings, croppings and
    ``output_padding`` (Keras ``standardize_tuple(..., allow_zero=True)``)."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return Integer(0)
    if isinstance(value, Expr) and value.is_number and value == 0:
        return Integer(0)
    return as_expr(value, what)


def as_nonnegative_tuple(value, n: int, what: str) -> tuple[Expr, ...]:
    """:func:`as_tuple` with zeros allowed: an int/expression or ``n`` of them."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(f"{what} must be an integer or a tuple of {n} integers. Received: {value!r}")
        return tuple(as_nonnegative(v, what) for v in value)
    return (as_nonnegative(value, what),) * n


def keras_pool_length(n: Expr, pool_size: Expr, strides: Expr, padding: str) -> Expr:
    """Keras ``compute_pooling_output_shape`` for one spatial axis.

    ``valid``: ``floor((n - pool_size) / strides) + 1``; ``same``:
    ``floor((n - 1) / strides) + 1``. (The caller defaults ``strides`` to ``pool_size``.)
    """
    if padding == "same":
        return same_length(n, strides)
    return conv_length(n, pool_size, strides)


def keras_deconv_length(n: Expr, kernel_size: Expr, strides: Expr, padding: str,
                        output_padding: Expr | None = None, dilation_rate: Expr = 1) -> Expr:
    """Keras ``compute_conv_transpose_output_shape`` for one spatial axis
    (``backend/common/backend_utils._get_output_shape_given_tf_padding``).

    With the dilated kernel ``k = (kernel_size - 1) · dilation_rate + 1``:

    - ``valid``: ``(n - 1) · strides + k + output_padding``, where ``output_padding``
      defaults to ``max(k, strides) - k`` — so ``(n - 1) · strides + max(k, strides)``;
    - ``same``: ``n · strides`` when ``output_padding`` is ``None``, else
      ``(n - 1) · strides + (k mod 2) + output_padding``.

    No floor: a transposed convolution's length is a polynomial in ``n``.
    """
    k = (_exact(kernel_size) - 1) * dilation_rate + 1
    strides = _exact(strides)
    if padding == "same":
        if output_padding is None:
            return n * strides
        return (n - 1) * strides + sympy.Mod(k, 2) + output_padding
    if output_padding is None:
        return (n - 1) * strides + sympy.Max(k, strides)
    return (n - 1) * strides + k + output_padding
