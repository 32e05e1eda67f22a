"""Keras 3 activation names (``keras.activations.ALL_OBJECTS_DICT``, with its aliases),
and activation layers with arguments of their own (``ReLU(max_value=6.0)``).

Activations have no weights; the name is validated so that a typo in a model or an
architecture file is an error, as it is in Keras.
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from ..layer import Layer
from ..saved import Saved, elements, saved_input, saved_output

KERAS_ACTIVATIONS = frozenset(
    """relu leaky_relu relu6 softmax celu elu selu softplus softsign squareplus soft_shrink
    sparse_plus silu gelu glu tanh tanh_shrink threshold sigmoid sparse_sigmoid exponential
    hard_sigmoid hard_silu hard_tanh hard_shrink linear mish log_softmax log_sigmoid sparsemax
    swish hard_swish""".split()
)


#: what each activation keeps for its backward on Keras's torch backend (measured with
#: ``saved_tensors_hooks``): its output, its input, its input and a tensor of the same size
#: made inside, or only such a tensor
_KEEPS_OUTPUT = frozenset("relu sigmoid softmax tanh exponential log_softmax".split())
_KEEPS_INPUT = frozenset("""gelu silu swish elu selu softplus relu6 leaky_relu hard_sigmoid hard_silu
    hard_swish celu glu hard_tanh hard_shrink soft_shrink""".split())
_KEEPS_INPUT_AND_BUFFER = frozenset("softsign mish log_sigmoid squareplus".split())


def activation_saved(activation, in_shape, out_shape, fused: bool):
    """The tensors a Keras activation keeps for its backward, per example, on Keras's torch
    backend (measured with ``saved_tensors_hooks``); None for one without a rule
    (``threshold``, whose arguments a name cannot give).

    ``in_shape`` is the shape the activation receives, ``out_shape`` the layer's output.
    ``fused``: the activation of a layer with weights (``Dense(4, activation="gelu")``),
    whose input (the pre-activation) is a tensor of that layer only.

    - ``relu``, ``sigmoid``, ``softmax``, ``tanh``, ``exponential``, ``log_softmax``: the output;
    - ``gelu``, ``silu``/``swish``, ``elu``, ``selu``, ``celu``, ``softplus``, ``relu6``,
      ``leaky_relu``, ``hard_sigmoid``, ``hard_silu``/``hard_swish``, ``glu``, ``hard_tanh``,
      ``hard_shrink``, ``soft_shrink``: the input;
    - ``softsign``, ``mish``, ``log_sigmoid``, ``squareplus``: the input and a tensor of its size;
    - ``tanh_shrink``: ``tanh(x)``; ``sparse_plus``: a tensor of the input's size and two
      1-byte masks; ``sparse_sigmoid``: two 1-byte masks; ``sparsemax``: the int64 sort
      indices, a 1-byte support mask, the int64 support size per row and a tensor of the
      input's size, and a row of ranks ``1 … n`` once per batch;
    - ``linear`` (or no activation): nothing.
    """
    n = elements(in_shape)

    def the_input():
        return Saved("pre-activation", n) if fused else saved_input(in_shape)

    if activation in (None, "linear"):
        return []
    if activation in _KEEPS_OUTPUT:
        return [saved_output(out_shape)]
    if activation in _KEEPS_INPUT:
        return [the_input()]
    if activation in _KEEPS_INPUT_AND_BUFFER:
        return [the_input(), Saved(f"{activation} buffer", n)]
    if activation == "tanh_shrink":
        return [Saved("tanh", n)]
    if activation == "sparse_plus":
        return [Saved("sparse_plus buffer", n), Saved("masks", 2 * n, "bool")]
    if activation == "sparse_sigmoid":
        return [Saved("masks", 2 * n, "bool")]
    if activation == "sparsemax":
        rows = n / in_shape[-1]
        return [Saved("sort indices", n, "int64"), Saved("support", n, "bool"), Saved("support size", rows, "int64"),
                Saved("sparsemax buffer", n), Saved("ranks", in_shape[-1], per_batch=True)]
    return None


def check_activation(activation, owner: str):
    """``None`` or a Keras activation name; anything else is an :class:`ArgumentError`."""
    if activation is None or isinstance(activation, str) and activation in KERAS_ACTIVATIONS:
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

    def saved(self, shape):
        """Training on Keras's torch backend: the output (plain ReLU), the input (with
        ``max_value`` or ``negative_slope``), or a 1-byte mask with a ``threshold``."""
        if self.threshold:
            return (Saved("mask", elements(shape), "bool"),)
        if self.max_value is not None or self.negative_slope:
            return (saved_input(shape),)
        return (saved_output(shape),)
