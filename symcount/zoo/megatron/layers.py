"""Megatron-LM's tensor-parallel layers and core attention, as symcount layers.

- :class:`ColumnParallelLinear`, :class:`RowParallelLinear` and
  :class:`VocabParallelEmbedding` (``megatron/core/tensor_parallel/layers.py``): a linear
  layer whose output features, or input features, are split over the ``tp`` devices of a
  tensor-parallel group, and an embedding whose rows (the vocabulary) are. They count as
  ``torch.nn.Linear`` and ``Embedding`` do (Megatron keeps ``weight`` as ``(output_size,
  input_size)``); memory divides their weights by ``tp`` (a row-parallel bias stays whole)
  and keeps the activations between a column- and the next row-parallel layer split.
- :class:`DotProductAttention` (``megatron/core/transformer/dot_product_attention.py``):
  ``baddbmm`` of the queries and keys, the fused scale-mask-softmax
  (``megatron/core/fusions/fused_softmax.py``, ``FusedScaleMaskSoftmax``), dropout of the
  probabilities, ``bmm`` with the values, on the fused query-key-value projection's output.

Shapes are batch first, ``(None, s, features)`` (Megatron's tensors are ``[s, b, h]``; the
counts are the same).
"""

from __future__ import annotations

import sympy

from ...dims import divisible, size_text
from ...errors import ShapeError
from ...layer import Layer, Product, Requirement
from ...saved import Saved, elements, saved_input
from ...torch import Embedding, Linear
from ...torch.common import equal, probability, size

__all__ = ["ColumnParallelLinear", "DotProductAttention", "RowParallelLinear", "VocabParallelEmbedding"]


class ColumnParallelLinear(Linear):
    """Megatron-LM ``ColumnParallelLinear(input_size, output_size, bias=True)``: ``Y = XA + b``
    with ``A`` split along its columns, ``A = [A_1, …, A_p]``: each of the ``tp`` devices
    holds ``output_size / tp`` output features (weight and bias) and, with
    ``gather_output=False`` as in a transformer layer, keeps its part of the output.
    Counts as ``Linear(input_size, output_size)``; saves its input."""

    tensor_parallel = "column"

    def __init__(self, input_size, output_size, bias=True, name=None):
        super().__init__(input_size, output_size, bias=bias, name=name)

    def parallel_sizes(self, shape):
        return (("output_size", self.out_features),)


class RowParallelLinear(Linear):
    """Megatron-LM ``RowParallelLinear(input_size, output_size, bias=True)``: ``Y = XA + b`` with
    ``A`` split along its rows and ``X`` along its columns (``input_is_parallel=True``): each
    device holds ``input_size / tp`` input features of the weight, the bias whole, and the
    partial products are summed (all-reduce, or reduce-scatter with sequence
    parallelism). Counts as ``Linear(input_size, output_size)``; saves its input."""

    tensor_parallel = "row"

    def __init__(self, input_size, output_size, bias=True, name=None):
        super().__init__(input_size, output_size, bias=bias, name=name)

    def parallel_sizes(self, shape):
        return (("input_size", self.in_features),)


class VocabParallelEmbedding(Embedding):
    """Megatron-LM ``VocabParallelEmbedding(num_embeddings, embedding_dim)``: the embedding
    table split along the vocabulary, ``num_embeddings / tp`` rows per device (Megatron
    pads the vocabulary to a multiple of 128·tp: ``num_embeddings`` is the padded size).
    Counts as ``Embedding``; saves the token ids."""

    tensor_parallel = "vocab"

    def __init__(self, num_embeddings, embedding_dim, name=None):
        super().__init__(num_embeddings, embedding_dim, name=name)

    def parallel_sizes(self, shape):
        return (("num_embeddings (the vocabulary)", self.num_embeddings),)


class DotProductAttention(Layer):
    """Megatron-LM's core attention ``DotProductAttention`` on the output of the fused
    query-key-value projection ``(None, s, 3·h)`` (``linear_qkv``), ``h =
    num_attention_heads · kv_channels``: per head, ``scores = baddbmm(Q, Kᵀ, alpha=1/√d)``,
    ``probs = attention_dropout(scale_mask_softmax(scores, causal mask))``, ``context =
    bmm(probs, V)``. Output ``(None, s, h)`` (the heads concatenated). No weights.

    Products (between activations): ``Q·Kᵀ`` and ``probs·V``, ``heads·s·s·d`` each.

    Saved, per example (Korthikanti et al. 2022, §4.1):

    - ``attention="eager"``: the input (``Q``, ``K`` for ``baddbmm``, ``V`` for ``bmm``: views
      of the projection's output, ``3·s·h``), ``FusedScaleMaskSoftmax``'s output (its
      backward needs only the probabilities, ``a·s²``) and, with ``attention_dropout >
      0``, dropout's mask and the dropped-out probabilities (``a·s²`` each) — the three
      ``selective`` recomputation recomputes.
    - ``attention="flash"``: the input, the output and the log-sum-exp (float32, ``a·s``).

    In 16-bit the probabilities are in the compute dtype: the fused kernels
    (``ScaledUpperTriangMaskedSoftmax``, ``ScaledMaskedSoftmax``) compute in float32 inside
    but return, and save, ``softmax_results`` in the input's dtype (plus a one-element
    ``scale_t`` on the host). Not followed: the unfused fallback, ``forward_torch_softmax``
    (fusion off, or keys outside ``16 < sk <= 4096`` or not multiples of 4), which with
    ``softmax_in_fp32`` keeps the probabilities in float32 and casts them back.
    """

    def __init__(self, num_attention_heads, kv_channels, attention_dropout=0.1, name=None):
        super().__init__(name)
        self.num_attention_heads = size(num_attention_heads, "DotProductAttention num_attention_heads")
        self.kv_channels = size(kv_channels, "DotProductAttention kv_channels")
        self.attention_dropout = probability(attention_dropout, "DotProductAttention: attention_dropout")

    @property
    def hidden(self):
        return self.num_attention_heads * self.kv_channels

    def requirements(self, shape):
        if len(shape) != 3 or shape[0] is not None:
            raise ShapeError(f"DotProductAttention expects the fused query, key and value (None, s, 3·h). "
                             f"Received: input shape={size_text(shape)}")
        numer, denom = sympy.fraction(sympy.together(self.kv_channels))
        if denom != 1:  # kv_channels = hidden_size / num_attention_heads (Megatron-LM asserts it divides)
            yield Requirement(divisible(numer, denom),
                              f"kv_channels ({self.kv_channels}) must be whole: {numer} divisible by {denom}")
        yield equal(shape[-1], 3 * self.hidden,
                    f"the input's last axis must be 3·num_attention_heads·kv_channels ({3 * self.hidden})")

    def output_shape(self, shape):
        return (shape[0], shape[1], self.hidden)

    def products(self, shape):
        per_product = self.hidden * shape[1] * shape[1]
        return (Product(per_product, "activation", label="scores Q·Kᵀ"),
                Product(per_product, "activation", label="values A·V"))

    def saved(self, shape):
        scores = self.num_attention_heads * shape[1] * shape[1]
        out = [saved_input(shape),
               Saved("scale_mask_softmax output", scores, selective=True, attention="eager")]
        if self.attention_dropout > 0:
            out += [Saved("attention_dropout mask", scores, "mask", selective=True, attention="eager"),
                    Saved("attention_dropout output", scores, selective=True, attention="eager")]
        out += [Saved("output", elements(self.output_shape(shape)), tensor="output", attention="flash"),
                Saved("logsumexp", self.num_attention_heads * shape[1], "float32", attention="flash")]
        return out

    def parallel_sizes(self, shape):
        """Heads are split over the tensor-parallel devices."""
        return (("num_attention_heads", self.num_attention_heads),)

    def cache_elements(self, shape, tokens):
        """Inference keeps each layer's keys and values (Megatron-LM's ``key_value_memory_dict``):
        ``2·num_attention_heads·kv_channels`` per token (``tokens``, by default the sequence)."""
        return 2 * self.hidden * (shape[1] if tokens is None else tokens)

