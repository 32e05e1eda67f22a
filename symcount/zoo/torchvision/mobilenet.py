"""torchvision's MobileNetV2 (``torchvision/models/mobilenetv2.py``): inverted residual
blocks (1×1 expansion, 3×3 depthwise, 1×1 linear projection, a residual addition when
the block keeps its shape) between a strided 3×3 stem and a 1×1 convolution to
``last_channel``; then global average pooling and ``classifier``.

Option ``width_mult`` scales every channel count, rounded by ``_make_divisible`` to a
multiple of ``round_nearest`` (8), as torchvision does; ``last_channel`` only grows.
"""

from __future__ import annotations

from ...errors import ArgumentError
from ...torch import (
    AdaptiveAvgPool2d, Add, BatchNorm2d, Block, Conv2d, Dropout, Flatten, Linear, ReLU6, Sequential,
)
from ..registry import register
from ..rounding import make_divisible
from ._common import image, repeated, sequential

#: torchvision's ``inverted_residual_setting``: expansion t, channels c, repeats n, stride s
INVERTED_RESIDUAL_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]


def conv_norm_activation(name, prefix, in_channels, out_channels, kernel_size=3, stride=1, groups=1):
    """torchvision's ``Conv2dNormActivation(…, norm_layer=BatchNorm2d, activation_layer=ReLU6)``:
    a convolution padded to ``(kernel_size - 1) // 2`` without bias, ``BatchNorm2d``, ``ReLU6``."""
    return Block(name, sequential(prefix, [
        Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        BatchNorm2d(out_channels),
        ReLU6(inplace=True),
    ]))


def inverted_residual(name, prefix, inp, oup, stride, expand_ratio):
    """torchvision's ``InvertedResidual(inp, oup, stride, expand_ratio)``."""
    hidden_dim = int(round(inp * expand_ratio))
    use_res_connect = stride == 1 and inp == oup
    conv = f"{prefix}.conv"
    layers = []
    if expand_ratio != 1:
        layers.append(conv_norm_activation(str(len(layers)), f"{conv}.{len(layers)}", inp, hidden_dim, kernel_size=1))
    layers.append(conv_norm_activation(str(len(layers)), f"{conv}.{len(layers)}", hidden_dim, hidden_dim,
                                       stride=stride, groups=hidden_dim))
    layers.append(Conv2d(hidden_dim, oup, 1, 1, 0, bias=False, name=f"{conv}.{len(layers)}"))
    layers.append(BatchNorm2d(oup, name=f"{conv}.{len(layers)}"))
    body = Block("conv", layers)
    if not use_res_connect:
        return Block(name, [body])
    return Block(name, lambda x: Add(name=f"{prefix}.add")([x, body(x)]))


@register("torchvision:mobilenet_v2", dims={"num_classes": 1000, "H": 224, "W": 224},
          options={"width_mult": 1.0, "round_nearest": 8, "dropout": 0.2}, source="torchvision.models.mobilenet_v2()")
def mobilenet_v2(num_classes, H, W, width_mult=1.0, round_nearest=8, dropout=0.2):
    """torchvision's ``MobileNetV2(num_classes, width_mult, round_nearest=8, dropout=0.2)``
    (``dropout``: the classifier's, which decides the saved mask in training)."""
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) or width_mult <= 0:
        raise ArgumentError(f"torchvision:mobilenet_v2: width_mult must be a positive number. "
                            f"Received: width_mult={width_mult!r}")
    if isinstance(round_nearest, bool) or not isinstance(round_nearest, int) or round_nearest <= 0:
        raise ArgumentError(f"torchvision:mobilenet_v2: round_nearest must be a positive integer. "
                            f"Received: round_nearest={round_nearest!r}")
    input_channel = make_divisible(32 * width_mult, round_nearest)
    last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
    features = [conv_norm_activation("0", "features.0", 3, input_channel, stride=2)]
    index = 1  # of the next module in torchvision's features
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        output_channel = make_divisible(c * width_mult, round_nearest)
        features.append(inverted_residual(str(index), f"features.{index}", input_channel, output_channel, s, t))
        # the other n - 1 blocks of the stage: stride 1 and output_channel in and out, identical
        features += repeated(lambda name: inverted_residual(name, f"features.{name}", output_channel,
                                                            output_channel, 1, t), index + 1, n - 1)
        input_channel = output_channel
        index += n
    features.append(conv_norm_activation(str(index), f"features.{index}", input_channel, last_channel, kernel_size=1))
    return Sequential([
        image(H, W),
        Block("features", features),
        AdaptiveAvgPool2d((1, 1), name="adaptive_avg_pool2d"),  # nn.functional.adaptive_avg_pool2d in forward
        Flatten(name="flatten"),
        Block("classifier", sequential("classifier", [Dropout(p=dropout), Linear(last_channel, num_classes)])),
    ], name="mobilenet_v2")
