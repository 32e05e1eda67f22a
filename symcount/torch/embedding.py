"""torch ``Embedding``: a lookup table."""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import decided
from ..errors import ArgumentError
from ..layer import Layer, Requirement, Weight
from .common import saved_input, size


class Embedding(Layer):
    """torch ``nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
    norm_type=2.0, scale_grad_by_freq=False, sparse=False, _freeze=False)``: looks up
    integer indices of any shape ``(*)``.

    Weights: ``weight (num_embeddings, embedding_dim)`` (a parameter even when frozen,
    ``_freeze=True``, then not trainable). Output ``(*, embedding_dim)``. torch requires
    ``-num_embeddings <= padding_idx < num_embeddings``. MACs: none (a lookup).
    """

    notation = Notation({"num_embeddings": "V", "embedding_dim": "d"})

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _freeze=False, name=None):
        super().__init__(name)
        self.num_embeddings = size(num_embeddings, "Embedding num_embeddings")
        self.embedding_dim = size(embedding_dim, "Embedding embedding_dim")
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
                raise ArgumentError(f"Embedding: padding_idx must be an integer or None. Received: {padding_idx!r}")
            if decided(self._padding_in_range(padding_idx)) is False:
                raise ArgumentError(f"Embedding: Padding_idx must be within num_embeddings. "
                                    f"Received: padding_idx={padding_idx}, num_embeddings={self.num_embeddings}")
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse, self._freeze = bool(scale_grad_by_freq), bool(sparse), bool(_freeze)

    def _padding_in_range(self, idx):
        if idx >= 0:
            return sympy.Lt(idx, self.num_embeddings)
        return sympy.Ge(idx, -self.num_embeddings)

    def requirements(self, shape):
        if self.padding_idx is not None:
            yield Requirement(self._padding_in_range(self.padding_idx),
                              f"Padding_idx ({self.padding_idx}) must be within num_embeddings")

    def weights(self, shape):
        yield Weight("weight", (self.num_embeddings, self.embedding_dim), trainable=not self._freeze)

    def output_shape(self, shape):
        return (*shape, self.embedding_dim)

    def saved(self, shape):
        """Training (``aten::embedding``): the int64 indices, for the weight's gradient;
        nothing when the weight is frozen (autograd records no lookup)."""
        return () if self._freeze else (saved_input(shape, kind="int64"),)
