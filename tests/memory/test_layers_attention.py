"""symcount.torch's MultiheadAttention and transformer layers against what autograd saves
(``saved_tensors_hooks``, CPU, training), at two sequence lengths through the formula.

torch's CPU picks the kernel: ``nn.MultiheadAttention`` called directly
(``need_weights=True``) always takes the explicit path; the transformer layers call it with
``need_weights=False`` and ``scaled_dot_product_attention`` runs the fused CPU flash kernel
without dropout (compare with ``attention="flash"``) and the math kernel with dropout or
when forced (``attention="eager"``)."""

from __future__ import annotations

import contextlib

import pytest
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

import symcount as sc
import symcount.torch as st
from tests.torch.saved_truth import inputs, saved_bytes

BATCH = 3
E, HEADS = 8, 2
LENGTHS = ((5, 7), (9, 4))  # (L, S)
L, S = sc.dims("L S")


def ours(model, values, attention="eager"):
    count = model.count()
    used = {k: v for k, v in values.items() if k in {d.name for d in count.dims}}
    memory = count.subs(**used).memory(device="cpu", batch_size=BATCH, attention=attention)
    assert memory.undeclared == ()
    return int(memory.activations)


def _sequence(length, width, batch_first):
    return (BATCH, length, width) if batch_first else (length, BATCH, width)


class _Call(nn.Module):
    def __init__(self, module, how):
        super().__init__()
        self.module, self.how = module, how

    def forward(self, *xs):
        return self.how(self.module, *xs)


MHA = [
    {}, {"dropout": 0.3}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True},
    {"add_zero_attn": True, "dropout": 0.2},
]


@pytest.mark.parametrize("kwargs", MHA, ids=[str(k) for k in MHA])
def test_self_attention(kwargs):
    first = kwargs.get("batch_first", False)
    for length, _ in LENGTHS:
        model = st.Sequential([st.Input((L, E), batch_first=first), st.MultiheadAttention(E, HEADS, **kwargs)])
        module = _Call(nn.MultiheadAttention(E, HEADS, **kwargs), lambda m, x: m(x, x, x)[0]).train()
        truth = saved_bytes(module, *inputs(_sequence(length, E, first)))
        assert ours(model, {"L": length}) == truth, (kwargs, length)


@pytest.mark.parametrize("kwargs", [{}, {"kdim": 6, "vdim": 5}, {"dropout": 0.5, "batch_first": True}],
                         ids=["packed", "kdim-vdim", "dropout-batch-first"])
def test_attention_on_three_tensors(kwargs):
    first = kwargs.get("batch_first", False)
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    for length, source in LENGTHS:
        q, k, v = (st.Input((L, E), batch_first=first), st.Input((S, kdim), batch_first=first),
                   st.Input((S, vdim), batch_first=first))
        model = sc.Model([q, k, v], st.MultiheadAttention(E, HEADS, **kwargs)([q, k, v]))
        module = _Call(nn.MultiheadAttention(E, HEADS, **kwargs), lambda m, a, b, c: m(a, b, c)[0]).train()
        tensors = inputs(_sequence(length, E, first), _sequence(source, kdim, first), _sequence(source, vdim, first))
        assert ours(model, {"L": length, "S": source}) == saved_bytes(module, *tensors), (kwargs, length)


LAYERS = [
    {"dropout": 0.0}, {"dropout": 0.1}, {"dropout": 0.0, "norm_first": True}, {"dropout": 0.2, "norm_first": True},
    {"dropout": 0.1, "activation": "gelu"}, {"dropout": 0.0, "activation": "gelu"},
    {"dropout": 0.1, "batch_first": True}, {"dropout": 0.0, "batch_first": True, "norm_first": True},
]


def _kernel(dropout, math):
    """(the CPU kernel's context, the attention symcount compares with)."""
    if math:
        return sdpa_kernel(SDPBackend.MATH), "eager"
    return contextlib.nullcontext(), ("eager" if dropout > 0 else "flash")


@pytest.mark.parametrize("math", [False, True], ids=["cpu-default", "math"])
@pytest.mark.parametrize("kwargs", LAYERS, ids=[str(k) for k in LAYERS])
def test_transformer_encoder_layer(kwargs, math):
    first = kwargs.get("batch_first", False)
    for length, _ in LENGTHS:
        model = st.Sequential([st.Input((L, E), batch_first=first), st.TransformerEncoderLayer(E, HEADS, 16, **kwargs)])
        module = nn.TransformerEncoderLayer(E, HEADS, 16, **kwargs).train()
        context, attention = _kernel(kwargs["dropout"], math)
        with context:
            truth = saved_bytes(module, *inputs(_sequence(length, E, first)))
        assert ours(model, {"L": length}, attention) == truth, (kwargs, length, attention)


@pytest.mark.parametrize("math", [False, True], ids=["cpu-default", "math"])
@pytest.mark.parametrize("kwargs", LAYERS[:4] + LAYERS[6:], ids=[str(k) for k in LAYERS[:4] + LAYERS[6:]])
def test_transformer_decoder_layer(kwargs, math):
    first = kwargs.get("batch_first", False)
    for length, source in LENGTHS:
        tgt, memory = st.Input((L, E), batch_first=first), st.Input((S, E), batch_first=first)
        model = sc.Model([tgt, memory], st.TransformerDecoderLayer(E, HEADS, 16, **kwargs)([tgt, memory]))
        module = nn.TransformerDecoderLayer(E, HEADS, 16, **kwargs).train()
        context, attention = _kernel(kwargs["dropout"], math)
        with context:
            truth = saved_bytes(module, *inputs(_sequence(length, E, first), _sequence(source, E, first)))
        assert ours(model, {"L": length, "S": source}, attention) == truth, (kwargs, length, attention)


def test_stacks_and_transformer():
    """TransformerEncoder (3 layers and a norm) and TransformerDecoder (2 layers: one
    memory) at both lengths with dropout; the whole Transformer at one length without."""
    layer = dict(d_model=E, nhead=HEADS, dim_feedforward=16, dropout=0.1)
    for length, source in LENGTHS:
        model = st.Sequential([st.Input((L, E), batch_first=False),
                               st.TransformerEncoder(st.TransformerEncoderLayer(**layer), 3, st.LayerNorm(E))])
        module = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer), 3, nn.LayerNorm(E),
                                       enable_nested_tensor=False).train()
        assert ours(model, {"L": length}) == saved_bytes(module, *inputs((length, BATCH, E))), length

        tgt, memory = st.Input((L, E), batch_first=False), st.Input((S, E), batch_first=False)
        model = sc.Model([tgt, memory], st.TransformerDecoder(st.TransformerDecoderLayer(**layer), 2)([tgt, memory]))
        module = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), 2).train()
        truth = saved_bytes(module, *inputs((length, BATCH, E), (source, BATCH, E)))
        assert ours(model, {"L": length, "S": source}) == truth, length

    length, source = LENGTHS[0]
    src, tgt = st.Input((S, E), batch_first=False), st.Input((L, E), batch_first=False)
    model = sc.Model([src, tgt], st.Transformer(E, HEADS, 2, 2, 16, 0.0)([src, tgt]))
    module = nn.Transformer(E, HEADS, 2, 2, 16, 0.0).train()
    truth = saved_bytes(module, *inputs((source, BATCH, E), (length, BATCH, E)))
    assert ours(model, {"L": length, "S": source}, "flash") == truth
