"""Keras preprocessing layers that sit inside models: ``Rescaling``, ``Normalization``.

Keras's EfficientNet starts with both (``keras/src/applications/efficientnet.py``):
``Rescaling(1 / 255)`` has no weights; ``Normalization(axis=3)`` keeps a mean, a
variance and a count as non-trainable weights, so they are counted in
``count_params()`` (``2 C + 1`` for ``C`` channels).
"""

from __future__ import annotations

import numbers

import sympy

from ..derivation import Notation
from ..dims import product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Weight
from ..saved import Saved


def _check_scale(value, owner: str, what: str):
    """A number, or a list of numbers (broadcast against the input as Keras does)."""
    values = value if isinstance(value, (list, tuple)) else (value,)
    if not values or any(isinstance(v, bool) or not isinstance(v, (numbers.Number, sympy.Number)) for v in values):
        raise ArgumentError(f"{owner}: `{what}` must be a number or a list of numbers. Received: {what}={value!r}")
    return value


class Rescaling(Layer):
    """Keras ``Rescaling(scale, offset=0.0)``: ``inputs * scale + offset``, elementwise.

    No weights (``scale`` and ``offset`` are constants, not variables); the output
    shape is the input shape.
    """

    def __init__(self, scale, offset=0.0, name=None):
        super().__init__(name)
        self.scale = _check_scale(scale, "Rescaling", "scale")
        self.offset = _check_scale(offset, "Rescaling", "offset")

    def saved(self, shape):
        """Training: the scale as a tensor (``inputs * scale`` keeps it for the input's
        gradient), once per batch; nothing per example."""
        size = len(self.scale) if isinstance(self.scale, (list, tuple)) else 1
        return (Saved("scale", size, per_batch=True),)


class Normalization(Layer):
    """Keras ``Normalization(axis=-1, mean=None, variance=None, invert=False)``:
    ``(inputs - mean) / sqrt(variance)`` with a separate mean and variance for each
    index of the kept ``axis`` (an int, a tuple of ints, or ``None`` for one scalar).

    Weights, when ``mean`` and ``variance`` are not given (Keras ``build``): ``mean``
    and ``variance``, each shaped by the kept axes in increasing order
    (``(input_shape[axis],)`` for one axis, ``()`` for ``axis=None``), and ``count``,
    a scalar; all three non-trainable, all counted by ``count_params()``:
    ``2 · prod(kept sizes) + 1``. With ``mean`` and ``variance`` given the layer has
    no weights. Kept axes must be within ``[-rank, rank)`` and not the batch axis
    (Keras: "All `axis` values to be kept must have a known shape"). Output: the
    input shape.
    """

    notation = Notation(inputs={"axis": "C"})

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, name=None):
        super().__init__(name)
        axes = () if axis is None else tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise ArgumentError(f"Normalization: `axis` must be an integer, a tuple of integers or None. "
                                f"Received: axis={axis!r}")
        if (mean is None) != (variance is None):
            raise ArgumentError("Normalization: When setting values directly, both `mean` and `variance` must be "
                                f"set. Received: mean={mean!r} and variance={variance!r}")
        self.axis, self.axes = axis, axes
        self.mean, self.variance, self.invert = mean, variance, bool(invert)

    def _kept(self, shape) -> tuple[int, ...]:
        rank = len(shape)
        if any(not -rank <= a < rank for a in self.axes):
            raise ShapeError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={rank}, while axis={self.axis!r}")
        kept = tuple(sorted({a % rank for a in self.axes}))
        unknown = [d for d in kept if shape[d] is None]
        if unknown:
            raise ShapeError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis!r}, "
                             f"inputs.shape={size_text(shape)}, with unknown axis at index {unknown[0]}")
        return kept

    def requirements(self, shape):
        self._kept(shape)
        return ()

    def weights(self, shape):
        if self.mean is not None:
            return
        sizes = tuple(shape[d] for d in self._kept(shape))
        yield Weight("mean", sizes, trainable=False)
        yield Weight("variance", sizes, trainable=False)
        yield Weight("count", (), trainable=False)

    def saved(self, shape):
        """Training: ``sqrt(variance)`` broadcast over the kept axes (the division keeps it
        for the input's gradient), once per batch; nothing per example. Not declared with
        ``invert`` (not measured)."""
        if self.invert:
            return None
        size = product([shape[d] for d in self._kept(shape)])
        return (Saved("standard deviation", size, per_batch=True),)
