"""torch ``MultiheadAttention``."""

from __future__ import annotations

import sympy

from ..dims import decided, divisible, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Product, Requirement, Weight
from ..saved import Saved
from .common import elements, equal, expect_sequence, probability, saved_input, size


class MultiheadAttention(Layer):
    """torch ``nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``.

    Called on ``[query, key, value]``: query ``(L, N, embed_dim)``, key ``(S, N, kdim)``,
    value ``(S, N, vdim)`` (``(N, L, …)`` with ``batch_first``); in a ``Sequential`` it
    receives one tensor and attends to itself (``query = key = value``, as
    ``mha(x, x, x)``). The output shape is that of ``attn_output``, the query's shape;
    torch's second return value (the attention weights) is not followed.

    Weights (``kdim`` and ``vdim`` default to ``embed_dim``): when both equal
    ``embed_dim``, ``in_proj_weight (3·embed_dim, embed_dim)``; otherwise
    ``q_proj_weight (embed_dim, embed_dim)``, ``k_proj_weight (embed_dim, kdim)``,
    ``v_proj_weight (embed_dim, vdim)`` (also when the equality cannot be decided for
    symbolic sizes: the count is the same). Then ``in_proj_bias (3·embed_dim,)`` when
    ``bias``; ``bias_k``, ``bias_v (1, 1, embed_dim)`` when ``add_bias_kv``;
    ``out_proj.weight (embed_dim, embed_dim)`` and ``out_proj.bias (embed_dim,)`` when ``bias``.
    torch requires ``embed_dim`` divisible by ``num_heads``.

    MACs: projections ``L·E² + S·kdim·E + S·vdim·E + L·E²`` and attention ``2·L·S'·E`` with
    ``S' = S + add_bias_kv + add_zero_attn`` (scores and weighted sum, all heads).

    Saved for backward: see :meth:`saved` (torch's explicit path, ``need_weights=True``,
    the module's default).
    """

    n_inputs = 3

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, name=None):
        super().__init__(name)
        self.embed_dim = size(embed_dim, "MultiheadAttention embed_dim")
        self.num_heads = size(num_heads, "MultiheadAttention num_heads")
        self.dropout = probability(dropout, "MultiheadAttention: dropout")
        self.bias, self.add_bias_kv, self.add_zero_attn = bool(bias), bool(add_bias_kv), bool(add_zero_attn)
        self.kdim = self.embed_dim if kdim is None else size(kdim, "MultiheadAttention kdim")
        self.vdim = self.embed_dim if vdim is None else size(vdim, "MultiheadAttention vdim")
        self.batch_first = bool(batch_first)
        if divisible(self.embed_dim, self.num_heads) is sympy.false:
            raise ArgumentError(f"MultiheadAttention: embed_dim must be divisible by num_heads. "
                                f"Received: embed_dim={self.embed_dim}, num_heads={self.num_heads}")

    @property
    def packed(self) -> bool:
        """torch's ``_qkv_same_embed_dim``: one ``in_proj_weight`` for q, k and v."""
        return decided(sympy.Eq(self.kdim, self.embed_dim)) is True and \
            decided(sympy.Eq(self.vdim, self.embed_dim)) is True

    def _qkv(self, shape):
        """(query, key, value) shapes: one tensor attends to itself."""
        if shape and isinstance(shape[0], tuple):
            if len(shape) != 3:
                raise ShapeError(f"MultiheadAttention takes [query, key, value] (or one tensor for "
                                 f"self-attention). Received {len(shape)} inputs")
            return shape
        return (shape, shape, shape)

    def _length(self, shape):
        return shape[1] if self.batch_first else shape[0]

    def requirements(self, shape):
        query, key, value = self._qkv(shape)
        axes = "(L, N, E)"
        for s in (query, key, value):
            expect_sequence(self, s, self.batch_first, axes)
        yield Requirement(divisible(self.embed_dim, self.num_heads),
                          f"embed_dim ({self.embed_dim}) must be divisible by num_heads ({self.num_heads})")
        yield equal(query[-1], self.embed_dim, f"was expecting embedding dimension of {self.embed_dim} (query)")
        if self.packed:
            for a, b in zip(key, value):
                if a is not None or b is not None:
                    yield equal(a, b, f"key shape {size_text(key)} must match value shape {size_text(value)}")
        else:
            yield equal(self._length(key), self._length(value),
                        f"key's sequence length ({self._length(key)}) must match value's ({self._length(value)})")
        yield equal(key[-1], self.kdim, f"key's last axis must equal kdim ({self.kdim})")
        yield equal(value[-1], self.vdim, f"value's last axis must equal vdim ({self.vdim})")

    def weights(self, shape):
        e = self.embed_dim
        if self.packed:
            yield Weight("in_proj_weight", (3 * e, e))
        else:
            yield Weight("q_proj_weight", (e, e))
            yield Weight("k_proj_weight", (e, self.kdim))
            yield Weight("v_proj_weight", (e, self.vdim))
        if self.bias:
            yield Weight("in_proj_bias", (3 * e,))
        if self.add_bias_kv:
            yield Weight("bias_k", (1, 1, e))
            yield Weight("bias_v", (1, 1, e))
        yield Weight("out_proj.weight", (e, e))
        if self.bias:
            yield Weight("out_proj.bias", (e,))

    def output_shape(self, shape):
        query, _, _ = self._qkv(shape)
        return tuple(query)

    def products(self, shape):
        """Projections ``L·E² + S·kdim·E + S·vdim·E + L·E²`` (by weights) and the score
        and value products ``2·L·S·E`` (between activations; ``S`` counts the bias_k and
        zero-attention positions)."""
        query, key, _ = self._qkv(shape)
        e, target, source = self.embed_dim, self._length(query), self._length(key)
        attended = source + int(self.add_bias_kv) + int(self.add_zero_attn)
        projections = target * e * e + source * self.kdim * e + source * self.vdim * e + target * e * e
        return (Product(projections, label="projections"),
                Product(2 * target * attended * e, "activation", label="scores and values"))

    def saved(self, shape):
        """Training, ``F.multi_head_attention_forward`` with ``need_weights=True`` (torch's
        default: scores by ``bmm``, never a fused kernel), per example, with ``L`` query and
        ``S`` key positions, ``S' = S + add_bias_kv + add_zero_attn``, ``E = embed_dim``,
        ``h = num_heads``:

        - the in-projections' inputs: the query (one tensor attending to itself), or the
          query, key and value (three inputs, taken as distinct tensors); with
          ``batch_first`` torch transposes them and ``linear`` keeps a contiguous copy;
        - the projected keys and values: self-attention keeps the packed ``q, k, v`` output
          (``3·L·E``, of which ``k`` and ``v`` are views); otherwise ``S·E`` each; with
          ``add_bias_kv`` or ``add_zero_attn`` the concatenated ``k``, ``v`` (``S'·E`` each);
        - the scaled query ``q·E^(-1/2)·√h`` (``L·E``), kept by the score ``bmm``;
        - the softmax output ``h·L·S'``, and with ``dropout > 0`` its mask and the dropped
          probabilities (``h·L·S'`` each; all three recomputed under selective recomputation);
        - the heads' output made contiguous for ``out_proj`` (``L·E``).
        """
        query, key, value = self._qkv(shape)
        e, h = self.embed_dim, self.num_heads
        target, source = self._length(query), self._length(key)
        attended = source + int(self.add_bias_kv) + int(self.add_zero_attn)
        self_attention = not (shape and isinstance(shape[0], tuple))
        if self.batch_first:
            yield Saved("query copy", elements(query))
            if not self_attention:
                yield Saved("key copy", elements(key))
                yield Saved("value copy", elements(value))
        else:
            yield saved_input(shape)
            if not self_attention:
                yield saved_input(shape, 1)
                yield saved_input(shape, 2)
        if self.add_bias_kv or self.add_zero_attn:
            yield Saved("keys and values", 2 * attended * e)
        elif self_attention and self.packed:
            yield Saved("q, k, v", 3 * target * e)
        else:
            yield Saved("keys and values", 2 * source * e)
        yield Saved("scaled query", target * e)
        scores = h * target * attended
        yield Saved("softmax", scores, selective=True)
        if self.dropout > 0:
            yield Saved("dropout mask", scores, "mask", selective=True)
            yield Saved("dropped probabilities", scores, selective=True)
        yield Saved("heads' output", target * e)
