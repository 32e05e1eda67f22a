"""Derivations: where each layer's numbers come from, read off its declared weights.

A derivation is a chain ``lhs = rule = values = result``:

- the **rule**, in the layer's own notation: the layer is re-instantiated with symbols
  in place of its size arguments (``Conv2D(C_out, (k_h, k_w))``) and given a symbolic
  input (``(None, H_in, W_in, C_in)``); its own ``weights()`` and ``output_shape()``
  then give ``P = k_h k_w C_in C_out + C_out`` and ``H_out = ⌊(H_in − p_h)/p_h⌋ + 1``;
- the **values**: the same rule with this model's values put in for the symbols,
  left unevaluated (``3 · 3 · 3 · 32 + 32``, ``⌊(254 − 3)/3⌋ + 1``);
- the **result**: the record's own count or output size (``896``), or its closed form
  in the model's dims while they are symbolic.

No formula is written twice: the rule and the values come from the layer's
declaration, the result from the record. A layer class opts in by declaring its
notation, e.g. for Keras ``Conv2D``::

    notation = Notation({"filters": "C_out", "kernel_size": ("k_h", "k_w"), ...},
                        inputs=("H_in", "W_in", "C_in"), outputs=("H_out", "W_out", "C_out"),
                        hidden_at_one=("strides", "dilation_rate", "groups"))

A layer without a notation still gets a derivation of its parameters from its
weights (values and result, no rule).

Multiply-accumulates are derived the same way, from the layer's own ``products()``:
rebuilt in its notation they give the rule (``MACs = H_out W_out k_h k_w C_in C_out``,
an output size written as its symbol where the layer derives it, factors in the order
of the weight they multiply); the values and the result follow. A layer without a
notation is rebuilt with placeholder sizes instead (its input axes and its integer
arguments), which gives the values stage (``10·64·64 + …``) but no rule. Every stage is
checked against the record's own MACs before it is shown. A layer with several products
(attention: projections, scores and values) derives each under its label.

    >>> record = count.layers[0]                     # conv2d (Conv2D) of the seed CNN
    >>> [d.text for d in record.derivation]
    ['P = k_h·k_w·C_in·C_out + C_out = 3·3·3·32 + 32 = 896',
     'MACs = H_in·W_in·k_h·k_w·C_in·C_out = 256·256·3·3·3·32 = 56623104']
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy import Expr

from .errors import SymcountError

__all__ = ["Derivation", "Notation", "Step", "Term", "derive"]


@dataclass(frozen=True, eq=False)
class Notation:
    """How a layer's rule is written.

    - ``args``: constructor argument → symbol name, or a tuple of names for a tuple
      argument (``{"kernel_size": ("k_h", "k_w")}``);
    - ``inputs``: names of the input axes, aligned from the right (``("H_in", "W_in",
      "C_in")``); or a mapping from an axis — an int, or the name of the constructor
      argument holding it (BatchNormalization's ``axis``) — to a name; or a prefix
      (``"d"``) naming every non-batch axis ``d_1, d_2, …``;
    - ``outputs``: names of the output axes, aligned from the right; an output size
      is derived where its rule is arithmetic (not a lone symbol or a number);
    - ``hidden_at_one``: arguments written as a symbol only where they are not 1
      (strides, dilation, groups: a factor or divisor of 1 says nothing).
    """

    args: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    inputs: tuple[str, ...] | Mapping | str = ()
    outputs: tuple[str, ...] = ()
    hidden_at_one: tuple[str, ...] = ()


@dataclass(frozen=True)
class Term:
    """One term of a parameter sum: ``multiplicity`` equal weights of shape ``factors``
    (``names`` are the weights', ``gamma`` and ``beta`` for BatchNormalization's ``2C``)."""

    names: tuple[str, ...]
    factors: tuple
    trainable: bool = True

    @property
    def multiplicity(self) -> int:
        return len(self.names)

    @property
    def size(self) -> Expr:
        return self.multiplicity * sympy.Mul(*self.factors)


@dataclass(frozen=True)
class Step:
    """One stage of a derivation: an expression, or a sum of weight ``Term`` s, printed
    with ``bindings`` (notation symbol → value) put in for their symbols *unevaluated*.

    ``kind`` is ``"rule"``, ``"values"`` or ``"result"``.
    """

    kind: str
    form: Expr | tuple[Term, ...]
    bindings: tuple[tuple[sympy.Symbol, Expr], ...] = ()

    @property
    def expr(self) -> Expr:
        """The stage as a SymPy expression, bindings not applied (the rule's symbols stay)."""
        if isinstance(self.form, tuple):
            return sympy.Add(*(t.size for t in self.form))
        return self.form

    @property
    def value(self) -> Expr:
        """The stage evaluated: bindings substituted."""
        return self.expr.xreplace(dict(self.bindings)) if self.bindings else self.expr

    def pieces(self, style: str = "latex") -> list[str]:
        """The printed terms, signs attached, for breaking a long line."""
        from . import printing

        bindings = dict(self.bindings)
        if not isinstance(self.form, tuple):
            return printing.terms(self.form, style, bindings)
        printer = printing.Printer(style, bindings)
        out = []
        for i, term in enumerate(self.form):
            factors = ((term.multiplicity,) if term.multiplicity > 1 else ()) + tuple(term.factors)
            piece = printer.product(factors)
            out.append(piece if i == 0 else "+ " + piece)
        return out

    def render(self, style: str = "latex") -> str:
        return " ".join(self.pieces(style))

    @property
    def latex(self) -> str:
        return self.render("latex")

    @property
    def text(self) -> str:
        return self.render("unicode")


@dataclass(frozen=True)
class Derivation:
    """``lhs = steps[0] = steps[1] = …`` for one quantity of one layer.

    ``quantity`` is ``"params"``, ``"output[i]"`` (axis ``i`` of the output shape) or
    ``"macs"`` (multiply-accumulates of one of the layer's products, per example;
    ``label`` names the product when the layer has several: ``projections``).
    ``bindings`` maps the notation symbols to this model's values.
    """

    quantity: str
    lhs: sympy.Symbol
    steps: tuple[Step, ...]
    bindings: tuple[tuple[sympy.Symbol, Expr], ...] = ()
    label: str = ""

    def _step(self, kind):
        return next((s for s in self.steps if s.kind == kind), None)

    @property
    def rule(self) -> Expr | None:
        """The rule in the layer's notation (``k_h*k_w*C_in*C_out + C_out``), if it has one."""
        step = self._step("rule")
        return None if step is None else step.expr

    @property
    def result(self) -> Expr:
        return self.steps[-1].expr

    def lhs_printed(self, style: str = "latex") -> str:
        """The left-hand side: ``P``, ``H_{\\mathrm{out}}``, ``\\mathrm{MACs}_{\\text{projections}}``."""
        from .printing import latex_name, tex_escape

        if self.quantity == "macs":
            if style == "latex":
                return r"\mathrm{MACs}" + (f"_{{\\text{{{tex_escape(self.label)}}}}}" if self.label else "")
            return "MACs" + (f" ({self.label})" if self.label else "")
        return latex_name(self.lhs.name) if style == "latex" else self.lhs.name

    @property
    def latex(self) -> str:
        return " = ".join([self.lhs_printed("latex"), *(s.latex for s in self.steps)])

    @property
    def text(self) -> str:
        return " = ".join([self.lhs_printed("unicode"), *(s.text for s in self.steps)])

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# The layer in its own notation
# ---------------------------------------------------------------------------


def _symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True, positive=True)


P = _symbol("P")
MACS = _symbol("MACs")


def _as_value(value, mapping):
    if isinstance(value, bool) or not isinstance(value, (int, sympy.Expr)):
        return None
    value = sympy.Integer(value) if isinstance(value, int) else value
    return value.xreplace(mapping) if mapping else value


def _symbolic_args(layer, notation: Notation, mapping) -> tuple[dict, dict]:
    """Constructor changes putting notation symbols in, and the symbols' values."""
    config, changes, bindings = layer.config, {}, {}
    for arg, names in notation.args.items():
        actual = config.get(arg)
        if actual is None:
            continue
        if isinstance(names, str):
            value = _as_value(actual, mapping)
            if value is None:
                continue
            if arg in notation.hidden_at_one and value == 1:
                continue
            changes[arg] = _symbol(names)
            bindings[changes[arg]] = value
            continue
        components = list(actual) if isinstance(actual, (list, tuple)) else [actual] * len(names)
        values = [_as_value(v, mapping) for v in components]
        if len(values) != len(names) or any(v is None for v in values):
            continue
        symbols = []
        for name, value in zip(names, values):
            if arg in notation.hidden_at_one and value == 1:
                symbols.append(sympy.Integer(1))
            else:
                symbols.append(_symbol(name))
                bindings[symbols[-1]] = value
        changes[arg] = tuple(symbols)
    return changes, bindings


def _input_names(layer, notation: Notation, rank: int) -> dict[int, str]:
    """Axis index (1 … rank-1) → name, from the notation's ``inputs``."""
    inputs = notation.inputs
    if isinstance(inputs, str):
        return {i: f"{inputs}_{i}" for i in range(1, rank)}
    if isinstance(inputs, Mapping):
        names = {}
        for axis, name in inputs.items():
            if isinstance(axis, str):
                axis = layer.config.get(axis)
            if isinstance(axis, int) and not isinstance(axis, bool) and -rank <= axis < rank:
                names[axis % rank] = name
        return {i: n for i, n in names.items() if i != 0}
    names = tuple(inputs)[-(rank - 1):] if rank > 1 else ()
    return {rank - len(names) + i: n for i, n in enumerate(names)}


@functools.lru_cache(maxsize=1024)
def _declaration(layer, shape) -> tuple[tuple, tuple]:
    """The weights and output shape a (symbolic) layer declares for ``shape``."""
    return tuple(layer.weights(shape)), tuple(layer.output_shape(shape))


@functools.lru_cache(maxsize=1024)
def _products(layer, shape) -> tuple | None:
    """The products a (symbolic) layer declares for ``shape``; None when it cannot say."""
    try:
        return tuple(layer.products(shape))
    except (SymcountError, TypeError, ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True)
class _Rebuilt:
    """A record's layer re-instantiated with symbols (notation symbols, or placeholders)
    in place of sizes: ``bindings`` gives each symbol's value in this model."""

    layer: object
    shape: tuple
    weights: tuple
    output: tuple
    bindings: dict

    @property
    def products(self) -> tuple | None:
        return _products(self.layer, self.shape)


def _in_notation(record, mapping) -> _Rebuilt | None:
    """The record's layer in its notation, or None."""
    layer = record.layer
    notation = getattr(type(layer), "notation", None)
    if notation is None or getattr(layer, "n_inputs", 1) != 1 or not record.input_shape:
        return None
    if any(isinstance(s, tuple) for s in record.input_shape):
        return None
    changes, bindings = _symbolic_args(layer, notation, mapping)
    shape = list(record.input_shape)
    for axis, name in _input_names(layer, notation, len(shape)).items():
        if shape[axis] is not None:
            symbol = _symbol(name)
            bindings[symbol] = shape[axis]
            shape[axis] = symbol
    try:
        symbolic = layer.replace(**changes)
        weights, output = _declaration(symbolic, tuple(shape))
    except (SymcountError, TypeError, ValueError, ZeroDivisionError):
        return None  # the rule cannot be written symbolically: values and result only
    return _Rebuilt(symbolic, tuple(shape), weights, output, bindings)


def _placeheld(shape, bindings, path=()):
    """A shape (or a tuple of shapes) with every size replaced by a placeholder symbol."""
    out = []
    for i, size in enumerate(shape):
        if isinstance(size, tuple):
            out.append(_placeheld(size, bindings, (*path, i)))
        elif size is None:
            out.append(None)
        else:
            symbol = _symbol("_x" + "_".join(str(j) for j in (*path, i)))
            bindings[symbol] = size
            out.append(symbol)
    return tuple(out)


def _placeholders(record, mapping, with_arguments: bool) -> _Rebuilt | None:
    """The record's layer rebuilt on placeholder sizes (and, ``with_arguments``, its
    positive integer arguments as placeholders): the arithmetic of a layer without a
    notation, for the values stage. None when the layer cannot be rebuilt so."""
    layer, changes, bindings = record.layer, {}, {}
    if with_arguments:
        scalars = {arg: f"_a_{arg}" for arg, value in layer.config.items()
                   if arg != "name" and not isinstance(value, (bool, tuple, list))
                   and isinstance(_as_value(value, mapping), sympy.Expr)
                   and _as_value(value, mapping).is_positive is True}
        if not scalars:
            return None
        changes, bindings = _symbolic_args(layer, Notation(scalars, hidden_at_one=tuple(scalars)), mapping)
        if not changes:
            return None
    try:
        shape = _placeheld(record.input_shape, bindings)
        symbolic = layer.replace(**changes) if changes else layer
        try:
            weights = tuple(symbolic.weights(shape))
        except (SymcountError, TypeError, ValueError, ZeroDivisionError):
            weights = ()
    except (SymcountError, TypeError, ValueError, ZeroDivisionError):
        return None
    return _Rebuilt(symbolic, shape, weights, (), bindings)


# ---------------------------------------------------------------------------
# Derivations of a record
# ---------------------------------------------------------------------------


def _terms(weights) -> tuple[Term, ...]:
    """Weights as terms, consecutive equal shapes merged (``gamma, beta`` → ``2C``).
    Axes of a literal 1 are left out of the product (a depth multiplier of 1, a 1×1
    pointwise kernel); a symbol standing for 1 stays (``k_h k_w`` of a 1×1 convolution)."""
    terms: list[Term] = []
    for w in weights:
        factors = tuple(f for f in w.shape if f != 1) or (sympy.Integer(1),)
        last = terms[-1] if terms else None
        if last is not None and last.factors == factors and last.trainable == w.trainable:
            terms[-1] = Term(last.names + (w.name,), last.factors, last.trainable)
        else:
            terms.append(Term((w.name,), factors, w.trainable))
    return tuple(terms)


def _distinct(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Drop a stage that prints the same as the next one (``32 = 32``)."""
    out = [s for s, nxt in zip(steps, steps[1:]) if s.latex != nxt.latex and s.text != nxt.text]
    return tuple(out) + (steps[-1],)


def _params(record, declared, bindings) -> Derivation | None:
    counted = [w for w in record.weights if w.counts]
    if not counted or not record.counted:
        return None
    result = Step("result", record.params)
    names = [w.name for w in counted]
    rule_weights = None
    if declared is not None:
        by_name = {w.name: w for w in declared}
        if all(n in by_name for n in names):
            rule_weights = [by_name[n] for n in names]
    if rule_weights is None:
        steps = [Step("values", _terms(counted)), result]
        return Derivation("params", P, _distinct(steps))
    terms = _terms(rule_weights)
    frozen = tuple(bindings.items())
    steps = [Step("rule", terms), Step("values", terms, frozen), result]
    return Derivation("params", P, _distinct(steps), frozen)


def _derived_axes(record, notation: Notation, output, bindings):
    """``(axis, name, rule, result)`` for each output size the layer computes by
    arithmetic in its notation (not a size passed through or given)."""
    rank = len(record.output_shape)
    if output is None or len(output) != rank:
        return
    names = tuple(notation.outputs)[-(rank - 1):] if rank > 1 else ()
    notation_symbols = set(bindings)
    for offset, name in enumerate(names):
        axis = rank - len(names) + offset
        rule, result = output[axis], record.output_shape[axis]
        if rule is None or result is None or not isinstance(rule, sympy.Expr):
            continue
        if rule.is_Symbol or rule.is_number or not (rule.free_symbols & notation_symbols):
            continue  # no arithmetic: the size is passed through or given
        yield axis, name, rule, result


def _outputs(record, notation: Notation, output, bindings) -> list[Derivation]:
    out = []
    frozen = tuple(bindings.items())
    for axis, name, rule, result in _derived_axes(record, notation, output, bindings):
        steps = [Step("rule", rule), Step("values", rule, frozen), Step("result", result)]
        out.append(Derivation(f"output[{axis}]", _symbol(name), _distinct(steps), frozen))
    return out


# -- multiply-accumulates ----------------------------------------------------------


def _agrees(expr, bindings, actual) -> bool:
    """Whether ``expr`` with ``bindings`` put in is the record's own MACs."""
    try:
        value = expr.xreplace(bindings)
        return value == actual or sympy.expand(value - actual) == 0
    except (TypeError, ValueError):  # pragma: no cover - exotic expressions
        return False


def _symbols_in_order(expr) -> list:
    return [node for node in sympy.preorder_traversal(expr) if isinstance(node, sympy.Symbol)]


def _factor_order(weights) -> dict:
    """Symbol → rank by first appearance in the weights' shapes (``k_h, k_w, C_in, g,
    C_out`` for a Keras kernel): a MAC rule lists its factors as its weight does."""
    order: dict = {}
    for w in weights:
        for size in w.shape:
            if not isinstance(size, sympy.Expr):
                continue
            numer, denom = sympy.fraction(size)
            for symbol in _symbols_in_order(numer) + _symbols_in_order(denom):
                order.setdefault(symbol, len(order))
    return order


def _weight_fractions(weights) -> list:
    """The weights' sizes that are fractions (``C_in/g``), kept whole in a MAC rule."""
    out = []
    for w in weights:
        for size in w.shape:
            if isinstance(size, sympy.Expr) and sympy.fraction(size)[1] != 1 and size not in out:
                out.append(size)
    return out


def _take(pool: list, items) -> bool:
    """Remove ``items`` (a multiset) from ``pool`` if all are there."""
    rest = list(pool)
    for item in items:
        if item not in rest:
            return False
        rest.remove(item)
    pool[:] = rest
    return True


def _mac_term(term, order, fractions) -> tuple | None:
    """One product term's factors in reading order: the number, the sizes the product
    runs over (output positions, time steps), then the weight's factors in the weight's
    order, sums last. None when the term does not read as a product (a negative term,
    a denominator of its own)."""
    coeff, rest = term.as_coeff_Mul()
    if not coeff.is_Integer or coeff <= 0:
        return None
    numer, denom = sympy.fraction(rest)
    top = []
    for factor in sympy.Mul.make_args(numer):
        if isinstance(factor, sympy.Add):  # 40·n + 40·n_in, as SymPy distributes it: 40·(n + n_in)
            content, factor = factor.as_content_primitive()
            coeff *= content
        if factor != 1:
            top.append(factor)
    if not coeff.is_Integer:
        return None
    bottom = [f for f in sympy.Mul.make_args(denom) if f != 1]
    for fraction in fractions:
        n, d = sympy.fraction(fraction)
        kept_top, kept_bottom = list(top), list(bottom)
        if _take(kept_top, sympy.Mul.make_args(n)) and _take(kept_bottom, sympy.Mul.make_args(d)):
            top, bottom = kept_top + [fraction], kept_bottom
    if bottom:
        return None

    def key(item):
        index, factor = item
        ranks = [order[s] for s in factor.free_symbols if s in order]
        if not ranks:
            return (0, index)  # positions: what the product runs over
        if isinstance(factor, sympy.Add):
            return (2, min(ranks))
        first = next(s for s in _symbols_in_order(factor) if s in order)
        return (1, order[first])

    factors = [f for _, f in sorted(enumerate(top), key=key)]
    return ((coeff,) if coeff != 1 else ()) + tuple(factors) or (sympy.Integer(1),)


def _mac_form(expr, weights, label) -> Expr | tuple[Term, ...]:
    """A MAC rule as terms whose factors read in order (see :func:`_mac_term`), or the
    expression itself when a term does not read as a product."""
    order, fractions = _factor_order(weights), _weight_fractions(weights)
    terms = []
    for term in sympy.Add.make_args(expr):
        factors = _mac_term(term, order, fractions)
        if factors is None:
            return expr
        terms.append(Term((label or "macs",), factors))
    terms.sort(key=lambda t: -len(sympy.Mul(*t.factors).free_symbols))
    return tuple(terms)


def _with_output_symbols(rule, rebuilt: _Rebuilt, notation: Notation, record) -> tuple[Expr, dict]:
    """The rule with each output size the layer derives written as its symbol
    (``H_out``), and the bindings extended with those sizes' values."""
    bindings = dict(rebuilt.bindings)
    sizes = {}
    for _, name, size_rule, result in _derived_axes(record, notation, rebuilt.output, rebuilt.bindings):
        symbol = _symbol(name)
        sizes[size_rule] = symbol
        bindings[symbol] = result
    return (rule.xreplace(sizes) if sizes else rule), bindings


def _same_products(declared, actual) -> bool:
    return declared is not None and len(declared) == len(actual) and all(
        d.label == a.label and d.operand == a.operand for d, a in zip(declared, actual))


def _macs(record, rebuilt: _Rebuilt | None, mapping) -> list[Derivation]:
    """One derivation per product of the record (its label when there are several):
    the rule in the layer's notation where it has one, the values, the result."""
    products = [p for p in record.products if p.macs != 0]
    if not products:
        return []
    declared = None
    if rebuilt is not None:
        declared = [p for p in (rebuilt.products or ()) if p.macs != 0]
        declared = declared if _same_products(declared, products) else None
    placeholders: list = []

    def placeheld():
        if not placeholders:
            placeholders.extend(r for r in (_placeholders(record, mapping, True),
                                            _placeholders(record, mapping, False)) if r is not None)
        return placeholders

    out = []
    for i, product in enumerate(products):
        label = product.label or (str(i + 1) if len(products) > 1 else "")
        result = Step("result", product.macs)
        steps, frozen = [result], ()
        if declared is not None:
            notation = type(record.layer).notation
            rule, bindings = _with_output_symbols(declared[i].macs, rebuilt, notation, record)
            if _agrees(rule, bindings, product.macs):
                form = _mac_form(rule, rebuilt.weights, label)
                frozen = tuple(bindings.items())
                steps = [Step("rule", form), Step("values", form, frozen), result]
        if len(steps) == 1:
            for candidate in placeheld():
                found = [p for p in (candidate.products or ()) if p.macs != 0]
                if not _same_products(found, products) or not _agrees(found[i].macs, candidate.bindings,
                                                                       product.macs):
                    continue
                form = _mac_form(found[i].macs, candidate.weights, label)
                steps = [Step("values", form, tuple(candidate.bindings.items())), result]
                break
        out.append(Derivation("macs", MACS, _distinct(steps), frozen, label))
    return out


def derive(record) -> tuple[Derivation, ...]:
    """The derivations of one layer record: its parameters (when it owns weights and
    counts them: a shared layer's first use), each output size computed by arithmetic,
    then the multiply-accumulates of each of its products (every call). Empty for a
    layer that neither owns weights, nor changes sizes, nor multiplies (Dropout, Activation)."""
    mapping = dict(record.substituted) if getattr(record, "substituted", None) else {}
    rebuilt = _in_notation(record, mapping)
    weights, output, bindings = (rebuilt.weights, rebuilt.output, rebuilt.bindings) if rebuilt else (None, None, {})
    derivations = []
    params = _params(record, weights, bindings)
    if params is not None:
        derivations.append(params)
    if rebuilt is not None:
        derivations += _outputs(record, type(record.layer).notation, output, bindings)
    derivations += _macs(record, rebuilt, mapping)
    return tuple(derivations)
