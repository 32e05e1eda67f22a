"""keras.applications ResNet50/101/152 and ResNet50V2/101V2/152V2
(``keras/src/applications/resnet.py``, ``resnet_v2.py``).

Both versions share the stem and the top (Keras's ``ResNet``): ``conv1_pad`` (3 pixels)
and ``conv1_conv`` (7×7, 64 filters, stride 2, with bias), then ``pool1_pad`` (1 pixel)
and ``pool1_pool`` (3×3 max pooling, stride 2); four stages ``conv2`` … ``conv5`` of
bottleneck blocks with 64, 128, 256, 512 filters (the block's output has 4× as many);
the top ``avg_pool`` + ``predictions`` (``classes``), or the feature map with optional
``avg_pool``/``max_pool``. Blocks per stage: 3, 4, 6, 3 (50); 3, 4, 23, 3 (101);
3, 8, 36, 3 (152). Every BatchNormalization has ``epsilon=1.001e-5``.

- **V1** (``residual_block_v1``): ``conv1_bn``/``conv1_relu`` after the stem's
  convolution; each block is 1×1 (stride ``s``) → 3×3 ``same`` → 1×1 convolutions with
  biases, each followed by BatchNormalization, added to the shortcut (a 1×1 convolution
  ``_0_conv`` + ``_0_bn`` in the first block of a stage, else the identity), then ReLU.
  The first block of each stage but ``conv2`` has stride 2.
- **V2** (``residual_block_v2``, pre-activation): each block starts with
  BatchNormalization + ReLU (``preact``); the 1×1 and 3×3 convolutions have no bias, the
  3×3 one is zero-padded and ``valid`` with the block's stride; the last 1×1 has a bias
  and no BatchNormalization. The shortcut is a 1×1 convolution of ``preact`` in a stage's
  first block, a 1×1 max pooling of stride 2 in a strided block, else the identity. The
  *last* block of each stage but ``conv5`` has stride 2. After ``conv5``: ``post_bn``,
  ``post_relu``.

A stage's identical middle blocks are one ``Repeat`` (``conv4_block2-6``).
"""

from __future__ import annotations

from ...graph import Block, Model
from ...keras import (Activation, Add, BatchNormalization, Conv2D, MaxPooling2D,
                      ZeroPadding2D)
from ..registry import register
from ._imagenet import DIMS, OPTIONS, check_options, classifier, image_input, repeated

#: filters and blocks of the stages conv2 … conv5
RESNET50 = ((64, 3), (128, 4), (256, 6), (512, 3))
RESNET101 = ((64, 3), (128, 4), (256, 23), (512, 3))
RESNET152 = ((64, 3), (128, 8), (256, 36), (512, 3))


def _bn(name: str) -> BatchNormalization:
    return BatchNormalization(axis=3, epsilon=1.001e-5, name=name)


# ---------------------------------------------------------------------------
# V1
# ---------------------------------------------------------------------------


def residual_block_v1(name: str, filters: int, kernel_size=3, stride=1, conv_shortcut=True) -> Block:
    """Keras ``residual_block_v1``: bottleneck with a post-activation residual."""

    def body(x):
        if conv_shortcut:
            shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
            shortcut = _bn(f"{name}_0_bn")(shortcut)
        else:
            shortcut = x
        x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
        x = _bn(f"{name}_1_bn")(x)
        x = Activation("relu", name=f"{name}_1_relu")(x)
        x = Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
        x = _bn(f"{name}_2_bn")(x)
        x = Activation("relu", name=f"{name}_2_relu")(x)
        x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
        x = _bn(f"{name}_3_bn")(x)
        x = Add(name=f"{name}_add")([shortcut, x])
        return Activation("relu", name=f"{name}_out")(x)

    return Block(name, body)


def stack_v1(name: str, filters: int, blocks: int, stride1=2) -> Block:
    """Keras ``stack_residual_blocks_v1``: a strided block with a convolution shortcut,
    then ``blocks - 1`` identity blocks."""

    def body(x):
        x = residual_block_v1(f"{name}_block1", filters, stride=stride1)(x)
        return repeated(x, lambda i: residual_block_v1(f"{name}_block{i}", filters, conv_shortcut=False),
                        2, blocks - 1)

    return Block(name, body)


# ---------------------------------------------------------------------------
# V2
# ---------------------------------------------------------------------------


def residual_block_v2(name: str, filters: int, kernel_size=3, stride=1, conv_shortcut=False) -> Block:
    """Keras ``residual_block_v2``: bottleneck with a pre-activation residual."""

    def body(x):
        preact = _bn(f"{name}_preact_bn")(x)
        preact = Activation("relu", name=f"{name}_preact_relu")(preact)
        if conv_shortcut:
            shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
        else:
            shortcut = MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
        y = Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
        y = _bn(f"{name}_1_bn")(y)
        y = Activation("relu", name=f"{name}_1_relu")(y)
        y = ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(y)
        y = Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(y)
        y = _bn(f"{name}_2_bn")(y)
        y = Activation("relu", name=f"{name}_2_relu")(y)
        y = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y)
        return Add(name=f"{name}_out")([shortcut, y])

    return Block(name, body)


def stack_v2(name: str, filters: int, blocks: int, stride1=2) -> Block:
    """Keras ``stack_residual_blocks_v2``: a block with a convolution shortcut, identity
    blocks, and a last block of stride ``stride1`` (an identity block too when 1)."""

    def body(x):
        x = residual_block_v2(f"{name}_block1", filters, conv_shortcut=True)(x)
        middle = blocks - 1 if stride1 == 1 else blocks - 2
        x = repeated(x, lambda i: residual_block_v2(f"{name}_block{i}", filters), 2, middle)
        if stride1 != 1:
            x = residual_block_v2(f"{name}_block{blocks}", filters, stride=stride1)(x)
        return x

    return Block(name, body)


# ---------------------------------------------------------------------------
# The model (Keras ``ResNet``)
# ---------------------------------------------------------------------------


def resnet(name: str, stages, preact: bool, H, W, classes, include_top, pooling, classifier_activation) -> Model:
    check_options(name, include_top, pooling)
    inputs = image_input(H, W)
    stem = [ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad"),
            Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")]
    if not preact:
        stem += [_bn("conv1_bn"), Activation("relu", name="conv1_relu")]
    x = Block("conv1", stem)(inputs)
    x = Block("pool1", [ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad"),
                        MaxPooling2D(3, strides=2, name="pool1_pool")])(x)
    for index, (filters, blocks) in enumerate(stages, start=2):
        if preact:
            x = stack_v2(f"conv{index}", filters, blocks, stride1=1 if index == 5 else 2)(x)
        else:
            x = stack_v1(f"conv{index}", filters, blocks, stride1=1 if index == 2 else 2)(x)
    if preact:
        x = _bn("post_bn")(x)
        x = Activation("relu", name="post_relu")(x)
    x = classifier(x, include_top, pooling, classes, classifier_activation, pool_names=("avg_pool", "max_pool"))
    return Model(inputs, x, name=name)


def _register(entry: str, model_name: str, stages, preact: bool):
    version = "V2" if preact else ""

    @register(f"keras:{entry}", dims=DIMS, options=OPTIONS, source=f"keras.applications.{entry}(weights=None)")
    def build(H, W, classes, include_top, pooling, classifier_activation):
        return resnet(model_name, stages, preact, H, W, classes, include_top, pooling, classifier_activation)

    build.__name__ = build.__qualname__ = model_name
    build.__doc__ = f"keras.applications.{entry}: ResNet{version} with {[b for _, b in stages]} blocks per stage."
    return build


resnet50 = _register("ResNet50", "resnet50", RESNET50, preact=False)
resnet101 = _register("ResNet101", "resnet101", RESNET101, preact=False)
resnet152 = _register("ResNet152", "resnet152", RESNET152, preact=False)
resnet50v2 = _register("ResNet50V2", "resnet50v2", RESNET50, preact=True)
resnet101v2 = _register("ResNet101V2", "resnet101v2", RESNET101, preact=True)
resnet152v2 = _register("ResNet152V2", "resnet152v2", RESNET152, preact=True)
