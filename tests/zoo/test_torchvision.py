"""The zoo's ``torchvision:`` entries against torchvision's models.

Two independent sources:

- torchvision's published numbers: each weights enum's ``meta["num_params"]`` and
  ``meta["_ops"]`` (the GFLOPS column of torchvision's model tables: multiply-
  accumulates of convolutions and linear layers at 224×224, in billions, to three
  decimals), copied from torchvision 0.28.0's sources;
- the models themselves (``torchvision_defs``, a transcription of torchvision's classes,
  checked against torchvision wherever it imports), built on the ``meta`` device and run
  forward — and backward — there under ``FlopCounterMode``: every entry at its default
  configuration and two others (classes, input sizes of both parities, non-square;
  ``width_mult`` for MobileNetV2), compared by parameter and buffer names and shapes,
  totals, output shape and FLOPs.
"""

from __future__ import annotations

import math
import re

import pytest

import symcount.zoo as zoo
from symcount.errors import ArgumentError, SubstitutionError

BATCH = 2

#: torchvision 0.28.0, ``<Model>_Weights.IMAGENET1K_V1.meta``: (num_params, _ops)
PUBLISHED = {
    "alexnet": (61_100_840, 0.714),
    "vgg11": (132_863_336, 7.609),
    "vgg11_bn": (132_868_840, 7.609),
    "vgg13": (133_047_848, 11.308),
    "vgg13_bn": (133_053_736, 11.308),
    "vgg16": (138_357_544, 15.47),
    "vgg16_bn": (138_365_992, 15.47),
    "vgg19": (143_667_240, 19.632),
    "vgg19_bn": (143_678_248, 19.632),
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "resnet101": (44_549_160, 7.801),
    "resnet152": (60_192_808, 11.514),
    "resnext50_32x4d": (25_028_904, 4.23),
    "resnext101_32x8d": (88_791_336, 16.414),
    "resnext101_64x4d": (83_455_272, 15.46),
    "wide_resnet50_2": (68_883_240, 11.398),
    "wide_resnet101_2": (126_886_696, 22.753),
    "mobilenet_v2": (3_504_872, 0.301),
    "densenet121": (7_978_856, 2.834),
    "densenet161": (28_681_000, 7.728),
    "densenet169": (14_149_480, 3.36),
    "densenet201": (20_013_928, 4.291),
    "squeezenet1_0": (1_248_424, 0.819),
    "squeezenet1_1": (1_235_496, 0.349),
}

# every entry at its default configuration and two others
CASES = [(name, {}) for name in PUBLISHED] + [
    (name, config) for name in PUBLISHED if name != "mobilenet_v2"
    for config in ({"num_classes": 10, "H": 64, "W": 80}, {"num_classes": 37, "H": 97, "W": 131})
] + [
    ("mobilenet_v2", {"width_mult": 0.5, "num_classes": 10, "H": 96, "W": 96}),
    ("mobilenet_v2", {"width_mult": 1.4, "num_classes": 37, "H": 97, "W": 131}),
    ("mobilenet_v2", {"width_mult": 0.35, "H": 64, "W": 45}),
]

#: the smallest input each entry accepts (torch fails one below it: an output size of 0)
SMALLEST = {"alexnet": 63, "vgg16": 32, "densenet121": 29, "squeezenet1_0": 21, "resnet50": 1}

_RUN = re.compile(r"(?<=\.)(\d+)-(\d+)(?=\.|$)")


def modules(name: str) -> list[str]:
    """The torch module names a symcount name stands for: ``layer3.1-5.conv1`` is
    ``layer3.1.conv1`` … ``layer3.5.conv1`` (a ``Repeat``); any other name is its own."""
    match = _RUN.search(name)
    if match is None:
        return [name]
    first, last = int(match.group(1)), int(match.group(2))
    return [name[:match.start()] + str(i) + name[match.end():] for i in range(first, last + 1)]


def named(count, buffers: bool) -> dict:
    """``{torch name: shape}`` of the count's parameters (or buffers), as torch names them."""
    out = {}
    for record in count.layers:
        if not record.counted:
            continue
        names = modules(record.name)
        assert len(names) == record.repeat, (record.name, record.repeat)
        for module in names:
            for w in record.weights:
                if w.buffer == buffers:
                    out[f"{module}.{w.name}"] = tuple(int(s) for s in w.shape)
    return out


def split(config: dict) -> tuple[dict, tuple]:
    """(constructor keyword arguments, input size) of a case."""
    kwargs = {k: v for k, v in config.items() if k not in ("H", "W")}
    return kwargs, (config.get("H", 224), config.get("W", 224))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_default_configuration_has_torchvisions_published_parameters_and_gflops(name):
    params, gflops = PUBLISHED[name]
    count = zoo.get(f"torchvision:{name}")
    assert count.total == params
    assert round(int(count.macs) / 1e9, 3) == gflops


def test_every_torchvision_entry_is_checked():
    assert {e.name for e in zoo.entries() if e.name.startswith("torchvision:")} == \
        {f"torchvision:{name}" for name in PUBLISHED}


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet50"])
def test_the_closed_form_is_linear_in_num_classes_and_free_of_the_input_size(name):
    count = zoo.symbolic(f"torchvision:{name}")
    head = {"mobilenet_v2": 1280, "resnet50": 2048}[name]
    assert {d.name for d in count.total.free_symbols} == {"num_classes"}
    assert count.total.coeff(count.total.free_symbols.pop()) == head + 1  # fc's weight row and bias


@pytest.mark.parametrize("width_mult", [0, -0.5, "1.0"])
def test_mobilenet_v2_rejects_a_width_mult_that_is_not_a_positive_number(width_mult):
    with pytest.raises(ArgumentError, match="width_mult must be a positive number. Received: width_mult="):
        zoo.get("torchvision:mobilenet_v2", width_mult=width_mult)


# ---------------------------------------------------------------------------
# against the models (torch)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch_side():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from . import torchvision_defs

    def build(name, kwargs):
        with torch.device("meta"):
            return torchvision_defs.MODELS[name](**kwargs)

    def run(model, size, backward=False):
        """Output shape and FlopCounterMode's FLOPs of a forward (and backward) pass, and
        what FlopCounterMode adds to the backward pass of grouped convolutions (below).
        BatchNorm runs as the identity: on ``meta`` its decomposition is most of the time,
        and it keeps the shape and has no FLOPs in FlopCounterMode's count either way."""
        grouped = []

        def overcount(conv, inputs, out):
            # torch 2.13's conv_backward_flop counts the weight gradient as conv(x, grad_out)
            # without groups: C_in·C_out·k·positions per example where the products are
            # C_in/groups·C_out·k·positions — groups times too many (it says it skips groups)
            g = conv.groups
            if backward and g > 1:
                positions = out.shape[0] * math.prod(out.shape[2:])
                grouped.append(2 * positions * math.prod(conv.kernel_size) * conv.out_channels * conv.in_channels
                               * (g - 1) // g)

        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.forward = lambda x: x
        x = torch.empty(BATCH, 3, *size, device="meta")
        with torch.nn.modules.module.register_module_forward_hook(
                lambda m, i, o: overcount(m, i, o) if isinstance(m, torch.nn.Conv2d) else None), \
                FlopCounterMode(display=False) as counter:
            out = model(x)
            if backward:
                out.sum().backward()
        return tuple(out.shape), counter.get_total_flops(), sum(grouped)

    return build, run


@pytest.mark.oracle
@pytest.mark.parametrize("name, config", CASES, ids=lambda v: v if isinstance(v, str) else
                         "-".join(f"{k}={x}" for k, x in v.items()) or "default")
def test_entry_matches_the_torch_model(torch_side, name, config):
    build, run = torch_side
    kwargs, size = split(config)
    theirs = build(name, kwargs)
    ours = zoo.get(f"torchvision:{name}", **config)
    assert named(ours, buffers=False) == {n: tuple(p.shape) for n, p in theirs.named_parameters()}
    assert named(ours, buffers=True) == {n: tuple(b.shape) for n, b in theirs.named_buffers()}
    assert ours.total == sum(p.numel() for p in theirs.parameters())
    assert ours.buffers == sum(b.numel() for b in theirs.buffers())
    shape, flops, _ = run(theirs, size)
    assert (BATCH, *ours.output_shape[1:]) == shape
    assert ours.flops * BATCH == flops == 2 * ours.macs * BATCH  # 2 per multiply-accumulate


@pytest.mark.oracle
@pytest.mark.parametrize("name, width_mult", [("resnet18", None), ("resnet50", None), ("squeezenet1_0", None),
                                              ("densenet121", None), ("mobilenet_v2", 0.5),
                                              ("resnext50_32x4d", None)])
@pytest.mark.parametrize("size", [64, 96])
def test_training_flops_match_flopcountermode_over_backward(torch_side, name, width_mult, size):
    """Forward + backward, as FlopCounterMode counts ``loss.backward()``: the first
    convolution computes no input gradient (the images need none). For grouped and
    depthwise convolutions (ResNeXt, MobileNetV2) FlopCounterMode counts each weight
    gradient ``groups`` times over; symcount counts the products autograd computes, so
    the two differ by exactly that excess, derived from the torch modules."""
    build, run = torch_side
    options = {} if width_mult is None else {"width_mult": width_mult}
    theirs = build(name, {"num_classes": 10, **options})
    ours = zoo.get(f"torchvision:{name}", num_classes=10, H=size, W=size + 8, **options)
    _, flops, excess = run(theirs, (size, size + 8), backward=True)
    assert ours.training_flops * BATCH == flops - excess
    assert (excess > 0) == (name in ("mobilenet_v2", "resnext50_32x4d"))


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121", "squeezenet1_0"])
def test_block_totals_match_the_torch_submodules(torch_side, name):
    """``Count.blocks`` at depths 1 and 2 (``layer1``; ``layer1`` › ``0``) against the
    parameters of torch's submodules (a repeated block ``layer3.1-5`` against
    ``layer3[1]`` … ``layer3[5]``)."""
    build, _ = torch_side
    theirs = build(name, {})
    ours = zoo.get(f"torchvision:{name}")
    for depth in (1, 2):
        blocks = {path: totals for path, totals in ours.blocks(depth).items() if len(path) == depth}
        assert blocks
        for path, totals in blocks.items():
            expected = sum(p.numel() for m in modules(".".join(path)) for p in theirs.get_submodule(m).parameters())
            assert totals["params"] == expected, path


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(SMALLEST))
def test_the_smallest_input_is_where_torch_starts_to_accept(torch_side, name):
    build, run = torch_side
    theirs = build(name, {})
    smallest = SMALLEST[name]
    assert run(theirs, (smallest, smallest))[0] == (BATCH, 1000)
    assert zoo.get(f"torchvision:{name}", H=smallest, W=smallest).output_shape == (None, 1000)
    if smallest > 1:
        with pytest.raises(RuntimeError, match="too small"):
            run(theirs, (smallest - 1, smallest))
        with pytest.raises(SubstitutionError, match=f"needs H >= {smallest}"):
            zoo.get(f"torchvision:{name}", H=smallest - 1, W=smallest)


@pytest.mark.oracle
def test_the_transcription_is_torchvisions_own_models(torch_side):
    """Where torchvision imports, ``torchvision_defs`` builds its models exactly: the same
    modules, parameters and buffers by name and shape (so the tests above hold for
    torchvision itself). The PyPI torchvision that pins torch 2.13.0 does not import
    beside its CPU build, so this mostly runs on developers' machines."""
    build, _ = torch_side
    try:
        import torchvision.models as tvm
    except Exception as exc:  # not installed, or built for another torch (its compiled ops fail to load)
        pytest.skip(f"torchvision does not import here: {type(exc).__name__}: {exc}")
    import torch

    for name in PUBLISHED:
        for kwargs in ({}, {"num_classes": 7}) + (({"width_mult": 0.5},) if name == "mobilenet_v2" else ()):
            with torch.device("meta"):
                reference = getattr(tvm, name)(**kwargs)
            ours = build(name, kwargs)
            assert [n for n, _ in ours.named_modules()] == [n for n, _ in reference.named_modules()], name
            assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
                {k: tuple(v.shape) for k, v in reference.state_dict().items()}, name
