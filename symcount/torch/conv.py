"""torch convolutions, channels-first: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Output lengths come from ``dims.conv_length`` (``floor((n + 2·padding − dilation·(k − 1)
− 1) / stride) + 1``) and ``dims.transposed_conv_length``.
"""

from __future__ import annotations

import sympy

from ..dims import at_least, conv_length, divisible, product, transposed_conv_length
from ..errors import ArgumentError
from ..layer import Requirement, Weight, ranked
from ..saved import Saved
from .common import TorchLayer, equal, expect_batch_first, saved_input, size, sizes, window_notation

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_AXES = {1: "(N, C_in, L)", 2: "(N, C_in, H, W)", 3: "(N, C_in, D, H, W)"}


def _decided_false(relation) -> bool:
    return relation is sympy.false or relation is False


class _ConvNd(TorchLayer):
    """Shared by the convolutions and the transposed convolutions."""

    rank = 2
    transposed = False

    def _common(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                padding_mode):
        owner = type(self).__name__
        self.in_channels = size(in_channels, f"{owner} in_channels")
        self.out_channels = size(out_channels, f"{owner} out_channels")
        self.kernel_size = sizes(kernel_size, self.rank, f"{owner} kernel_size")
        self.stride = sizes(stride, self.rank, f"{owner} stride")
        self.dilation = sizes(dilation, self.rank, f"{owner} dilation")
        self.groups = size(groups, f"{owner} groups")
        self.bias = bool(bias)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ArgumentError(
                    f"{owner}: Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and any(_decided_false(sympy.Eq(s, 1)) for s in self.stride):
                raise ArgumentError(
                    f"{owner}: padding='same' is not supported for strided convolutions. Received: stride={stride!r}"
                )
            self.padding = padding
        else:
            self.padding = sizes(padding, self.rank, f"{owner} padding", allow_zero=True)
        if padding_mode not in PADDING_MODES:
            raise ArgumentError(
                f"{owner}: padding_mode must be one of {set(PADDING_MODES)}, but got padding_mode={padding_mode!r}"
            )
        self.padding_mode = padding_mode
        for what, count in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if _decided_false(divisible(count, self.groups)):
                raise ArgumentError(
                    f"{owner}: {what} must be divisible by groups. Received: {what}={count}, groups={self.groups}"
                )

    def _weight_and_bias(self, weight_shape):
        """torch's ``weight`` of ``weight_shape`` and, with ``bias``, ``bias (out_channels,)``."""
        yield Weight("weight", weight_shape)
        if self.bias:
            yield Weight("bias", (self.out_channels,))

    def _check_input(self, shape):
        expect_batch_first(self, shape, self.rank + 2, _AXES[self.rank])
        for what, count in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            yield Requirement(divisible(count, self.groups),
                              f"{what} ({count}) must be divisible by groups ({self.groups})")
        yield equal(shape[1], self.in_channels,
                    f"expected input to have {self.in_channels} channels (in_channels) on axis 1")
        if self.padding == "same":
            for s in self.stride:
                yield equal(s, 1, "padding='same' is not supported for strided convolutions")


class _Conv(_ConvNd):
    """torch ``nn.Conv{r}d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    dilation=1, groups=1, bias=True, padding_mode='zeros')`` on ``(N, C_in, *spatial)``.

    Weights: ``weight (out_channels, in_channels / groups, *kernel_size)``, ``bias
    (out_channels,)`` when ``bias``. Output ``(N, out_channels, *spatial')`` with, per axis,
    ``floor((n + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1``;
    ``padding='valid'`` is ``padding=0`` and ``padding='same'`` keeps ``n`` (stride 1 only).
    torch requires ``in_channels`` and ``out_channels`` divisible by ``groups``; with
    ``padding_mode='reflect'`` each side's padding below ``n``, with ``'circular'`` at most ``n``.
    MACs: ``prod(spatial') · prod(kernel_size) · (in_channels / groups) · out_channels``.

    Saved for backward (``aten::convolution``): the tensor convolved, for the weight's
    gradient: the input itself with zero padding; the padded copy ``F.pad`` makes with
    ``padding_mode`` ``'reflect'`` or ``'replicate'`` (whose pad also keeps the input) or
    ``'circular'`` (a concatenation: the input is not kept); with ``padding='same'`` and an
    odd total ``dilation·(k − 1)`` on some axis, the input padded by one on the right there
    (torch pads the asymmetric extra itself, the rest inside the convolution).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", name=None):
        super().__init__(name)
        self._common(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)

    def _sides(self):
        """(left, right) padding per axis, as torch pads (``'same'``: the extra one on the right)."""
        if self.padding == "valid":
            return [(0, 0)] * self.rank
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return [(sympy.floor(t / 2), t - sympy.floor(t / 2)) for t in totals]
        return [(p, p) for p in self.padding]

    def requirements(self, shape):
        yield from self._check_input(shape)
        if self.padding_mode in ("reflect", "circular"):
            for axis, (n, (_, right)) in enumerate(zip(shape[2:], self._sides()), start=2):
                if self.padding_mode == "reflect":
                    yield Requirement(at_least(n - right, 1),
                                      f"Padding size should be less than the corresponding input dimension "
                                      f"(padding_mode='reflect'), but got padding {right} at dimension {axis}")
                else:
                    yield Requirement(at_least(n - right, 0),
                                      f"Padding value causes wrapping around more than once (padding_mode='circular'): "
                                      f"padding {right} at dimension {axis} exceeds the input size")

    def weights(self, shape):
        return self._weight_and_bias((self.out_channels, self.in_channels / self.groups, *self.kernel_size))

    def saved(self, shape):
        if self.padding_mode != "zeros":
            padded = product([n + left + right for n, (left, right) in zip(shape[2:], self._sides())])
            copy = Saved("padded input", shape[1] * padded)
            return (copy,) if self.padding_mode == "circular" else (saved_input(shape), copy)
        if self.padding == "same":
            extra = [sympy.Mod(d * (k - 1), 2) for d, k in zip(self.dilation, self.kernel_size)]
            if any(e != 0 for e in extra):
                return (Saved("padded input", shape[1] * product([n + e for n, e in zip(shape[2:], extra)])),)
        return (saved_input(shape),)

    def output_shape(self, shape):
        if self.padding == "same":
            spatial = tuple(shape[2:])
        else:
            spatial = tuple(
                conv_length(n, k, s, d, left + right)
                for n, k, s, d, (left, right) in
                zip(shape[2:], self.kernel_size, self.stride, self.dilation, self._sides())
            )
        return (shape[0], self.out_channels, *spatial)

    def macs(self, shape):
        out = self.output_shape(shape)
        return product(out[2:]) * product(self.kernel_size) * (self.in_channels / self.groups) * self.out_channels


class _ConvTranspose(_ConvNd):
    """torch ``nn.ConvTranspose{r}d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros')`` on
    ``(N, C_in, *spatial)``.

    Weights: ``weight (in_channels, out_channels / groups, *kernel_size)``, ``bias
    (out_channels,)``. Output ``(N, out_channels, *spatial')`` with, per axis,
    ``(n − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1``.
    torch requires ``output_padding`` smaller than ``stride`` or ``dilation``, integer
    padding and ``padding_mode='zeros'``. MACs: ``prod(spatial) · prod(kernel_size) ·
    in_channels · (out_channels / groups)`` (every input element meets the kernel).
    """

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", name=None):
        super().__init__(name)
        owner = type(self).__name__
        if padding_mode != "zeros":
            raise ArgumentError(
                f'{owner}: Only "zeros" padding mode is supported. Received: padding_mode={padding_mode!r}')
        if isinstance(padding, str):
            raise ArgumentError(f"{owner}: padding must be an integer or a tuple of integers (torch's transposed "
                                f"convolutions take no padding strings). Received: padding={padding!r}")
        self._common(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)
        self.output_padding = sizes(output_padding, self.rank, f"{owner} output_padding", allow_zero=True)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if _decided_false(sympy.Or(sympy.Lt(op, s), sympy.Lt(op, d))):
                raise ArgumentError(
                    f"{owner}: output padding must be smaller than either stride or dilation. Received: "
                    f"output_padding={output_padding!r}, stride={stride!r}, dilation={dilation!r}"
                )

    def requirements(self, shape):
        yield from self._check_input(shape)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            yield Requirement(sympy.Or(sympy.Lt(op, s), sympy.Lt(op, d)),
                              f"output padding ({op}) must be smaller than either stride ({s}) or dilation ({d})")

    def weights(self, shape):
        return self._weight_and_bias((self.in_channels, self.out_channels / self.groups, *self.kernel_size))

    def saved(self, shape):
        """The input (``aten::convolution`` with ``transposed=True``), for the weight's gradient."""
        return (saved_input(shape),)

    def output_shape(self, shape):
        spatial = tuple(
            transposed_conv_length(n, k, s, d, 2 * p, op)
            for n, k, s, d, p, op in zip(shape[2:], self.kernel_size, self.stride, self.dilation,
                                         self.padding, self.output_padding)
        )
        return (shape[0], self.out_channels, *spatial)

    def macs(self, shape):
        return product(shape[2:]) * product(self.kernel_size) * self.in_channels * (self.out_channels / self.groups)


def _ranked(base, rank: int, name: str):
    notation = window_notation(rank, in_channels="C_in", out_channels="C_out", groups="g")
    return ranked(base, rank, name, __name__, base.__doc__.replace("{r}", str(rank)), notation=notation)


Conv1d, Conv2d, Conv3d = (_ranked(_Conv, r, f"Conv{r}d") for r in (1, 2, 3))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (_ranked(_ConvTranspose, r, f"ConvTranspose{r}d") for r in (1, 2, 3))
