"""torchvision's SqueezeNet (``torchvision/models/squeezenet.py``): Fire modules (a 1×1
squeeze, then 1×1 and 3×3 expansions concatenated) between max pooling with
``ceil_mode=True``; the classifier is a 1×1 convolution to ``num_classes`` channels,
ReLU and global average pooling.

Entries: ``squeezenet1_0`` and ``squeezenet1_1`` (a 3×3 stem, earlier pooling).
"""

from __future__ import annotations

from ...torch import (
    AdaptiveAvgPool2d, Block, Cat, Conv2d, Dropout, Flatten, MaxPool2d, ReLU, Sequential,
)
from ..registry import register
from ._common import DIMS, image


def fire(name, prefix, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
    """torchvision's ``Fire``: ``cat([relu(expand1x1(s)), relu(expand3x3(s))], 1)`` with
    ``s = relu(squeeze(x))``."""
    squeeze = Conv2d(inplanes, squeeze_planes, kernel_size=1, name=f"{prefix}.squeeze")
    squeeze_activation = ReLU(inplace=True, name=f"{prefix}.squeeze_activation")
    expand1x1 = Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1, name=f"{prefix}.expand1x1")
    expand1x1_activation = ReLU(inplace=True, name=f"{prefix}.expand1x1_activation")
    expand3x3 = Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1, name=f"{prefix}.expand3x3")
    expand3x3_activation = ReLU(inplace=True, name=f"{prefix}.expand3x3_activation")

    def forward(x):
        x = squeeze_activation(squeeze(x))
        return Cat(1, name=f"{prefix}.cat")([expand1x1_activation(expand1x1(x)), expand3x3_activation(expand3x3(x))])

    return Block(name, forward)


def _features(version: str) -> list:
    """``features`` of ``SqueezeNet(version)``: ``(kind, arguments)`` per module, in order."""
    pool = ("pool", ())
    if version == "1_0":
        return [("conv", (3, 96, 7, 2)), ("relu", ()), pool,
                ("fire", (96, 16, 64, 64)), ("fire", (128, 16, 64, 64)), ("fire", (128, 32, 128, 128)), pool,
                ("fire", (256, 32, 128, 128)), ("fire", (256, 48, 192, 192)), ("fire", (384, 48, 192, 192)),
                ("fire", (384, 64, 256, 256)), pool,
                ("fire", (512, 64, 256, 256))]
    return [("conv", (3, 64, 3, 2)), ("relu", ()), pool,
            ("fire", (64, 16, 64, 64)), ("fire", (128, 16, 64, 64)), pool,
            ("fire", (128, 32, 128, 128)), ("fire", (256, 32, 128, 128)), pool,
            ("fire", (256, 48, 192, 192)), ("fire", (384, 48, 192, 192)), ("fire", (384, 64, 256, 256)),
            ("fire", (512, 64, 256, 256))]


def squeezenet(version: str, num_classes, H, W, dropout: float = 0.5):
    """torchvision's ``SqueezeNet(version, num_classes, dropout)``."""
    features = []
    for i, (kind, args) in enumerate(_features(version)):
        name = f"features.{i}"
        if kind == "conv":
            in_channels, out_channels, kernel_size, stride = args
            features.append(Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride, name=name))
        elif kind == "relu":
            features.append(ReLU(inplace=True, name=name))
        elif kind == "pool":
            features.append(MaxPool2d(kernel_size=3, stride=2, ceil_mode=True, name=name))
        else:
            features.append(fire(str(i), name, *args))
    classifier = [
        Dropout(p=dropout, name="classifier.0"),
        Conv2d(512, num_classes, kernel_size=1, name="classifier.1"),  # final_conv
        ReLU(inplace=True, name="classifier.2"),
        AdaptiveAvgPool2d((1, 1), name="classifier.3"),
    ]
    return Sequential([
        image(H, W),
        Block("features", features),
        Block("classifier", classifier),
        Flatten(name="flatten"),  # torch.flatten(x, 1) in forward
    ], name=f"squeezenet{version}")


@register("torchvision:squeezenet1_0", dims=DIMS, source="torchvision.models.squeezenet1_0()")
def squeezenet1_0(num_classes, H, W):
    return squeezenet("1_0", num_classes, H, W)


@register("torchvision:squeezenet1_1", dims=DIMS, source="torchvision.models.squeezenet1_1()")
def squeezenet1_1(num_classes, H, W):
    return squeezenet("1_1", num_classes, H, W)
