"""Keras reshaping layers: ``Flatten``."""

from __future__ import annotations

from ..derivation import Notation
from ..dims import product
from ..layer import Layer


class Flatten(Layer):
    """Keras ``Flatten()``: ``(batch, d1, …, dn)`` → ``(batch, d1 · … · dn)``; a rank-1
    input becomes ``(batch, 1)`` (Keras ``Flatten.compute_output_shape``). No weights."""

    notation = Notation(inputs="d", outputs=("n_out",))

    def __init__(self, data_format=None, name=None):
        super().__init__(name)
        self.data_format = data_format

    def output_shape(self, shape):
        return (shape[0], product(shape[1:]))
