"""Keras pooling layers (channels-last): ``MaxPooling2D``, ``AveragePooling2D``."""

from __future__ import annotations

from ..derivation import Notation
from ..dims import as_tuple, conv_length, same_length
from ..layer import Layer
from .conv import check_padding


class _Pooling2D(Layer):
    """Keras ``{Max,Average}Pooling2D(pool_size=(2, 2), strides=None, padding="valid")``.

    No weights. Output per spatial axis (Keras ``compute_pooling_output_shape``):
    ``valid``: ``floor((n - p) / s) + 1``; ``same``: ``floor((n - 1) / s) + 1``;
    ``strides`` defaults to ``pool_size``. Channels are unchanged.
    """

    rank = 2
    notation = Notation(
        {"pool_size": ("p_h", "p_w"), "strides": ("s_h", "s_w")},
        inputs=("H_in", "W_in", "C"), outputs=("H_out", "W_out", "C"), hidden_at_one=("strides",),
    )

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.pool_size = as_tuple(pool_size, self.rank, f"{owner} pool_size")
        self.strides = self.pool_size if strides is None else as_tuple(strides, self.rank, f"{owner} strides")
        self.padding = check_padding(padding, owner)

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, spatial..., channels)")
        return ()

    def output_shape(self, shape):
        if self.padding == "same":
            spatial = tuple(same_length(n, s) for n, s in zip(shape[1:-1], self.strides))
        else:
            spatial = tuple(conv_length(n, p, s) for n, p, s in zip(shape[1:-1], self.pool_size, self.strides))
        return (shape[0], *spatial, shape[-1])


class MaxPooling2D(_Pooling2D):
    __doc__ = _Pooling2D.__doc__.replace("{Max,Average}", "Max")

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", name=None):
        super().__init__(pool_size, strides, padding, name)


class AveragePooling2D(_Pooling2D):
    __doc__ = _Pooling2D.__doc__.replace("{Max,Average}", "Average")

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", name=None):
        super().__init__(pool_size, strides, padding, name)
