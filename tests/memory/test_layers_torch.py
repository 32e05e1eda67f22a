"""Each symcount.torch layer's saved tensors against what autograd saves for the torch
module (``saved_tensors_hooks`` on a CPU forward pass in training mode, unique storages,
parameters and buffers excluded), at two input sizes, through the formula: the layer is
counted on symbolic sizes, then the sizes are substituted and
``memory(device="cpu", batch_size=B).activations`` is compared with torch's bytes.

The input has ``requires_grad`` as inside a model (after a layer with weights): an op on a
tensor that needs no gradient is not recorded at all."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import symcount as sc
import symcount.torch as st
from tests.torch.saved_truth import inputs, native_kernels, saved_bytes

BATCH = 2
H, W, L = sc.dims("H W L")
SIZES = ({"H": 6, "W": 7, "L": 5}, {"H": 9, "W": 4, "L": 8})


def symcount_bytes(layer, template, values, batch=BATCH, time_major=False):
    """Activation bytes of ``layer`` (or a ``Sequential``) on an input of ``template`` (dims), at ``values``."""
    if time_major:
        count = st.Sequential([st.Input(template, batch_first=False), layer]).count()
    else:
        model = layer if isinstance(layer, st.Sequential) else st.Sequential([layer])
        count = model.count(input_shape=template)
    used = {k: v for k, v in values.items() if k in {d.name for d in count.dims}}
    memory = count.subs(**used).memory(device="cpu", batch_size=batch)
    assert memory.undeclared == ()
    return int(memory.activations)


def torch_bytes(module, template, values, batch=BATCH, time_major=False, ids=None):
    shape = tuple(values[s.name] if hasattr(s, "name") else s for s in template)
    full = (shape[0], batch, *shape[1:]) if time_major else (batch, *shape)
    module.train()
    with native_kernels():
        return saved_bytes(module, *inputs(full, integer=ids))


# (name, symcount layer, torch module, input shape without batch); every case runs at both sizes
CHW = (3, H, W)
CASES = [
    ("Linear", lambda: st.Linear(7, 4), lambda: nn.Linear(7, 4), (H, 7)),
    ("Conv2d", lambda: st.Conv2d(3, 4, 3), lambda: nn.Conv2d(3, 4, 3), CHW),
    ("Conv2d padding 1", lambda: st.Conv2d(3, 4, 3, padding=1, stride=2),
     lambda: nn.Conv2d(3, 4, 3, padding=1, stride=2), CHW),
    ("Conv2d groups", lambda: st.Conv2d(3, 6, 3, groups=3), lambda: nn.Conv2d(3, 6, 3, groups=3), CHW),
    ("Conv2d reflect", lambda: st.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
     lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), CHW),
    ("Conv2d replicate", lambda: st.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="replicate"),
     lambda: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="replicate"), CHW),
    ("Conv2d circular", lambda: st.Conv2d(3, 4, 3, padding=1, padding_mode="circular"),
     lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), CHW),
    ("Conv2d same odd", lambda: st.Conv2d(3, 4, 3, padding="same"), lambda: nn.Conv2d(3, 4, 3, padding="same"), CHW),
    ("Conv2d same even", lambda: st.Conv2d(3, 4, (4, 3), padding="same"),
     lambda: nn.Conv2d(3, 4, (4, 3), padding="same"), CHW),
    ("Conv1d", lambda: st.Conv1d(3, 4, 3), lambda: nn.Conv1d(3, 4, 3), (3, L)),
    ("Conv3d", lambda: st.Conv3d(3, 2, 2), lambda: nn.Conv3d(3, 2, 2), (3, L, H, W)),
    ("ConvTranspose2d", lambda: st.ConvTranspose2d(3, 4, 3, stride=2),
     lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), CHW),
    ("ConvTranspose1d", lambda: st.ConvTranspose1d(3, 4, 3), lambda: nn.ConvTranspose1d(3, 4, 3), (3, L)),
    ("BatchNorm1d", lambda: st.BatchNorm1d(3), lambda: nn.BatchNorm1d(3), (3, L)),
    ("BatchNorm2d", lambda: st.BatchNorm2d(3), lambda: nn.BatchNorm2d(3), CHW),
    ("BatchNorm2d no affine", lambda: st.BatchNorm2d(3, affine=False), lambda: nn.BatchNorm2d(3, affine=False), CHW),
    ("BatchNorm3d", lambda: st.BatchNorm3d(3), lambda: nn.BatchNorm3d(3), (3, L, H, W)),
    ("InstanceNorm2d", lambda: st.InstanceNorm2d(3), lambda: nn.InstanceNorm2d(3), CHW),
    ("InstanceNorm2d affine", lambda: st.InstanceNorm2d(3, affine=True),
     lambda: nn.InstanceNorm2d(3, affine=True), CHW),
    ("InstanceNorm1d tracked", lambda: st.InstanceNorm1d(3, track_running_stats=True),
     lambda: nn.InstanceNorm1d(3, track_running_stats=True), (3, L)),
    ("LayerNorm", lambda: st.LayerNorm(7), lambda: nn.LayerNorm(7), (H, 7)),
    ("LayerNorm 2 axes", lambda: st.LayerNorm((3, 7)), lambda: nn.LayerNorm((3, 7)), (L, 3, 7)),
    ("LayerNorm no affine", lambda: st.LayerNorm(7, elementwise_affine=False),
     lambda: nn.LayerNorm(7, elementwise_affine=False), (H, 7)),
    ("RMSNorm", lambda: st.RMSNorm(7), lambda: nn.RMSNorm(7), (H, 7)),
    ("RMSNorm no affine", lambda: st.RMSNorm(7, elementwise_affine=False),
     lambda: nn.RMSNorm(7, elementwise_affine=False), (H, 7)),
    ("GroupNorm", lambda: st.GroupNorm(2, 4), lambda: nn.GroupNorm(2, 4), (4, H, W)),
    ("MaxPool2d", lambda: st.MaxPool2d(2), lambda: nn.MaxPool2d(2), CHW),
    ("MaxPool2d overlapping", lambda: st.MaxPool2d(3, 2, 1, ceil_mode=True),
     lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), CHW),
    ("MaxPool1d", lambda: st.MaxPool1d(2), lambda: nn.MaxPool1d(2), (3, L)),
    ("MaxPool3d", lambda: st.MaxPool3d(2), lambda: nn.MaxPool3d(2), (3, L, H, W)),
    ("AvgPool2d", lambda: st.AvgPool2d(2), lambda: nn.AvgPool2d(2), CHW),
    ("AvgPool1d", lambda: st.AvgPool1d(3, 2), lambda: nn.AvgPool1d(3, 2), (3, L)),
    ("AvgPool3d", lambda: st.AvgPool3d(2), lambda: nn.AvgPool3d(2), (3, L, H, W)),
    ("AdaptiveAvgPool2d 1", lambda: st.AdaptiveAvgPool2d(1), lambda: nn.AdaptiveAvgPool2d(1), CHW),
    ("AdaptiveAvgPool2d 2", lambda: st.AdaptiveAvgPool2d(2), lambda: nn.AdaptiveAvgPool2d(2), CHW),
    ("AdaptiveAvgPool1d 1", lambda: st.AdaptiveAvgPool1d(1), lambda: nn.AdaptiveAvgPool1d(1), (3, L)),
    ("AdaptiveAvgPool3d 1", lambda: st.AdaptiveAvgPool3d(1), lambda: nn.AdaptiveAvgPool3d(1), (3, L, H, W)),
    ("AdaptiveAvgPool2d (1, None)", lambda: st.AdaptiveAvgPool2d((1, None)),
     lambda: nn.AdaptiveAvgPool2d((1, None)), CHW),
    ("AdaptiveMaxPool2d", lambda: st.AdaptiveMaxPool2d(2), lambda: nn.AdaptiveMaxPool2d(2), CHW),
    ("AdaptiveMaxPool1d", lambda: st.AdaptiveMaxPool1d(3), lambda: nn.AdaptiveMaxPool1d(3), (3, L)),
    ("Dropout", lambda: st.Dropout(0.3), lambda: nn.Dropout(0.3), CHW),
    ("Dropout p=0", lambda: st.Dropout(0.0), lambda: nn.Dropout(0.0), CHW),
    ("Dropout p=1", lambda: st.Dropout(1.0), lambda: nn.Dropout(1.0), CHW),
    ("Dropout2d p=1", lambda: st.Dropout2d(1.0), lambda: nn.Dropout2d(1.0), CHW),
    ("AlphaDropout p=1", lambda: st.AlphaDropout(1.0), lambda: nn.AlphaDropout(1.0), CHW),
    ("Dropout1d", lambda: st.Dropout1d(0.3), lambda: nn.Dropout1d(0.3), (3, L)),
    ("Dropout2d", lambda: st.Dropout2d(0.3), lambda: nn.Dropout2d(0.3), CHW),
    ("Dropout3d", lambda: st.Dropout3d(0.3), lambda: nn.Dropout3d(0.3), (3, L, H, W)),
    ("AlphaDropout", lambda: st.AlphaDropout(0.3), lambda: nn.AlphaDropout(0.3), CHW),
    ("Flatten", lambda: st.Flatten(), lambda: nn.Flatten(), CHW),
    ("Unflatten", lambda: st.Unflatten(1, (1, 3)), lambda: nn.Unflatten(1, (1, 3)), CHW),
    ("Identity", lambda: st.Identity(), lambda: nn.Identity(), CHW),
    ("GLU", lambda: st.GLU(1), lambda: nn.GLU(1), (4, H)),
    ("PReLU", lambda: st.PReLU(3), lambda: nn.PReLU(3), CHW),
    ("Embedding", lambda: st.Embedding(11, 4), lambda: nn.Embedding(11, 4), (L,)),
    ("Embedding frozen", lambda: st.Embedding(11, 4, _freeze=True),
     lambda: nn.Embedding.from_pretrained(torch.zeros(11, 4)), (L,)),
]
ACTIVATIONS = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Softsign",
               "Tanhshrink", "LogSigmoid", "Hardsigmoid", "Hardswish", "Softplus", "Hardshrink", "Hardtanh",
               "Softshrink", "GELU", "Softmax2d"]
for _name in ACTIVATIONS:
    CASES.append((_name, lambda n=_name: getattr(st, n)(), lambda n=_name: getattr(nn, n)(), CHW))
for _name in ["Softmax", "LogSoftmax", "Softmin"]:
    CASES.append((_name, lambda n=_name: getattr(st, n)(dim=1), lambda n=_name: getattr(nn, n)(dim=1), CHW))
CASES.append(("Threshold", lambda: st.Threshold(0.1, 0.0), lambda: nn.Threshold(0.1, 0.0), CHW))
CASES.append(("GELU tanh", lambda: st.GELU("tanh"), lambda: nn.GELU("tanh"), CHW))


@pytest.mark.parametrize("name, ours, theirs, template", CASES, ids=[c[0] for c in CASES])
def test_layer_saves_what_autograd_saves(name, ours, theirs, template):
    ids = 11 if name.startswith("Embedding") else None
    for values in SIZES:
        assert symcount_bytes(ours(), template, values) == torch_bytes(theirs(), template, values, ids=ids), \
            (name, values)


# In place: the layer's output is its input's storage. Inside a model (after a Linear, whose
# input is the one other saved tensor), the in-place activation keeps either its result or
# a copy autograd makes of the input before overwriting it.
INPLACE = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish",
           "Hardtanh", "Dropout", "Dropout2d", "AlphaDropout"]


@pytest.mark.parametrize("name", INPLACE)
def test_in_place_layers(name):
    for values in SIZES:
        ours = st.Sequential([st.Linear(7, 7), getattr(st, name)(inplace=True), st.Linear(7, 2)])
        theirs = nn.Sequential(nn.Linear(7, 7), getattr(nn, name)(inplace=True), nn.Linear(7, 2))
        template = (3, H, 7)
        assert symcount_bytes(ours, template, values) == torch_bytes(theirs, template, values), (name, values)


def test_threshold_in_place():
    ours = st.Sequential([st.Linear(7, 7), st.Threshold(0.1, 0.0, inplace=True)])
    theirs = nn.Sequential(nn.Linear(7, 7), nn.Threshold(0.1, 0.0, inplace=True))
    for values in SIZES:
        assert symcount_bytes(ours, (H, 7), values) == torch_bytes(theirs, (H, 7), values)


def test_batch_norm_statistics_are_per_batch():
    """torch keeps save_mean/save_invstd (fp32, C each) once per batch: declared
    ``per_batch``, exact at every batch size."""
    values = SIZES[0]
    for batch in (1, 2, 3):
        for ours, theirs, template in ((st.BatchNorm2d(3), nn.BatchNorm2d(3), CHW),
                                       (st.BatchNorm1d(3), nn.BatchNorm1d(3), (3, L))):
            assert torch_bytes(theirs, template, values, batch) == symcount_bytes(ours, template, values, batch)


class _Pair(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, a, b):
        return self.op(a, b)


@pytest.mark.parametrize("kind", ["Add", "Cat", "Bilinear"])
def test_layers_of_two_inputs(kind):
    for values in SIZES:
        n = values["H"]
        a, b = sc.torch.Input((n, 5)), sc.torch.Input((n, 5 if kind == "Add" else 4))
        layer = {"Add": st.Add(), "Cat": st.Cat(dim=2), "Bilinear": st.Bilinear(5, 4, 3)}[kind]
        count = sc.Model([a, b], layer([a, b])).count()
        ours = int(count.memory(device="cpu", batch_size=BATCH).activations)
        op = {"Add": lambda x, y: x + y, "Cat": lambda x, y: torch.cat([x, y], 2), "Bilinear": nn.Bilinear(5, 4, 3)}
        module = _Pair(op[kind])
        x, y = inputs((BATCH, n, 5), (BATCH, n, 5 if kind == "Add" else 4))
        assert ours == saved_bytes(module, x, y), (kind, values)


RNNS = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("RNN", {"bidirectional": True}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "dropout": 0.4}), ("LSTM", {"bidirectional": True, "num_layers": 2}),
    ("LSTM", {"proj_size": 3}), ("LSTM", {"batch_first": True}),
    ("GRU", {}), ("GRU", {"num_layers": 3, "dropout": 0.2, "bidirectional": True}), ("GRU", {"batch_first": True}),
    ("GRU", {"bias": False}),
]


@pytest.mark.parametrize("kind, kwargs", RNNS, ids=[f"{k}-{v}" for k, v in RNNS])
def test_recurrent_native_kernel(kind, kwargs):
    first = kwargs.get("batch_first", False)
    for values in SIZES:
        ours = getattr(st, kind)(4, 5, **kwargs)
        theirs = getattr(nn, kind)(4, 5, **kwargs)
        assert symcount_bytes(ours, (L, 4), values, time_major=not first) == \
            torch_bytes(theirs, (L, 4), values, time_major=not first), (kind, kwargs, values)
