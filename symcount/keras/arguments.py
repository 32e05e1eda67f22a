"""Argument checks shared by the Keras-semantics layers.

Keras validates a layer's arguments in its constructor (``standardize_tuple``,
``standardize_padding``, "`strides > 1` not supported in conjunction with
`dilation_rate > 1`"). symcount does the same, three-valued: a rule that is provably
broken raises :class:`ArgumentError` at construction; a rule that depends on symbolic
arguments (``strides=s``) becomes a :class:`Requirement` the layer reports with its
input, so it ends up among the closed form's validity conditions.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy

from ..dims import decided
from ..errors import ArgumentError
from ..layer import Requirement

#: symcount's Keras layers are channels-last; Keras's default ``None`` means that too
DATA_FORMATS = (None, "channels_last")


def check_data_format(data_format, owner: str):
    """``None`` or ``"channels_last"``; ``channels_first`` is outside symcount.keras."""
    if data_format not in DATA_FORMATS:
        raise ArgumentError(
            f"{owner}: symcount.keras layers are channels-last. Expected data_format=None or "
            f"'channels_last'. Received: data_format={data_format!r}"
        )
    return data_format


def check_int(value, owner: str, what: str) -> int:
    """A Python int (not bool): axes, ``groups=-1`` and the like."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{owner}: `{what}` must be an integer. Received: {what}={value!r}")
    return value


def check_bool(value, owner: str, what: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise ArgumentError(f"{owner}: `{what}` must be True or False. Received: {what}={value!r}")
    return bool(value)


def argument_rule(relation, message: str) -> Requirement | None:
    """Check a rule on constructor arguments: raise when provably false, return a
    :class:`Requirement` when it depends on symbols, ``None`` when it holds."""
    verdict = decided(relation)
    if verdict is False:
        raise ArgumentError(message)
    return None if verdict else Requirement(relation, message.split(". Received")[0])


def rules(*requirements: Requirement | None) -> tuple[Requirement, ...]:
    """The undecided argument rules of a layer, to yield from ``requirements()``."""
    return tuple(r for r in requirements if r is not None)


def all_one(values: Iterable) -> sympy.Basic:
    """Every value equals 1 (Keras's ``max(values) == 1`` for positive sizes)."""
    return sympy.And(*(sympy.Eq(v, 1) for v in values))


def strides_or_dilation_one(strides, dilation_rate) -> sympy.Basic:
    """Keras's convolution rule: not ``max(strides) > 1 and max(dilation_rate) > 1``."""
    return sympy.Or(all_one(strides), all_one(dilation_rate))
