"""symcount's Keras-semantics layers against Keras 3 itself (torch backend), layer by layer.

For random configurations of every layer, the same layer is built in Keras (a symbolic
``keras.Input`` and a layer call) and in symcount, and Keras's output shape,
``count_params()`` and named weights (path inside the layer, shape, trainable flag)
must equal symcount's; a configuration one of them rejects the other must reject too
(symcount with a ``SymcountError``).

symcount is given symbols half of the time — for the input's sizes and for size
arguments such as ``filters`` or ``units`` — and the closed form is then substituted
with Keras's numbers: a validity condition the values break is a rejection.
"""

from __future__ import annotations

import math
import os

import keras  # tests/conftest.py has set KERAS_BACKEND=torch before this import
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symcount.keras as sk
from symcount import dim
from symcount.errors import SymcountError

pytestmark = pytest.mark.oracle

# ORACLE_RANDOM=1 draws new examples on every run (default: the same ones, for CI);
# ORACLE_SCALE=n runs n times as many
RANDOM, SCALE = os.environ.get("ORACLE_RANDOM") is not None, int(os.environ.get("ORACLE_SCALE", "1"))
SETTINGS = settings(max_examples=100 * SCALE, deadline=None, derandomize=not RANDOM,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------
# A case: the layer as (class name, arguments), the input shapes, the symbols
# ---------------------------------------------------------------------------


class Spec:
    """A layer as its Keras class name and arguments; a wrapped layer is a Spec too.
    ``sizes`` names the arguments that may be given to symcount as symbols."""

    def __init__(self, kind, sizes=(), **kwargs):
        self.kind, self.kwargs, self.sizes = kind, kwargs, tuple(sizes)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.kind}({args})"


def symbolize(spec: Spec, draw, values: dict, prefix="") -> dict:
    """symcount's arguments: some size arguments replaced by dims (their values recorded)."""
    kwargs = {}
    for key, value in spec.kwargs.items():
        if isinstance(value, Spec):
            kwargs[key] = symcount_layer(value, draw, values, prefix=f"{prefix}{key}_")
        elif key in spec.sizes and _positive_int(value) and draw(st.booleans()):
            name = f"{prefix}{key}"
            values[name] = value
            kwargs[key] = dim(name)
        elif key in spec.sizes and isinstance(value, tuple) and all(_positive_int(v) for v in value) \
                and draw(st.booleans()):
            names = [f"{prefix}{key}_{i}" for i in range(len(value))]
            values.update(zip(names, value))
            kwargs[key] = tuple(dim(n) for n in names)
        else:
            kwargs[key] = value
    return kwargs


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def symcount_layer(spec: Spec, draw=None, values=None, prefix=""):
    if draw is None:
        kwargs = {k: symcount_layer(v) if isinstance(v, Spec) else v for k, v in spec.kwargs.items()}
    else:
        kwargs = symbolize(spec, draw, values, prefix)
    return getattr(sk, spec.kind)(**kwargs)


def keras_layer(spec: Spec):
    kwargs = {k: keras_layer(v) if isinstance(v, Spec) else v for k, v in spec.kwargs.items()}
    return getattr(keras.layers, spec.kind)(**kwargs)


# ---------------------------------------------------------------------------
# Both sides, read into the same plain form (None: rejected)
# ---------------------------------------------------------------------------


def relative_path(path: str) -> str:
    """``lstm/lstm_cell/kernel`` → ``kernel``; ``bidirectional/forward_rnn/…/kernel`` →
    ``forward_rnn/kernel``: the path inside the layer, without RNN cell scopes."""
    parts = path.split("/")[1:]
    return "/".join(p for p in parts if not p.endswith("_cell"))


def keras_result(spec: Spec, shapes, eager: bool = False, self_attention: bool = False):
    """``self_attention``: one input, passed as query and value (``layer(x, x)``)."""
    try:
        layer = keras_layer(spec)
        inputs = [keras.Input(s) for s in shapes]
        out = layer(inputs[0], inputs[0]) if self_attention else layer(*inputs)
        shape = tuple(out.shape)
        if eager:  # the shape Keras actually computes (its compute_output_shape can differ)
            arrays = [np.zeros((2, *s), "float32") for s in shapes]
            shape = (None, *tuple(layer(*arrays).shape)[1:])
    except Exception:  # noqa: BLE001 — Keras raises ValueError, TypeError, IndexError, …
        return None
    if any(s is not None and s <= 0 for s in shape):
        # Keras's compute_output_shape gives an empty axis for some transposed
        # convolutions without complaint; every Keras layer that checks rejects one
        return None
    weights = {relative_path(w.path): (tuple(w.shape), w.trainable) for w in layer.weights}
    return {"output_shape": shape, "params": layer.count_params(), "weights": weights}


def symcount_result(spec: Spec, shapes, draw):
    """Build in symcount — with symbols for some sizes — and substitute Keras's values."""
    values: dict = {}
    symbolic_shapes = []
    for i, shape in enumerate(shapes):
        sizes = []
        for j, size in enumerate(shape):
            if draw(st.booleans()):
                values[f"in{i}_{j}"] = size
                sizes.append(dim(f"in{i}_{j}"))
            else:
                sizes.append(size)
        symbolic_shapes.append(tuple(sizes))
    try:
        layer = symcount_layer(spec, draw, values)
        inputs = [sk.Input(s) for s in symbolic_shapes]
        model = sk.Model(inputs, layer(*inputs) if len(inputs) > 1 else layer(inputs[0]))
        count = model.count()
        known = {d.name for d in count.dims}
        count = count.subs({k: v for k, v in values.items() if k in known})
    except SymcountError:
        return None
    record = next(r for r in count.layers if r.layer is layer)
    assert not count.free_dims, count.free_dims
    return {
        "output_shape": tuple(None if s is None else int(s) for s in record.output_shape),
        "params": int(record.params),
        "weights": {w.name: (tuple(int(s) for s in w.shape), w.trainable) for w in record.weights},
    }


def check(draw, spec: Spec, *shapes, eager: bool = False, self_attention: bool = False):
    theirs = keras_result(spec, shapes, eager, self_attention)
    ours = symcount_result(spec, shapes, draw)
    event(f"{spec.kind} {'accepted' if theirs else 'rejected'}")  # --hypothesis-show-statistics
    assert ours == theirs, (spec, shapes)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

small = st.integers(1, 4)
bools = st.booleans()


def ints_or_tuple(draw, rank, low, high):
    if draw(bools):
        return draw(st.integers(low, high))
    return tuple(draw(st.integers(low, high)) for _ in range(rank))


def spatial(draw, rank, high=9):
    return tuple(draw(st.integers(1, high)) for _ in range(rank))


def _rank(name: str) -> int:
    return int(next(c for c in name if c.isdigit()))


@st.composite
def conv_cases(draw, name):
    """Conv1D…3D, Conv1DTranspose…3D, DepthwiseConv1D/2D, SeparableConv1D/2D."""
    rank = _rank(name)
    kind = "ConvTranspose" if name.endswith("Transpose") else name[:-2]
    shape = (*spatial(draw, rank, 9 if rank < 3 else 6), draw(st.integers(1, 6)))
    kwargs = {
        "kernel_size": ints_or_tuple(draw, rank, 1, 4),
        "strides": ints_or_tuple(draw, rank, 1, 3),
        "padding": draw(st.sampled_from(["valid", "same", "causal"] if rank == 1 else ["valid", "same"])),
        "dilation_rate": draw(st.sampled_from([1, 1, 2, 3])),
        "use_bias": draw(bools),
    }
    sizes = ["kernel_size"]
    if kind != "DepthwiseConv":
        kwargs["filters"] = draw(st.integers(1, 8))
        sizes.append("filters")
    if kind == "Conv":
        kwargs["groups"] = draw(st.sampled_from([1, 1, 2, 3]))
    if kind == "ConvTranspose" and draw(bools):
        kwargs["output_padding"] = ints_or_tuple(draw, rank, 0, 2)
    if kind in ("DepthwiseConv", "SeparableConv"):
        kwargs["depth_multiplier"] = draw(st.integers(1, 3))
        sizes.append("depth_multiplier")
    return Spec(name, sizes, **kwargs), shape


@st.composite
def pooling_cases(draw, name):
    """Max/AveragePooling1D…3D, GlobalMax/GlobalAveragePooling1D…3D."""
    rank = _rank(name)
    in_rank = draw(st.sampled_from([rank, rank, rank, rank + 1]))  # sometimes the wrong rank
    shape = (*spatial(draw, in_rank, 8 if rank < 3 else 5), draw(st.integers(1, 4)))
    if name.startswith("Global"):
        return Spec(name, keepdims=draw(bools)), shape
    kwargs = {"pool_size": ints_or_tuple(draw, rank, 1, 4), "padding": draw(st.sampled_from(["valid", "same"]))}
    if draw(bools):
        kwargs["strides"] = ints_or_tuple(draw, rank, 1, 3)
    return Spec(name, ["pool_size", "strides"], **kwargs), shape


def pairs(draw, rank, high):
    """Keras's padding/cropping forms: an int, a pair (rank 1), or per axis an int or a pair."""
    pair = st.tuples(st.integers(0, high), st.integers(0, high))
    if rank == 1:
        return draw(st.one_of(st.integers(0, high), pair))
    return draw(st.one_of(st.integers(0, high),
                          st.tuples(*[st.one_of(st.integers(0, high), pair) for _ in range(rank)])))


@st.composite
def reshaping_cases(draw, name):
    """ZeroPadding1D…3D, Cropping1D…3D, UpSampling1D…3D."""
    rank = _rank(name)
    shape = (*spatial(draw, draw(st.sampled_from([rank, rank, rank + 1])), 6), draw(st.integers(1, 3)))
    if name.startswith("ZeroPadding"):
        return Spec(name, padding=pairs(draw, rank, 2)), shape
    if name.startswith("Cropping"):
        return Spec(name, cropping=pairs(draw, rank, 3)), shape
    size = draw(st.integers(1, 3)) if rank == 1 else ints_or_tuple(draw, rank, 1, 3)
    return Spec(name, ["size"], size=size), shape


@st.composite
def reshape_cases(draw, name):
    """Reshape, Permute, RepeatVector, Embedding."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    if name == "Reshape":
        total = math.prod(shape)
        divisors = [d for d in range(1, total + 1) if total % d == 0]
        target = [draw(st.sampled_from(divisors))]
        target.append(total // target[0] if draw(bools) else draw(st.integers(1, 6)))
        if draw(bools):
            target[draw(st.integers(0, 1))] = -1
        return Spec("Reshape", target_shape=tuple(target)), shape
    if name == "Permute":
        n = draw(st.sampled_from([len(shape), len(shape), len(shape) + 1]))
        return Spec("Permute", dims=tuple(draw(st.permutations(range(1, n + 1))))), shape
    if name == "RepeatVector":
        return Spec("RepeatVector", ["n"], n=draw(small)), shape
    return Spec("Embedding", ["input_dim", "output_dim"], input_dim=draw(st.integers(1, 20)),
                output_dim=draw(st.integers(1, 8))), shape


@st.composite
def normalization_cases(draw, name):
    """LayerNormalization, GroupNormalization, UnitNormalization."""
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    rank = len(shape) + 1
    axis = st.integers(-rank - 1, rank)
    if name == "GroupNormalization":
        return Spec(name, groups=draw(st.sampled_from([-1, 1, 2, 3, 4])), axis=draw(axis),
                    center=draw(bools), scale=draw(bools)), shape
    axes = draw(st.one_of(axis, st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=3)))
    if name == "UnitNormalization":
        return Spec(name, axis=axes), shape
    return Spec(name, axis=axes, center=draw(bools), scale=draw(bools), rms_scaling=draw(bools)), shape


def rnn_spec(draw, kind=None, name=None, **fixed):
    kind = kind or draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    kwargs = {"units": draw(st.integers(1, 6)), "use_bias": draw(bools),
              "return_sequences": draw(bools), **fixed}
    if kind == "GRU":
        kwargs["reset_after"] = draw(bools)
    if name:
        kwargs["name"] = name
    return Spec(kind, ["units"], **kwargs)


@st.composite
def recurrent_cases(draw, name):
    """SimpleRNN, LSTM, GRU."""
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    if draw(st.integers(0, 9)) == 0:
        shape = shape[:draw(st.sampled_from([1, 3]))] + (2,) * (draw(bools))  # wrong ranks too
    return rnn_spec(draw, name, go_backwards=draw(bools)), shape


@st.composite
def bidirectional_cases(draw):
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    forward = rnn_spec(draw, name="rnn", go_backwards=draw(st.sampled_from([False, False, True])))
    kwargs = {"merge_mode": draw(st.sampled_from(["concat", "sum", "mul", "ave"]))}
    if draw(bools):
        backward = rnn_spec(draw, name="back", go_backwards=True,
                            return_sequences=forward.kwargs["return_sequences"])
        return Spec("Bidirectional", layer=forward, backward_layer=backward, **kwargs), shape, True
    return Spec("Bidirectional", layer=forward, **kwargs), shape, False


@st.composite
def time_distributed_cases(draw):
    inner = draw(st.sampled_from(["Dense", "Conv1D", "Conv2D", "MaxPooling1D", "Flatten"]))
    steps = draw(st.integers(1, 4))
    if inner == "Dense":
        spec = Spec("Dense", ["units"], units=draw(small), use_bias=draw(bools), name="inner")
        shape = (steps, *draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    elif inner in ("Conv1D", "MaxPooling1D"):
        shape = (steps, draw(st.integers(1, 6)), draw(small))
        spec = (Spec("Conv1D", ["filters", "kernel_size"], filters=draw(small), kernel_size=draw(small), name="inner")
                if inner == "Conv1D" else Spec("MaxPooling1D", pool_size=draw(small), name="inner"))
    elif inner == "Conv2D":
        shape = (steps, draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(small))
        spec = Spec("Conv2D", ["filters", "kernel_size"], filters=draw(small), kernel_size=draw(small),
                    padding=draw(st.sampled_from(["valid", "same"])), name="inner")
    else:
        shape = (steps, *draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
        spec = Spec("Flatten", name="inner")
    return Spec("TimeDistributed", layer=spec), shape


@st.composite
def attention_cases(draw):
    rank = draw(st.sampled_from([3, 3, 4]))  # with the batch axis
    middle_q = tuple(draw(st.integers(1, 4)) for _ in range(rank - 2))
    middle_v = tuple(draw(st.integers(1, 4)) for _ in range(rank - 2))
    kwargs = {"num_heads": draw(st.integers(1, 3)), "key_dim": draw(st.integers(1, 4)),
              "use_bias": draw(bools), "use_gate": draw(bools)}
    if draw(bools):
        kwargs["value_dim"] = draw(st.integers(1, 4))
    if draw(bools):
        kwargs["output_shape"] = draw(st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    spec = Spec("MultiHeadAttention", ["num_heads", "key_dim", "value_dim"], **kwargs)
    query = (*middle_q, draw(st.integers(1, 5)))
    if draw(bools):
        return spec, (query,)  # self-attention: called on one tensor in symcount, (x, x) in Keras
    shapes = [query, (*middle_v, draw(st.integers(1, 5)))]
    if draw(bools):
        key_middle = middle_v if draw(st.integers(0, 3)) else tuple(draw(st.integers(1, 4)) for _ in middle_v)
        shapes.append((*key_middle, draw(st.integers(1, 5))))
    return spec, tuple(shapes)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


CASES = {
    **dict.fromkeys(["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
                     "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"], conv_cases),
    **dict.fromkeys([f"{kind}Pooling{rank}D" for kind in ("Max", "Average", "GlobalMax", "GlobalAverage")
                     for rank in (1, 2, 3)], pooling_cases),
    **dict.fromkeys([f"{kind}{rank}D" for kind in ("ZeroPadding", "Cropping", "UpSampling")
                     for rank in (1, 2, 3)], reshaping_cases),
    **dict.fromkeys(["Reshape", "Permute", "RepeatVector", "Embedding"], reshape_cases),
    **dict.fromkeys(["LayerNormalization", "GroupNormalization", "UnitNormalization"], normalization_cases),
    **dict.fromkeys(["SimpleRNN", "LSTM", "GRU"], recurrent_cases),
}


@pytest.mark.parametrize("name", CASES)
@settings(SETTINGS, max_examples=50 * SCALE)
@given(data=st.data())
def test_layer_equals_keras(name, data):
    spec, shape = data.draw(CASES[name](name))
    check(data.draw, spec, shape)


@settings(SETTINGS, max_examples=100 * SCALE)
@given(st.data())
def test_bidirectional_equals_keras(data):
    spec, shape, separate_backward = data.draw(bidirectional_cases())
    # with a backward_layer of other units, Keras's compute_output_shape doubles the
    # forward layer's units; the output Keras actually computes is the reference
    check(data.draw, spec, shape, eager=separate_backward)


@settings(SETTINGS, max_examples=100 * SCALE)
@given(st.data())
def test_time_distributed_equals_keras(data):
    spec, shape = data.draw(time_distributed_cases())
    check(data.draw, spec, shape)


@settings(SETTINGS, max_examples=150 * SCALE)
@given(st.data())
def test_multi_head_attention_equals_keras(data):
    spec, shapes = data.draw(attention_cases())
    check(data.draw, spec, *shapes, self_attention=len(shapes) == 1)


# ---------------------------------------------------------------------------
# Every layer accepted on a plain configuration by both (the properties' "both
# reject" cannot hide a broken builder)
# ---------------------------------------------------------------------------

PLAIN = [
    (Spec("Conv1D", filters=4, kernel_size=3, padding="causal"), (9, 2)),
    (Spec("Conv3D", filters=4, kernel_size=2), (5, 5, 5, 2)),
    (Spec("Conv1DTranspose", filters=4, kernel_size=3, strides=2), (5, 2)),
    (Spec("Conv2DTranspose", filters=4, kernel_size=3, strides=2, output_padding=1), (5, 5, 2)),
    (Spec("Conv3DTranspose", filters=4, kernel_size=2, padding="same"), (3, 3, 3, 2)),
    (Spec("DepthwiseConv1D", kernel_size=3, depth_multiplier=2), (9, 3)),
    (Spec("DepthwiseConv2D", kernel_size=3, depth_multiplier=2), (9, 9, 3)),
    (Spec("SeparableConv1D", filters=4, kernel_size=3), (9, 3)),
    (Spec("SeparableConv2D", filters=4, kernel_size=3, depth_multiplier=2), (9, 9, 3)),
    (Spec("MaxPooling1D"), (9, 3)), (Spec("MaxPooling3D"), (4, 4, 4, 3)),
    (Spec("AveragePooling1D", pool_size=2), (9, 3)), (Spec("AveragePooling3D", pool_size=2), (4, 4, 4, 3)),
    (Spec("GlobalAveragePooling1D"), (9, 3)), (Spec("GlobalAveragePooling2D", keepdims=True), (4, 4, 3)),
    (Spec("GlobalAveragePooling3D"), (4, 4, 4, 3)), (Spec("GlobalMaxPooling1D"), (9, 3)),
    (Spec("GlobalMaxPooling2D"), (4, 4, 3)), (Spec("GlobalMaxPooling3D", keepdims=True), (4, 4, 4, 3)),
    (Spec("ZeroPadding1D"), (9, 3)), (Spec("ZeroPadding2D", padding=((1, 2), 3)), (4, 4, 3)),
    (Spec("ZeroPadding3D"), (4, 4, 4, 3)), (Spec("Cropping1D"), (9, 3)),
    (Spec("Cropping2D", cropping=((1, 0), 1)), (4, 4, 3)), (Spec("Cropping3D"), (4, 4, 4, 3)),
    (Spec("UpSampling1D"), (9, 3)), (Spec("UpSampling2D", size=(2, 3)), (4, 4, 3)),
    (Spec("UpSampling3D"), (2, 2, 2, 3)),
    (Spec("Reshape", target_shape=(-1, 3)), (4, 3)), (Spec("Permute", dims=(2, 1)), (4, 3)),
    (Spec("RepeatVector", n=3), (4,)), (Spec("Embedding", input_dim=10, output_dim=4), (7,)),
    (Spec("LayerNormalization"), (4, 3)), (Spec("LayerNormalization", axis=[1, 2], rms_scaling=True), (4, 3)),
    (Spec("GroupNormalization", groups=2), (4, 6)), (Spec("UnitNormalization"), (4, 3)),
    (Spec("SimpleRNN", units=4), (5, 3)), (Spec("LSTM", units=4, return_sequences=True), (5, 3)),
    (Spec("GRU", units=4), (5, 3)), (Spec("GRU", units=4, reset_after=False), (5, 3)),
    (Spec("Bidirectional", layer=Spec("LSTM", units=4, name="rnn")), (5, 3)),
    (Spec("TimeDistributed", layer=Spec("Dense", units=4, name="inner")), (5, 3)),
]


@pytest.mark.parametrize("spec, shape", PLAIN, ids=[repr(s) for s, _ in PLAIN])
def test_plain_configuration_accepted_by_both(spec, shape):
    theirs = keras_result(spec, (shape,))
    assert theirs is not None
    assert symcount_result(spec, (shape,), lambda strategy: False) == theirs


def test_multi_head_attention_with_query_value_key_accepted_by_both():
    spec = Spec("MultiHeadAttention", num_heads=2, key_dim=3, value_dim=4, output_shape=5)
    shapes = ((4, 6), (7, 8), (7, 9))
    theirs = keras_result(spec, shapes)
    assert theirs is not None
    assert symcount_result(spec, shapes, lambda strategy: False) == theirs
