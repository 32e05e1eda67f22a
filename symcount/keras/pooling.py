"""Keras pooling layers (channels-last): ``MaxPooling1D/2D/3D``,
``AveragePooling1D/2D/3D``, ``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D``.

One base per family, parametrised by ``rank`` (the number of spatial axes), as in
Keras's ``BasePooling`` and ``BaseGlobalPooling``. The window rule is
``dims.keras_pool_length`` (Keras ``compute_pooling_output_shape``).
"""

from __future__ import annotations

from ..derivation import Notation
from ..dims import as_tuple, keras_pool_length
from ..errors import ArgumentError
from ..layer import Layer
from .arguments import check_bool, check_data_format


def check_pool_padding(padding, owner: str) -> str:
    """Keras pooling takes ``padding`` as given: exactly ``"valid"`` or ``"same"``
    (unlike convolutions, it is not lower-cased)."""
    if padding not in ("valid", "same"):
        raise ArgumentError(f"{owner}: Argument `padding` must be either 'valid' or 'same'. Received: padding={padding!r}")
    return padding


class _Pooling(Layer):
    """Keras ``BasePooling``: ``{Max,Average}PoolingND(pool_size, strides=None,
    padding="valid", data_format=None)`` on ``(batch, *spatial, C)``.

    No weights. Output per spatial axis (Keras ``compute_pooling_output_shape``):
    ``valid``: ``floor((n - pool_size) / strides) + 1``; ``same``:
    ``floor((n - 1) / strides) + 1``; ``strides`` defaults to ``pool_size``.
    Channels are unchanged; the input must have exactly the rank shown.
    """

    rank: int

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.pool_size = as_tuple(pool_size, self.rank, f"{owner} pool_size")
        self.strides = self.pool_size if strides is None else as_tuple(strides, self.rank, f"{owner} strides")
        self.padding = check_pool_padding(padding, owner)
        self.data_format = check_data_format(data_format, owner)

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, " + ", ".join(["spatial"] * self.rank) + ", channels)")
        return ()

    def output_shape(self, shape):
        spatial = tuple(keras_pool_length(n, p, s, self.padding)
                        for n, p, s in zip(shape[1:-1], self.pool_size, self.strides))
        return (shape[0], *spatial, shape[-1])


class _Pooling2D(_Pooling):
    rank = 2
    notation = Notation(
        {"pool_size": ("p_h", "p_w"), "strides": ("s_h", "s_w")},
        inputs=("H_in", "W_in", "C"), outputs=("H_out", "W_out", "C"), hidden_at_one=("strides",),
    )


def _doc(kind: str, rank: int, default=None) -> str:
    """``default=None``: ``pool_size`` is required, as in Keras's ``AveragePoolingND``."""
    axes = {1: "steps", 2: "H, W", 3: "D, H, W"}[rank]
    pool_size = "pool_size" if default is None else f"pool_size={default}"
    return (f"Keras ``{kind}Pooling{rank}D({pool_size}, strides=None, padding=\"valid\", "
            f"data_format=None)`` on ``(batch, {axes}, C)``.\n\n    "
            + _Pooling.__doc__.split("\n\n", 1)[1].strip())


class MaxPooling1D(_Pooling):
    __doc__ = _doc("Max", 1, 2)
    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class MaxPooling2D(_Pooling2D):
    __doc__ = _doc("Max", 2, (2, 2))

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class MaxPooling3D(_Pooling):
    __doc__ = _doc("Max", 3, (2, 2, 2))
    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class AveragePooling1D(_Pooling):
    __doc__ = _doc("Average", 1)
    rank = 1

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class AveragePooling2D(_Pooling2D):
    __doc__ = _doc("Average", 2)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class AveragePooling3D(_Pooling):
    __doc__ = _doc("Average", 3)
    rank = 3

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


# ---------------------------------------------------------------------------
# Global pooling
# ---------------------------------------------------------------------------


class _GlobalPooling(Layer):
    """Keras ``BaseGlobalPooling``: ``Global{Max,Average}PoolingND(data_format=None,
    keepdims=False)`` on ``(batch, *spatial, C)`` (rank ``rank + 2`` exactly).

    No weights. Output ``(batch, C)``, or ``(batch, 1, …, 1, C)`` with ``keepdims``.
    """

    rank: int

    def __init__(self, data_format=None, keepdims=False, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.data_format = check_data_format(data_format, owner)
        self.keepdims = check_bool(keepdims, owner, "keepdims")

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, " + ", ".join(["spatial"] * self.rank) + ", channels)")
        return ()

    def output_shape(self, shape):
        if self.keepdims:
            return (shape[0], *(1,) * self.rank, shape[-1])
        return (shape[0], shape[-1])


def _global_doc(kind: str, rank: int) -> str:
    axes = {1: "steps", 2: "H, W", 3: "D, H, W"}[rank]
    ones = ", ".join(["1"] * rank)
    return (f"Keras ``Global{kind}Pooling{rank}D(data_format=None, keepdims=False)`` on "
            f"``(batch, {axes}, C)``: the {kind.lower()} over {axes}.\n\n    "
            f"No weights. Output ``(batch, C)``, or ``(batch, {ones}, C)`` with ``keepdims``.")


class GlobalMaxPooling1D(_GlobalPooling):
    __doc__ = _global_doc("Max", 1)
    rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    __doc__ = _global_doc("Max", 2)
    rank = 2


class GlobalMaxPooling3D(_GlobalPooling):
    __doc__ = _global_doc("Max", 3)
    rank = 3


class GlobalAveragePooling1D(_GlobalPooling):
    __doc__ = _global_doc("Average", 1)
    rank = 1


class GlobalAveragePooling2D(_GlobalPooling):
    __doc__ = _global_doc("Average", 2)
    rank = 2


class GlobalAveragePooling3D(_GlobalPooling):
    __doc__ = _global_doc("Average", 3)
    rank = 3
