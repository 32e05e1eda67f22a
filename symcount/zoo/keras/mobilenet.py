"""keras.applications MobileNet and MobileNetV2 (``keras/src/applications/mobilenet.py``,
``mobilenet_v2.py``). Channel counts scale with the width multiplier ``alpha``; every
activation is ``ReLU(6.0)``; BatchNormalization follows every convolution, which has no bias.

- **MobileNet** (``_conv_block``, ``_depthwise_conv_block``): ``conv1`` (3×3, ``int(32 α)``
  filters, stride 2, ``same``), then 13 depthwise-separable blocks: a 3×3 depthwise
  convolution (``depth_multiplier``; a strided one is zero-padded by one pixel at the
  bottom and right and ``valid``) and a 1×1 pointwise convolution to ``int(f α)`` filters,
  f = 64, 128, 128, 256, 256, 512 ×6, 1024, 1024 (stride 2 in blocks 2, 4, 6, 12). The top:
  global average pooling (kept 4D), ``dropout``, the 1×1 convolution ``conv_preds`` to
  ``classes`` (with bias), ``reshape_2`` to ``(classes,)``, ``predictions`` (activation).
- **MobileNetV2** (``_inverted_res_block``): ``Conv1`` (3×3, ``make_divisible(32 α, 8)``
  filters, stride 2); 17 inverted residual blocks — a 1×1 expansion to 6× the input
  channels (not in block 0), a 3×3 depthwise convolution (a strided one zero-padded by
  Keras's ``correct_pad``), a 1×1 projection to ``make_divisible(int(f α), 8)`` channels,
  and the residual ``Add`` when stride is 1 and the channels agree; ``Conv_1`` (1×1 to
  1280, or ``make_divisible(1280 α, 8)`` for ``α > 1``); the top: global average pooling
  and ``predictions`` (``classes``).

Keras checks ``alpha`` against a list and the input size against the pretrained sizes
only when loading weights; here ``alpha`` is any positive number (the counts of
``weights=None``). Runs of identical blocks are one ``Repeat`` (``conv_dw_7-11``, ``block_7-9``).
"""

from __future__ import annotations

from ...errors import ArgumentError
from ...graph import Block, Model
from ...keras import (Activation, Add, BatchNormalization, Conv2D, DepthwiseConv2D, Dropout,
                      GlobalAveragePooling2D, ReLU, Reshape, ZeroPadding2D)
from ..registry import register
from ..rounding import make_divisible
from ._imagenet import DIMS, OPTIONS, check_options, classifier, correct_pad, image_input, pool, repeated


def _check_alpha(owner: str, alpha) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ArgumentError(f"{owner}: alpha (the width multiplier) must be a positive number. "
                            f"Received: alpha={alpha!r}")


# ---------------------------------------------------------------------------
# MobileNet
# ---------------------------------------------------------------------------

#: pointwise filters and strides of the 13 depthwise-separable blocks
MOBILENET_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def depthwise_conv_block(indices: str, pointwise_filters: int, alpha, depth_multiplier=1, strides=1) -> Block:
    """Keras ``_depthwise_conv_block`` with ``block_id`` ``indices``, as ``block_{indices}``."""
    filters = int(pointwise_filters * alpha)
    layers = [] if strides == 1 else [ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{indices}")]
    layers += [
        DepthwiseConv2D((3, 3), padding="same" if strides == 1 else "valid", depth_multiplier=depth_multiplier,
                        strides=strides, use_bias=False, name=f"conv_dw_{indices}"),
        BatchNormalization(axis=-1, name=f"conv_dw_{indices}_bn"),
        ReLU(6.0, name=f"conv_dw_{indices}_relu"),
        Conv2D(filters, (1, 1), padding="same", use_bias=False, strides=(1, 1), name=f"conv_pw_{indices}"),
        BatchNormalization(axis=-1, name=f"conv_pw_{indices}_bn"),
        ReLU(6.0, name=f"conv_pw_{indices}_relu"),
    ]
    return Block(f"block_{indices}", layers)


@register("keras:MobileNet", dims=DIMS,
          options={"alpha": 1.0, "depth_multiplier": 1, "dropout": 1e-3, **OPTIONS},
          source="keras.applications.MobileNet(weights=None)")
def mobilenet(H, W, classes, alpha, depth_multiplier, dropout, include_top, pooling, classifier_activation):
    name = f"mobilenet_{alpha:0.2f}"
    check_options(name, include_top, pooling)
    _check_alpha(name, alpha)
    inputs = image_input(H, W)
    x = Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2), name="conv1")(inputs)
    x = BatchNormalization(axis=-1, name="conv1_bn")(x)
    x = ReLU(6.0, name="conv1_relu")(x)
    block_id = 1
    while block_id <= len(MOBILENET_BLOCKS):
        filters, strides = MOBILENET_BLOCKS[block_id - 1]
        x = depthwise_conv_block(str(block_id), filters, alpha, depth_multiplier, strides)(x)
        # the stride-1 blocks that follow with the same filters keep the shape: one run
        run = 0
        while block_id + run < len(MOBILENET_BLOCKS) and MOBILENET_BLOCKS[block_id + run] == (filters, 1):
            run += 1
        x = repeated(x, lambda i: depthwise_conv_block(i, filters, alpha, depth_multiplier), block_id + 1, run)
        block_id += 1 + run
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = pool(x, pooling)
    return Model(inputs, x, name=name)


# ---------------------------------------------------------------------------
# MobileNetV2
# ---------------------------------------------------------------------------

#: the stages of inverted residual blocks: output filters, expansion, blocks, first stride
MOBILENET_V2_STAGES = ((16, 1, 1, 1), (24, 6, 2, 2), (32, 6, 3, 2), (64, 6, 4, 2),
                       (96, 6, 3, 1), (160, 6, 3, 2), (320, 6, 1, 1))


def inverted_res_block(expansion: int, stride: int, alpha, filters: int, block_id: int, indices: str) -> Block:
    """Keras ``_inverted_res_block`` as the block ``block_{indices}`` (``expanded_conv``
    for block 0)."""
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    prefix = f"block_{indices}_" if block_id else "expanded_conv_"

    def body(inputs):
        in_channels = inputs.shape[-1]
        y = inputs
        if block_id:
            y = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
                       name=f"{prefix}expand")(y)
            y = BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(y)
            y = ReLU(6.0, name=f"{prefix}expand_relu")(y)
        if stride == 2:
            y = ZeroPadding2D(padding=correct_pad(y.shape, 3), name=f"{prefix}pad")(y)
        y = DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                            padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(y)
        y = BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(y)
        y = ReLU(6.0, name=f"{prefix}depthwise_relu")(y)
        y = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                   name=f"{prefix}project")(y)
        y = BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(y)
        if in_channels == pointwise_filters and stride == 1:
            return Add(name=f"{prefix}add")([inputs, y])
        return y

    return Block(prefix[:-1], body)


@register("keras:MobileNetV2", dims=DIMS, options={"alpha": 1.0, **OPTIONS},
          source="keras.applications.MobileNetV2(weights=None)")
def mobilenet_v2(H, W, classes, alpha, include_top, pooling, classifier_activation):
    name = f"mobilenetv2_{alpha:0.2f}"
    check_options(name, include_top, pooling)
    _check_alpha(name, alpha)
    inputs = image_input(H, W)
    x = Conv2D(make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
               name="Conv1")(inputs)
    x = BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for filters, expansion, blocks, stride in MOBILENET_V2_STAGES:
        x = inverted_res_block(expansion, stride, alpha, filters, block_id, str(block_id))(x)
        # the stage's other blocks: stride 1, as many channels in as out, so each keeps the shape
        first = block_id + 1
        x = repeated(x, lambda i: inverted_res_block(expansion, 1, alpha, filters, first, i), first, blocks - 1)
        block_id += blocks
    last_block_filters = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation, top_pool=None)
    return Model(inputs, x, name=name)
