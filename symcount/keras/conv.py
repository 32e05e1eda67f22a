"""Keras convolution layers (channels-last), shape rule from ``dims.keras_conv_length``."""

from __future__ import annotations

from ..derivation import Notation
from ..dims import as_tuple, as_expr, divisible, keras_conv_length, product
from ..errors import ArgumentError
from ..layer import Layer, Requirement, Weight
from .activations import check_activation


def check_padding(padding, owner: str, allowed=("valid", "same")) -> str:
    if not isinstance(padding, str) or padding.lower() not in allowed:
        options = " or ".join(f"'{p}'" for p in allowed)
        raise ArgumentError(f"{owner}: `padding` must be {options}. Received: padding={padding!r}")
    return padding.lower()


class Conv2D(Layer):
    """Keras ``Conv2D(filters, kernel_size, strides=1, padding="valid", dilation_rate=1,
    groups=1, activation=None, use_bias=True)`` on ``(batch, H, W, C_in)``.

    Weights: ``kernel (k_h, k_w, C_in / groups, filters)``, ``bias (filters,)``.
    Output: ``(batch, H', W', filters)`` with, per axis, ``valid``:
    ``floor((n - d(k - 1) - 1) / s) + 1``; ``same``: ``floor((n - 1) / s) + 1``
    (Keras ``compute_conv_output_shape``). Keras requires ``C_in`` and ``filters``
    divisible by ``groups`` and rejects ``strides > 1`` with ``dilation_rate > 1``.
    MACs: ``H' W' · k_h k_w (C_in / groups) · filters``.
    """

    rank = 2
    notation = Notation(
        {"filters": "C_out", "kernel_size": ("k_h", "k_w"), "strides": ("s_h", "s_w"),
         "dilation_rate": ("d_h", "d_w"), "groups": "g"},
        inputs=("H_in", "W_in", "C_in"), outputs=("H_out", "W_out", "C_out"),
        hidden_at_one=("strides", "dilation_rate", "groups"),
    )

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1,
                 groups=1, activation=None, use_bias=True, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.filters = as_expr(filters, f"{owner} filters")
        self.kernel_size = as_tuple(kernel_size, self.rank, f"{owner} kernel_size")
        self.strides = as_tuple(strides, self.rank, f"{owner} strides")
        self.padding = check_padding(padding, owner)
        self.dilation_rate = as_tuple(dilation_rate, self.rank, f"{owner} dilation_rate")
        self.groups = as_expr(groups, f"{owner} groups")
        self.activation = check_activation(activation, owner)
        self.use_bias = bool(use_bias)
        if any(s != 1 for s in self.strides) and any(d != 1 for d in self.dilation_rate):
            raise ArgumentError(
                f"{owner}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        if divisible(self.filters, self.groups) == False:  # noqa: E712 (SymPy false)
            raise ArgumentError(
                f"{owner}: the number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}"
            )

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, spatial..., channels)")
        yield Requirement(divisible(shape[-1], self.groups),
                          f"The number of input channels must be evenly divisible by the number of groups ({self.groups})")
        yield Requirement(divisible(self.filters, self.groups),
                          f"The number of filters must be evenly divisible by the number of groups ({self.groups})")

    def weights(self, shape):
        yield Weight("kernel", (*self.kernel_size, shape[-1] / self.groups, self.filters))
        if self.use_bias:
            yield Weight("bias", (self.filters,))

    def output_shape(self, shape):
        spatial = tuple(
            keras_conv_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)
        )
        return (shape[0], *spatial, self.filters)

    def macs(self, shape):
        out = self.output_shape(shape)
        return product(out[1:-1]) * product(self.kernel_size) * (shape[-1] / self.groups) * self.filters
