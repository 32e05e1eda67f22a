"""torch modules symcount knows, each mapped to the symcount layer with the same
arguments, read from the module's constructor attributes.

A :class:`Mapping` makes the layer (``make(module, size, name)``, where ``size``
symbolizes a size argument) and says what input a lone layer can be built on when no
forward pass was recorded (``probe``: the smallest input it accepts) and how many of the
module's tensor arguments the layer takes (``inputs``). Hugging Face modules are mapped in
:mod:`._hf`. Sizes go through ``size``; options (``eps``, ``inplace``) pass as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import torch as T


@dataclass(frozen=True)
class Mapping:
    """How one torch module class becomes a symcount layer."""

    make: Callable  # (module, size, name) -> Layer; size(value, hint=None)
    probe: Callable  # (module) -> an input shape the layer accepts (batch axis None)
    inputs: int = 1  # tensor arguments the layer takes (3 for MultiheadAttention's query, key, value)


def _t(value):
    """A torch size argument (int or tuple) as a plain tuple or int."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _spatial(m, rank):
    """A spatial input a window module accepts: the dilated kernel's extent per axis."""
    kernel = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,) * rank
    dilation = getattr(m, "dilation", 1)
    dilation = dilation if isinstance(dilation, tuple) else (dilation,) * rank
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def _conv(cls, rank):
    def make(m, size, name):
        padding = m.padding if isinstance(m.padding, str) else _t(m.padding)
        return cls(size(m.in_channels), size(m.out_channels), _t(m.kernel_size), stride=_t(m.stride),
                   padding=padding, dilation=_t(m.dilation), groups=m.groups, bias=m.bias is not None,
                   padding_mode=m.padding_mode, name=name)

    return Mapping(make, lambda m: (None, m.in_channels, *_spatial(m, rank)))


def _conv_transpose(cls, rank):
    def make(m, size, name):
        return cls(size(m.in_channels), size(m.out_channels), _t(m.kernel_size), stride=_t(m.stride),
                   padding=_t(m.padding), output_padding=_t(m.output_padding), groups=m.groups,
                   bias=m.bias is not None, dilation=_t(m.dilation), padding_mode=m.padding_mode, name=name)

    return Mapping(make, lambda m: (None, m.in_channels, *(1,) * rank))


def _batch_norm(cls, rank):
    def make(m, size, name):
        return cls(size(m.num_features), eps=m.eps, momentum=m.momentum, affine=m.affine,
                   track_running_stats=m.track_running_stats, bias=not m.affine or m.bias is not None, name=name)

    return Mapping(make, lambda m: (None, m.num_features, *(1,) * rank))


def _instance_norm(cls, rank):
    def make(m, size, name):
        return cls(size(m.num_features), eps=m.eps, momentum=m.momentum, affine=m.affine,
                   track_running_stats=m.track_running_stats, bias=not m.affine or m.bias is not None, name=name)

    return Mapping(make, lambda m: (None, m.num_features, *(2,) * rank))


def _pool(cls, rank, *args):
    def make(m, size, name):
        return cls(**{a: _t(getattr(m, a)) for a in args}, name=name)

    return Mapping(make, lambda m: (None, 1, *_spatial(m, rank)))


def _adaptive(cls, rank, *args):
    def make(m, size, name):
        return cls(**{a: _t(getattr(m, a)) for a in args}, name=name)

    return Mapping(make, lambda m: (None, 1, *(1,) * rank))


def _elementwise(cls, *args):
    """A weightless module whose arguments are options (activations, dropout)."""
    def make(m, size, name):
        return cls(**{a: getattr(m, a) for a in args}, name=name)

    return Mapping(make, lambda m: (None, 1))


def _layer_norm(m, size, name):
    return T.LayerNorm(size(_t(m.normalized_shape)), eps=m.eps, elementwise_affine=m.elementwise_affine,
                       bias=m.bias is not None if m.elementwise_affine else True, name=name)


def _rms_norm(m, size, name):
    return T.RMSNorm(size(_t(m.normalized_shape)), eps=m.eps, elementwise_affine=m.elementwise_affine, name=name)


def _recurrent(cls):
    def make(m, size, name):
        extra = {}
        if cls is T.LSTM:
            extra["proj_size"] = m.proj_size
        if cls is T.RNN:
            extra["nonlinearity"] = m.nonlinearity
        return cls(size(m.input_size), size(m.hidden_size), num_layers=m.num_layers, bias=m.bias,
                   batch_first=m.batch_first, dropout=m.dropout, bidirectional=m.bidirectional, **extra, name=name)

    return Mapping(make, lambda m: (None, 1, m.input_size) if m.batch_first else (1, None, m.input_size))


def _mha(m, size, name):
    return T.MultiheadAttention(size(m.embed_dim), size(m.num_heads, hint="num_attention_heads"), dropout=m.dropout,
                                bias=m.in_proj_bias is not None, add_bias_kv=m.bias_k is not None,
                                add_zero_attn=m.add_zero_attn, kdim=size(m.kdim), vdim=size(m.vdim),
                                batch_first=m.batch_first, name=name)


def _sequence_probe(width, attention=lambda m: m):
    """A sequence of one step of ``width(m)`` features, batch first when the module's
    attention (``attention(m)``, holding ``batch_first``) is."""
    def probe(m):
        first = getattr(attention(m), "batch_first", False)
        return (None, 1, width(m)) if first else (1, None, width(m))

    return probe


def _embed(layer):
    return lambda m: layer(m).self_attn.embed_dim


def _attention(layer):
    return lambda m: layer(m).self_attn


def _pair(layer):
    """Two sequences (``src``/``tgt`` and ``memory``) for a transformer layer's attention."""
    return lambda m: (_sequence_probe(_embed(layer), _attention(layer))(m),) * 2


_ACTIVATIONS = {1: "relu", 2: "gelu"}


def _encoder_layer(m, size, name):
    return T.TransformerEncoderLayer(**_layer_args(m, size), name=name)


def _decoder_layer(m, size, name):
    return T.TransformerDecoderLayer(**_layer_args(m, size), name=name)


def _layer_args(m, size) -> dict:
    """The constructor arguments of a ``TransformerEncoderLayer``/``DecoderLayer``, read back."""
    activation = _ACTIVATIONS.get(getattr(m, "activation_relu_or_gelu", 0))
    if activation is None:
        activation = {"relu": "relu", "gelu": "gelu"}.get(getattr(m.activation, "__name__", ""), None)
    if activation is None:
        raise NotMapped(f"activation {m.activation!r}")
    return dict(d_model=size(m.self_attn.embed_dim), nhead=size(m.self_attn.num_heads, hint="num_attention_heads"),
                dim_feedforward=size(m.linear1.out_features), dropout=m.dropout.p, activation=activation,
                layer_norm_eps=m.norm1.eps, batch_first=m.self_attn.batch_first, norm_first=m.norm_first,
                bias=m.linear1.bias is not None)


def _stack(cls, layer_cls):
    def make(m, size, name):
        layer = _encoder_layer(m.layers[0], size, None) if layer_cls == "encoder" else \
            _decoder_layer(m.layers[0], size, None)
        norm = None if m.norm is None else _layer_norm(m.norm, size, None)
        count = size(len(m.layers), hint="num_layers", repeat=True)
        return cls(layer, count, norm=norm, name=name)

    return make


class NotMapped(Exception):
    """The module is of a known class, but configured in a way symcount does not model."""


def _transformer(m, size, name):
    encoder, decoder = m.encoder, m.decoder
    args = _layer_args(encoder.layers[0], size)
    return T.Transformer(num_encoder_layers=size(len(encoder.layers), repeat=True),
                         num_decoder_layers=size(len(decoder.layers), repeat=True), **args, name=name)


MODULES: dict[str, Mapping] = {
    "Linear": Mapping(lambda m, size, name: T.Linear(size(m.in_features), size(m.out_features),
                                                     bias=m.bias is not None, name=name),
                      lambda m: (None, m.in_features)),
    "Bilinear": Mapping(lambda m, size, name: T.Bilinear(size(m.in1_features), size(m.in2_features),
                                                         size(m.out_features), bias=m.bias is not None, name=name),
                        lambda m: ((None, m.in1_features), (None, m.in2_features)), inputs=2),
    "Identity": Mapping(lambda m, size, name: T.Identity(name=name), lambda m: (None, 1)),
    "Conv1d": _conv(T.Conv1d, 1), "Conv2d": _conv(T.Conv2d, 2), "Conv3d": _conv(T.Conv3d, 3),
    "ConvTranspose1d": _conv_transpose(T.ConvTranspose1d, 1),
    "ConvTranspose2d": _conv_transpose(T.ConvTranspose2d, 2),
    "ConvTranspose3d": _conv_transpose(T.ConvTranspose3d, 3),
    "BatchNorm1d": _batch_norm(T.BatchNorm1d, 0), "BatchNorm2d": _batch_norm(T.BatchNorm2d, 2),
    "BatchNorm3d": _batch_norm(T.BatchNorm3d, 3),
    "InstanceNorm1d": _instance_norm(T.InstanceNorm1d, 1), "InstanceNorm2d": _instance_norm(T.InstanceNorm2d, 2),
    "InstanceNorm3d": _instance_norm(T.InstanceNorm3d, 3),
    "GroupNorm": Mapping(lambda m, size, name: T.GroupNorm(m.num_groups, size(m.num_channels), eps=m.eps,
                                                           affine=m.affine,
                                                           bias=not m.affine or m.bias is not None, name=name),
                         lambda m: (None, m.num_channels, 1)),
    "LayerNorm": Mapping(_layer_norm, lambda m: (None, *_t(m.normalized_shape))),
    "RMSNorm": Mapping(_rms_norm, lambda m: (None, *_t(m.normalized_shape))),
    "Embedding": Mapping(lambda m, size, name: T.Embedding(size(m.num_embeddings), size(m.embedding_dim),
                                                           padding_idx=m.padding_idx, name=name),
                         lambda m: (None, 1)),
    "MaxPool1d": _pool(T.MaxPool1d, 1, "kernel_size", "stride", "padding", "dilation", "return_indices",
                       "ceil_mode"),
    "MaxPool2d": _pool(T.MaxPool2d, 2, "kernel_size", "stride", "padding", "dilation", "return_indices",
                       "ceil_mode"),
    "MaxPool3d": _pool(T.MaxPool3d, 3, "kernel_size", "stride", "padding", "dilation", "return_indices",
                       "ceil_mode"),
    "AvgPool1d": _pool(T.AvgPool1d, 1, "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AvgPool2d": _pool(T.AvgPool2d, 2, "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                       "divisor_override"),
    "AvgPool3d": _pool(T.AvgPool3d, 3, "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                       "divisor_override"),
    "AdaptiveAvgPool1d": _adaptive(T.AdaptiveAvgPool1d, 1, "output_size"),
    "AdaptiveAvgPool2d": _adaptive(T.AdaptiveAvgPool2d, 2, "output_size"),
    "AdaptiveAvgPool3d": _adaptive(T.AdaptiveAvgPool3d, 3, "output_size"),
    "AdaptiveMaxPool1d": _adaptive(T.AdaptiveMaxPool1d, 1, "output_size", "return_indices"),
    "AdaptiveMaxPool2d": _adaptive(T.AdaptiveMaxPool2d, 2, "output_size", "return_indices"),
    "AdaptiveMaxPool3d": _adaptive(T.AdaptiveMaxPool3d, 3, "output_size", "return_indices"),
    "RNN": _recurrent(T.RNN), "LSTM": _recurrent(T.LSTM), "GRU": _recurrent(T.GRU),
    "MultiheadAttention": Mapping(_mha, _sequence_probe(lambda m: m.embed_dim), inputs=3),
    "TransformerEncoderLayer": Mapping(_encoder_layer, _sequence_probe(_embed(lambda m: m), _attention(lambda m: m))),
    "TransformerDecoderLayer": Mapping(_decoder_layer, _pair(lambda m: m), inputs=2),
    "TransformerEncoder": Mapping(_stack(T.TransformerEncoder, "encoder"),
                                  _sequence_probe(_embed(lambda m: m.layers[0]), _attention(lambda m: m.layers[0]))),
    "TransformerDecoder": Mapping(_stack(T.TransformerDecoder, "decoder"), _pair(lambda m: m.layers[0]), inputs=2),
    "Transformer": Mapping(_transformer, _pair(lambda m: m.encoder.layers[0]), inputs=2),
    "PReLU": Mapping(lambda m, size, name: T.PReLU(m.num_parameters, name=name), lambda m: (None, m.num_parameters)),
    "Flatten": _elementwise(T.Flatten, "start_dim", "end_dim"),
    "Unflatten": _elementwise(T.Unflatten, "dim", "unflattened_size"),
    "ReLU": _elementwise(T.ReLU, "inplace"), "ReLU6": _elementwise(T.ReLU6, "inplace"),
    "GELU": _elementwise(T.GELU, "approximate"), "SiLU": _elementwise(T.SiLU, "inplace"),
    "Tanh": _elementwise(T.Tanh), "Sigmoid": _elementwise(T.Sigmoid), "Mish": _elementwise(T.Mish, "inplace"),
    "Hardswish": _elementwise(T.Hardswish, "inplace"), "Hardsigmoid": _elementwise(T.Hardsigmoid, "inplace"),
    "Hardtanh": _elementwise(T.Hardtanh, "min_val", "max_val", "inplace"),
    "LeakyReLU": _elementwise(T.LeakyReLU, "negative_slope", "inplace"),
    "ELU": _elementwise(T.ELU, "alpha", "inplace"), "CELU": _elementwise(T.CELU, "alpha", "inplace"),
    "SELU": _elementwise(T.SELU, "inplace"), "GLU": _elementwise(T.GLU, "dim"),
    "Softmax": _elementwise(T.Softmax, "dim"), "LogSoftmax": _elementwise(T.LogSoftmax, "dim"),
    "Softmin": _elementwise(T.Softmin, "dim"), "Softplus": _elementwise(T.Softplus, "beta", "threshold"),
    "Softsign": _elementwise(T.Softsign), "LogSigmoid": _elementwise(T.LogSigmoid),
    "Tanhshrink": _elementwise(T.Tanhshrink), "Softshrink": _elementwise(T.Softshrink, "lambd"),
    "Hardshrink": _elementwise(T.Hardshrink, "lambd"),
    "Threshold": _elementwise(T.Threshold, "threshold", "value", "inplace"),
    "Dropout": _elementwise(T.Dropout, "p", "inplace"), "Dropout1d": _elementwise(T.Dropout1d, "p", "inplace"),
    "Dropout2d": _elementwise(T.Dropout2d, "p", "inplace"), "Dropout3d": _elementwise(T.Dropout3d, "p", "inplace"),
    "AlphaDropout": _elementwise(T.AlphaDropout, "p", "inplace"),
}


def mapping_of(module) -> Mapping | None:
    """The mapping of a ``torch.nn`` module: its class or the nearest ``torch.nn`` base
    class (``NonDynamicallyQuantizableLinear`` is a ``Linear``). A subclass that adds
    parameters is caught later, when its count is checked against the module's."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.modules") and cls.__name__ in MODULES:
            return MODULES[cls.__name__]
    return None
