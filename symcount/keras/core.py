"""Keras core layers: ``InputLayer``/``Input``, ``Dense``, ``Activation``, ``Dropout``."""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import as_expr, size_text
from ..errors import ArgumentError
from ..layer import InputLayer, Layer, Weight, positions
from ..saved import Saved, elements, saved_input
from .activations import activation_saved, check_activation


def Input(shape=None, batch_size=None, name=None) -> InputLayer:
    """Keras ``Input(shape)``: ``Sequential([Input((H, W, 3)), …])``."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name)


class Dense(Layer):
    """Keras ``Dense``: ``activation(inputs @ kernel + bias)`` on the last axis.

    Weights: ``kernel (n_in, units)``, ``bias (units,)`` when ``use_bias``.
    Output: the input shape with its last axis replaced by ``units``.
    MACs: ``n_in · units`` per position (every axis but batch and last).
    """

    notation = Notation({"units": "n_out"}, inputs=("n_in",))

    def __init__(self, units, activation=None, use_bias=True, name=None):
        super().__init__(name)
        self.units = as_expr(units, "Dense units")
        self.activation = check_activation(activation, "Dense")
        self.use_bias = bool(use_bias)

    def requirements(self, shape):
        self.expect_min_rank(shape, 2)
        return ()

    def weights(self, shape):
        yield Weight("kernel", (shape[-1], self.units))
        if self.use_bias:
            yield Weight("bias", (self.units,))

    def output_shape(self, shape):
        return (*shape[:-1], self.units)

    def macs(self, shape):
        return positions(shape) * shape[-1] * self.units

    def saved(self, shape):
        """Training: the input (``matmul`` keeps it for the kernel's gradient), then what the
        activation keeps (:func:`~symcount.keras.activations.activation_saved`)."""
        out = self.output_shape(shape)
        fused = activation_saved(self.activation, out, out, fused=True)
        return None if fused is None else (saved_input(shape), *fused)


class Activation(Layer):
    """Keras ``Activation(activation)``: elementwise, no weights, same shape."""

    def __init__(self, activation, name=None):
        super().__init__(name)
        self.activation = check_activation(activation, "Activation")
        self.view = activation == "linear"  # Keras returns the input itself

    def saved(self, shape):
        """What the activation keeps (:func:`~symcount.keras.activations.activation_saved`)."""
        return activation_saved(self.activation, shape, shape, fused=False)


class Dropout(Layer):
    """Keras ``Dropout(rate)``: no weights, same shape; ``0 <= rate <= 1`` as Keras checks."""

    def __init__(self, rate, noise_shape=None, seed=None, name=None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, sympy.Rational)) or not 0 <= rate <= 1:
            raise ArgumentError(
                f"Dropout: invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                f"Received: rate={rate!r}"
            )
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.view = rate == 0  # Keras returns the input itself

    def saved(self, shape):
        """Training on Keras's torch backend: ``torch.nn.functional.dropout``'s mask (kind
        ``mask``: 1 byte on CUDA, the activation's dtype on the CPU); with ``noise_shape`` a
        1-byte mask of that shape (its ``None`` entries are the input's sizes), by
        ``where``. Nothing when ``rate`` is 0 (Keras returns the input) or 1 (measured: nothing
        is kept)."""
        if self.rate == 0 or self.rate == 1:
            return ()
        if self.noise_shape is None:
            return (Saved("mask", elements(shape), "mask"),)
        sizes = [s if n is None else n for s, n in zip(shape[1:], self.noise_shape[1:])]
        return (Saved("mask", elements((None, *sizes)), "bool"),)


def describe(shape) -> str:
    return size_text(shape)


class Embedding(Layer):
    """Keras ``Embedding(input_dim, output_dim, mask_zero=False)``: integer indices in
    ``[0, input_dim)`` looked up in a table of ``output_dim``-vectors.

    Weights: ``embeddings (input_dim, output_dim)``. Output: the input shape with an
    axis of ``output_dim`` added, ``(*input_shape, output_dim)``. No MACs (a lookup).
    """

    notation = Notation({"input_dim": "V", "output_dim": "d"})

    def __init__(self, input_dim, output_dim, mask_zero=False, name=None):
        super().__init__(name)
        self.input_dim = as_expr(input_dim, "Embedding input_dim")
        self.output_dim = as_expr(output_dim, "Embedding output_dim")
        self.mask_zero = bool(mask_zero)

    def weights(self, shape):
        yield Weight("embeddings", (self.input_dim, self.output_dim))

    def output_shape(self, shape):
        return (*shape, self.output_dim)

    def saved(self, shape):
        """Training: the indices as int64 (Keras's torch backend converts them; the copy,
        not the input, is kept)."""
        return (Saved("indices", elements(shape), "int64"),)
