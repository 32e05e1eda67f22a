"""torchvision's ResNet family (``torchvision/models/resnet.py``): a 7×7 stem, four
stages ``layer1`` … ``layer4`` of ``BasicBlock`` s or ``Bottleneck`` s with residual
additions, global average pooling and ``fc``.

Entries: ``resnet18``, ``resnet34`` (BasicBlock), ``resnet50``, ``resnet101``,
``resnet152`` (Bottleneck), ``resnext50_32x4d``, ``resnext101_32x8d``,
``resnext101_64x4d`` (grouped 3×3 convolutions) and ``wide_resnet50_2``,
``wide_resnet101_2`` (twice the bottleneck width). In each stage the first block (which
may stride and carries the ``downsample`` projection) is its own block and the others,
identical, are one ``Repeat``.
"""

from __future__ import annotations

from ...errors import ArgumentError
from ...torch import (
    AdaptiveAvgPool2d, Add, BatchNorm2d, Block, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential,
)
from ..registry import register
from ._common import DIMS, image, repeated


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1, name=None):
    """3x3 convolution with padding"""
    return Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False,
                  dilation=dilation, name=name)


def conv1x1(in_planes, out_planes, stride=1, name=None):
    """1x1 convolution"""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False, name=name)


def _residual(name: str, prefix: str, layers, relu, downsample):
    """The block: ``out = layers(x)``; ``out += downsample(x)`` or ``x``; ``relu(out)``."""

    def forward(x):
        out = x
        for layer in layers:
            out = layer(out)
        identity = downsample(x) if downsample is not None else x
        return relu(Add(name=f"{prefix}.add")([out, identity]))

    return Block(name, forward)


def basic_block(name, prefix, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
    """torchvision's ``BasicBlock`` (expansion 1): two 3×3 convolutions."""
    if groups != 1 or base_width != 64:
        raise ArgumentError(f"{prefix}: BasicBlock only supports groups=1 and base_width=64. "
                            f"Received: groups={groups}, base_width={base_width}")
    relu = ReLU(inplace=True, name=f"{prefix}.relu")  # one module, used after each convolution and the sum
    layers = [conv3x3(inplanes, planes, stride, name=f"{prefix}.conv1"), BatchNorm2d(planes, name=f"{prefix}.bn1"),
              relu, conv3x3(planes, planes, name=f"{prefix}.conv2"), BatchNorm2d(planes, name=f"{prefix}.bn2")]
    return _residual(name, prefix, layers, relu, downsample)


def bottleneck(name, prefix, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
    """torchvision's ``Bottleneck`` (expansion 4): 1×1, 3×3 (strided, grouped), 1×1."""
    width = int(planes * (base_width / 64.0)) * groups
    relu = ReLU(inplace=True, name=f"{prefix}.relu")
    layers = [
        conv1x1(inplanes, width, name=f"{prefix}.conv1"), BatchNorm2d(width, name=f"{prefix}.bn1"), relu,
        conv3x3(width, width, stride, groups, dilation, name=f"{prefix}.conv2"),
        BatchNorm2d(width, name=f"{prefix}.bn2"), relu,
        conv1x1(width, planes * 4, name=f"{prefix}.conv3"), BatchNorm2d(planes * 4, name=f"{prefix}.bn3"),
    ]
    return _residual(name, prefix, layers, relu, downsample)


EXPANSION = {basic_block: 1, bottleneck: 4}


def resnet(name, block, layers, num_classes, H, W, groups=1, width_per_group=64):
    """torchvision's ``ResNet(block, layers, num_classes, groups, width_per_group)``."""
    expansion = EXPANSION[block]
    inplanes = 64

    def make_layer(stage: str, planes: int, blocks: int, stride: int = 1):
        nonlocal inplanes
        downsample = None
        if stride != 1 or inplanes != planes * expansion:
            downsample = Block("downsample", [
                conv1x1(inplanes, planes * expansion, stride, name=f"{stage}.0.downsample.0"),
                BatchNorm2d(planes * expansion, name=f"{stage}.0.downsample.1"),
            ])
        first = block("0", f"{stage}.0", inplanes, planes, stride, downsample, groups, width_per_group)
        inplanes = planes * expansion
        rest = repeated(lambda index: block(index, f"{stage}.{index}", inplanes, planes, groups=groups,
                                            base_width=width_per_group), 1, blocks - 1)
        return Block(stage, [first, *rest])

    return Sequential([
        image(H, W),
        Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False, name="conv1"),
        BatchNorm2d(64, name="bn1"),
        ReLU(inplace=True, name="relu"),
        MaxPool2d(kernel_size=3, stride=2, padding=1, name="maxpool"),
        make_layer("layer1", 64, layers[0]),
        make_layer("layer2", 128, layers[1], stride=2),
        make_layer("layer3", 256, layers[2], stride=2),
        make_layer("layer4", 512, layers[3], stride=2),
        AdaptiveAvgPool2d((1, 1), name="avgpool"),
        Flatten(name="flatten"),  # torch.flatten(x, 1) in forward
        Linear(512 * expansion, num_classes, name="fc"),
    ], name=name)


#: name → (block, layers per stage, groups, width_per_group), as torchvision's builders set them
VARIANTS = {
    "resnet18": (basic_block, [2, 2, 2, 2], 1, 64),
    "resnet34": (basic_block, [3, 4, 6, 3], 1, 64),
    "resnet50": (bottleneck, [3, 4, 6, 3], 1, 64),
    "resnet101": (bottleneck, [3, 4, 23, 3], 1, 64),
    "resnet152": (bottleneck, [3, 8, 36, 3], 1, 64),
    "resnext50_32x4d": (bottleneck, [3, 4, 6, 3], 32, 4),
    "resnext101_32x8d": (bottleneck, [3, 4, 23, 3], 32, 8),
    "resnext101_64x4d": (bottleneck, [3, 4, 23, 3], 64, 4),
    "wide_resnet50_2": (bottleneck, [3, 4, 6, 3], 1, 64 * 2),
    "wide_resnet101_2": (bottleneck, [3, 4, 23, 3], 1, 64 * 2),
}


def _register(name: str) -> None:
    block, layers, groups, width = VARIANTS[name]

    @register(f"torchvision:{name}", dims=DIMS, source=f"torchvision.models.{name}()")
    def builder(num_classes, H, W):
        return resnet(name, block, layers, num_classes, H, W, groups, width)

    builder.__name__ = builder.__qualname__ = name


for _name in VARIANTS:
    _register(_name)
