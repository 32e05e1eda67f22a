"""keras.applications EfficientNetB0 … EfficientNetB7 (Tan and Le, 2019).

Follows ``keras/src/applications/efficientnet.py``. The input is rescaled by 1/255 and
normalized per channel by a ``Normalization`` layer whose mean, variance and count are
non-trainable weights (2·3 + 1 = 7, so the non-trainable total is odd); the model with
``weights=None`` has no third rescaling. The stem is a 3×3/2 convolution (no bias,
zero-padded by Keras's ``correct_pad``) with batch normalization and swish. Seven stages
of MBConv blocks ``block{stage}{a, b, …}`` follow, then a 1×1 convolution ``top_conv``
to ``round_filters(1280)`` channels and the top (with ``top_dropout``).

An MBConv block: a 1×1 expansion to ``filters_in · expand_ratio`` channels (when the
ratio is not 1), a depthwise k×k convolution (``correct_pad`` then ``valid`` when
strided, else ``same``), squeeze-and-excitation (global average pooling, reshape to
1×1, a 1×1 convolution to ``max(1, int(filters_in · 0.25))`` channels with swish and
one back with a sigmoid, multiplied into the features with broadcasting), a 1×1
projection, and — when the block keeps its shape — DropConnect (``Dropout`` with
``noise_shape=(None, 1, 1, 1)``, rate ``0.2 · b / blocks`` for the ``b``-th block) and
the residual addition.

Widths and depths scale with each variant's fixed coefficients through Keras's
``round_filters`` and ``round_repeats``, computed here in Python exactly as Keras
computes them (they are numbers of the variant, not dims). Each block keeps Keras's
name and its own DropConnect rate, so the blocks of a stage are not repeats of one
another.

``correct_pad`` pads ``(k//2 - 1 + n mod 2, k//2)`` on each spatial axis of size ``n``,
so the padded size depends on the parity of ``H`` and ``W``; each strided stage maps
a size ``n`` to ``floor((n + 1)/2)``, i.e. ``ceiling(n/2)``.
"""

from __future__ import annotations

import math

from ...keras import (Activation, Add, BatchNormalization, Block, Conv2D, DepthwiseConv2D, Dropout,
                      GlobalAveragePooling2D, Model, Multiply, Normalization, Rescaling, Reshape, ZeroPadding2D)
from ..registry import register
from ._imagenet import OPTIONS, check_options, classifier, correct_pad, image_input

BN_AXIS = 3
ACTIVATION = "swish"
DROP_CONNECT_RATE = 0.2
DEPTH_DIVISOR = 8

#: Keras's DEFAULT_BLOCKS_ARGS: (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides);
#: every stage has id_skip=True and se_ratio=0.25
BLOCKS_ARGS = (
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
)
SE_RATIO = 0.25


def round_filters(filters: int, width_coefficient: float, divisor: int = DEPTH_DIVISOR) -> int:
    """Keras's ``round_filters``: scale by the width coefficient, round to a multiple of
    ``divisor`` (at least ``divisor``, and not below 90 % of the scaled value)."""
    filters *= width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    """Keras's ``round_repeats``: ``ceil(depth_coefficient · repeats)``."""
    return int(math.ceil(depth_coefficient * repeats))


def mbconv_block(name: str, drop_rate: float, filters_in: int, filters_out: int, kernel_size: int,
                 strides: int, expand_ratio: int) -> Block:
    """Keras ``block``: expansion, depthwise convolution, squeeze-and-excitation, projection,
    and DropConnect with the residual addition when the block keeps its shape."""
    filters = filters_in * expand_ratio

    def body(inputs):
        x = inputs
        if expand_ratio != 1:
            x = Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
            x = BatchNormalization(axis=BN_AXIS, name=f"{name}_expand_bn")(x)
            x = Activation(ACTIVATION, name=f"{name}_expand_activation")(x)
        if strides == 2:
            x = ZeroPadding2D(padding=correct_pad(x.shape, kernel_size), name=f"{name}_dwconv_pad")(x)
        x = DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                            use_bias=False, name=f"{name}_dwconv")(x)
        x = BatchNormalization(axis=BN_AXIS, name=f"{name}_bn")(x)
        x = Activation(ACTIVATION, name=f"{name}_activation")(x)
        filters_se = max(1, int(filters_in * SE_RATIO))
        se = GlobalAveragePooling2D(name=f"{name}_se_squeeze")(x)
        se = Reshape((1, 1, filters), name=f"{name}_se_reshape")(se)
        se = Conv2D(filters_se, 1, padding="same", activation=ACTIVATION, name=f"{name}_se_reduce")(se)
        se = Conv2D(filters, 1, padding="same", activation="sigmoid", name=f"{name}_se_expand")(se)
        x = Multiply(name=f"{name}_se_excite")([x, se])
        x = Conv2D(filters_out, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
        x = BatchNormalization(axis=BN_AXIS, name=f"{name}_project_bn")(x)
        if strides == 1 and filters_in == filters_out:
            if drop_rate > 0:
                x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
            x = Add(name=f"{name}_add")([x, inputs])
        return x

    return Block(name, body)


def stem(filters: int) -> Block:
    """``stem``: ``correct_pad``, a 3×3/2 ``valid`` convolution without bias, BN, swish."""

    def body(x):
        x = ZeroPadding2D(padding=correct_pad(x.shape, 3), name="stem_conv_pad")(x)
        x = Conv2D(filters, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
        x = BatchNormalization(axis=BN_AXIS, name="stem_bn")(x)
        return Activation(ACTIVATION, name="stem_activation")(x)

    return Block("stem", body)


def efficientnet(width_coefficient: float, depth_coefficient: float, dropout_rate: float,
                 H, W, classes, include_top, pooling, classifier_activation, name: str):
    """Keras ``EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate)``."""
    check_options(name, include_top, pooling)
    inputs = image_input(H, W, min_size=32)
    x = Rescaling(1.0 / 255.0)(inputs)
    x = Normalization(axis=BN_AXIS)(x)
    x = stem(round_filters(32, width_coefficient))(x)

    blocks = float(sum(round_repeats(args[1], depth_coefficient) for args in BLOCKS_ARGS))
    b = 0
    for i, (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) in enumerate(BLOCKS_ARGS):
        filters_in = round_filters(filters_in, width_coefficient)
        filters_out = round_filters(filters_out, width_coefficient)
        for j in range(round_repeats(repeats, depth_coefficient)):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = mbconv_block(f"block{i + 1}{chr(j + 97)}", DROP_CONNECT_RATE * b / blocks, filters_in,
                             filters_out, kernel_size, strides, expand_ratio)(x)
            b += 1

    x = Block("top", [Conv2D(round_filters(1280, width_coefficient), 1, padding="same", use_bias=False,
                             name="top_conv"),
                      BatchNormalization(axis=BN_AXIS, name="top_bn"),
                      Activation(ACTIVATION, name="top_activation")])(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation, dropout=dropout_rate,
                   pool_names=("avg_pool", "max_pool"))
    return Model(inputs, x, name=name)


#: variant → (width_coefficient, depth_coefficient, default_size, dropout_rate), as in Keras
VARIANTS = {
    "B0": (1.0, 1.0, 224, 0.2),
    "B1": (1.0, 1.1, 240, 0.2),
    "B2": (1.1, 1.2, 260, 0.3),
    "B3": (1.2, 1.4, 300, 0.3),
    "B4": (1.4, 1.8, 380, 0.4),
    "B5": (1.6, 2.2, 456, 0.4),
    "B6": (1.8, 2.6, 528, 0.5),
    "B7": (2.0, 3.1, 600, 0.5),
}


def _register(variant: str, width: float, depth: float, size: int, dropout: float) -> None:
    def build(H, W, classes, include_top, pooling, classifier_activation):
        return efficientnet(width, depth, dropout, H, W, classes, include_top, pooling, classifier_activation,
                            f"efficientnet{variant.lower()}")

    build.__name__ = build.__qualname__ = f"efficientnet_{variant.lower()}"
    build.__doc__ = (f"Keras ``EfficientNet{variant}``: width {width}, depth {depth}, default size {size}, "
                     f"top dropout {dropout}.")
    register(f"keras:EfficientNet{variant}", dims={"H": size, "W": size, "classes": 1000}, options=OPTIONS,
             source=f"keras.applications.EfficientNet{variant}(weights=None)")(build)


for _variant, _args in VARIANTS.items():
    _register(_variant, *_args)
