"""Channel rounding shared by the MobileNet family in Keras and torchvision."""

from __future__ import annotations


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``_make_divisible`` of the TensorFlow MobileNet repository, which both Keras
    (``keras.src.applications.mobilenet_v2``) and torchvision (``torchvision.models._utils``)
    copy: ``v`` rounded to the nearest multiple of ``divisor``, at least ``min_value``
    (default ``divisor``), and never more than 10 % below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
