"""torchvision's VGG (``torchvision/models/vgg.py``): ``make_layers(cfgs[cfg], batch_norm)``
— 3×3 convolutions (with ``BatchNorm2d`` in the ``_bn`` variants) and 2×2 max pooling —
then ``AdaptiveAvgPool2d((7, 7))`` and three linear layers with dropout.

Entries ``torchvision:vgg11`` (cfg A), ``vgg13`` (B), ``vgg16`` (D), ``vgg19`` (E), each
also ``_bn``.
"""

from __future__ import annotations

from ...torch import (
    AdaptiveAvgPool2d, BatchNorm2d, Block, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential,
)
from ..registry import register
from ._common import DIMS, image, sequential

#: torchvision's ``cfgs``: output channels of each 3×3 convolution, ``"M"`` a max pooling
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

DEPTHS = {11: "A", 13: "B", 16: "D", 19: "E"}


def make_layers(cfg: list, batch_norm: bool = False) -> list:
    """torchvision's ``make_layers``: the ``features`` of a VGG."""
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers += [MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = Conv2d(in_channels, v, kernel_size=3, padding=1)
            layers += [conv2d, BatchNorm2d(v), ReLU(inplace=True)] if batch_norm else [conv2d, ReLU(inplace=True)]
            in_channels = v
    return sequential("features", layers)


def vgg(name: str, cfg: str, batch_norm: bool, num_classes, H, W, dropout: float = 0.5):
    """torchvision's ``VGG(make_layers(cfgs[cfg], batch_norm), num_classes)``."""
    classifier = sequential("classifier", [
        Linear(512 * 7 * 7, 4096), ReLU(True), Dropout(p=dropout),
        Linear(4096, 4096), ReLU(True), Dropout(p=dropout),
        Linear(4096, num_classes),
    ])
    return Sequential([
        image(H, W),
        Block("features", make_layers(CFGS[cfg], batch_norm)),
        AdaptiveAvgPool2d((7, 7), name="avgpool"),
        Flatten(name="flatten"),  # torch.flatten(x, 1) in forward
        Block("classifier", classifier),
    ], name=name)


def _register(depth: int, batch_norm: bool) -> None:
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"

    @register(f"torchvision:{name}", dims=DIMS, source=f"torchvision.models.{name}()")
    def builder(num_classes, H, W):
        return vgg(name, DEPTHS[depth], batch_norm, num_classes, H, W)

    builder.__name__ = builder.__qualname__ = name


for _depth in DEPTHS:
    for _batch_norm in (False, True):
        _register(_depth, _batch_norm)
