"""Keras normalization layers: ``BatchNormalization``."""

from __future__ import annotations

from ..derivation import Notation
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Weight


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
