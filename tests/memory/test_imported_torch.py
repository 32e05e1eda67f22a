"""Torch models imported with ``sc.from_torch``: ``memory(device="cpu",
batch_size=B).activations`` at two sizes through the formula, against the bytes autograd
saves in a real CPU training forward pass (``tests.torch.saved_truth``: unique storages,
parameters and buffers excluded).

A model made of modules symcount knows is imported through its graph (its layers declare
their saved tensors themselves); the others — and here the same models again, through
the operator importer's seams (:mod:`symcount.importers.traced`) — declare what the
recorder saw autograd save, fitted across the probes like every other size. A stack of
residual blocks whose input the block before already saved (counted once) checks how a
folded stack stands for its members.
"""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import symcount as sc  # noqa: E402
from symcount.dims import dim  # noqa: E402
from symcount.importers.operators import Runner, tensor_inputs  # noqa: E402
from symcount.importers.traced import finish, trace  # noqa: E402
from tests.torch.saved_truth import native_kernels, saved_bytes  # noqa: E402
from tests.zoo.torchvision_defs import BasicBlock, MobileNetV2, _resnet  # noqa: E402


def traced(module, input_shape, dims):
    """The module through the operator importer alone (recorder → attributor → builder)."""
    axes = [a for a in input_shape if isinstance(a, str)]
    shape = tuple(dim(a) if isinstance(a, str) else a for a in input_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trace(Runner(None, tensor_inputs([shape], torch.float32), module=module), dict(dims), axes,
                       type(module).__name__, axes=axes)
    return finish(result, dict(dims))


def imported(module, input_shape, dims):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.from_torch(module, input_shape=input_shape, dims=dims)


def check(model, module, input_shape, points, native=False):
    count = model.count()
    for values, batch in points:
        memory = count.subs({**model.values, **values}).memory(device="cpu", batch_size=batch)
        assert memory.undeclared == ()
        torch.manual_seed(0)
        x = torch.randn(batch, *(values[a] if isinstance(a, str) else a for a in input_shape))
        module.train()
        if native:
            with native_kernels():
                truth = saved_bytes(module, x)
        else:
            truth = saved_bytes(module, x)
        assert int(memory.activations) == truth, (values, batch)


def mlp(p):
    return nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Dropout(p), nn.Linear(20, 20), nn.GELU(), nn.Dropout(p),
                         nn.Linear(20, 10))


def cnn(p):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(p),
                         nn.Conv2d(8, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


@pytest.mark.parametrize("p", [0.0, 0.3])
def test_mlp(p):
    module = mlp(p)
    for model in (imported(module, (12,), {}), traced(module, (12,), {})):
        check(model, module, (12,), [({}, 2), ({}, 5)])


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_cnn_with_max_pool(p):
    module = cnn(p)
    points = [({"H": 16, "W": 20}, 2), ({"H": 23, "W": 12}, 3)]
    base = {"H": 16, "W": 16}
    for model in (imported(module, (3, "H", "W"), base), traced(module, (3, "H", "W"), base)):
        check(model, module, (3, "H", "W"), points)


class Block(nn.Module):
    """conv → BatchNorm, plus the input, → ReLU: the next block's convolution saves this
    block's ReLU output, which the ReLU saved already (the first block's input, the stem's
    output, is saved by the block itself)."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)) + x)


class Stack(nn.Module):
    def __init__(self, c=8, n=3):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.blocks = nn.ModuleList(Block(c) for _ in range(n))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(c, 5)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.pool(x).mean((2, 3)))


def test_a_stack_of_blocks_counts_each_tensor_once():
    module = Stack()
    model = traced(module, (3, "H", "W"), {"H": 12, "W": 12})
    blocks = [r for r in model.count().layers if r.name.startswith("blocks.")]
    assert blocks and all(r.repeat == 3 for r in blocks), "one folded block stands for the three"
    check(model, module, (3, "H", "W"), [({"H": 12, "W": 12}, 2), ({"H": 20, "W": 14}, 3)])


def test_resnet_18():
    module = _resnet(BasicBlock, [2, 2, 2, 2], num_classes=10)
    model = imported(module, (3, "H", "W"), {"H": 32, "W": 32})
    check(model, module, (3, "H", "W"), [({"H": 32, "W": 32}, 2), ({"H": 64, "W": 48}, 2)])


def test_mobilenet_v2():
    module = MobileNetV2(num_classes=10)
    model = imported(module, (3, "H", "W"), {"H": 32, "W": 32})
    check(model, module, (3, "H", "W"), [({"H": 32, "W": 32}, 2), ({"H": 64, "W": 48}, 2)])


class Tagger(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 5)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


def test_lstm_on_the_native_kernel():
    """torch's native LSTM (oneDNN off, as the recorder runs it): its gates and states per step."""
    model = imported(lambda hidden: Tagger(hidden), (6, 8), {"hidden": 16})
    count = model.count()
    for hidden, batch in ((16, 2), (24, 3)):
        memory = count.subs(hidden=hidden).memory(device="cpu", batch_size=batch)
        assert memory.undeclared == ()
        torch.manual_seed(0)
        module = Tagger(hidden).train()
        with native_kernels():
            truth = saved_bytes(module, torch.randn(batch, 6, 8))
        assert int(memory.activations) == truth, (hidden, batch)
