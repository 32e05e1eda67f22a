"""What every scaling tool shares: the quantity of a target, dims by name, exact numbers.

A *target* is a :class:`~symcount.count.Count` (its validity conditions come with it)
or a SymPy expression (no conditions unless given). ``what`` picks the quantity of a
count: ``total`` (= ``params``), ``trainable``, ``non_trainable``, ``macs``,
``flops`` (forward, 2 per multiply-accumulate), ``training_flops`` (forward +
backward), ``activations`` (bytes autograd saves at float32), ``memory`` (training
bytes at float32 with Adam: :meth:`~symcount.count.Count.memory`), each per example; ``causal=True`` leaves out the masked
half of causal attention.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import sympy
from sympy import Expr, Integer, Rational

from ..count import Count
from ..dims import condition_text, decided
from ..errors import ArgumentError, SubstitutionError

#: quantities read off a count's records (``what=``)
QUANTITIES = ("total", "params", "trainable", "non_trainable", "macs", "flops", "training_flops", "activations",
              "memory")
#: ``memory`` by layer: float32 gradients and Adam's two moments per trainable parameter
_BYTES, _ADAM_STATES = 4, 2


def _check_what(what: str) -> str:
    what = "total" if what == "params" else what
    if what not in QUANTITIES:
        raise ArgumentError(f"unknown quantity what={what!r}. Expected one of: {', '.join(QUANTITIES)}")
    return what


def _record_cost(record, training: bool, causal: bool) -> Expr:
    if hasattr(record, "total_cost"):
        return record.total_cost(training, causal)
    return record.cost(training=training, causal=causal) * record.repeat


def cost(count: Count, training: bool = False, causal: bool = False) -> Expr:
    """FLOPs per example: ``Σ 2·MACs`` over the records (forward), plus the backward
    products when ``training`` (each record's cost, all its occurrences)."""
    return sympy.Add(*(_record_cost(r, training, causal) for r in count.layers))


def record_quantity(record, what: str, causal: bool = False) -> Expr:
    """One record's parameters or cost for all its occurrences (``× repeat``); parameters
    of a second use of a shared layer count zero. (``activations`` and ``memory`` depend
    on the neighbouring layers: see :func:`record_quantities`.)"""
    what = _check_what(what)
    if what in ("total", "trainable", "non_trainable"):
        if not record.counted:
            return Integer(0)
        return (record.params if what == "total" else getattr(record, what)) * record.repeat
    if what in ("macs", "flops", "training_flops"):
        flops = _record_cost(record, what == "training_flops", causal)
        return flops / 2 if what == "macs" else flops
    raise ArgumentError(f"{what} of one layer depends on its neighbours: use record_quantities(count, {what!r})")


def record_quantities(count: Count, what: str, causal: bool = False) -> list[Expr]:
    """Each record's ``what`` (all its occurrences), in model order. ``activations``: the
    bytes autograd saves for it at float32 (a tensor two layers save is the first's);
    ``memory``: training bytes at float32 with Adam, batch 1 (:meth:`Count.memory`'s
    weights, gradients, optimizer states and activations, by layer)."""
    what = _check_what(what)
    if what not in ("activations", "memory"):
        return [record_quantity(r, what, causal) for r in count.layers]
    memory = count.memory()
    rows = [dict(parts) for _, parts in memory.by_layer()]
    if what == "activations":
        return [row["activations"] for row in rows]
    return [row["activations"] + _BYTES * (1 + _ADAM_STATES) * r.trainable * r.repeat * int(r.counted)
            + row["weights"] + (4 * r.repeat * sum(1 for w in r.weights if w.counts and w.trainable)
                                if r.counted else 0)
            for r, row in zip(count.layers, rows)]


def quantity(target, what: str = "total", causal: bool = False) -> Expr:
    """The expression ``what`` of ``target`` (a count, or an expression returned as is)."""
    if isinstance(target, Count):
        what = _check_what(what)
        if what in ("total", "trainable", "non_trainable", "activations") or (what == "macs" and not causal):
            return getattr(target, what)
        if what == "memory":
            return target.memory().total
        return sympy.Add(*(record_quantity(r, what, causal) for r in target.layers))
    if isinstance(target, (int, Integer)) and not isinstance(target, bool):
        return Integer(target)
    if isinstance(target, Expr):
        return target
    raise ArgumentError(f"expected a Count or a SymPy expression. Received: {target!r} ({type(target).__name__})")


def conditions_of(target, extra=()) -> tuple:
    """The validity conditions (relations) of ``target`` and ``extra``."""
    relations = [c.relation for c in target.conditions] if isinstance(target, Count) else []
    return tuple(relations) + tuple(getattr(c, "relation", c) for c in extra)


def name_of(d) -> str:
    if isinstance(d, sympy.Symbol):
        return d.name
    if isinstance(d, str):
        return d
    raise ArgumentError(f"a dim is named by a string or a dim symbol. Received: {d!r}")


def symbols_of(target, expr: Expr) -> dict[str, sympy.Symbol]:
    """The dims of ``target`` by name: a count's dims, else the expression's symbols."""
    found = {s.name: s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    if isinstance(target, Count):
        found.update({d.name: d for d in target.dims})
    return found


def find_dim(symbols: dict, d, where: str = "") -> sympy.Symbol:
    """The dim called ``d`` (a name or a symbol, matched by name)."""
    name = name_of(d)
    if name not in symbols:
        listed = ", ".join(sorted(symbols)) or "none"
        raise ArgumentError(f"{where}unknown dim {name!r}. The dims are: {listed}")
    return symbols[name]


def bind(symbols: dict, values: dict | None, where: str = "", strict: bool = True) -> dict:
    """``{"H": 224}`` → ``{H: Integer(224)}`` for the dims named; values positive integers.

    ``strict=False`` ignores names that are not among ``symbols`` (a whole
    configuration given to evaluate an expression that uses part of it)."""
    mapping = {}
    for key, value in (values or {}).items():
        if not strict and name_of(key) not in symbols:
            positive_int(value, name_of(key))
            continue
        d = find_dim(symbols, key, where)
        mapping[d] = Integer(positive_int(value, d.name))
    return mapping


def positive_int(value, name: str) -> int:
    """``value`` as a Python int > 0 (ints, SymPy integers, integral numpy ints)."""
    if isinstance(value, bool):
        raise SubstitutionError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if isinstance(value, Integer):
        value = int(value)
    elif not isinstance(value, int) and hasattr(value, "__index__"):
        value = value.__index__()
    if not isinstance(value, int) or value <= 0:
        raise SubstitutionError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def broken(relations, mapping) -> list:
    """The relations that the values in ``mapping`` provably break."""
    return [r for r in relations if decided(r.xreplace(mapping)) is False]


def check_given(relations, mapping, where: str) -> None:
    """Raise when values given up front already break a validity condition."""
    bad = broken(relations, mapping)
    if bad:
        current = ", ".join(f"{k}={v}" for k, v in mapping.items())
        raise SubstitutionError(f"{where}the closed form needs {condition_text(bad[0])}, which these values "
                                f"break. Current values: {current}")


def relax(expr: Expr) -> Expr:
    """``floor(a)`` and ``ceiling(a)`` replaced by ``a``: the continuous relaxation
    (they differ by less than 1, so leading terms and elasticities of growing sizes agree)."""
    return expr.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling)), lambda e: e.args[0])


def as_int(value: Expr):
    """A SymPy integer as a Python int; a rational as a ``Fraction``."""
    if isinstance(value, int):
        return value
    if value.is_Integer:
        return int(value)
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    raise ArgumentError(f"expected a number once every dim has a value. Received: {value}")


# ---------------------------------------------------------------------------
# exact numbers from text: "7e9", "6.74e9", "175B", "3.14*10^23"
# ---------------------------------------------------------------------------

#: the most characters of a number read from text (a budget, a range bound): 10^100 is
#: far past any budget, and reading stays fast
NUMBER_LIMIT = 100
_SUFFIXES = {"k": 3, "K": 3, "M": 6, "G": 9, "B": 9, "T": 12, "P": 15}
_NUMBER = re.compile(
    r"^(?P<int>\d[\d_,]*)?(?:\.(?P<frac>\d[\d_]*)?)?"
    r"(?:(?:[eE](?P<exp>[+-]?\d+))|(?:\s*(?:\*|·|×|x)\s*10\s*(?:\^|\*\*)\s*(?P<pow>[+-]?\d+)))?"
    r"\s*(?P<suffix>[kKMGBTP])?$",
    re.ASCII,  # digits 0-9 only: "１２" is no number
)


def parse_number(text: str, what: str = "number") -> Rational:
    """A decimal number in ``text`` as an exact SymPy rational; never through a float.

    Accepts ``7000000000``, ``7_000_000_000``, ``7e9``, ``6.74e9``, ``6.74*10^9``,
    ``6.74·10^9``, and suffixes ``k``/``M``/``G`` or ``B``/``T``/``P`` (powers of 10³):
    ``7B`` = 7·10⁹. The mantissa's digits and the exponent are read as integers:
    ``6.74e9`` = 674·10⁷ exactly.
    """
    if not isinstance(text, str):
        raise ArgumentError(f"{what}: expected text. Received: {text!r}")
    if len(text) > NUMBER_LIMIT:
        raise ArgumentError(f"{what}: a number of {len(text):,} characters; at most {NUMBER_LIMIT}")
    match = _NUMBER.match(text.strip())
    if not text.strip() or not match or not (match["int"] or match["frac"]):
        raise ArgumentError(f"{what}: cannot read {text!r} as a number; write e.g. 7e9, 6.74e9, 7000000000 or 7B")
    whole = (match["int"] or "0").replace("_", "").replace(",", "")
    frac = (match["frac"] or "").replace("_", "")
    exponent = int(match["exp"] or match["pow"] or 0) + _SUFFIXES.get(match["suffix"] or "", 0) - len(frac)
    if abs(exponent) > 1000:
        raise ArgumentError(f"{what}: the exponent of {text!r} is out of range")
    mantissa = Integer(int(whole + frac))
    return mantissa * Integer(10) ** exponent if exponent >= 0 else Rational(mantissa, Integer(10) ** -exponent)


def exact_number(value, what: str = "budget") -> Rational:
    """A budget as an exact rational: ints, SymPy rationals, ``Fraction``, ``Decimal``,
    text (:func:`parse_number`), and floats only when they hold an integer below 2⁵³
    (``7e9`` is exact; ``0.1`` or ``1e30`` are not, give them as text)."""
    if isinstance(value, bool):
        raise ArgumentError(f"{what}: expected a number. Received: {value!r}")
    if isinstance(value, int):
        return Integer(value)
    if isinstance(value, sympy.Rational):
        return value
    if isinstance(value, Fraction):
        return Rational(value.numerator, value.denominator)
    if isinstance(value, Decimal):
        sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):
            raise ArgumentError(f"{what}: expected a finite number. Received: {value!r}")
        return parse_number(str(abs(value)), what) * (-1 if sign else 1)
    if isinstance(value, str):
        return parse_number(value, what)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return Integer(int(value))
        raise ArgumentError(f"{what}: the float {value!r} is not exact; give it as text ({what}='{value!r}') "
                            "or as an int")
    raise ArgumentError(f"{what}: expected a number. Received: {value!r} ({type(value).__name__})")


def percent(value) -> str:
    """An exact fraction printed as a percentage (display only): one decimal, or three
    significant digits below 0.1 %."""
    share = float(value) * 100
    return f"{share:.1f} %" if share == 0 or abs(share) >= 0.1 else f"{share:.3g} %"
