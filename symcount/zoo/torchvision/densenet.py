"""torchvision's DenseNet-BC (``torchvision/models/densenet.py``): a 7×7 stem, four dense
blocks whose layers each see the concatenation of all earlier feature maps, transitions
(BN, ReLU, 1×1 convolution halving the channels, 2×2 average pooling) between them,
``norm5``, then ReLU, global average pooling and ``classifier``.

Entries: ``densenet121`` (growth 32, blocks 6-12-24-16, 64 initial features),
``densenet161`` (48, 6-12-36-24, 96), ``densenet169`` (32, 6-12-32-32, 64),
``densenet201`` (32, 6-12-48-32, 64). ``drop_rate`` is 0 (no dropout module) and
``memory_efficient`` only trades memory for recomputation: neither changes a count.
"""

from __future__ import annotations

from ...torch import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Block, Cat, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential,
)
from ..registry import register
from ._common import DIMS, image


def dense_layer(name, prefix, num_input_features, growth_rate, bn_size):
    """torchvision's ``_DenseLayer``: ``conv2(relu2(norm2(conv1(relu1(norm1(cat(inputs)))))))``,
    a function of the list of earlier feature maps (the layers a block, the concatenation
    before it)."""
    block = Block(name, [
        BatchNorm2d(num_input_features, name=f"{prefix}.norm1"), ReLU(inplace=True, name=f"{prefix}.relu1"),
        Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False,
               name=f"{prefix}.conv1"),
        BatchNorm2d(bn_size * growth_rate, name=f"{prefix}.norm2"), ReLU(inplace=True, name=f"{prefix}.relu2"),
        Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False,
               name=f"{prefix}.conv2"),
    ])

    def forward(features: list):
        # bn_function: torch.cat(inputs, 1) (a no-op for the block's first layer, given one tensor)
        return block(features[0] if len(features) == 1 else Cat(1, name=f"{prefix}.cat")(features))

    return forward


def dense_block(name, prefix, num_layers, num_input_features, bn_size, growth_rate):
    """torchvision's ``_DenseBlock``: each layer appends its ``growth_rate`` maps; the output
    is ``torch.cat(features, 1)``."""
    layers = [dense_layer(f"denselayer{i + 1}", f"{prefix}.denselayer{i + 1}",
                          num_input_features + i * growth_rate, growth_rate, bn_size) for i in range(num_layers)]

    def forward(init_features):
        features = [init_features]
        for layer in layers:
            features.append(layer(features))
        return Cat(1, name=f"{prefix}.cat")(features)

    return Block(name, forward)


def transition(name, prefix, num_input_features, num_output_features):
    """torchvision's ``_Transition``: norm, relu, 1×1 conv, 2×2 average pooling."""
    return Block(name, [
        BatchNorm2d(num_input_features, name=f"{prefix}.norm"),
        ReLU(inplace=True, name=f"{prefix}.relu"),
        Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False, name=f"{prefix}.conv"),
        AvgPool2d(kernel_size=2, stride=2, name=f"{prefix}.pool"),
    ])


def densenet(name, growth_rate, block_config, num_init_features, num_classes, H, W, bn_size=4):
    """torchvision's ``DenseNet(growth_rate, block_config, num_init_features, bn_size, num_classes)``."""
    features = [
        Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False, name="features.conv0"),
        BatchNorm2d(num_init_features, name="features.norm0"),
        ReLU(inplace=True, name="features.relu0"),
        MaxPool2d(kernel_size=3, stride=2, padding=1, name="features.pool0"),
    ]
    num_features = num_init_features
    for i, num_layers in enumerate(block_config):
        features.append(dense_block(f"denseblock{i + 1}", f"features.denseblock{i + 1}", num_layers, num_features,
                                    bn_size, growth_rate))
        num_features = num_features + num_layers * growth_rate
        if i != len(block_config) - 1:
            features.append(transition(f"transition{i + 1}", f"features.transition{i + 1}", num_features,
                                       num_features // 2))
            num_features = num_features // 2
    features.append(BatchNorm2d(num_features, name="features.norm5"))
    return Sequential([
        image(H, W),
        Block("features", features),
        ReLU(name="relu"),  # F.relu, F.adaptive_avg_pool2d and torch.flatten in forward
        AdaptiveAvgPool2d((1, 1), name="adaptive_avg_pool2d"),
        Flatten(name="flatten"),
        Linear(num_features, num_classes, name="classifier"),
    ], name=name)


#: name → (growth_rate, block_config, num_init_features), as torchvision's builders pass them
VARIANTS = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


def _register(name: str) -> None:
    growth_rate, block_config, num_init_features = VARIANTS[name]

    @register(f"torchvision:{name}", dims=DIMS, source=f"torchvision.models.{name}()")
    def builder(num_classes, H, W):
        return densenet(name, growth_rate, block_config, num_init_features, num_classes, H, W)

    builder.__name__ = builder.__qualname__ = name


for _name in VARIANTS:
    _register(_name)
