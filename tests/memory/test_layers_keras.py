"""Each symcount.keras layer's saved tensors against what autograd saves for the Keras
layer on the torch backend (``KERAS_BACKEND=torch``, training, ``saved_tensors_hooks``,
unique storages, the layer's variables excluded), at two input sizes through the formula.

Keras's torch backend also saves tensors whose size does not depend on the batch (a
convolution kernel permuted into a copy, BatchNormalization's per-channel statistics, 0-d
constants), declared ``per_batch``: the totals are compared at batches of 2 and 3, which
checks the per-example and the per-batch parts separately."""

from __future__ import annotations

import keras
import pytest

import symcount as sc
import symcount.keras as K
from tests.keras.keras_builders import keras_layer
from tests.keras.saved_truth import keras_saved_bytes

H, W, T = sc.dims("H W T")
SIZES = ({"H": 6, "W": 7, "T": 5}, {"H": 9, "W": 8, "T": 8})
L = keras.layers


BATCHES = (2, 3)


pytestmark = pytest.mark.oracle


def _batches(values):
    """Both batch sizes at the first size (per example and per batch apart), one at the second."""
    return BATCHES if values is SIZES[0] or not values else BATCHES[:1]


def ours(layer, template, values, attention="eager"):
    """symcount's bytes (float32, CPU) of ``layer`` on ``template`` at each of ``BATCHES``."""
    several = isinstance(template, list)
    if several:
        inputs = [K.Input(t) for t in template]
        count = sc.Model(inputs, layer(inputs)).count()
    else:
        count = K.Sequential([K.Input(template), layer]).count()
    used = {k: v for k, v in values.items() if k in {d.name for d in count.dims}}
    found = []
    for batch in _batches(values):
        memory = count.subs(**used).memory(device="cpu", batch_size=batch, attention=attention)
        assert memory.undeclared == ()
        found.append(int(memory.activations))
    return found


def _concrete(template, values):
    if isinstance(template, list):
        return [_concrete(t, values) for t in template]
    return tuple(values[s.name] if hasattr(s, "name") else s for s in template)


def truth(factory, template, values, integer=None):
    """Keras's bytes at each of ``BATCHES`` (a fresh layer each time)."""
    shape = _concrete(template, values)
    if isinstance(shape, list):
        return [keras_saved_bytes(factory(), [(b, *s) for s in shape], integer) for b in _batches(values)]
    return [keras_saved_bytes(factory(), (b, *shape), integer) for b in _batches(values)]


HWC, TC = (H, W, 3), (T, 4)
# (name, symcount layer, input template); the Keras layer is built from the same arguments
CASES = [
    ("Dense", lambda: K.Dense(5), (T, 4)),
    ("Dense 2d", lambda: K.Dense(5, use_bias=False), (4,)),
    ("Conv2D", lambda: K.Conv2D(4, 3), HWC),
    ("Conv2D same", lambda: K.Conv2D(4, 3, padding="same"), HWC),
    ("Conv2D same strided", lambda: K.Conv2D(4, 3, strides=2, padding="same"), HWC),
    ("Conv2D same even", lambda: K.Conv2D(4, (4, 3), padding="same", activation="relu"), HWC),
    ("Conv2D groups", lambda: K.Conv2D(6, 3, groups=3, activation="gelu"), HWC),
    ("Conv1D", lambda: K.Conv1D(4, 3), TC),
    ("Conv1D causal", lambda: K.Conv1D(4, 3, padding="causal", dilation_rate=2), TC),
    ("Conv3D", lambda: K.Conv3D(2, 2), (T, H, W, 3)),
    ("Conv2DTranspose", lambda: K.Conv2DTranspose(4, 3, strides=2, padding="same"), HWC),
    ("Conv1DTranspose", lambda: K.Conv1DTranspose(4, 3), TC),
    ("DepthwiseConv2D", lambda: K.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), HWC),
    ("DepthwiseConv1D", lambda: K.DepthwiseConv1D(3), TC),
    ("SeparableConv2D", lambda: K.SeparableConv2D(4, 3, activation="relu"), HWC),
    ("SeparableConv1D", lambda: K.SeparableConv1D(4, 3, padding="same"), TC),
    ("BatchNormalization", lambda: K.BatchNormalization(), HWC),
    ("BatchNormalization no scale", lambda: K.BatchNormalization(scale=False), (T, 4)),
    ("LayerNormalization", lambda: K.LayerNormalization(), (T, 4)),
    ("LayerNormalization axes", lambda: K.LayerNormalization(axis=[1, 2]), (T, 4)),
    ("LayerNormalization rms", lambda: K.LayerNormalization(rms_scaling=True), (T, 4)),
    ("GroupNormalization", lambda: K.GroupNormalization(2), (H, 4)),
    ("GroupNormalization -1", lambda: K.GroupNormalization(-1, scale=False), (H, W, 4)),
    ("UnitNormalization", lambda: K.UnitNormalization(), (T, 4)),
    ("MaxPooling2D", lambda: K.MaxPooling2D(), HWC),
    ("MaxPooling2D same", lambda: K.MaxPooling2D(padding="same"), HWC),
    ("MaxPooling1D", lambda: K.MaxPooling1D(3, strides=1, padding="same"), TC),
    ("MaxPooling3D", lambda: K.MaxPooling3D(), (T, H, W, 2)),
    ("AveragePooling2D", lambda: K.AveragePooling2D(2), HWC),
    ("AveragePooling2D same", lambda: K.AveragePooling2D(2, padding="same"), HWC),
    ("AveragePooling1D", lambda: K.AveragePooling1D(2), TC),
    ("GlobalAveragePooling2D", lambda: K.GlobalAveragePooling2D(), HWC),
    ("GlobalMaxPooling2D", lambda: K.GlobalMaxPooling2D(), HWC),
    ("GlobalMaxPooling1D", lambda: K.GlobalMaxPooling1D(keepdims=True), TC),
    ("Dropout", lambda: K.Dropout(0.3), HWC),
    ("Dropout 0", lambda: K.Dropout(0.0), HWC),
    ("Dropout 1", lambda: K.Dropout(1.0), HWC),
    ("Dropout noise_shape", lambda: K.Dropout(0.3, noise_shape=(None, 1, None, 3)), HWC),
    ("ReLU", lambda: K.ReLU(), HWC),
    ("ReLU 6", lambda: K.ReLU(6.0), HWC),
    ("ReLU threshold", lambda: K.ReLU(threshold=0.5), HWC),
    ("Flatten", lambda: K.Flatten(), HWC),
    ("Reshape", lambda: K.Reshape((-1,)), HWC),
    ("Permute", lambda: K.Permute((2, 1, 3)), HWC),
    ("RepeatVector", lambda: K.RepeatVector(3), (4,)),
    ("ZeroPadding2D", lambda: K.ZeroPadding2D(1), HWC),
    ("Cropping2D", lambda: K.Cropping2D(1), HWC),
    ("UpSampling2D", lambda: K.UpSampling2D(2), HWC),
    ("Rescaling", lambda: K.Rescaling(0.5, 1.0), HWC),
    ("LayerScale", lambda: K.LayerScale(0.1, 3), HWC),
]
ACTIVATIONS = ["relu", "sigmoid", "softmax", "tanh", "exponential", "log_softmax", "gelu", "silu", "elu", "selu",
               "softplus", "relu6", "leaky_relu", "hard_sigmoid", "hard_silu", "celu", "hard_tanh", "hard_shrink",
               "soft_shrink", "softsign", "mish", "log_sigmoid", "squareplus", "tanh_shrink", "sparse_plus",
               "sparse_sigmoid", "sparsemax", "linear"]
CASES += [(f"Activation {a}", lambda a=a: K.Activation(a), (T, 4)) for a in ACTIVATIONS]
CASES += [(f"Dense {a}", lambda a=a: K.Dense(3, activation=a), (T, 4)) for a in ACTIVATIONS]


def _keras(layer, values):
    if layer.type_name in ("LayerScale",):
        from keras.src.applications.convnext import LayerScale
        return LayerScale(layer.init_values, layer.projection_dim)
    return keras_layer(layer, values)


@pytest.mark.parametrize("name, make, template", CASES, ids=[c[0] for c in CASES])
def test_layer_saves_what_autograd_saves(name, make, template):
    for values in SIZES:
        assert ours(make(), template, values) == truth(lambda: _keras(make(), values), template, values), \
            (name, values)


MERGES = [
    ("Add", lambda: K.Add(), 2), ("Subtract", lambda: K.Subtract(), 2), ("Average", lambda: K.Average(), 3),
    ("Multiply", lambda: K.Multiply(), 2), ("Multiply 3", lambda: K.Multiply(), 3),
    ("Maximum 3", lambda: K.Maximum(), 3),
    ("Minimum", lambda: K.Minimum(), 2), ("Concatenate", lambda: K.Concatenate(), 2),
    ("Dot", lambda: K.Dot(axes=2), 2), ("Dot normalize", lambda: K.Dot(axes=2, normalize=True), 2),
]


@pytest.mark.parametrize("name, make, n", MERGES, ids=[m[0] for m in MERGES])
def test_merging(name, make, n):
    for values in SIZES:
        template = [(T, 4)] * n
        theirs = truth(lambda: keras_layer(make()), template, values)
        assert ours(make(), template, values) == theirs, (name, values)


def test_embedding():
    for values in SIZES:
        theirs = truth(lambda: L.Embedding(20, 4), (T,), values, integer=20)
        assert ours(K.Embedding(20, 4), (T,), values) == theirs


def test_stochastic_depth():
    from keras.src.applications.convnext import StochasticDepth
    for rate in (0.0, 0.3):
        for values in SIZES:
            theirs = truth(lambda: StochasticDepth(rate), HWC, values)
            assert ours(K.StochasticDepth(rate), HWC, values) == theirs


RECURRENT = [
    (kind, kwargs) for kind in ("SimpleRNN", "LSTM", "GRU")
    for kwargs in ({}, {"dropout": 0.2}, {"recurrent_dropout": 0.3}, {"dropout": 0.1, "recurrent_dropout": 0.2},
                   {"return_sequences": True, "activation": "relu"}, {"go_backwards": True})
] + [("GRU", {"reset_after": False}), ("GRU", {"reset_after": False, "dropout": 0.2}),
     ("GRU", {"reset_after": False, "recurrent_dropout": 0.2})]


@pytest.mark.parametrize("kind, kwargs", RECURRENT, ids=[f"{k}-{v}" for k, v in RECURRENT])
def test_recurrent(kind, kwargs):
    for values, (features, units) in zip(SIZES, ((4, 5), (3, 7))):
        theirs = truth(lambda: getattr(L, kind)(units, **kwargs), (T, features), values)
        assert ours(getattr(K, kind)(units, **kwargs), (T, features), values) == theirs, (kind, kwargs, values)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional(merge_mode):
    for values in SIZES:
        theirs = truth(lambda: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=merge_mode),
                               TC, values)
        model = K.Bidirectional(K.LSTM(3, return_sequences=True), merge_mode=merge_mode)
        assert ours(model, TC, values) == theirs


@pytest.mark.parametrize("inner", ["Dense", "Conv1D"])
def test_time_distributed(inner):
    for values in SIZES:
        if inner == "Dense":
            theirs, mine, template = (lambda: L.TimeDistributed(L.Dense(3))), K.TimeDistributed(K.Dense(3)), (T, 4)
        else:
            theirs = lambda: L.TimeDistributed(L.Conv1D(2, 3))  # noqa: E731
            mine, template = K.TimeDistributed(K.Conv1D(2, 3)), (T, 6, 4)
        theirs = truth(theirs, template, values)
        assert ours(mine, template, values) == theirs


class _SelfAttention(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__()
        self.attention = L.MultiHeadAttention(**kwargs)

    def build(self, shape):
        self.attention.build(shape, shape)

    def call(self, x, training=None):
        return self.attention(x, x, training=training)


ATTENTION = [{"num_heads": 2, "key_dim": 3}, {"num_heads": 3, "key_dim": 4, "value_dim": 2},
             {"num_heads": 2, "key_dim": 3, "dropout": 0.3}, {"num_heads": 2, "key_dim": 2, "output_shape": 5}]


@pytest.mark.parametrize("kwargs", ATTENTION, ids=[str(a) for a in ATTENTION])
def test_multi_head_attention(kwargs):
    """CPU kernels: torch's flash kernel when key_dim = value_dim (no dropout), else the
    math kernel (``attention="eager"``); with dropout Keras's own explicit path."""
    attention = "flash" if kwargs.get("value_dim", kwargs["key_dim"]) == kwargs["key_dim"] else "eager"
    for values in SIZES:
        theirs = truth(lambda: _SelfAttention(**kwargs), (T, 6), values)
        assert ours(K.MultiHeadAttention(**kwargs), (T, 6), values, attention) == theirs, (kwargs, values)


@pytest.mark.parametrize("make", [lambda: K.Conv2D(4, 3), lambda: K.MaxPooling2D(), lambda: K.Conv1D(2, 3)],
                         ids=["Conv2D", "MaxPooling2D", "Conv1D"])
def test_one_channel_keeps_the_input_itself(make):
    """With one channel the channels-first permutation is already contiguous: no copy,
    the layer keeps its input (a grayscale image's first convolution)."""
    template = (H, W, 1) if not isinstance(make(), K.Conv1D) else (T, 1)
    for values in SIZES:
        layer = make()
        assert ours(layer, template, values) == truth(lambda: keras_layer(make()), template, values)


def test_one_position_keeps_the_input_itself():
    """At one spatial position (a numeric 1×1) the permutation is a no-op too."""
    for channels in (3, 5):
        template = (1, 1, channels)
        assert ours(K.Conv2D(4, 1), template, {}) == truth(lambda: L.Conv2D(4, 1), template, {})
