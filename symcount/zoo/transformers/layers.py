"""Building blocks of the transformers entries: modules that exist in Hugging Face
transformers but not in ``torch.nn``, each composed of symcount layers.

- :class:`Conv1D` — transformers' ``pytorch_utils.Conv1D`` (GPT-2's linear layer, its
  weight stored transposed: ``(nx, nf)``).
- :class:`EagerAttention` — transformers' ``eager_attention_forward``:
  ``softmax(Q·Kᵀ·scaling + mask)·V`` over heads, weightless; its two products are
  between activations (``operand="activation"``), with the unmasked half under a
  causal mask as ``causal_macs``.
- :class:`Module` — a transformers module made of named sub-modules (``q_proj``,
  ``k_proj`` …): weights, requirements and products are the sub-modules', under
  their attribute names, never a formula of its own. The attention modules
  (:class:`GPT2Attention`, :class:`BertSelfAttention`, :class:`LlamaAttention`,
  :class:`ViTAttention`, :class:`T5Attention`) and the gated MLPs (:class:`LlamaMLP`,
  :class:`T5DenseGatedActDense`) are modules: their data flow (one input split into
  query, key and value; a product of two branches) is not a chain of layers.
- Small weightless steps of a ``forward``: :class:`PositionIds`, :class:`TokenTypeIds`,
  :class:`Transpose`, :class:`FirstToken`; and :class:`ViTEmbeddings`' own parameters
  (``cls_token``, ``position_embeddings``).

Shapes are batch first, ``(None, L, features)``, as transformers' tensors are; the
heads of an attention stay concatenated on the last axis (``(None, L, heads·head_dim)``,
the layout before ``.view(…).transpose(1, 2)``).
"""

from __future__ import annotations


import sympy

from ...dims import divisible, size_text
from ...errors import ArgumentError, ShapeError
from ...layer import Layer, Product, Requirement, Weight
from ...torch import Embedding, Linear, RMSNorm
from ...torch.common import equal, positions, size
from ...torch.transformer import Sublayers

__all__ = [
    "BertSelfAttention", "Conv1D", "EagerAttention", "FirstToken", "GPT2Attention", "LlamaAttention", "LlamaMLP",
    "LlamaRMSNorm", "Module", "PositionIds", "T5Attention", "T5DenseGatedActDense", "T5LayerNorm", "TokenTypeIds",
    "Transpose", "ViTAttention", "ViTEmbeddings",
]


def _sequence(layer: Layer, shape) -> None:
    """Raise unless ``shape`` is a batch-first sequence ``(None, L, features)``."""
    if len(shape) != 3 or shape[0] is not None:
        raise ShapeError(f"{layer.type_name} expects a batch-first sequence (None, L, features). "
                         f"Received: input shape={size_text(shape)}")


class Conv1D(Layer):
    """transformers' ``Conv1D(nf, nx)`` (``pytorch_utils``): ``y = x·W + b`` on the last
    axis, a linear layer whose weight is stored transposed, as in the original GPT.

    Weights: ``weight (nx, nf)``, ``bias (nf,)``. Output ``(*, nf)``. MACs: ``nx · nf`` per
    position (one ``addmm``).
    """

    def __init__(self, nf, nx, name=None):
        super().__init__(name)
        self.nf = size(nf, "Conv1D nf")
        self.nx = size(nx, "Conv1D nx")

    def requirements(self, shape):
        self.expect_min_rank(shape, 2)
        yield equal(shape[-1], self.nx, f"the input's last axis must equal nx ({self.nx})")

    def weights(self, shape):
        yield Weight("weight", (self.nx, self.nf))
        yield Weight("bias", (self.nf,))

    def output_shape(self, shape):
        return (*shape[:-1], self.nf)

    def macs(self, shape):
        return positions(shape) * self.nx * self.nf


class EagerAttention(Layer):
    """transformers' ``eager_attention_forward``: per head, ``softmax(Q·Kᵀ·scaling + mask)·V``.

    Called on ``[query, key, value]``: query ``(None, L, num_heads·head_dim)``, key and value
    ``(None, S, num_key_value_heads·head_dim)`` (grouped-query attention repeats each key
    and value head ``num_heads / num_key_value_heads`` times, ``repeat_kv``). Output
    ``(None, L, num_heads·head_dim)``. No weights.

    Products (between activations): the scores ``Q·Kᵀ``, ``num_heads·L·S·head_dim``, and
    the weighted values ``A·V``, the same. With ``is_causal`` query ``i`` of ``L`` sees the
    keys up to its own position, ``S − L + i + 1`` of them: ``L·S − L·(L−1)/2`` pairs
    (``L·(L+1)/2`` for self-attention) are the causal MACs. The eager kernel still
    computes the whole ``L × S`` square, so ``macs`` counts it.
    """

    n_inputs = 3

    def __init__(self, num_heads, head_dim, num_key_value_heads=None, is_causal=False, name=None):
        super().__init__(name)
        self.num_heads = size(num_heads, "EagerAttention num_heads")
        self.head_dim = size(head_dim, "EagerAttention head_dim")
        self.num_key_value_heads = self.num_heads if num_key_value_heads is None else \
            size(num_key_value_heads, "EagerAttention num_key_value_heads")
        self.is_causal = bool(is_causal)
        if divisible(self.num_heads, self.num_key_value_heads) is sympy.false:
            raise ArgumentError(f"EagerAttention: num_heads ({self.num_heads}) must be divisible by "
                                f"num_key_value_heads ({self.num_key_value_heads})")

    def _qkv(self, shape):
        if len(shape) != 3 or not all(isinstance(s, tuple) for s in shape):
            raise ShapeError(f"EagerAttention takes [query, key, value]. Received: input shape={size_text(shape)}")
        for s in shape:
            _sequence(self, s)
        return shape

    def requirements(self, shape):
        query, key, value = self._qkv(shape)
        yield Requirement(divisible(self.num_heads, self.num_key_value_heads),
                          f"num_heads ({self.num_heads}) must be divisible by num_key_value_heads "
                          f"({self.num_key_value_heads})")
        yield equal(query[-1], self.num_heads * self.head_dim,
                    f"the query's last axis must be num_heads·head_dim ({self.num_heads * self.head_dim})")
        for what, s in (("key", key), ("value", value)):
            yield equal(s[-1], self.num_key_value_heads * self.head_dim,
                        f"the {what}'s last axis must be num_key_value_heads·head_dim "
                        f"({self.num_key_value_heads * self.head_dim})")
        yield equal(key[1], value[1], f"key and value must have the same length ({key[1]}, {value[1]})")

    def output_shape(self, shape):
        query, _, _ = self._qkv(shape)
        return (query[0], query[1], self.num_heads * self.head_dim)

    def pairs(self, shape) -> tuple:
        """Query–key pairs: all ``L·S``, and those a causal mask leaves."""
        query, key, _ = self._qkv(shape)
        length, source = query[1], key[1]
        unmasked = length * (length + 1) / 2 if sympy.Eq(length, source) is sympy.true else \
            length * source - length * (length - 1) / 2
        return length * source, unmasked

    def products(self, shape):
        pairs, unmasked = self.pairs(shape)
        per_pair = self.num_heads * self.head_dim
        causal = per_pair * unmasked if self.is_causal else None
        return (Product(per_pair * pairs, "activation", causal, label="scores Q·Kᵀ"),
                Product(per_pair * pairs, "activation", causal, label="values A·V"))


class Module(Sublayers):
    """A transformers module made of named sub-modules: ``parts(shape)`` yields
    ``(attribute, layer, the shape it receives)`` in the order ``forward`` calls them.
    Weights are the parts' under ``attribute.name`` (``q_proj.weight``), products and
    requirements are the parts'. The attention kernel is a part too, so its products
    are not forgotten; elementwise steps (activations, the gate's product, softmax)
    have neither weights nor products and are left out."""

    def product_label(self, attribute: str, product) -> str:
        return product.label or attribute


class _Attention(Module):
    """Self-attention with separate query, key, value and output projections (the
    attribute names in ``names``) around :class:`EagerAttention`.

    ``head_dim`` defaults to ``hidden_size / num_heads``, which then needs ``hidden_size``
    divisible by ``num_heads`` (a validity condition for symbolic sizes); ``heads_divide``
    asks for it also with an explicit ``head_dim`` (LlamaConfig checks it regardless).
    """

    #: attribute names of the query, key, value and output projections
    names = ("q_proj", "k_proj", "v_proj", "o_proj")
    is_causal = False

    def _setup(self, hidden_size, num_heads, num_key_value_heads=None, head_dim=None, bias=True, out_bias=None,
               key_value_length=None, heads_divide=None):
        owner = type(self).__name__
        self.hidden_size = size(hidden_size, f"{owner} hidden_size")
        self.num_heads = size(num_heads, f"{owner} num_heads")
        self.num_key_value_heads = self.num_heads if num_key_value_heads is None else \
            size(num_key_value_heads, f"{owner} num_key_value_heads")
        self.divides = head_dim is None if heads_divide is None else heads_divide
        if self.divides and divisible(self.hidden_size, self.num_heads) is sympy.false:
            raise ArgumentError(f"{owner}: The hidden size ({self.hidden_size}) is not a multiple of the number "
                                f"of attention heads ({self.num_heads})")
        self.head_dim = self.hidden_size / self.num_heads if head_dim is None else size(head_dim, f"{owner} head_dim")
        self.key_value_length = None if key_value_length is None else \
            size(key_value_length, f"{owner} key_value_length")
        inner, kv_inner = self.num_heads * self.head_dim, self.num_key_value_heads * self.head_dim
        q, k, v, o = self.names
        self.projections = {
            q: Linear(self.hidden_size, inner, bias=bias),
            k: Linear(self.hidden_size, kv_inner, bias=bias),
            v: Linear(self.hidden_size, kv_inner, bias=bias),
        }
        if o is not None:
            self.projections[o] = Linear(inner, self.hidden_size, bias=bias if out_bias is None else out_bias)
        self.attention = EagerAttention(self.num_heads, self.head_dim, self.num_key_value_heads, self.is_causal)

    def requirements(self, shape):
        _sequence(self, shape)
        if self.divides:
            yield Requirement(divisible(self.hidden_size, self.num_heads),
                              f"hidden_size ({self.hidden_size}) must be a multiple of the number of attention "
                              f"heads ({self.num_heads})")
        yield from super().requirements(shape)

    def parts(self, shape):
        q, k, v, o = self.names
        length = shape[1] if self.key_value_length is None else self.key_value_length
        source = (shape[0], length, self.hidden_size)  # the key/value states (the encoder's, for cross-attention)
        query = (*shape[:-1], self.num_heads * self.head_dim)
        key = (shape[0], length, self.num_key_value_heads * self.head_dim)
        yield q, self.projections[q], shape
        yield k, self.projections[k], source
        yield v, self.projections[v], source
        yield "", self.attention, (query, key, key)
        if o is not None:
            yield o, self.projections[o], query

    def output_shape(self, shape):
        _sequence(self, shape)
        if self.names[3] is None:  # no output projection: the heads, concatenated
            return (*shape[:-1], self.num_heads * self.head_dim)
        return tuple(shape)


class GPT2Attention(Module):
    """transformers ``GPT2Attention`` (self-attention, causal): ``c_attn`` = ``Conv1D(3·E,
    E)`` gives query, key and value, split along the last axis; :class:`EagerAttention`
    with ``num_heads`` heads of ``E / num_heads``; ``c_proj`` = ``Conv1D(E, E)``.
    transformers requires ``embed_dim`` divisible by ``num_heads``.
    """

    def __init__(self, embed_dim, num_heads, name=None):
        super().__init__(name)
        self.embed_dim = size(embed_dim, "GPT2Attention embed_dim")
        self.num_heads = size(num_heads, "GPT2Attention num_heads")
        if divisible(self.embed_dim, self.num_heads) is sympy.false:
            raise ArgumentError(f"GPT2Attention: `embed_dim` must be divisible by num_heads (got `embed_dim`: "
                                f"{self.embed_dim} and `num_heads`: {self.num_heads}).")
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.attention = EagerAttention(self.num_heads, self.embed_dim / self.num_heads, is_causal=True)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)

    def requirements(self, shape):
        _sequence(self, shape)
        yield Requirement(divisible(self.embed_dim, self.num_heads),
                          f"embed_dim ({self.embed_dim}) must be divisible by num_heads ({self.num_heads})")
        yield from super().requirements(shape)

    def parts(self, shape):
        split = (*shape[:-1], self.embed_dim)  # c_attn(x).split(embed_dim, dim=2): query, key, value
        yield "c_attn", self.c_attn, shape
        yield "", self.attention, (split, split, split)
        yield "c_proj", self.c_proj, split


class BertSelfAttention(_Attention):
    """transformers ``BertSelfAttention``: ``query``, ``key``, ``value`` = ``Linear(hidden_size,
    hidden_size)`` and :class:`EagerAttention` (not causal). The output projection is
    ``BertSelfOutput.dense``, a separate module. Output ``(None, L, hidden_size)``.
    """

    names = ("query", "key", "value", None)

    def __init__(self, hidden_size, num_attention_heads, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads)


class LlamaAttention(_Attention):
    """transformers ``LlamaAttention`` (causal, grouped-query): ``q_proj`` = ``Linear(hidden_size,
    num_attention_heads·head_dim)``, ``k_proj`` and ``v_proj`` = ``Linear(hidden_size,
    num_key_value_heads·head_dim)``, :class:`EagerAttention`, ``o_proj`` =
    ``Linear(num_attention_heads·head_dim, hidden_size)``; every bias only with
    ``attention_bias``. ``head_dim`` defaults to ``hidden_size / num_attention_heads``;
    ``hidden_size`` must be a multiple of ``num_attention_heads`` either way (LlamaConfig's
    check). The rotary position embedding multiplies elementwise: no weights, no products.
    """

    is_causal = True

    def __init__(self, hidden_size, num_attention_heads, num_key_value_heads=None, head_dim=None,
                 attention_bias=False, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads, num_key_value_heads, head_dim, bias=attention_bias,
                    heads_divide=True)


class ViTAttention(_Attention):
    """transformers ``ViTAttention``: ``q_proj``, ``k_proj``, ``v_proj`` = ``Linear(hidden_size,
    hidden_size, bias=qkv_bias)``, :class:`EagerAttention` (not causal), ``o_proj`` =
    ``Linear(hidden_size, hidden_size)`` (always with a bias)."""

    def __init__(self, hidden_size, num_attention_heads, qkv_bias=True, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads, bias=qkv_bias, out_bias=True)


class T5Attention(_Attention):
    """transformers ``T5Attention``: ``q``, ``k``, ``v`` = ``Linear(d_model, n_heads·d_kv,
    bias=False)``, :class:`EagerAttention` (causal in the decoder's self-attention), ``o`` =
    ``Linear(n_heads·d_kv, d_model, bias=False)``, and with
    ``has_relative_attention_bias`` (the first block of each stack)
    ``relative_attention_bias`` = ``Embedding(relative_attention_num_buckets, n_heads)``,
    whose lookup (no products) gives the position bias every block adds to its scores.

    Cross-attention (``EncDecAttention``) reads the encoder's hidden states: ``key_value_length``
    is their length (the keys and values are projected from ``(None, key_value_length,
    d_model)``); self-attention leaves it ``None``.
    """

    names = ("q", "k", "v", "o")

    def __init__(self, d_model, d_kv, n_heads, relative_attention_num_buckets=32, has_relative_attention_bias=False,
                 is_causal=False, key_value_length=None, name=None):
        super().__init__(name)
        self.is_causal = bool(is_causal)
        self._setup(d_model, n_heads, head_dim=d_kv, bias=False, key_value_length=key_value_length)
        self.has_relative_attention_bias = bool(has_relative_attention_bias)
        self.relative_attention_bias = Embedding(relative_attention_num_buckets, self.num_heads)

    def parts(self, shape):
        yield from super().parts(shape)
        if self.has_relative_attention_bias:
            yield "relative_attention_bias", self.relative_attention_bias, (None, shape[1], shape[1])


class LlamaMLP(Module):
    """transformers ``LlamaMLP``: ``down_proj(act_fn(gate_proj(x)) * up_proj(x))`` with
    ``gate_proj``, ``up_proj`` = ``Linear(hidden_size, intermediate_size)``, ``down_proj`` =
    ``Linear(intermediate_size, hidden_size)``, biases only with ``mlp_bias``; ``act_fn`` SiLU."""

    def __init__(self, hidden_size, intermediate_size, mlp_bias=False, name=None):
        super().__init__(name)
        self.hidden_size = size(hidden_size, "LlamaMLP hidden_size")
        self.intermediate_size = size(intermediate_size, "LlamaMLP intermediate_size")
        self.gate_proj = Linear(self.hidden_size, self.intermediate_size, bias=mlp_bias)
        self.up_proj = Linear(self.hidden_size, self.intermediate_size, bias=mlp_bias)
        self.down_proj = Linear(self.intermediate_size, self.hidden_size, bias=mlp_bias)

    def parts(self, shape):
        hidden = (*shape[:-1], self.intermediate_size)
        yield "gate_proj", self.gate_proj, shape
        yield "up_proj", self.up_proj, shape
        yield "down_proj", self.down_proj, hidden


class T5DenseGatedActDense(Module):
    """transformers ``T5DenseGatedActDense`` (``feed_forward_proj="gated-gelu"``):
    ``wo(act(wi_0(x)) * wi_1(x))`` with ``wi_0``, ``wi_1`` = ``Linear(d_model, d_ff,
    bias=False)`` and ``wo`` = ``Linear(d_ff, d_model, bias=False)``."""

    def __init__(self, d_model, d_ff, name=None):
        super().__init__(name)
        self.d_model = size(d_model, "T5DenseGatedActDense d_model")
        self.d_ff = size(d_ff, "T5DenseGatedActDense d_ff")
        self.wi = Linear(self.d_model, self.d_ff, bias=False)
        self.wo = Linear(self.d_ff, self.d_model, bias=False)

    def parts(self, shape):
        yield "wi_0", self.wi, shape
        yield "wi_1", self.wi, shape
        yield "wo", self.wo, (*shape[:-1], self.d_ff)


class LlamaRMSNorm(RMSNorm):
    """transformers ``LlamaRMSNorm(hidden_size, eps=1e-06)``: root-mean-square normalization
    of the last axis; ``weight (hidden_size,)``, no bias."""

    def __init__(self, hidden_size, eps=1e-6, name=None):
        super().__init__(hidden_size, eps, name=name)


class T5LayerNorm(RMSNorm):
    """transformers ``T5LayerNorm(hidden_size, eps=1e-06)``: scales by the root mean square,
    no mean subtracted and no bias; ``weight (hidden_size,)``."""

    def __init__(self, hidden_size, eps=1e-6, name=None):
        super().__init__(hidden_size, eps, name=name)


class PositionIds(Layer):
    """The positions ``0 … L−1`` of a sequence of token ids ``(None, L)`` (transformers'
    ``arange`` or the ``position_ids`` buffer), for a learned position embedding of
    ``max_position_embeddings`` rows: requires ``L <= max_position_embeddings``.
    Same shape, no weights."""

    def __init__(self, max_position_embeddings, name=None):
        super().__init__(name)
        self.max_position_embeddings = size(max_position_embeddings, "PositionIds max_position_embeddings")

    def requirements(self, shape):
        if len(shape) != 2:
            raise ShapeError(f"PositionIds expects token ids (None, L). Received: input shape={size_text(shape)}")
        yield Requirement(sympy.Le(shape[1], self.max_position_embeddings),
                          f"the sequence ({shape[1]} tokens) must fit the learned positions "
                          f"(max_position_embeddings={self.max_position_embeddings})")


class TokenTypeIds(Layer):
    """BERT's default ``token_type_ids``: zeros of the token ids' shape ``(None, L)``."""

    def __init__(self, name=None):
        super().__init__(name)


class Transpose(Layer):
    """``x.transpose(dim0, dim1)``: two axes swapped (neither the batch axis). No weights."""

    def __init__(self, dim0, dim1, name=None):
        super().__init__(name)
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in (dim0, dim1)):
            raise ArgumentError(f"Transpose: dims must be integers. Received: dim0={dim0!r}, dim1={dim1!r}")
        self.dim0, self.dim1 = dim0, dim1

    def _axes(self, shape):
        rank = len(shape)
        if not all(-rank <= d < rank for d in (self.dim0, self.dim1)):
            raise ShapeError(f"Transpose: dims ({self.dim0}, {self.dim1}) out of range for an input of rank "
                             f"{rank}. Received: input shape={size_text(shape)}")
        a, b = self.dim0 % rank, self.dim1 % rank
        if shape[a] is None or shape[b] is None:
            raise ShapeError(f"Transpose: cannot move the batch axis. Received: dims ({self.dim0}, {self.dim1}), "
                             f"input shape={size_text(shape)}")
        return a, b

    def output_shape(self, shape):
        a, b = self._axes(shape)
        out = list(shape)
        out[a], out[b] = shape[b], shape[a]
        return tuple(out)


class FirstToken(Layer):
    """``hidden_states[:, 0]``: the first token's vector (the poolers' ``[CLS]``):
    ``(None, L, hidden)`` → ``(None, hidden)``. No weights."""

    def __init__(self, name=None):
        super().__init__(name)

    def output_shape(self, shape):
        _sequence(self, shape)
        return (shape[0], shape[2])


def _floors_expanded(expr):
    """``floor((n − p)/p) + 1`` as ``floor(n/p)``: each floor's argument expanded, so SymPy
    takes the integer terms out (the convolution's length and transformers' ``n // p``
    then compare equal)."""
    if not isinstance(expr, sympy.Basic):
        return expr
    return sympy.expand(expr.replace(sympy.floor, lambda arg: sympy.floor(sympy.expand(arg))))


class ViTEmbeddings(Layer):
    """The parameters ``ViTEmbeddings`` owns itself: ``cls_token (1, 1, hidden_size)``,
    ``mask_token (1, 1, hidden_size)`` with ``use_mask_token``, and ``position_embeddings
    (1, num_patches + 1, hidden_size)``. On the patch embeddings ``(None, num_patches,
    hidden_size)``: the ``[CLS]`` token is prepended and the position embeddings added,
    ``(None, num_patches + 1, hidden_size)``. No products.
    """

    def __init__(self, hidden_size, num_patches, use_mask_token=False, name=None):
        super().__init__(name)
        self.hidden_size = size(hidden_size, "ViTEmbeddings hidden_size")
        self.num_patches = size(num_patches, "ViTEmbeddings num_patches")
        self.use_mask_token = bool(use_mask_token)

    def requirements(self, shape):
        _sequence(self, shape)
        yield equal(_floors_expanded(shape[1]), _floors_expanded(self.num_patches),
                    f"the patches ({shape[1]}) must match the position embeddings' ({self.num_patches}): "
                    f"the input image must have the configured image_size")
        yield equal(shape[2], self.hidden_size, f"the patch embeddings must have hidden_size ({self.hidden_size})")

    def weights(self, shape):
        yield Weight("cls_token", (1, 1, self.hidden_size))
        if self.use_mask_token:
            yield Weight("mask_token", (1, 1, self.hidden_size))
        yield Weight("position_embeddings", (1, self.num_patches + 1, self.hidden_size))

    def output_shape(self, shape):
        return (shape[0], shape[1] + 1, shape[2])
