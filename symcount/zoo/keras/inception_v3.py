"""keras.applications InceptionV3 (Szegedy et al., 2016).

Follows ``keras/src/applications/inception_v3.py``. Every convolution is Keras's
``conv2d_bn``: ``Conv2D`` without bias, ``BatchNormalization(scale=False)`` (beta and
the moving statistics only) and a ReLU, all with automatic names (``conv2d_12``,
``batch_normalization_12``, ``activation_12``), as in Keras. The stem (five
convolutions, two 3×3/2 max poolings) is followed by the inception modules
``mixed0`` … ``mixed10``: three 35×35 modules (1×1, 5×5, double 3×3 and pooled
branches), the grid reduction ``mixed3``, four 17×17 modules with factorized 7×7
convolutions (1×7 and 7×1), the reduction ``mixed8`` and two 8×8 modules whose 3×3
branches split into 1×3 and 3×1 halves. Each module is a ``Block`` named after its
concatenation.
"""

from __future__ import annotations

from ...keras import (Activation, AveragePooling2D, BatchNormalization, Block, Concatenate, Conv2D,
                      MaxPooling2D, Model)
from ..registry import register
from ._imagenet import OPTIONS, check_options, classifier, image_input

CHANNEL_AXIS = 3


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding="same", strides=(1, 1)):
    """Keras ``conv2d_bn``: conv (no bias) → BN without scale → ReLU."""
    x = Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False)(x)
    x = BatchNormalization(axis=CHANNEL_AXIS, scale=False)(x)
    return Activation("relu")(x)


def _avg_pool_branch(x, filters: int):
    branch = AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def module_35(pool_filters: int, name: str) -> Block:
    """``mixed0``–``mixed2``: 1×1 (64), 1×1→5×5 (48→64), 1×1→3×3→3×3 (64→96→96), pool→1×1."""

    def body(x):
        branch1x1 = conv2d_bn(x, 64, 1, 1)
        branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
        branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        branch_pool = _avg_pool_branch(x, pool_filters)
        return Concatenate(axis=CHANNEL_AXIS, name=name)([branch1x1, branch5x5, branch3x3dbl, branch_pool])

    return Block(name, body)


def reduction_35() -> Block:
    """``mixed3``: 3×3/2 (384), 1×1→3×3→3×3/2 (64→96→96), 3×3/2 max pooling."""

    def body(x):
        branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
        branch3x3dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
        branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
        branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
        return Concatenate(axis=CHANNEL_AXIS, name="mixed3")([branch3x3, branch3x3dbl, branch_pool])

    return Block("mixed3", body)


def module_17(c: int, name: str) -> Block:
    """``mixed4``–``mixed7``: 1×1 (192), 1×1→1×7→7×1 (c, c, 192), 1×1→7×1→1×7→7×1→1×7
    (c, c, c, c, 192), pool→1×1 (192); ``c`` is 128, 160, 160, 192."""

    def body(x):
        branch1x1 = conv2d_bn(x, 192, 1, 1)
        branch7x7 = conv2d_bn(x, c, 1, 1)
        branch7x7 = conv2d_bn(branch7x7, c, 1, 7)
        branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
        branch7x7dbl = conv2d_bn(x, c, 1, 1)
        for filters, (rows, cols) in zip((c, c, c, 192), ((7, 1), (1, 7), (7, 1), (1, 7))):
            branch7x7dbl = conv2d_bn(branch7x7dbl, filters, rows, cols)
        branch_pool = _avg_pool_branch(x, 192)
        return Concatenate(axis=CHANNEL_AXIS, name=name)([branch1x1, branch7x7, branch7x7dbl, branch_pool])

    return Block(name, body)


def reduction_17() -> Block:
    """``mixed8``: 1×1→3×3/2 (192→320), 1×1→1×7→7×1→3×3/2 (192 each), 3×3/2 max pooling."""

    def body(x):
        branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
        branch7x7x3 = conv2d_bn(x, 192, 1, 1)
        branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
        branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
        branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
        branch_pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
        return Concatenate(axis=CHANNEL_AXIS, name="mixed8")([branch3x3, branch7x7x3, branch_pool])

    return Block("mixed8", body)


def module_8(i: int) -> Block:
    """``mixed9``, ``mixed10``: 1×1 (320), 1×1 (384) split into 1×3 and 3×1 (``mixed9_{i}``),
    1×1→3×3 (448→384) split likewise (an automatically named concatenation), pool→1×1 (192)."""
    name = f"mixed{9 + i}"

    def body(x):
        branch1x1 = conv2d_bn(x, 320, 1, 1)
        branch3x3 = conv2d_bn(x, 384, 1, 1)
        branch3x3 = Concatenate(axis=CHANNEL_AXIS, name=f"mixed9_{i}")(
            [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)])
        branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
        branch3x3dbl = Concatenate(axis=CHANNEL_AXIS)(
            [conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)])
        branch_pool = _avg_pool_branch(x, 192)
        return Concatenate(axis=CHANNEL_AXIS, name=name)([branch1x1, branch3x3, branch3x3dbl, branch_pool])

    return Block(name, body)


@register("keras:InceptionV3", dims={"H": 299, "W": 299, "classes": 1000}, options=OPTIONS,
          source="keras.applications.InceptionV3(weights=None)")
def inception_v3(H, W, classes, include_top, pooling, classifier_activation):
    """Keras ``InceptionV3``: the stem, ``mixed0`` … ``mixed10``, the top; inputs of at least 75×75."""
    check_options("inception_v3", include_top, pooling)
    inputs = image_input(H, W, min_size=75)
    x = conv2d_bn(inputs, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = module_35(pool_filters, f"mixed{i}")(x)
    x = reduction_35()(x)
    for i, c in enumerate((128, 160, 160, 192)):
        x = module_17(c, f"mixed{4 + i}")(x)
    x = reduction_17()(x)
    for i in range(2):
        x = module_8(i)(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation)
    return Model(inputs, x, name="inception_v3")
