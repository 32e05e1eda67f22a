"""torch transformers: ``TransformerEncoderLayer``, ``TransformerDecoderLayer``,
``TransformerEncoder``, ``TransformerDecoder`` and ``Transformer``.

Each is composed of the layers torch builds it from (``MultiheadAttention``, ``Linear``,
``LayerNorm``): the weights are theirs under torch's attribute names
(``self_attn.in_proj_weight``, ``linear1.weight``, ``norm1.bias``, ``layers.0.…``,
``encoder.norm.weight``), never a formula of their own.
"""

from __future__ import annotations

import dataclasses

from ..dims import size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer
from ..saved import Saved
from .common import elements, equal, prefixed, saved_input, size, stacked
from .attention import MultiheadAttention
from .linear import Linear
from .normalization import LayerNorm


def _activation(activation, owner: str):
    """torch accepts ``"relu"``, ``"gelu"`` or a callable; a symcount layer (``PReLU()``)
    brings its weights as ``activation.*``."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise ArgumentError(f"{owner}: activation should be relu/gelu, not {activation}")
        return activation
    if isinstance(activation, Layer) or callable(activation):
        return activation
    raise ArgumentError(f"{owner}: activation must be 'relu', 'gelu' or a callable. Received: {activation!r}")


def _pair(shape, owner: str, names: str):
    """Two input shapes: ``[tgt, memory]`` or ``[src, tgt]``."""
    if not shape or not isinstance(shape[0], tuple) or len(shape) != 2:
        raise ShapeError(f"{owner} takes two inputs [{names}]. Received: input shape={size_text(shape)}")
    return shape


def attention_saved(length, source, e, h, dropout, self_attention: bool):
    """What ``scaled_dot_product_attention`` and the projections around it keep in a
    transformer layer (``need_weights=False``), per example, besides the projections'
    inputs: ``L`` queries, ``S`` keys, ``E = d_model``, ``h`` heads.

    - Both kernels: self-attention's packed ``q, k, v`` (``3·L·E``; the kernel keeps views of
      it) or cross-attention's packed ``k, v`` (``2·S·E``), and the heads' output (``L·E``:
      the eager kernel's made contiguous for ``out_proj``, the fused kernel's kept by it and
      shared with ``out_proj``).
    - ``attention="eager"`` (torch's math kernel, which the CPU runs when ``dropout > 0``):
      ``q`` and ``k`` each multiplied by ``√scale`` (``L·E``, ``S·E``), the softmax output
      ``h·L·S`` and with dropout its mask and the dropped probabilities (``h·L·S`` each);
      these three are recomputed under selective recomputation.
    - ``attention="flash"`` (the fused kernels): the fp32 log-sum-exp ``h·L``, and in
      cross-attention the projected query ``L·E`` (a tensor of its own there).
    """
    if self_attention:
        yield Saved("q, k, v", 3 * length * e)
    else:
        yield Saved("k, v", 2 * source * e)
    yield Saved("attention output", length * e)
    yield Saved("scaled query", length * e, attention="eager")
    yield Saved("scaled key", source * e, attention="eager")
    yield Saved("softmax", h * length * source, selective=True, attention="eager")
    if dropout > 0:
        yield Saved("attention dropout mask", h * length * source, "mask", selective=True, attention="eager")
        yield Saved("dropped probabilities", h * length * source, selective=True, attention="eager")
    yield Saved("logsumexp", h * length, "float32", attention="flash")
    if not self_attention:
        yield Saved("query", length * e, attention="flash")


def internal(entries, keep=()):
    """The entries as tensors of the enclosing layer only (``tensor=""``), except those
    whose ``tensor`` is in ``keep``."""
    for entry in entries:
        yield entry if entry.tensor in keep else dataclasses.replace(entry, tensor="")


class Sublayers(Layer):
    """A layer made of named torch sub-modules: ``parts(shape)`` yields ``(attribute,
    layer, the shape it receives)``; weights are the parts' under ``attribute.name``
    (``self_attn.in_proj_weight``), requirements and products are the parts'."""

    def parts(self, shape):
        """``(attribute name, layer, the shape it receives)`` in torch's registration order."""
        raise NotImplementedError

    def requirements(self, shape):
        for _, layer, part_shape in self.parts(shape):
            yield from layer.requirements(part_shape)

    def weights(self, shape):
        for attribute, layer, part_shape in self.parts(shape):
            yield from prefixed(attribute, layer.weights(part_shape))

    def product_label(self, attribute: str, product) -> str:
        """How a part's product is labelled: ``self_attn projections``, ``linear1``."""
        return f"{attribute} {product.label}" if product.label else attribute

    def products(self, shape):
        for attribute, layer, part_shape in self.parts(shape):
            for product in layer.products(part_shape):
                yield dataclasses.replace(product, label=self.product_label(attribute, product))


class _TransformerLayer(Sublayers):
    """What the encoder and decoder layers share: arguments, feed-forward and norms."""

    def _setup(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
               norm_first, bias):
        owner = type(self).__name__
        self.d_model = size(d_model, f"{owner} d_model")
        self.nhead = size(nhead, f"{owner} nhead")
        self.dim_feedforward = size(dim_feedforward, f"{owner} dim_feedforward")
        self.dropout, self.layer_norm_eps = dropout, layer_norm_eps
        self.activation = _activation(activation, owner)
        self.batch_first, self.norm_first, self.bias = bool(batch_first), bool(norm_first), bool(bias)
        self.attention = MultiheadAttention(self.d_model, self.nhead, dropout=dropout, bias=self.bias,
                                            batch_first=self.batch_first)
        self.linear1 = Linear(self.d_model, self.dim_feedforward, bias=self.bias)
        self.linear2 = Linear(self.dim_feedforward, self.d_model, bias=self.bias)
        self.norm = LayerNorm(self.d_model, eps=layer_norm_eps, bias=self.bias)

    def _feedforward(self, x, norms: int):
        hidden = (*x[:-1], self.dim_feedforward)
        yield "linear1", self.linear1, x
        yield "linear2", self.linear2, hidden
        for i in range(1, norms + 1):
            yield f"norm{i}", self.norm, x
        if isinstance(self.activation, Layer):
            yield "activation", self.activation, hidden

    def output_shape(self, shape):
        return tuple(self._target(shape))

    def _activation_saved(self, hidden):
        """The feed-forward activation's saved tensors (``relu`` keeps its output, which
        ``linear2`` keeps too; ``gelu`` its input); None for a callable without a rule."""
        if self.activation == "relu":
            return [Saved("activation output", elements(hidden))]
        if self.activation == "gelu":
            return [Saved("linear1 output", elements(hidden))]
        if isinstance(self.activation, Layer):
            found = self.activation.saved(hidden)
            return None if found is None else list(internal(found))
        return None

    def _blocks_saved(self, x, attention_blocks):
        """Training, per example, torch's ``forward`` (``need_weights=False``): every block
        (``attention_blocks``: ``(query length, key length, self-attention?)``, then the
        feed-forward) keeps its input as its first product's input, its own tensors
        (:func:`attention_saved`; ``linear1``'s output through the activation, then the
        dropout's mask and output), the mask of the dropout after it, and the LayerNorm's
        input (the residual sum after the block, or with ``norm_first`` the block's input)
        and fp32 mean and rstd per position. With ``norm_first`` the norm's output is what
        the block's product keeps; otherwise the block's input itself (the first block's is
        the layer's input). With ``batch_first`` torch transposes the attention's inputs and
        ``linear`` keeps contiguous copies instead."""
        e, h, p = self.d_model, self.nhead, self.dropout
        rows = elements(x) / e
        hidden = (*x[:-1], self.dim_feedforward)
        activation = self._activation_saved(hidden)
        if activation is None:
            return None
        out = []
        for index, (length, source, self_attention) in enumerate(attention_blocks):
            if self.norm_first or self.batch_first or index > 0:
                out.append(Saved("attention input", length * e))
            else:
                out.append(saved_input(x))
            if not self_attention:
                out.append(Saved("memory copy", source * e) if self.batch_first
                           else Saved("memory", source * e, tensor="input1"))
            out.extend(attention_saved(length, source, e, h, p, self_attention))
        # the feed-forward block: linear1's input, the activation, dropout, linear2's input
        out.append(Saved("linear1 input", elements(x)))
        out.extend(activation)
        if p > 0:
            out.append(Saved("dropout mask", elements(hidden), "mask"))
            out.append(Saved("dropout output", elements(hidden)))
        elif self.activation == "gelu" or isinstance(self.activation, Layer):
            out.append(Saved("activation output", elements(hidden)))
        blocks = len(attention_blocks) + 1
        if p > 0:
            out.extend(Saved(f"dropout{i + 1} mask", elements(x), "mask") for i in range(blocks))
        for i in range(blocks):
            if self.norm_first and i == 0:
                out.append(saved_input(x))
            else:
                out.append(Saved(f"norm{i + 1} input", elements(x)))
            out.append(Saved(f"norm{i + 1} mean", rows, "statistic"))
            out.append(Saved(f"norm{i + 1} rstd", rows, "statistic"))
        return out


class TransformerEncoderLayer(_TransformerLayer):
    """torch ``nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True)``
    on ``src (S, N, d_model)`` (``(N, S, d_model)`` with ``batch_first``). Same shape out.

    Weights: ``self_attn.*`` of ``MultiheadAttention(d_model, nhead, bias=bias)``
    (``in_proj_weight (3·d_model, d_model)``, ``in_proj_bias``, ``out_proj.weight``,
    ``out_proj.bias``), ``linear1`` = ``Linear(d_model, dim_feedforward)``, ``linear2`` =
    ``Linear(dim_feedforward, d_model)``, ``norm1``, ``norm2`` = ``LayerNorm(d_model)``; every
    bias only when ``bias``. MACs: the attention's plus ``2·S·d_model·dim_feedforward``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, name=None):
        super().__init__(name)
        self._setup(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                    norm_first, bias)

    def _target(self, shape):
        return shape

    def parts(self, shape):
        yield "self_attn", self.attention, shape
        yield from self._feedforward(shape, 2)

    def saved(self, shape):
        length = shape[1] if self.batch_first else shape[0]
        return self._blocks_saved(shape, [(length, length, True)])


class TransformerDecoderLayer(_TransformerLayer):
    """torch ``nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation='relu', layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True)``
    called on ``[tgt, memory]``: ``tgt (T, N, d_model)``, ``memory (S, N, d_model)``
    (batch first with ``batch_first``). Output: the shape of ``tgt``.

    Weights: ``self_attn.*`` and ``multihead_attn.*`` (two ``MultiheadAttention(d_model,
    nhead)``), ``linear1``, ``linear2``, ``norm1``, ``norm2``, ``norm3``, as the encoder
    layer. MACs: self-attention over ``tgt``, cross-attention from ``tgt`` to ``memory``,
    and ``2·T·d_model·dim_feedforward``.
    """

    n_inputs = 2

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, name=None):
        super().__init__(name)
        self._setup(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                    norm_first, bias)

    def _target(self, shape):
        return _pair(shape, "TransformerDecoderLayer", "tgt, memory")[0]

    def parts(self, shape):
        tgt, memory = _pair(shape, "TransformerDecoderLayer", "tgt, memory")
        yield "self_attn", self.attention, tgt
        yield "multihead_attn", self.attention, (tgt, memory, memory)
        yield from self._feedforward(tgt, 3)

    def saved(self, shape):
        tgt, memory = _pair(shape, "TransformerDecoderLayer", "tgt, memory")
        axis = 1 if self.batch_first else 0
        return self._blocks_saved(tgt, [(tgt[axis], tgt[axis], True), (tgt[axis], memory[axis], False)])


class _Stack(Sublayers):
    """``num_layers`` clones of a layer, then an optional norm (torch's ``_get_clones``)."""

    def _setup_stack(self, layer, num_layers, norm, kind):
        owner = type(self).__name__
        if not isinstance(layer, Layer):
            raise ArgumentError(f"{owner}: {kind} must be a symcount layer (a Transformer{kind[:-6].title()}Layer). "
                                f"Received: {layer!r}")
        if norm is not None and not isinstance(norm, Layer):
            raise ArgumentError(f"{owner}: norm must be a symcount layer or None. Received: {norm!r}")
        self.num_layers = size(num_layers, f"{owner} num_layers")
        self.layer, self.norm = layer, norm

    def _target(self, shape):
        return shape

    def requirements(self, shape):
        yield from self.layer.requirements(shape)
        target = self._target(shape)
        out = self.layer.output_shape(shape)
        if len(out) != len(target):
            raise ShapeError(f"each of the {self.num_layers} layers must keep the shape it receives. "
                             f"Received: {size_text(target)} → {size_text(out)}")
        for a, b in zip(out, target):
            if a is not None:
                yield equal(a, b, f"each of the {self.num_layers} stacked layers must keep its input shape")
        if self.norm is not None:
            yield from self.norm.requirements(target)

    def weights(self, shape):
        inner = tuple(self.layer.weights(shape))
        if self.num_layers.is_Integer:
            for i in range(int(self.num_layers)):
                yield from prefixed(f"layers.{i}", inner)
        else:
            yield from stacked(inner, self.num_layers, lambda name: f"layers.*.{name}")
        if self.norm is not None:
            yield from prefixed("norm", self.norm.weights(self._target(shape)))

    def products(self, shape):
        for p in self.layer.products(shape):
            yield p.scaled(self.num_layers)
        if self.norm is not None:
            yield from self.norm.products(self._target(shape))

    def output_shape(self, shape):
        return tuple(self._target(shape))

    def saved(self, shape):
        """Training: the first layer's tensors (its input is the stack's), the other
        ``num_layers − 1`` layers' as tensors of the stack (a decoder's ``memory``, which
        every layer's cross-attention keeps, stays one tensor), then the final norm's (its
        input is the last layer's output)."""
        entries = self.layer.saved(shape)
        if entries is None:
            return None
        entries = list(entries)
        out = list(entries)
        for entry in internal(entries, keep=("input1",)):
            out.append(dataclasses.replace(entry, size=entry.size * (self.num_layers - 1)) if entry.tensor == ""
                       else None)
        out = [entry for entry in out if entry is not None]
        if self.norm is not None:
            norm = self.norm.saved(self._target(shape))
            if norm is None:
                return None
            out.extend(internal(norm))
        return [entry for entry in out if entry.size != 0]


class TransformerEncoder(_Stack):
    """torch ``nn.TransformerEncoder(encoder_layer, num_layers, norm=None)``: ``num_layers``
    clones of ``encoder_layer`` (a ``TransformerEncoderLayer``), then ``norm``. Same shape.

    Weights: ``layers.{i}.*`` for ``i = 0 … num_layers − 1`` (a symbolic ``num_layers``:
    stacked weights ``layers.*.…`` with a leading axis ``num_layers``), ``norm.*``.
    MACs: ``num_layers`` times the layer's.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True, name=None):
        super().__init__(name)
        self._setup_stack(encoder_layer, num_layers, norm, "encoder_layer")


class TransformerDecoder(_Stack):
    """torch ``nn.TransformerDecoder(decoder_layer, num_layers, norm=None)`` called on
    ``[tgt, memory]``: ``num_layers`` clones of ``decoder_layer``, then ``norm``. Output: the
    shape of ``tgt``.

    Weights: ``layers.{i}.*`` (symbolic ``num_layers``: ``layers.*.…`` stacked), ``norm.*``.
    MACs: ``num_layers`` times the layer's.
    """

    n_inputs = 2

    def __init__(self, decoder_layer, num_layers, norm=None, name=None):
        super().__init__(name)
        self._setup_stack(decoder_layer, num_layers, norm, "decoder_layer")

    def _target(self, shape):
        return _pair(shape, "TransformerDecoder", "tgt, memory")[0]


class Transformer(Sublayers):
    """torch ``nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation='relu', custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-05, batch_first=False, norm_first=False,
    bias=True)`` called on ``[src, tgt]``: ``src (S, N, d_model)``, ``tgt (T, N, d_model)``
    (batch first with ``batch_first``). Output: the shape of ``tgt``.

    Weights: ``encoder.*`` = ``TransformerEncoder(TransformerEncoderLayer(…),
    num_encoder_layers, LayerNorm(d_model))`` and ``decoder.*`` =
    ``TransformerDecoder(TransformerDecoderLayer(…), num_decoder_layers, LayerNorm(d_model))``
    (``encoder.layers.0.self_attn.in_proj_weight``, …, ``decoder.norm.bias``).
    torch requires the last axis of ``src`` and ``tgt`` to equal ``d_model``. MACs: the
    encoder's over ``src`` and the decoder's over ``tgt`` with ``memory`` shaped as ``src``.
    """

    n_inputs = 2

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, name=None):
        super().__init__(name)
        self.d_model = size(d_model, "Transformer d_model")
        self.nhead = size(nhead, "Transformer nhead")
        self.batch_first = bool(batch_first)
        shared = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                      layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias)
        for what, custom in (("custom_encoder", custom_encoder), ("custom_decoder", custom_decoder)):
            if custom is not None and not isinstance(custom, Layer):
                raise ArgumentError(f"Transformer: {what} must be a symcount layer or None. Received: {custom!r}")
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(self.d_model, self.nhead, **shared), num_encoder_layers,
            LayerNorm(self.d_model, eps=layer_norm_eps, bias=bias))
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(self.d_model, self.nhead, **shared), num_decoder_layers,
            LayerNorm(self.d_model, eps=layer_norm_eps, bias=bias))

    def parts(self, shape):
        src, tgt = _pair(shape, "Transformer", "src, tgt")
        yield "encoder", self.encoder, src
        yield "decoder", self.decoder, (tgt, self.encoder.output_shape(src))

    def requirements(self, shape):
        src, tgt = _pair(shape, "Transformer", "src, tgt")
        for what, s in (("src", src), ("tgt", tgt)):
            yield equal(s[-1], self.d_model, f"the feature number of src and tgt must be equal to d_model "
                                             f"({self.d_model}); {what} has {s[-1]}")
        yield from super().requirements(shape)

    def output_shape(self, shape):
        src, tgt = _pair(shape, "Transformer", "src, tgt")
        return tuple(tgt)

    def saved(self, shape):
        """Training: the encoder's tensors (``src`` is the model's first input) and the
        decoder's (``tgt`` its second; the encoder's output, ``memory``, a tensor of the
        transformer that every decoder layer keeps once)."""
        src, tgt = _pair(shape, "Transformer", "src, tgt")
        encoder = self.encoder.saved(src)
        decoder = self.decoder.saved((tgt, self.encoder.output_shape(src)))
        if encoder is None or decoder is None:
            return None
        out = list(encoder)
        for entry in decoder:
            out.append(dataclasses.replace(entry, tensor={"input": "input1", "input1": ""}.get(entry.tensor, "")))
        return out
