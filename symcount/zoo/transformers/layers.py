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

Saved tensors (activation memory, :mod:`symcount.saved`) are what autograd packs during
transformers' forward in train mode (measured with ``torch.autograd.graph.saved_tensors_hooks``
on CPU, transformers 5.23, ``attn_implementation="eager"``). A module declares each tensor
its forward saves once: its input and output as ``tensor="input"``/``"output"``, the rest as
its own. Tensors made once per step rather than per example (GPT-2's position ids, BERT's
token types, Llama's rotary ``cos``/``sin``, T5's relative position buckets) are declared
``per_batch``. Measured again with the model in bfloat16 and float16: what transformers
computes in float32 whatever the dtype is declared ``float32`` (Llama's and ViT's softmax,
the RMS norms' upcast and ``rsqrt``), and the casts between float32 and the compute
dtype that are tensors of their own only in 16-bit are declared ``cast``.

Tensor parallelism (Megatron-LM, ``megatron/core/tensor_parallel/layers.py``): the query,
key, value, gate and up projections are column-parallel, the output and down projections
row-parallel, the token embeddings vocabulary-parallel (:func:`parallel` marks a layer);
``parallel_sizes`` names what ``tp`` must divide.
"""

from __future__ import annotations


import sympy

from ...dims import divisible, size_text
from ...errors import ArgumentError, ShapeError
from ...layer import Layer, Product, Requirement, Weight
from ...saved import Saved, elements, saved_input
from ...torch import GELU, Embedding, Linear, RMSNorm
from ...torch.common import equal, positions, probability, size
from ...torch.transformer import Sublayers

__all__ = [
    "BertSelfAttention", "Conv1D", "EagerAttention", "FirstToken", "GPT2Attention", "LlamaAttention", "LlamaMLP",
    "LlamaRMSNorm", "LlamaRotaryEmbedding", "Module", "NewGELUActivation", "PositionIds", "T5Attention",
    "T5DenseGatedActDense", "T5LayerNorm", "TokenTypeIds", "Transpose", "ViTAttention", "ViTEmbeddings", "parallel",
]


def _sequence(layer: Layer, shape) -> None:
    """Raise unless ``shape`` is a batch-first sequence ``(None, L, features)``."""
    if len(shape) != 3 or shape[0] is not None:
        raise ShapeError(f"{layer.type_name} expects a batch-first sequence (None, L, features). "
                         f"Received: input shape={size_text(shape)}")


#: Megatron-LM's tensor-parallel layers, by the role memory gives them
ROLES = {"column": ("ColumnParallelLinear", "output features"), "row": ("RowParallelLinear", "input features"),
         "vocab": ("VocabParallelEmbedding", "vocabulary")}


class _ParallelSizes:
    """``parallel_sizes(shape)`` of a layer marked by :func:`parallel`: the one size its
    role splits over ``tp`` devices."""

    def __init__(self, what: str, size):
        self.what, self.size = what, size

    def __call__(self, shape):
        return ((self.what, self.size),)


def parallel(layer: Layer, role: str) -> Layer:
    """``layer`` (a ``Linear``, ``Conv1D`` or ``Embedding``) marked as Megatron-LM splits it
    over ``tp`` devices, and returned: ``"column"`` (``ColumnParallelLinear``: the output
    features split, its output stays split up to the next row-parallel layer), ``"row"``
    (``RowParallelLinear``: the input features split, the bias whole, the output gathered),
    ``"vocab"`` (``VocabParallelEmbedding``: the rows split). ``tp`` must divide the split size."""
    if role not in ROLES:
        raise ArgumentError(f"parallel: role must be one of {', '.join(ROLES)}. Received: role={role!r}")
    if role == "vocab":
        split = layer.num_embeddings
    elif isinstance(layer, Conv1D):
        split = layer.nf if role == "column" else layer.nx
    else:
        split = layer.out_features if role == "column" else layer.in_features
    layer.tensor_parallel = role
    layer.parallel_sizes = _ParallelSizes(f"{layer.type_name} {ROLES[role][1]}", split)
    return layer


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

    def saved(self, shape):
        """The input (``addmm`` keeps it for the weight's gradient)."""
        return (saved_input(shape),)


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

    Saved tensors (:meth:`kernel_saved`), ``dropout`` being the probability applied to
    the attention probabilities in training (``attention_dropout``, ``attn_pdrop``…):

    - ``attention="eager"``: the query, key and value as the two ``matmul`` s keep them
      (copies in the ``(batch·heads, L, head_dim)`` layout, keys and values repeated to
      ``num_heads``: ``H·L·d``, ``H·S·d``, ``H·S·d``), the softmax probabilities
      ``H·L·S`` and, with ``dropout > 0``, dropout's mask and the dropped-out
      probabilities (``H·L·S`` each); the last three are what selective recomputation
      drops (Korthikanti et al. 2022).
    - ``attention="flash"``: the query, key and value as the kernel receives them
      (``num_key_value_heads`` heads, not repeated), its output and the log-sum-exp of
      each head and query in float32 (``H·L``); dropout keeps no mask (the kernel
      regenerates it from the RNG state).

    ``softmax_float32`` (Llama's and ViT's ``softmax(scores, dim=-1, dtype=torch.float32)
    .to(query.dtype)``; GPT-2, BERT and T5 take the softmax in the compute dtype): the
    probabilities softmax keeps are float32 whatever the model's dtype, and in 16-bit
    ``.to`` makes a second tensor, the one ``A·V`` keeps without dropout (dropout's own
    output otherwise): declared ``cast`` (in float32 it is the probabilities themselves).
    """

    n_inputs = 3

    def __init__(self, num_heads, head_dim, num_key_value_heads=None, is_causal=False, dropout=0.0,
                 softmax_float32=False, name=None):
        super().__init__(name)
        self.softmax_float32 = bool(softmax_float32)
        self.dropout = probability(dropout, "EagerAttention: dropout")
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

    def kernel_saved(self, length, source, flash_inputs: bool = False) -> list:
        """The kernels' own tensors for queries of ``length`` and keys of ``source``
        positions, per example (see the class docstring); with ``flash_inputs`` the flash
        kernel's query, key and value are the layer's inputs (``tensor="input"``…), else
        they are listed as the kernel's own (a module that declares its projections'
        outputs itself leaves them out: ``flash_inputs=None``)."""
        heads, kv, d = self.num_heads, self.num_key_value_heads, self.head_dim
        scores = heads * length * source
        out = [Saved("query", heads * length * d, attention="eager", parallel=True),
               Saved("key", heads * source * d, attention="eager", parallel=True),
               Saved("value", heads * source * d, attention="eager", parallel=True),
               Saved("probabilities", scores, "float32" if self.softmax_float32 else "activation", selective=True,
                     attention="eager", parallel=True)]
        if self.softmax_float32 and not self.dropout > 0:
            out.append(Saved("probabilities in the compute dtype", scores, selective=True, attention="eager",
                             parallel=True, cast=True))
        if self.dropout > 0:
            out += [Saved("dropout mask", scores, "mask", selective=True, attention="eager", parallel=True),
                    Saved("dropped probabilities", scores, selective=True, attention="eager", parallel=True)]
        if flash_inputs is not None:
            tensors = ("input", "input1", "input2") if flash_inputs else ("", "", "")
            out += [Saved("query", heads * length * d, tensor=tensors[0], attention="flash", parallel=True),
                    Saved("key", kv * source * d, tensor=tensors[1], attention="flash", parallel=True),
                    Saved("value", kv * source * d, tensor=tensors[2], attention="flash", parallel=True)]
        out.append(Saved("logsumexp", heads * length, "float32", attention="flash", parallel=True))
        return out

    def saved(self, shape):
        """The kernel's tensors; the flash kernel also keeps its inputs and its output."""
        query, key, _ = self._qkv(shape)
        return (*self.kernel_saved(query[1], key[1], flash_inputs=True),
                Saved("output", elements(self.output_shape(shape)), tensor="output", attention="flash"))


class Module(Sublayers):
    """A transformers module made of named sub-modules: ``parts(shape)`` yields
    ``(attribute, layer, the shape it receives)`` in the order ``forward`` calls them.
    Weights are the parts' under ``attribute.name`` (``q_proj.weight``), products and
    requirements are the parts'. The attention kernel is a part too, so its products
    are not forgotten; elementwise steps (activations, the gate's product, softmax)
    have neither weights nor products and are left out.

    Saved tensors are the module's own declaration (its parts are not separate records):
    each tensor its ``forward`` saves, once, its input as ``tensor="input"``. The parts
    carry their Megatron-LM roles (:func:`parallel`) and ``parallel_sizes`` names the
    heads or features ``tp`` must divide."""

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
    #: whether the eager kernel takes the softmax in float32 (:class:`EagerAttention`)
    softmax_float32 = False

    def _setup(self, hidden_size, num_heads, num_key_value_heads=None, head_dim=None, bias=True, out_bias=None,
               key_value_length=None, heads_divide=None, dropout=0.0):
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
            q: parallel(Linear(self.hidden_size, inner, bias=bias), "column"),
            k: parallel(Linear(self.hidden_size, kv_inner, bias=bias), "column"),
            v: parallel(Linear(self.hidden_size, kv_inner, bias=bias), "column"),
        }
        if o is not None:
            self.projections[o] = parallel(Linear(inner, self.hidden_size, bias=bias if out_bias is None else out_bias),
                                           "row")
        self.attention = EagerAttention(self.num_heads, self.head_dim, self.num_key_value_heads, self.is_causal,
                                        dropout, self.softmax_float32)

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

    #: cross-attention: whether this module declares the key/value states it reads (the
    #: encoder's output, saved by the key and value projections of every decoder block
    #: but one tensor: declared by one module only)
    saves_key_value_states = True

    def saved(self, shape):
        """The input (kept by the query, key and value projections; cross-attention's key
        and value projections keep the encoder's states, ``key_value_length·hidden_size``),
        the kernel's tensors (:meth:`EagerAttention.kernel_saved`), and the heads
        concatenated, ``L·heads·head_dim``: the output projection's input (the flash
        kernel's output is that same tensor), or without an output projection the
        module's output, which the flash kernel keeps. Under tensor parallelism the
        kernel's tensors and the heads are split over the devices (the query, key and
        value projections are column-parallel), the input and the encoder's states whole."""
        _sequence(self, shape)
        length = shape[1]
        source = length if self.key_value_length is None else self.key_value_length
        out = [saved_input(shape)]
        if self.key_value_length is not None and self.saves_key_value_states:
            out.append(Saved("key/value states", source * self.hidden_size, parallel=False))
        out += self.attention.kernel_saved(length, source)
        heads = length * self.num_heads * self.head_dim
        if self.names[3] is None:
            out.append(Saved("output", heads, tensor="output", attention="flash", parallel=True))
        else:
            out.append(Saved("heads", heads, parallel=True))
        return out

    def parallel_sizes(self, shape):
        """Megatron-LM splits the attention by heads: ``tp`` divides the query heads and
        the key/value heads (``num_query_groups``)."""
        return (("attention heads", self.num_heads), ("key/value heads", self.num_key_value_heads))


def _cache_elements(layer, shape, tokens):
    """Keys and values a decoder's attention keeps per example (transformers'
    ``DynamicCache``; ``EncoderDecoderCache`` for cross-attention): ``2·kv_heads·head_dim``
    per token of causal self-attention (``tokens``, by default the sequence), per encoder
    position for cross-attention; an encoder's self-attention keeps none."""
    if getattr(layer, "key_value_length", None) is not None:
        tokens = layer.key_value_length
    elif not layer.is_causal:
        return sympy.Integer(0)
    elif tokens is None:
        tokens = shape[1]
    return 2 * layer.num_key_value_heads * layer.head_dim * tokens


class GPT2Attention(Module):
    """transformers ``GPT2Attention`` (self-attention, causal): ``c_attn`` = ``Conv1D(3·E,
    E)`` gives query, key and value, split along the last axis; :class:`EagerAttention`
    with ``num_heads`` heads of ``E / num_heads``; ``c_proj`` = ``Conv1D(E, E)``, then
    ``resid_dropout``. transformers requires ``embed_dim`` divisible by ``num_heads``.
    ``attn_pdrop`` and ``resid_pdrop`` are GPT2Config's dropout probabilities (0.1).

    Saved: the input (``c_attn``'s), the kernel's tensors, ``c_proj``'s input and, with
    ``resid_pdrop > 0``, ``resid_dropout``'s mask (``L·E`` each).
    """

    is_causal = True

    def __init__(self, embed_dim, num_heads, attn_pdrop=0.1, resid_pdrop=0.1, name=None):
        super().__init__(name)
        self.embed_dim = size(embed_dim, "GPT2Attention embed_dim")
        self.num_heads = self.num_key_value_heads = size(num_heads, "GPT2Attention num_heads")
        if divisible(self.embed_dim, self.num_heads) is sympy.false:
            raise ArgumentError(f"GPT2Attention: `embed_dim` must be divisible by num_heads (got `embed_dim`: "
                                f"{self.embed_dim} and `num_heads`: {self.num_heads}).")
        self.head_dim = self.embed_dim / self.num_heads
        self.resid_pdrop = probability(resid_pdrop, "GPT2Attention: resid_pdrop")
        self.c_attn = parallel(Conv1D(3 * self.embed_dim, self.embed_dim), "column")
        self.attention = EagerAttention(self.num_heads, self.head_dim, is_causal=True, dropout=attn_pdrop)
        self.c_proj = parallel(Conv1D(self.embed_dim, self.embed_dim), "row")

    def saved(self, shape):
        _sequence(self, shape)
        length = shape[1]
        out = [saved_input(shape), *self.attention.kernel_saved(length, length),
               Saved("heads", length * self.embed_dim, parallel=True)]
        if self.resid_pdrop > 0:
            out.append(Saved("resid_dropout mask", length * self.embed_dim, "mask", parallel=False))
        return out

    def parallel_sizes(self, shape):
        """Megatron-LM splits the attention by heads: ``tp`` divides ``num_heads``."""
        return (("attention heads", self.num_heads),)

    def cache_elements(self, shape, tokens):
        return _cache_elements(self, shape, tokens)

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
    hidden_size)`` and :class:`EagerAttention` (not causal), ``attention_probs_dropout_prob``
    (BertConfig: 0.1) on the probabilities. The output projection is
    ``BertSelfOutput.dense``, a separate module. Output ``(None, L, hidden_size)``: the
    heads, split by tensor parallelism (the module is column-parallel as a whole).
    """

    names = ("query", "key", "value", None)
    tensor_parallel = "column"

    def __init__(self, hidden_size, num_attention_heads, attention_probs_dropout_prob=0.1, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads, dropout=attention_probs_dropout_prob)


class LlamaAttention(_Attention):
    """transformers ``LlamaAttention`` (causal, grouped-query): ``q_proj`` = ``Linear(hidden_size,
    num_attention_heads·head_dim)``, ``k_proj`` and ``v_proj`` = ``Linear(hidden_size,
    num_key_value_heads·head_dim)``, :class:`EagerAttention`, ``o_proj`` =
    ``Linear(num_attention_heads·head_dim, hidden_size)``; every bias only with
    ``attention_bias``. ``head_dim`` defaults to ``hidden_size / num_attention_heads``;
    ``hidden_size`` must be a multiple of ``num_attention_heads`` either way (LlamaConfig's
    check). The rotary position embedding multiplies elementwise: no weights, no products;
    the ``cos`` and ``sin`` it saves are the model's (:class:`LlamaRotaryEmbedding`), the
    rotated query and key are what the kernel keeps. ``attention_dropout`` (0.0) drops
    attention probabilities in training. The eager kernel's softmax is float32
    (``softmax_float32``).
    """

    is_causal = True
    softmax_float32 = True

    def __init__(self, hidden_size, num_attention_heads, num_key_value_heads=None, head_dim=None,
                 attention_bias=False, attention_dropout=0.0, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads, num_key_value_heads, head_dim, bias=attention_bias,
                    heads_divide=True, dropout=attention_dropout)

    def cache_elements(self, shape, tokens):
        return _cache_elements(self, shape, tokens)


class ViTAttention(_Attention):
    """transformers ``ViTAttention``: ``q_proj``, ``k_proj``, ``v_proj`` = ``Linear(hidden_size,
    hidden_size, bias=qkv_bias)``, :class:`EagerAttention` (not causal), ``o_proj`` =
    ``Linear(hidden_size, hidden_size)`` (always with a bias); ``attention_probs_dropout_prob``
    (ViTConfig: 0.0) drops attention probabilities in training. The eager kernel's softmax
    is float32 (``softmax_float32``)."""

    softmax_float32 = True

    def __init__(self, hidden_size, num_attention_heads, qkv_bias=True, attention_probs_dropout_prob=0.0, name=None):
        super().__init__(name)
        self._setup(hidden_size, num_attention_heads, bias=qkv_bias, out_bias=True,
                    dropout=attention_probs_dropout_prob)


class T5Attention(_Attention):
    """transformers ``T5Attention``: ``q``, ``k``, ``v`` = ``Linear(d_model, n_heads·d_kv,
    bias=False)``, :class:`EagerAttention` (causal in the decoder's self-attention), ``o`` =
    ``Linear(n_heads·d_kv, d_model, bias=False)``, and with
    ``has_relative_attention_bias`` (the first block of each stack)
    ``relative_attention_bias`` = ``Embedding(relative_attention_num_buckets, n_heads)``,
    whose lookup (no products) gives the position bias every block adds to its scores.

    Cross-attention (``EncDecAttention``) reads the encoder's hidden states: ``key_value_length``
    is their length (the keys and values are projected from ``(None, key_value_length,
    d_model)``); self-attention leaves it ``None``. ``dropout`` (T5Config's ``dropout_rate``,
    0.1) drops attention probabilities in training.

    Saved: as every attention here, plus with ``has_relative_attention_bias`` the relative
    position buckets the bias embedding looks up (``L·L`` int64). The encoder's states a
    cross-attention reads are one tensor whatever the number of decoder blocks:
    ``saves_key_value_states=False`` leaves them to another block's declaration.
    """

    names = ("q", "k", "v", "o")

    def __init__(self, d_model, d_kv, n_heads, relative_attention_num_buckets=32, has_relative_attention_bias=False,
                 is_causal=False, key_value_length=None, dropout=0.1, saves_key_value_states=True, name=None):
        super().__init__(name)
        self.is_causal = bool(is_causal)
        self._setup(d_model, n_heads, head_dim=d_kv, bias=False, key_value_length=key_value_length, dropout=dropout)
        self.has_relative_attention_bias = bool(has_relative_attention_bias)
        self.saves_key_value_states = bool(saves_key_value_states)
        self.relative_attention_bias = Embedding(relative_attention_num_buckets, self.num_heads)

    def parts(self, shape):
        yield from super().parts(shape)
        if self.has_relative_attention_bias:
            yield "relative_attention_bias", self.relative_attention_bias, (None, shape[1], shape[1])

    def saved(self, shape):
        out = super().saved(shape)
        if self.has_relative_attention_bias:
            out.append(Saved("relative position buckets", shape[1] * shape[1], "int64", per_batch=True))
        return out

    def cache_elements(self, shape, tokens):
        return _cache_elements(self, shape, tokens)


class LlamaMLP(Module):
    """transformers ``LlamaMLP``: ``down_proj(act_fn(gate_proj(x)) * up_proj(x))`` with
    ``gate_proj``, ``up_proj`` = ``Linear(hidden_size, intermediate_size)``, ``down_proj`` =
    ``Linear(intermediate_size, hidden_size)``, biases only with ``mlp_bias``; ``act_fn`` SiLU.

    Saved: the input (the projections'), and four tensors of ``L·intermediate_size``: the
    gate (SiLU's input), SiLU's output and the up projection (the product's operands),
    and their product (``down_proj``'s input); those four split under tensor parallelism.
    """

    def __init__(self, hidden_size, intermediate_size, mlp_bias=False, name=None):
        super().__init__(name)
        self.hidden_size = size(hidden_size, "LlamaMLP hidden_size")
        self.intermediate_size = size(intermediate_size, "LlamaMLP intermediate_size")
        self.gate_proj = parallel(Linear(self.hidden_size, self.intermediate_size, bias=mlp_bias), "column")
        self.up_proj = parallel(Linear(self.hidden_size, self.intermediate_size, bias=mlp_bias), "column")
        self.down_proj = parallel(Linear(self.intermediate_size, self.hidden_size, bias=mlp_bias), "row")

    def parts(self, shape):
        hidden = (*shape[:-1], self.intermediate_size)
        yield "gate_proj", self.gate_proj, shape
        yield "up_proj", self.up_proj, shape
        yield "down_proj", self.down_proj, hidden

    def saved(self, shape):
        width = elements(shape) / shape[-1] * self.intermediate_size
        return (saved_input(shape),
                *(Saved(name, width, parallel=True) for name in ("gate", "SiLU(gate)", "up", "SiLU(gate)·up")))

    def parallel_sizes(self, shape):
        return (("intermediate_size", self.intermediate_size),)


class T5DenseGatedActDense(Module):
    """transformers ``T5DenseGatedActDense`` (``feed_forward_proj="gated-gelu"``):
    ``wo(dropout(act(wi_0(x)) * wi_1(x)))`` with ``wi_0``, ``wi_1`` = ``Linear(d_model, d_ff,
    bias=False)`` and ``wo`` = ``Linear(d_ff, d_model, bias=False)``; ``act`` is ``gelu_new``
    (:class:`NewGELUActivation`), ``dropout`` T5Config's ``dropout_rate`` (0.1).

    Saved: the input, and tensors of ``L·d_ff``: ``wi_0``'s output (the GELU's input), the
    GELU's three own tensors and its output, ``wi_1``'s output, with ``dropout > 0`` the
    mask, and ``wo``'s input (the product, or the dropped-out product).
    """

    def __init__(self, d_model, d_ff, dropout=0.1, name=None):
        super().__init__(name)
        self.d_model = size(d_model, "T5DenseGatedActDense d_model")
        self.d_ff = size(d_ff, "T5DenseGatedActDense d_ff")
        self.dropout = probability(dropout, "T5DenseGatedActDense: dropout")
        self.wi = parallel(Linear(self.d_model, self.d_ff, bias=False), "column")
        self.wo = parallel(Linear(self.d_ff, self.d_model, bias=False), "row")

    def parts(self, shape):
        yield "wi_0", self.wi, shape
        yield "wi_1", self.wi, shape
        yield "wo", self.wo, (*shape[:-1], self.d_ff)

    def saved(self, shape):
        width = elements(shape) / shape[-1] * self.d_ff
        names = ["wi_0(x)", *NewGELUActivation.internal, "gelu_new(wi_0(x))", "wi_1(x)", "wo input"]
        out = [saved_input(shape), *(Saved(name, width, parallel=True) for name in names)]
        if self.dropout > 0:
            out.append(Saved("dropout mask", width, "mask", parallel=True))
        return out

    def parallel_sizes(self, shape):
        return (("d_ff", self.d_ff),)


def _rms_norm_saved(shape):
    """What ``LlamaRMSNorm`` saves: ``x = input.to(float32)``; ``x.pow(2)`` and
    ``x * rsqrt(…)`` keep ``x`` (the input itself in float32, a float32 copy of a 16-bit
    input: declared as the norm's own float32 tensor, no other layer of these models
    saving the residual stream it reads), ``rsqrt`` keeps its output (float32, one per
    row), and ``weight * x.to(dtype)`` keeps the normalized rows in the input's dtype
    (in 16-bit the cast, the float32 rows it comes from being kept by nobody)."""
    return (Saved("input in float32", elements(shape), "float32"),
            Saved("rstd", elements(shape) / shape[-1], "float32"),
            Saved("normalized", elements(shape)))


class LlamaRMSNorm(RMSNorm):
    """transformers ``LlamaRMSNorm(hidden_size, eps=1e-06)``: root-mean-square normalization
    of the last axis; ``weight (hidden_size,)``, no bias. Saved: :func:`_rms_norm_saved`."""

    def __init__(self, hidden_size, eps=1e-6, name=None):
        super().__init__(hidden_size, eps, name=name)

    def saved(self, shape):
        return _rms_norm_saved(shape)


class T5LayerNorm(RMSNorm):
    """transformers ``T5LayerNorm(hidden_size, eps=1e-06)``: scales by the root mean square,
    no mean subtracted and no bias; ``weight (hidden_size,)``.

    Saved: unlike ``LlamaRMSNorm`` the float32 copy only feeds the variance
    (``x.to(float32).pow(2)`` keeps it), and ``x * rsqrt(…)`` keeps the input itself: in
    float32 one tensor, in 16-bit the input and its float32 copy (``cast``); ``rsqrt``'s
    output (float32, one per row); ``weight * h.to(dtype)`` keeps the normalized rows in
    the input's dtype."""

    def __init__(self, hidden_size, eps=1e-6, name=None):
        super().__init__(hidden_size, eps, name=name)

    def saved(self, shape):
        return (saved_input(shape), Saved("input in float32", elements(shape), "float32", cast=True),
                Saved("rstd", elements(shape) / shape[-1], "float32"), Saved("normalized", elements(shape)))


class NewGELUActivation(GELU):
    """transformers ``NewGELUActivation`` (``gelu_new``, GPT-2's and gated T5's activation):
    ``0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`` written in Python, the tanh
    approximation of GELU. No weights, same shape.

    Saved: the input (``pow`` keeps it) and three tensors of its size made inside:
    ``0.5·x`` and ``1 + tanh(…)`` (the last product's operands) and ``tanh(…)`` (tanh keeps
    its output)."""

    #: the tensors of the input's size the Python formula saves besides its input
    internal = ("0.5·x", "tanh(…)", "1 + tanh(…)")

    def __init__(self, name=None):
        super().__init__("tanh", name=name)

    def saved(self, shape):
        return (saved_input(shape), *(Saved(name, elements(shape)) for name in self.internal))


class LlamaRotaryEmbedding(Layer):
    """transformers ``LlamaRotaryEmbedding`` (``LlamaModel.rotary_emb``): the ``cos`` and
    ``sin`` of each position and rotary frequency, ``(1, L, head_dim)``, computed once per
    forward and used by every layer's ``apply_rotary_pos_emb``. Placed on the hidden
    states ``(None, L, hidden)``, which it passes on unchanged (a view). No weights
    (``inv_freq`` is a buffer), no products.

    Saved: ``cos`` and ``sin`` (``L·head_dim`` each, in the hidden states' dtype, one per
    step: ``(1, L, head_dim)`` broadcast over the batch), which the query's and key's
    products with them keep, one tensor each for all layers."""

    view = True

    def __init__(self, head_dim, name=None):
        super().__init__(name)
        self.head_dim = size(head_dim, "LlamaRotaryEmbedding head_dim")

    def requirements(self, shape):
        _sequence(self, shape)
        return ()

    def saved(self, shape):
        return (Saved("cos", shape[1] * self.head_dim, per_batch=True),
                Saved("sin", shape[1] * self.head_dim, per_batch=True))


class PositionIds(Layer):
    """The positions ``0 … L−1`` of a sequence of token ids ``(None, L)`` (transformers'
    ``arange`` or the ``position_ids`` buffer), for a learned position embedding of
    ``max_position_embeddings`` rows: requires ``L <= max_position_embeddings``.
    Same shape, no weights.

    The position embedding keeps the ids for its backward. GPT-2's ``arange(L)[None]`` is one
    ``(1, L)`` int64 tensor per step, broadcast over the batch: declared here as the output
    (``per_batch``), so that the embedding's saved input is that tensor. ``buffer=True``
    (BERT's slice of the ``position_ids`` buffer) is a buffer, no activation: the layer is
    then marked a view and declares nothing, the embedding's saved ids being the token
    ids' tensor, already counted."""

    def __init__(self, max_position_embeddings, buffer=False, name=None):
        super().__init__(name)
        self.max_position_embeddings = size(max_position_embeddings, "PositionIds max_position_embeddings")
        self.buffer = bool(buffer)
        self.view = self.buffer

    def saved(self, shape):
        return () if self.buffer else (Saved("position ids", shape[1], "int64", "output", per_batch=True),)

    def requirements(self, shape):
        if len(shape) != 2:
            raise ShapeError(f"PositionIds expects token ids (None, L). Received: input shape={size_text(shape)}")
        yield Requirement(sympy.Le(shape[1], self.max_position_embeddings),
                          f"the sequence ({shape[1]} tokens) must fit the learned positions "
                          f"(max_position_embeddings={self.max_position_embeddings})")


class TokenTypeIds(Layer):
    """BERT's default ``token_type_ids``: zeros of the token ids' shape ``(None, L)``. The
    token-type embedding keeps them for its backward: one ``(1, L)`` int64 tensor per step
    expanded over the batch (a ``gather`` from the buffer), declared here as the output
    (``per_batch``) so that the embedding's saved input is that tensor."""

    def __init__(self, name=None):
        super().__init__(name)

    def saved(self, shape):
        return (Saved("token type ids", shape[1], "int64", "output", per_batch=True),)


class Transpose(Layer):
    """``x.transpose(dim0, dim1)``: two axes swapped (neither the batch axis). No weights.
    A view: saves nothing."""

    view = True

    def saved(self, shape):
        return ()

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
    ``(None, L, hidden)`` → ``(None, hidden)``. No weights.

    A view of the sequence: the layer after it that saves its input (the pooler's
    ``dense``) keeps the whole sequence's storage, declared here as the input."""

    view = True

    def __init__(self, name=None):
        super().__init__(name)

    def saved(self, shape):
        return (saved_input(shape),)

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
    ``(None, num_patches + 1, hidden_size)``. No products. Saves nothing (a concatenation
    and a sum).
    """

    def saved(self, shape):
        return ()

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
