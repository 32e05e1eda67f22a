"""torchvision's AlexNet (``torchvision/models/alexnet.py``): five convolutions with
max pooling, ``AdaptiveAvgPool2d((6, 6))``, and three linear layers with dropout."""

from __future__ import annotations

from ...torch import (
    AdaptiveAvgPool2d, Block, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential,
)
from ..registry import register
from ._common import DIMS, image, sequential


@register("torchvision:alexnet", dims=DIMS, source="torchvision.models.alexnet()")
def alexnet(num_classes, H, W):
    features = sequential("features", [
        Conv2d(3, 64, kernel_size=11, stride=4, padding=2), ReLU(inplace=True), MaxPool2d(kernel_size=3, stride=2),
        Conv2d(64, 192, kernel_size=5, padding=2), ReLU(inplace=True), MaxPool2d(kernel_size=3, stride=2),
        Conv2d(192, 384, kernel_size=3, padding=1), ReLU(inplace=True),
        Conv2d(384, 256, kernel_size=3, padding=1), ReLU(inplace=True),
        Conv2d(256, 256, kernel_size=3, padding=1), ReLU(inplace=True), MaxPool2d(kernel_size=3, stride=2),
    ])
    classifier = sequential("classifier", [
        Dropout(p=0.5), Linear(256 * 6 * 6, 4096), ReLU(inplace=True),
        Dropout(p=0.5), Linear(4096, 4096), ReLU(inplace=True),
        Linear(4096, num_classes),
    ])
    return Sequential([
        image(H, W),
        Block("features", features),
        AdaptiveAvgPool2d((6, 6), name="avgpool"),
        Flatten(name="flatten"),  # torch.flatten(x, 1) in forward
        Block("classifier", classifier),
    ], name="alexnet")
