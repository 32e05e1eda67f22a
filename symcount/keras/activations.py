"""Keras 3 activation names (``keras.activations.ALL_OBJECTS_DICT``, with its aliases),
and activation layers with arguments of their own (``ReLU(max_value=6.0)``).

Activations have no weights; the name is validated so that a typo in a model or an
architecture file is an error, as it is in Keras.
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from ..layer import Layer

KERAS_ACTIVATIONS = frozenset(
    """relu leaky_relu relu6 softmax celu elu selu softplus softsign squareplus soft_shrink
    sparse_plus silu gelu glu tanh tanh_shrink threshold sigmoid sparse_sigmoid exponential
    hard_sigmoid hard_silu hard_tanh hard_shrink linear mish log_softmax log_sigmoid sparsemax
    swish hard_swish""".split()
)


def check_activation(activation, owner: str):
    """``None`` or a Keras activation name; anything else is an :class:`ArgumentError`."""
    if activation is None or activation in KERAS_ACTIVATIONS:
        return activation
    raise ArgumentError(
        f"{owner}: unknown activation. Expected one of Keras's activation names "
        f"(relu, sigmoid, softmax, tanh, gelu, …) or None. Received: activation={activation!r}"
    )


def _check_nonnegative(value, owner: str, what: str, allow_none: bool):
    """A real number >= 0 (``None`` too when ``allow_none``), as Keras's ReLU checks."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, sympy.Rational)) or value < 0:
        none = "" if allow_none else "None or "
        raise ArgumentError(f"{owner}: {what} of a ReLU layer cannot be {none}a negative value. "
                            f"Received: {what}={value!r}")
    return value


class ReLU(Layer):
    """Keras ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``: elementwise
    ``min(max(x, threshold), max_value)``, ``negative_slope · (x - threshold)`` below the
    threshold. MobileNet's ``ReLU(6.0)``. No weights, same shape.

    Keras requires ``max_value`` ``None`` or ``>= 0``, ``negative_slope`` and ``threshold`` ``>= 0``.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, name=None):
        super().__init__(name)
        self.max_value = _check_nonnegative(max_value, "ReLU", "max_value", allow_none=True)
        self.negative_slope = _check_nonnegative(negative_slope, "ReLU", "negative_slope", allow_none=False)
        self.threshold = _check_nonnegative(threshold, "ReLU", "threshold", allow_none=False)
