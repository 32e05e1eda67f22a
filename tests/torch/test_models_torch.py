"""Whole torch-style models against torch: a CNN through Sequential.count(input_shape=…),
a transformer stack through Repeat with a symbolic depth, the default nn.Transformer
(built on the meta device)."""

import pytest
import torch
from torch import nn

import symcount as sc
import symcount.torch as st

from .harness import oracle


def torch_numbers(module, *inputs):
    out = module(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    return (tuple(out.shape), sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers()))


@oracle
def test_small_cnn_matches_torch_sequential():
    layers = lambda lib, flat: [  # noqa: E731 — the same architecture in both libraries
        lib.Conv2d(3, 16, 3, padding=1, bias=False), lib.BatchNorm2d(16), lib.ReLU(),
        lib.MaxPool2d(3, 2, padding=1, ceil_mode=True),
        lib.Conv2d(16, 32, 3, stride=2, groups=4), lib.GroupNorm(8, 32), lib.GELU(),
        lib.AdaptiveAvgPool2d((2, None)), lib.Flatten(), lib.Linear(flat, 10),
    ]
    H, W = sc.dims("H W")
    for h, w in [(32, 32), (29, 41), (7, 9)]:
        x = torch.zeros(2, 3, h, w)
        features = nn.Sequential(*layers(nn, 1)[:-2])(x)
        flat = features[0].numel()
        theirs = torch_numbers(nn.Sequential(*layers(nn, flat)), x)
        ours = st.Sequential(layers(st, flat)).count(input_shape=(3, H, W)).subs(H=h, W=w)
        assert (tuple(2 if s is None else int(s) for s in ours.output_shape), int(ours.total), int(ours.buffers)) \
            == theirs


@oracle
@pytest.mark.parametrize("depth", [1, 2, 5])
def test_repeated_encoder_layer_with_symbolic_depth_matches_torch_encoder(depth):
    n, L = sc.dims("n L")
    block = st.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
    count = st.Sequential([sc.Repeat(block, n)]).count(input_shape=(L, 16))
    theirs = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True), depth,
                                   enable_nested_tensor=False)
    assert count.subs(n=depth, L=5).total == sum(p.numel() for p in theirs.parameters())


@oracle
def test_default_transformer_matches_torch_on_the_meta_device():
    theirs = nn.Transformer(device="meta")
    src, tgt = st.Input((10, 512), batch_first=False), st.Input((7, 512), batch_first=False)
    layer = st.Transformer()
    count = sc.Model([src, tgt], layer([src, tgt])).count()
    ours = {w.name: tuple(int(s) for s in w.shape) for w in count.layers[-1].weights}
    assert ours == {k: tuple(p.shape) for k, p in theirs.named_parameters()}
    assert count.total == sum(p.numel() for p in theirs.parameters()) == 44_140_544
    assert count.output_shape == (7, None, 512)


@oracle
def test_time_major_language_model_matches_torch():
    """Embedding → 2-layer LSTM → Linear on token indices (L, N), torch's default layout."""
    L, V = sc.dims("L V")
    ours = st.Sequential([st.Input((L,), batch_first=False), st.Embedding(V, 16), st.LSTM(16, 32, num_layers=2),
                          st.Dropout(0.1), st.Linear(32, V)]).count().subs(L=7, V=50)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm, self.head = nn.Embedding(50, 16), nn.LSTM(16, 32, num_layers=2), nn.Linear(32, 50)

        def forward(self, tokens):
            return self.head(self.lstm(self.embed(tokens))[0])

    out, params, _ = torch_numbers(LM(), torch.zeros(7, 2, dtype=torch.long))
    assert tuple(2 if s is None else int(s) for s in ours.output_shape) == out == (7, 2, 50)
    assert ours.total == params
