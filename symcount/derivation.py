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

    >>> record = count.layers[0]                     # conv2d (Conv2D) of the seed CNN
    >>> [d.text for d in record.derivation]
    ['P = k_h·k_w·C_in·C_out + C_out = 3·3·3·32 + 32 = 896']
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
        from .report import printing

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

    ``quantity`` is ``"params"`` or ``"output[i]"`` (axis ``i`` of the output shape).
    ``bindings`` maps the notation symbols to this model's values.
    """

    quantity: str
    lhs: sympy.Symbol
    steps: tuple[Step, ...]
    bindings: tuple[tuple[sympy.Symbol, Expr], ...] = ()

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

    @property
    def latex(self) -> str:
        from .report.printing import latex_name

        return " = ".join([latex_name(self.lhs.name), *(s.latex for s in self.steps)])

    @property
    def text(self) -> str:
        return " = ".join([self.lhs.name, *(s.text for s in self.steps)])

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# The layer in its own notation
# ---------------------------------------------------------------------------


def _symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, integer=True, positive=True)


P = _symbol("P")


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


def _in_notation(record, mapping):
    """(weights, output shape, bindings) of the record's layer in its notation, or None."""
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
    return weights, output, bindings


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


def _outputs(record, notation: Notation, output, bindings) -> list[Derivation]:
    out, rank = [], len(record.output_shape)
    if len(output) != rank:
        return out
    names = tuple(notation.outputs)[-(rank - 1):] if rank > 1 else ()
    notation_symbols = set(bindings)
    frozen = tuple(bindings.items())
    for offset, name in enumerate(names):
        axis = rank - len(names) + offset
        rule, result = output[axis], record.output_shape[axis]
        if rule is None or result is None or not isinstance(rule, sympy.Expr):
            continue
        if rule.is_Symbol or rule.is_number or not (rule.free_symbols & notation_symbols):
            continue  # no arithmetic: the size is passed through or given
        steps = [Step("rule", rule), Step("values", rule, frozen), Step("result", result)]
        out.append(Derivation(f"output[{axis}]", _symbol(name), _distinct(steps), frozen))
    return out


def derive(record) -> tuple[Derivation, ...]:
    """The derivations of one layer record: its parameters (when it owns weights),
    then each output size computed by arithmetic. Empty for a layer that neither owns
    weights nor changes sizes (Dropout, Activation)."""
    mapping = dict(record.substituted) if getattr(record, "substituted", None) else {}
    declared = _in_notation(record, mapping)
    weights, output, bindings = declared if declared is not None else (None, None, {})
    derivations = []
    params = _params(record, weights, bindings)
    if params is not None:
        derivations.append(params)
    if declared is not None:
        derivations += _outputs(record, type(record.layer).notation, output, bindings)
    return tuple(derivations)
