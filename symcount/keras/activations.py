"""Keras 3 activation names (``keras.activations.ALL_OBJECTS_DICT``, with its aliases).

Activations have no weights; the name is validated so that a typo in a model or an
architecture file is an error, as it is in Keras.
"""

from __future__ import annotations

from ..errors import ArgumentError

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
