"""Whole models: ``memory(device="cpu", batch_size=B).activations``, read off the symbolic
count after substituting two sizes, against the bytes autograd saves in a real CPU training
forward pass (``saved_tensors_hooks``, unique storages, parameters and buffers excluded).

The torch models are independent of symcount: plain ``nn`` modules, and for the zoo's
``torchvision:`` entries the transcription of torchvision in ``tests/zoo/torchvision_defs``.
Every comparison is exact (BatchNorm's ``save_mean`` and ``save_invstd`` are declared once
per batch); the 2% of the issue is checked too."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import symcount as sc
import symcount.torch as st
import symcount.zoo as zoo
from tests.torch.saved_truth import inputs, native_kernels, saved_bytes
from tests.zoo.torchvision_defs import MODELS

BATCH = 2


def check(count, values, module, *args, native=False):
    memory = count.subs(**values).memory(device="cpu", batch_size=BATCH)
    assert memory.undeclared == ()
    ours = int(memory.activations)
    module.train()
    if native:
        with native_kernels():
            truth = saved_bytes(module, *args)
    else:
        truth = saved_bytes(module, *args)
    assert abs(truth - ours) <= 0.02 * truth
    assert ours == truth, values
    return ours, truth


@pytest.mark.parametrize("p", [0.0, 0.3])
def test_mlp(p):
    n_in, hidden = sc.dims("n_in hidden")
    count = st.Sequential([st.Linear(n_in, hidden), st.ReLU(), st.Dropout(p), st.Linear(hidden, hidden),
                           st.GELU(), st.Dropout(p), st.Linear(hidden, 10), st.LogSoftmax(dim=1)]).count(
        input_shape=(n_in,))
    for a, b in ((12, 20), (7, 33)):
        module = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(p), nn.Linear(b, b), nn.GELU(), nn.Dropout(p),
                               nn.Linear(b, 10), nn.LogSoftmax(dim=1))
        check(count, {"n_in": a, "hidden": b}, module, *inputs((BATCH, a), grad=False))


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_cnn_with_max_pool(p):
    H, W = sc.dims("H W")
    count = st.Sequential([
        st.Conv2d(3, 8, 3, padding=1), st.BatchNorm2d(8), st.ReLU(inplace=True), st.MaxPool2d(2),
        st.Conv2d(8, 16, 3), st.ReLU(), st.MaxPool2d(2, ceil_mode=True), st.Dropout2d(p),
        st.AdaptiveAvgPool2d(1), st.Flatten(), st.Dropout(p), st.Linear(16, 10),
    ]).count(input_shape=(3, H, W))
    for h, w in ((16, 20), (23, 13)):
        module = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True), nn.Dropout2d(p),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(p), nn.Linear(16, 10))
        check(count, {"H": h, "W": w}, module, *inputs((BATCH, 3, h, w), grad=False))


@pytest.mark.parametrize("name, options, sizes", [
    ("resnet18", {}, ((64, 67), (37, 45))),
    ("mobilenet_v2", {}, ((48, 51), (33, 40))),
    ("mobilenet_v2", {"dropout": 0.0}, ((40, 35),)),
])
def test_torchvision_zoo(name, options, sizes):
    count = zoo.symbolic(f"torchvision:{name}", **options)
    torch.manual_seed(0)
    module = MODELS[name](num_classes=10, **options)
    for h, w in sizes:
        check(count, {"H": h, "W": w, "num_classes": 10}, module, *inputs((BATCH, 3, h, w), grad=False))


class _Tagger(nn.Module):
    """Embedding → LSTM (time-major, native kernel) → dropout → Linear on every step."""

    def __init__(self, vocab, width, hidden, layers, p):
        super().__init__()
        self.embedding = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, hidden, num_layers=layers, dropout=p)
        self.dropout = nn.Dropout(p)
        self.head = nn.Linear(hidden, 5)

    def forward(self, ids):
        return self.head(self.dropout(self.lstm(self.embedding(ids))[0]))


@pytest.mark.parametrize("p", [0.0, 0.25])
def test_lstm_native_kernel(p):
    L, = sc.dims("L")
    count = st.Sequential([st.Input((L,), batch_first=False), st.Embedding(50, 6),
                           st.LSTM(6, 9, num_layers=2, dropout=p), st.Dropout(p), st.Linear(9, 5)]).count()
    for length in (7, 12):
        check(count, {"L": length}, _Tagger(50, 6, 9, 2, p), *inputs((length, BATCH), integer=50), native=True)


@pytest.mark.parametrize("name", ["squeezenet1_1", "vgg11_bn"])
def test_more_torchvision_entries(name):
    """Fire modules' in-place ReLUs and concatenations (SqueezeNet), BatchNorm after every
    convolution (VGG-BN): one size each."""
    count = zoo.symbolic(f"torchvision:{name}")
    torch.manual_seed(0)
    check(count, {"H": 48, "W": 51, "num_classes": 10}, MODELS[name](num_classes=10), *inputs((BATCH, 3, 48, 51),
                                                                                             grad=False))
