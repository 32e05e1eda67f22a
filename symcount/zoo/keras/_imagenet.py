"""What the keras.applications entries share (Keras's ``applications/imagenet_utils.py``).

- Their dims (``H``, ``W``, ``classes``) and the options every application takes
  (``include_top``, ``pooling``, ``classifier_activation``), checked as Keras checks them.
- The image input ``(H, W, 3)`` with Keras's smallest accepted size (``obtain_input_shape``
  rejects ``input_shape`` below ``min_size × min_size``): a validity condition
  ``H >= min_size``, ``W >= min_size`` of the closed form.
- The feature-extraction head: ``pooling=None`` (the 4D feature map), ``"avg"`` or ``"max"``.
- Runs of identical blocks: one ``Repeat`` whose name gives the block indices it stands
  for (``conv4_block2-6`` for Keras's ``conv4_block2`` … ``conv4_block6``).
"""

from __future__ import annotations

from collections.abc import Callable

from ...dims import at_least, floor_div
from ...errors import ArgumentError
from ...graph import Repeat
from ...keras import Dense, Dropout, GlobalAveragePooling2D, GlobalMaxPooling2D
from ...layer import InputLayer, Requirement

#: the dims of every application: the input image's height and width, and the classes
DIMS = {"H": 224, "W": 224, "classes": 1000}

#: the options every application takes, with Keras's defaults
OPTIONS = {"include_top": True, "pooling": None, "classifier_activation": "softmax"}

POOLINGS = (None, "avg", "max")


class ImageInput(InputLayer):
    """The application's input ``layers.Input(shape=(H, W, 3))``, shown as Keras's
    ``InputLayer``, requiring ``H, W >= min_size`` as ``obtain_input_shape`` does."""

    def __init__(self, shape, min_size=32, name=None):
        super().__init__(shape=shape, name=name)
        self.min_size = min_size

    @property
    def type_name(self) -> str:
        return "InputLayer"

    def requirements(self, shape):
        for size in shape[1:3]:
            yield Requirement(at_least(size, self.min_size),
                              f"Input size must be at least {self.min_size}x{self.min_size}")


def image_input(H, W, min_size: int = 32) -> ImageInput:
    """An RGB image input of ``H × W`` pixels, channels last."""
    return ImageInput((H, W, 3), min_size)


def check_options(owner: str, include_top, pooling) -> None:
    """``include_top`` a bool, ``pooling`` one of None, ``"avg"``, ``"max"``.

    Keras ignores an unknown ``pooling`` (no pooling at all); symcount rejects it, so
    that a typo does not silently change the architecture.
    """
    if not isinstance(include_top, bool):
        raise ArgumentError(f"{owner}: include_top must be True or False. Received: include_top={include_top!r}")
    if pooling not in POOLINGS:
        raise ArgumentError(f"{owner}: pooling must be None, 'avg' or 'max'. Received: pooling={pooling!r}")


def pool(x, pooling, avg_name: str | None = None, max_name: str | None = None):
    """The feature-extraction head of ``include_top=False``: global average or max
    pooling, or the feature map itself for ``pooling=None``."""
    if pooling == "avg":
        return GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=max_name)(x)
    return x


def classifier(x, include_top, pooling, classes, classifier_activation, top_pool: str | None = "avg_pool",
               dropout: float = 0.0, pool_names: tuple = (None, None)):
    """The applications' usual head: with ``include_top``, global average pooling
    (named ``top_pool``), an optional ``top_dropout`` and ``Dense(classes)`` named
    ``predictions``; without it, :func:`pool` (its layers named ``pool_names``)."""
    if not include_top:
        return pool(x, pooling, *pool_names)
    x = GlobalAveragePooling2D(name=top_pool)(x)
    if dropout > 0:
        x = Dropout(dropout, name="top_dropout")(x)
    return Dense(classes, activation=classifier_activation, name="predictions")(x)


def run_name(first: int, n: int) -> str:
    """The indices of ``n`` blocks from ``first``: ``"2"`` or ``"2-6"``."""
    return str(first) if n == 1 else f"{first}-{first + n - 1}"


def repeated(x, make: Callable, first: int, n: int):
    """Apply ``n`` identical blocks from index ``first`` to ``x``; ``make(indices)``
    builds one block, named by its indices (``"2-6"``): nothing for ``n = 0``, the
    block for one, one ``Repeat`` for more."""
    if n <= 0:
        return x
    block = make(run_name(first, n))
    return block(x) if n == 1 else Repeat(block, n)(x)


def correct_pad(shape, kernel_size: int):
    """Keras ``imagenet_utils.correct_pad``: ``((k//2 - adjust_h, k//2), (k//2 - adjust_w, k//2))``
    with ``adjust = 1 - n mod 2`` for each spatial size ``n`` of ``shape``.

    ``n mod 2`` is written ``2·floor((n + 1)/2) - n`` (equal for every integer ``n``), so
    that the padded size ``2·floor((n + 1)/2) + 2·(k//2) - 1`` and the strided ``valid``
    convolution after it, ``floor((n + 1)/2)`` (that is ``ceiling(n/2)``), stay one floor
    through the stages: ``floor((H - 1)/32) + 1 = ceiling(H/32)`` after five of them."""
    correct = kernel_size // 2
    return tuple((correct - 1 + 2 * floor_div(n + 1, 2) - n, correct) for n in shape[1:3])
