"""keras.applications VGG16 and VGG19 (``keras/src/applications/vgg16.py``, ``vgg19.py``).

Five blocks of 3×3 ``same`` convolutions with ReLU (64, 128, 256, 512, 512 filters;
2, 2, 3, 3, 3 convolutions in VGG16, 2, 2, 4, 4, 4 in VGG19), each closed by a 2×2
max pooling of stride 2. The top: ``Flatten``, ``fc1`` and ``fc2`` (4096 units each)
and ``predictions`` (``classes``); without it, optional global average or max pooling.
Keras's names: ``block1_conv1`` … ``block5_pool``, ``flatten``, ``fc1``, ``fc2``,
``predictions``. Input at least 32×32 (Keras's ``min_size``; the five poolings need it too).
"""

from __future__ import annotations

from ...graph import Block, Model
from ...keras import Conv2D, Dense, Flatten, MaxPooling2D
from ..registry import register
from ._imagenet import DIMS, OPTIONS, check_options, image_input, pool

#: filters and convolutions per block
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def vgg_block(index: int, filters: int, convolutions: int) -> Block:
    """``block{index}``: ``convolutions`` 3×3 ReLU convolutions, then 2×2 max pooling."""
    name = f"block{index}"
    layers = [Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"{name}_conv{i}")
              for i in range(1, convolutions + 1)]
    return Block(name, [*layers, MaxPooling2D((2, 2), strides=(2, 2), name=f"{name}_pool")])


def vgg(name: str, blocks, H, W, classes, include_top, pooling, classifier_activation) -> Model:
    check_options(name, include_top, pooling)
    inputs = image_input(H, W)
    x = inputs
    for index, (filters, convolutions) in enumerate(blocks, start=1):
        x = vgg_block(index, filters, convolutions)(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pool(x, pooling)
    return Model(inputs, x, name=name)


@register("keras:VGG16", dims=DIMS, options=OPTIONS, source="keras.applications.VGG16(weights=None)")
def vgg16(H, W, classes, include_top, pooling, classifier_activation):
    return vgg("vgg16", VGG16_BLOCKS, H, W, classes, include_top, pooling, classifier_activation)


@register("keras:VGG19", dims=DIMS, options=OPTIONS, source="keras.applications.VGG19(weights=None)")
def vgg19(H, W, classes, include_top, pooling, classifier_activation):
    return vgg("vgg19", VGG19_BLOCKS, H, W, classes, include_top, pooling, classifier_activation)
