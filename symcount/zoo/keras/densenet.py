"""keras.applications DenseNet121, DenseNet169 and DenseNet201 (Huang et al., 2017).

Follows ``keras/src/applications/densenet.py``: a 7×7/2 stem convolution (no bias)
with batch normalization, 3×3/2 max pooling, then four dense blocks joined by
transition blocks, a final batch normalization and the top. A dense block of ``n``
conv blocks ``{stage}_block{i}`` each adds ``growth_rate = 32`` channels: BN → ReLU →
1×1 conv to ``4·32`` → BN → ReLU → 3×3 conv to 32, concatenated to its input. A
transition block ``pool{k}`` halves the channels (BN → ReLU → 1×1 conv to
``floor(C/2)``) and the size (2×2/2 average pooling). Convolutions have no bias;
batch normalizations use ``epsilon=1.001e-5``. Blocks per dense block: 121:
6, 12, 24, 16; 169: 6, 12, 32, 32; 201: 6, 12, 48, 32.

A conv block changes the channel count, so the blocks are not repeats of one another:
each is a ``Block`` with Keras's name, and every layer carries Keras's name.
"""

from __future__ import annotations

import sympy

from ...keras import (Activation, AveragePooling2D, BatchNormalization, Block, Concatenate, Conv2D,
                      MaxPooling2D, Model, ZeroPadding2D)
from ..registry import register
from ._imagenet import DIMS, OPTIONS, check_options, classifier, image_input

BN_AXIS = 3  # channels last
EPSILON = 1.001e-5
GROWTH_RATE = 32


def _bn_relu(x, name: str):
    x = BatchNormalization(axis=BN_AXIS, epsilon=EPSILON, name=f"{name}_bn")(x)
    return Activation("relu", name=f"{name}_relu")(x)


def conv_block(growth_rate: int, name: str) -> Block:
    """Keras ``conv_block``: BN-ReLU-1×1 conv (4·growth) - BN-ReLU-3×3 conv (growth), concatenated."""

    def body(x):
        x1 = _bn_relu(x, f"{name}_0")
        x1 = Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
        x1 = _bn_relu(x1, f"{name}_1")
        x1 = Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
        return Concatenate(axis=BN_AXIS, name=f"{name}_concat")([x, x1])

    return Block(name, body)


def dense_block(blocks: int, name: str) -> Block:
    """Keras ``dense_block``: ``blocks`` conv blocks ``{name}_block1`` … in a row."""

    def body(x):
        for i in range(blocks):
            x = conv_block(GROWTH_RATE, f"{name}_block{i + 1}")(x)
        return x

    return Block(name, body)


def transition_block(reduction, name: str) -> Block:
    """Keras ``transition_block``: BN-ReLU-1×1 conv to ``int(C · reduction)`` channels, 2×2/2 average pooling."""

    def body(x):
        channels = sympy.floor(x.shape[BN_AXIS] * reduction)
        x = _bn_relu(x, name)
        x = Conv2D(channels, 1, use_bias=False, name=f"{name}_conv")(x)
        return AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)

    return Block(name, body)


def densenet(blocks, H, W, classes, include_top, pooling, classifier_activation, name):
    """Keras ``DenseNet(blocks, …)``: the stem, four dense blocks, three transitions, the top."""
    check_options(name, include_top, pooling)
    inputs = image_input(H, W, min_size=32)
    x = Block("conv1", [ZeroPadding2D(padding=((3, 3), (3, 3))),
                        Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv"),
                        BatchNormalization(axis=BN_AXIS, epsilon=EPSILON, name="conv1_bn"),
                        Activation("relu", name="conv1_relu")])(inputs)
    x = Block("pool1", [ZeroPadding2D(padding=((1, 1), (1, 1))), MaxPooling2D(3, strides=2, name="pool1")])(x)
    half = sympy.Rational(1, 2)
    for stage, n in enumerate(blocks, start=2):
        x = dense_block(n, f"conv{stage}")(x)
        if stage < 5:
            x = transition_block(half, f"pool{stage}")(x)
    x = BatchNormalization(axis=BN_AXIS, epsilon=EPSILON, name="bn")(x)
    x = Activation("relu", name="relu")(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation, pool_names=("avg_pool", "max_pool"))
    return Model(inputs, x, name=name)


@register("keras:DenseNet121", dims=DIMS, options=OPTIONS, source="keras.applications.DenseNet121(weights=None)")
def densenet121(H, W, classes, include_top, pooling, classifier_activation):
    return densenet([6, 12, 24, 16], H, W, classes, include_top, pooling, classifier_activation, "densenet121")


@register("keras:DenseNet169", dims=DIMS, options=OPTIONS, source="keras.applications.DenseNet169(weights=None)")
def densenet169(H, W, classes, include_top, pooling, classifier_activation):
    return densenet([6, 12, 32, 32], H, W, classes, include_top, pooling, classifier_activation, "densenet169")


@register("keras:DenseNet201", dims=DIMS, options=OPTIONS, source="keras.applications.DenseNet201(weights=None)")
def densenet201(H, W, classes, include_top, pooling, classifier_activation):
    return densenet([6, 12, 48, 32], H, W, classes, include_top, pooling, classifier_activation, "densenet201")
