"""keras.applications Xception (Chollet, 2017).

Follows ``keras/src/applications/xception.py``: depthwise separable convolutions
(``SeparableConv2D`` without bias, each followed by batch normalization) in three
flows. Entry flow: two 3×3 convolutions (the first with stride 2, both ``valid``),
then ``block2``–``block4``, each two separable 3×3 convolutions and a 3×3/2 max pooling
added to a 1×1/2 convolution shortcut (128, 256, 728 channels). Middle flow:
``block5``–``block12``, each three ReLU → separable 3×3 (728) → BN added to its input.
Exit flow: ``block13`` (separable 728 and 1024, max pooling, 1×1/2 shortcut to 1024),
then ``block14``, separable 1536 and 2048 with ReLU. The shortcut convolutions, their
batch normalizations and the additions carry automatic names (``conv2d``,
``batch_normalization``, ``add``), as in Keras.

The middle flow's blocks are identical but for their names; they are kept as eight
blocks so that every layer has Keras's name (a ``Repeat`` would record the additions
once, and Keras numbers each one).
"""

from __future__ import annotations

from ...keras import (Activation, Add, BatchNormalization, Block, Conv2D, MaxPooling2D,
                      Model, SeparableConv2D)
from ..registry import register
from ._imagenet import OPTIONS, check_options, classifier, image_input

CHANNEL_AXIS = -1


def _sepconv_bn(x, filters: int, name: str):
    x = SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return BatchNormalization(axis=CHANNEL_AXIS, name=f"{name}_bn")(x)


def downsampling_block(filters: tuple[int, int], index: int, relu_first: bool) -> Block:
    """``block2``–``block4`` and ``block13``: [ReLU →] separable → BN → ReLU → separable → BN
    → 3×3/2 max pooling, plus the 1×1/2 convolution shortcut with its BN."""
    prefix = f"block{index}"

    def body(x):
        residual = Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
        residual = BatchNormalization(axis=CHANNEL_AXIS)(residual)
        if relu_first:
            x = Activation("relu", name=f"{prefix}_sepconv1_act")(x)
        x = _sepconv_bn(x, filters[0], f"{prefix}_sepconv1")
        x = Activation("relu", name=f"{prefix}_sepconv2_act")(x)
        x = _sepconv_bn(x, filters[1], f"{prefix}_sepconv2")
        x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{prefix}_pool")(x)
        return Add()([x, residual])

    return Block(prefix, body)


def middle_block(index: int) -> Block:
    """``block5``–``block12``: three (ReLU → separable 3×3, 728 → BN), added to the input."""
    prefix = f"block{index}"

    def body(x):
        residual = x
        for k in (1, 2, 3):
            x = Activation("relu", name=f"{prefix}_sepconv{k}_act")(x)
            x = _sepconv_bn(x, 728, f"{prefix}_sepconv{k}")
        return Add()([x, residual])

    return Block(prefix, body)


def exit_block() -> Block:
    """``block14``: separable 1536 → BN → ReLU → separable 2048 → BN → ReLU."""

    def body(x):
        x = _sepconv_bn(x, 1536, "block14_sepconv1")
        x = Activation("relu", name="block14_sepconv1_act")(x)
        x = _sepconv_bn(x, 2048, "block14_sepconv2")
        return Activation("relu", name="block14_sepconv2_act")(x)

    return Block("block14", body)


def entry_block() -> Block:
    """``block1``: 3×3/2 conv (32) and 3×3 conv (64), ``valid``, no bias, each with BN and ReLU."""

    def body(x):
        x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(x)
        x = BatchNormalization(axis=CHANNEL_AXIS, name="block1_conv1_bn")(x)
        x = Activation("relu", name="block1_conv1_act")(x)
        x = Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
        x = BatchNormalization(axis=CHANNEL_AXIS, name="block1_conv2_bn")(x)
        return Activation("relu", name="block1_conv2_act")(x)

    return Block("block1", body)


@register("keras:Xception", dims={"H": 299, "W": 299, "classes": 1000}, options=OPTIONS,
          source="keras.applications.Xception(weights=None)")
def xception(H, W, classes, include_top, pooling, classifier_activation):
    """Keras ``Xception``: entry, middle and exit flows, the top; inputs of at least 71×71."""
    check_options("xception", include_top, pooling)
    inputs = image_input(H, W, min_size=71)
    x = entry_block()(inputs)
    x = downsampling_block((128, 128), 2, relu_first=False)(x)
    x = downsampling_block((256, 256), 3, relu_first=True)(x)
    x = downsampling_block((728, 728), 4, relu_first=True)(x)
    for index in range(5, 13):
        x = middle_block(index)(x)
    x = downsampling_block((728, 1024), 13, relu_first=True)(x)
    x = exit_block()(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation)
    return Model(inputs, x, name="xception")
