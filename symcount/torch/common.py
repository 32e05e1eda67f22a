"""What the torch layers share: argument parsing with torch's names, the batch axis,
and weights of sub-modules under their attribute names.

Shapes follow torch's tensors, with ``None`` standing for the batch axis: ``(None, C,
H, W)`` for a convolution; ``(L, None, E)`` for a recurrent or attention layer with
``batch_first=False`` (time-major, torch's default) and ``(None, L, E)`` with
``batch_first=True``. A shape without ``None`` (a numeric ``batch_size``) has its batch
axis first.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import sympy
from sympy import Expr, Integer

from ..derivation import Notation
from ..dims import as_expr, is_dim_value, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Requirement, Weight
from ..saved import Saved, inputs


class TorchLayer(Layer):
    """Base of the torch layers that share a constructor across ranks (``Conv1d/2d/3d``):
    each concrete class records its own arguments under its own name, so an argument
    error says ``Conv3d: …``, not the name of the shared base."""

    def __init_subclass__(cls, **kwargs):
        if "__init__" not in cls.__dict__ and cls.__name__[0] != "_":
            inherited = cls.__init__
            cls.__init__ = getattr(inherited, "__wrapped__", inherited)
        super().__init_subclass__(**kwargs)


_AXES = {1: ("",), 2: ("h", "w"), 3: ("d", "h", "w")}
_SIZES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def window_notation(rank: int, channels=("C_in", "C_out"), **args) -> Notation:
    """How derivations write a channels-first window (torch's docs' letters): kernel
    ``k_h, k_w``, stride ``s_h``, padding ``p_h``, dilation ``d_h``, input ``(C_in, H_in,
    W_in)``, output ``(C_out, H_out, W_out)`` (1D: ``k``, ``L_in``; 3D: ``k_d``, ``D_in``),
    plus the given arguments (``in_channels="C_in"``). Stride, dilation and groups are
    written only where they are not 1."""

    def per_axis(letter):
        return tuple(f"{letter}_{a}" if a else letter for a in _AXES[rank])

    letters = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "output_padding": "a"}
    return Notation(
        {**{arg: per_axis(letter) for arg, letter in letters.items()}, **args},
        inputs=(channels[0], *(f"{n}_in" for n in _SIZES[rank])),
        outputs=(channels[1], *(f"{n}_out" for n in _SIZES[rank])),
        hidden_at_one=("stride", "dilation", "groups"),
    )


def size(value, what: str) -> Expr:
    """A positive size (int, dim or expression), as torch's size arguments."""
    return as_expr(value, what)


def nonneg(value, what: str) -> Expr:
    """A size that may be 0 (``padding``, ``output_padding``)."""
    if isinstance(value, bool) or not is_dim_value(value):
        raise ArgumentError(
            f"{what} must be a non-negative integer or an expression in dims. "
            f"Received: {value!r} ({type(value).__name__})"
        )
    expr = Integer(value) if isinstance(value, int) else value
    if expr.is_number and (not expr.is_integer or expr < 0):
        raise ArgumentError(f"{what} must be a non-negative integer. Received: {value!r}")
    return expr


def sizes(value, n: int, what: str, allow_zero: bool = False) -> tuple[Expr, ...]:
    """torch's ``_single``/``_pair``/``_triple``: one size for every axis, or ``n`` of them."""
    parse = nonneg if allow_zero else size
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(f"{what} must be an integer or a tuple of {n} integers. Received: {value!r}")
        return tuple(parse(v, what) for v in value)
    return (parse(value, what),) * n


def flag(value, what: str) -> bool:
    """A boolean argument (torch's RNNs reject anything but ``bool``)."""
    if not isinstance(value, bool):
        raise ArgumentError(f"{what} should be of type bool, got: {type(value).__name__}")
    return value


def probability(value, what: str) -> float:
    """A dropout probability in ``[0, 1]``, as torch checks it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ArgumentError(f"{what} probability has to be between 0 and 1, but got {value!r}")
    return value


def batch_axis(shape) -> int:
    """The axis holding ``None`` (the batch); 0 for a shape with a numeric batch."""
    return next((i for i, s in enumerate(shape) if s is None), 0)


def expect_batch_first(layer, shape, rank: int, axes: str) -> None:
    """Raise unless ``shape`` has ``rank`` axes (batch included) with the batch axis first."""
    layer.expect_rank(shape, rank, axes)
    if batch_axis(shape) != 0:
        raise ShapeError(
            f"expected the batch axis first {axes}. Received: input shape={size_text(shape)} "
            f"with the batch axis at position {batch_axis(shape)}"
        )


def expect_sequence(layer, shape, batch_first: bool, axes: str = "(L, N, H_in)") -> None:
    """A batched sequence: ``(L, N, …)`` when not ``batch_first``, ``(N, L, …)`` when it is."""
    layer.expect_rank(shape, 3, "(N, L, features)" if batch_first else axes)
    where = batch_axis(shape)
    wanted = 0 if batch_first else 1
    if where != wanted:
        layout = "(N, L, features) with the batch axis first" if batch_first else \
            f"{axes}, time-major with the batch axis second"
        hint = "; pass batch_first=True or give a time-major input such as Input((L, E), batch_first=False)" \
            if not batch_first else "; pass batch_first=False for a time-major input"
        raise ShapeError(
            f"with batch_first={batch_first} the input must be {layout}. Received: input shape="
            f"{size_text(shape)} with the batch axis at position {where}{hint}"
        )


def positions(shape) -> Expr:
    """Positions a last-axis layer (Linear) is applied at, per example: every axis but
    the batch axis and the last."""
    skip = batch_axis(shape)
    return product(s for i, s in enumerate(shape[:-1]) if i != skip)


def equal(a, b, needed: str) -> Requirement:
    """``a == b`` as a three-valued requirement."""
    return Requirement(sympy.Eq(a, b), needed)


def prefixed(prefix: str, weights) -> tuple[Weight, ...]:
    """A sub-module's weights under its attribute name: ``self_attn.in_proj_weight``."""
    return tuple(replace(w, name=f"{prefix}.{w.name}") for w in weights)


def stacked(weights, count: Expr, name_of) -> tuple[Weight, ...]:
    """``count`` copies of the same weights as one stacked weight each (a leading axis of
    length ``count``), named ``name_of(weight_name)``: how a symbolic number of layers is
    declared (``layers.*.linear1.weight`` of shape ``(num_layers, F, E)``)."""
    return tuple(replace(w, name=name_of(w.name), shape=(count, *w.shape)) for w in weights)


# ---------------------------------------------------------------------------
# Saved tensors on torch's shapes, whose batch axis may stand anywhere
# ---------------------------------------------------------------------------


def elements(shape) -> Expr:
    """Elements per example of a torch shape: every axis but the batch axis (``None``,
    first or, time-major, second; a shape without ``None`` has its batch axis first)."""
    axes = [s for s in shape if s is not None] if None in shape else list(shape[1:])
    return product(axes) if axes else Integer(1)


def saved_input(shape, index: int = 0, kind: str = "activation") -> Saved:
    """The layer's input (``index``: which one), per example, on a torch shape."""
    tensor = "input" if index == 0 else f"input{index}"
    return Saved(tensor, elements(inputs(shape)[index]), kind, tensor)


def saved_output(out_shape, kind: str = "activation") -> Saved:
    """The layer's output, per example, on a torch shape."""
    return Saved("output", elements(out_shape), kind, "output")
