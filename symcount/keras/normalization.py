"""Keras normalization layers: ``BatchNormalization``, ``LayerNormalization``,
``GroupNormalization``, ``UnitNormalization``."""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import as_expr, divisible, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Requirement, Weight
from ..saved import Saved, elements, saved_input
from .arguments import check_int


class BatchNormalization(Layer):
    """Keras ``BatchNormalization(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True)``.

    Weights, each of shape ``(C,)`` with ``C = input_shape[axis]``: ``gamma`` (when
    ``scale``) and ``beta`` (when ``center``) trainable; ``moving_mean`` and
    ``moving_variance`` non-trainable — Keras counts these in ``count_params()``
    (torch keeps its running statistics as buffers instead).
    """

    notation = Notation(inputs={"axis": "C"})

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, name=None):
        super().__init__(name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ArgumentError(f"BatchNormalization: axis must be an integer. Received: axis={axis!r}")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = bool(center), bool(scale)

    def requirements(self, shape):
        if not -len(shape) <= self.axis < len(shape) or self.axis % len(shape) == 0:
            raise ShapeError(
                f"axis {self.axis} is out of range for the input, or is the batch axis. "
                f"Received: input rank={len(shape)}"
            )
        return ()

    def weights(self, shape):
        channels = (shape[self.axis],)
        if self.scale:
            yield Weight("gamma", channels)
        if self.center:
            yield Weight("beta", channels)
        yield Weight("moving_mean", channels, trainable=False)
        yield Weight("moving_variance", channels, trainable=False)

    def saved(self, shape):
        """Training on Keras's torch backend (``ops.moments`` then arithmetic, not torch's
        fused kernel): the input and one tensor of its size (the centred input), and
        per-channel statistics once per batch (``3·C``; ``4·C`` without ``scale``)."""
        stats = (3 if self.scale else 4) * shape[self.axis]
        return (saved_input(shape), Saved("centred input", elements(shape)),
                Saved("statistics", stats, per_batch=True))


def _axes(axis, owner: str) -> int | tuple[int, ...]:
    """Keras's ``axis``: an int or a list/tuple of ints."""
    if isinstance(axis, (list, tuple)):
        for a in axis:
            check_int(a, owner, "axis")
        return tuple(axis)
    return check_int(axis, owner, "axis")


def _check_axes(axes, shape, owner: str, batch_ok: bool = False) -> None:
    """Every axis within ``[-rank, rank)``; the batch axis has no size, so a layer
    whose weights are shaped by the axis cannot take it (Keras: "Shapes used to
    initialize variables must be fully-defined")."""
    rank = len(shape)
    for a in axes if isinstance(axes, tuple) else (axes,):
        if not -rank <= a < rank:
            raise ShapeError(f"{owner}: axis {a} is out of bounds for an input of rank {rank}. "
                             f"Received: input shape={size_text(shape)}")
        if not batch_ok and a % rank == 0:
            raise ShapeError(f"{owner}: axis {a} is the batch axis, which has no size to shape weights. "
                             f"Received: input shape={size_text(shape)}")


def _rows(shape, axis):
    """``(count, per_batch)`` of a normalization's statistics: one per row, the elements
    per example over the normalized axes' sizes; normalized over the batch axis too, the
    rows are the other axes', once per batch."""
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    if 0 in axes:
        return product([s for i, s in enumerate(shape) if i not in axes]), True
    return elements(shape) / product([shape[a] for a in axes]), False


class LayerNormalization(Layer):
    """Keras ``LayerNormalization(axis=-1, epsilon=0.001, center=True, scale=True,
    rms_scaling=False)``: normalizes over ``axis`` (an int or a list of ints).

    Weights, shaped by the normalized axes (``(input_shape[axis],)``, or
    ``tuple(input_shape[a] for a in sorted(axis))`` for a list, as Keras builds them):
    ``gamma`` when ``scale`` or ``rms_scaling``; ``beta`` when ``center`` and not
    ``rms_scaling``. Output: the input shape.
    """

    notation = Notation(inputs={"axis": "C"})

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True, rms_scaling=False, name=None):
        super().__init__(name)
        self.axis = _axes(axis, "LayerNormalization")
        self.epsilon = epsilon
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)

    def requirements(self, shape):
        # the batch axis is refused only when it would shape a weight, as in Keras
        _check_axes(self.axis, shape, "LayerNormalization", batch_ok=not (self.scale or self.center or self.rms_scaling))
        return ()

    def weights(self, shape):
        if isinstance(self.axis, tuple):
            sizes = tuple(shape[a] for a in sorted(self.axis))
        else:
            sizes = (shape[self.axis],)
        if self.scale or self.rms_scaling:
            yield Weight("gamma", sizes)
        if self.center and not self.rms_scaling:
            yield Weight("beta", sizes)


    def saved(self, shape):
        """Training: the input and two fp32 statistics per row (the elements over the
        normalized axes); with ``rms_scaling`` one statistic and the normalized input."""
        n, once = _rows(shape, self.axis)
        if self.rms_scaling:
            return (saved_input(shape), Saved("rms", n, "float32", per_batch=once),
                    Saved("normalized", elements(shape)))
        return (saved_input(shape), Saved("mean", n, "float32", per_batch=once),
                Saved("inverse std", n, "float32", per_batch=once))

class GroupNormalization(Layer):
    """Keras ``GroupNormalization(groups=32, axis=-1, epsilon=0.001, center=True,
    scale=True)``: the ``C = input_shape[axis]`` channels split into ``groups`` groups
    (``groups=-1``: one per channel, i.e. instance normalization).

    Weights: ``gamma (C,)`` when ``scale``, ``beta (C,)`` when ``center``. Keras requires
    ``C`` divisible by ``groups`` (so ``groups <= C``). Output: the input shape.
    """

    notation = Notation(inputs={"axis": "C"})

    def __init__(self, groups=32, axis=-1, epsilon=0.001, center=True, scale=True, name=None):
        super().__init__(name)
        if isinstance(groups, (int, sympy.Integer)) and not isinstance(groups, bool) and groups == -1:
            self.groups = None  # one group per channel
        else:
            try:
                self.groups = as_expr(groups, "GroupNormalization groups")
            except ArgumentError:
                raise ArgumentError(
                    "GroupNormalization: Received an invalid value for argument `groups`, expected a positive "
                    f"integer (or `-1` for instance normalization). Received: groups={groups!r}"
                ) from None
        self.axis = check_int(axis, "GroupNormalization", "axis")
        self.epsilon = epsilon
        self.center, self.scale = bool(center), bool(scale)

    def requirements(self, shape):
        _check_axes(self.axis, shape, "GroupNormalization")
        if self.groups is not None:
            yield Requirement(divisible(shape[self.axis], self.groups),
                              f"GroupNormalization: the number of channels (axis {self.axis}) must be a multiple "
                              f"of the number of groups ({self.groups})")

    def weights(self, shape):
        channels = (shape[self.axis],)
        if self.scale:
            yield Weight("gamma", channels)
        if self.center:
            yield Weight("beta", channels)


    def saved(self, shape):
        """Training on Keras's torch backend, per example: the input, three statistics per
        group (``groups``; one per channel with ``groups=-1``) and, with ``scale``, ``gamma``
        times the inverse deviation (``C``)."""
        groups = shape[self.axis] if self.groups is None else self.groups
        extra = (Saved("scale", shape[self.axis]),) if self.scale else ()
        return (saved_input(shape), Saved("group statistics", 3 * groups), *extra)

class UnitNormalization(Layer):
    """Keras ``UnitNormalization(axis=-1)``: divides by the L2 norm over ``axis`` (an int
    or a list of ints, each within the input's rank). No weights; output: the input shape."""

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = _axes(axis, "UnitNormalization")

    def requirements(self, shape):
        _check_axes(self.axis, shape, "UnitNormalization", batch_ok=True)
        return ()

    def saved(self, shape):
        """Training: the input, two statistics per row (the squared norm and its inverse
        square root) and a 0-d constant once per batch."""
        n, once = _rows(shape, self.axis)
        return (saved_input(shape), Saved("norm statistics", 2 * n, per_batch=once),
                Saved("epsilon", 1, per_batch=True))
