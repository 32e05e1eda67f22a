"""torch pooling, channels-first: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d`` and the
adaptive ``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``. No weights.

Lengths come from ``dims.conv_length`` (floor) and ``dims.ceil_pool_length``
(``ceil_mode=True``, with torch's rule that the last window starts inside the input or
the left padding).
"""

from __future__ import annotations

import sympy

from ..dims import at_least, ceil_pool_length, conv_length
from ..errors import ArgumentError
from ..layer import Requirement, ranked
from ..saved import Saved
from .common import TorchLayer, elements, expect_batch_first, saved_input, size, sizes, window_notation

_AXES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


class _Pool(TorchLayer):
    """Shared by max and average pooling: the window arithmetic and torch's checks."""

    rank = 2
    dilation: tuple

    def _window(self, kernel_size, stride, padding):
        owner = type(self).__name__
        self.kernel_size = sizes(kernel_size, self.rank, f"{owner} kernel_size")
        self.stride = self.kernel_size if stride is None else sizes(stride, self.rank, f"{owner} stride")
        self.padding = sizes(padding, self.rank, f"{owner} padding", allow_zero=True)
        for p, k in zip(self.padding, self.kernel_size):
            if at_least(sympy.floor(k / 2) - p, 0) is sympy.false:
                raise ArgumentError(
                    f"{owner}: pad should be at most half of kernel size, but got padding={padding!r} "
                    f"and kernel_size={kernel_size!r}"
                )

    def requirements(self, shape):
        expect_batch_first(self, shape, self.rank + 2, _AXES[self.rank])
        for p, k in zip(self.padding, self.kernel_size):
            yield Requirement(at_least(sympy.floor(k / 2) - p, 0),
                              f"pad should be at most half of kernel size (padding {p}, kernel_size {k})")

    def output_shape(self, shape):
        if self.ceil_mode:
            spatial = (ceil_pool_length(n, k, s, d, p) for n, k, s, d, p in
                       zip(shape[2:], self.kernel_size, self.stride, self.dilation, self.padding))
        else:
            spatial = (conv_length(n, k, s, d, 2 * p) for n, k, s, d, p in
                       zip(shape[2:], self.kernel_size, self.stride, self.dilation, self.padding))
        return (*shape[:2], *spatial)


class _MaxPool(_Pool):
    """torch ``nn.MaxPool{r}d(kernel_size, stride=None, padding=0, dilation=1,
    return_indices=False, ceil_mode=False)`` on ``(N, C, *spatial)``. No weights.

    Output ``(N, C, *spatial')`` with, per axis, ``floor((n + 2·padding − dilation·(kernel_size
    − 1) − 1) / stride) + 1``, or with ``ceil_mode`` the ceiling, less the last window when
    it would start in the right padding. ``stride`` defaults to ``kernel_size``; torch
    requires ``padding <= kernel_size / 2``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False,
                 name=None):
        super().__init__(name)
        self._window(kernel_size, stride, padding)
        self.dilation = sizes(dilation, self.rank, f"{type(self).__name__} dilation")
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def saved(self, shape):
        """Training (``aten::max_pool{r}d_with_indices``): the input and the int64 index of
        each output element's maximum."""
        return (saved_input(shape), Saved("indices", elements(self.output_shape(shape)), "int64"))



class _AvgPool(_Pool):
    """torch ``nn.AvgPool{r}d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True, divisor_override=None)`` on ``(N, C, *spatial)``. No weights.

    Output as ``MaxPool{r}d`` with ``dilation=1``: per axis ``floor((n + 2·padding −
    kernel_size) / stride) + 1``, or with ``ceil_mode`` the ceiling, less the last window
    when it would start in the right padding. torch requires ``padding <= kernel_size / 2``
    and a non-zero ``divisor_override``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None, name=None):
        super().__init__(name)
        self._init_avg(kernel_size, stride, padding, ceil_mode, count_include_pad)
        if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override == 0):
            raise ArgumentError(f"{type(self).__name__}: divisor must be not zero. "
                                f"Received: divisor_override={divisor_override!r}")
        self.divisor_override = divisor_override

    def _init_avg(self, kernel_size, stride, padding, ceil_mode, count_include_pad):
        self._window(kernel_size, stride, padding)
        self.dilation = (sympy.Integer(1),) * self.rank
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def saved(self, shape):
        """Training: the input (``aten::avg_pool{r}d`` keeps it for its backward)."""
        return (saved_input(shape),)



def _pool(base, rank: int, name: str):
    doc = base.__doc__.replace("{r}", str(rank))
    return ranked(base, rank, name, __name__, doc, notation=window_notation(rank, channels=("C", "C")))


MaxPool1d, MaxPool2d, MaxPool3d = (_pool(_MaxPool, r, f"MaxPool{r}d") for r in (1, 2, 3))


class AvgPool1d(_AvgPool):
    __doc__ = _AvgPool.__doc__.replace("{r}", "1").replace(", divisor_override=None", "")
    notation = window_notation(1, channels=("C", "C"))
    rank = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, name=None):
        TorchLayer.__init__(self, name)
        self._init_avg(kernel_size, stride, padding, ceil_mode, count_include_pad)


AvgPool2d = _pool(_AvgPool, 2, "AvgPool2d")


class AvgPool3d(_AvgPool):
    __doc__ = _AvgPool.__doc__.replace("{r}", "3") + """
    ``avg_pool3d`` also requires the input itself, before padding, to be at least
    ``kernel_size`` on every axis (ATen ``pool3d_shape_check``: "input image … smaller than
    kernel size")."""
    notation = window_notation(3, channels=("C", "C"))
    rank = 3

    def requirements(self, shape):
        yield from super().requirements(shape)
        for axis, (n, k) in enumerate(zip(shape[2:], self.kernel_size), start=2):
            yield Requirement(at_least(n - k, 0), f"input image smaller than kernel size on axis {axis} ({k})")


class _AdaptivePool(TorchLayer):
    """torch ``nn.Adaptive{kind}Pool{r}d(output_size{extra})`` on ``(N, C, *spatial)``. No weights.

    Output ``(N, C, *output_size)``; an entry ``None`` keeps that input axis.
    """

    rank = 2

    def _sizes(self, output_size):
        owner = type(self).__name__
        if isinstance(output_size, (list, tuple)):
            if len(output_size) != self.rank:
                raise ArgumentError(f"{owner}: output_size must be an integer or a tuple of {self.rank}. "
                                    f"Received: output_size={output_size!r}")
            self.output_size = tuple(None if s is None else size(s, f"{owner} output_size") for s in output_size)
        elif output_size is None:
            raise ArgumentError(f"{owner}: output_size must be given. Received: output_size=None")
        else:
            self.output_size = (size(output_size, f"{owner} output_size"),) * self.rank

    def requirements(self, shape):
        expect_batch_first(self, shape, self.rank + 2, _AXES[self.rank])
        return ()

    def output_shape(self, shape):
        return (*shape[:2], *(n if s is None else s for n, s in zip(shape[2:], self.output_size)))


class _AdaptiveAvgPool(_AdaptivePool):
    __doc__ = _AdaptivePool.__doc__.replace("{kind}", "Avg").replace("{extra}", "")

    def __init__(self, output_size, name=None):
        super().__init__(name)
        self._sizes(output_size)

    def saved(self, shape):
        """Training: nothing when every output size is 1 (torch takes the mean over the
        spatial axes, which keeps no tensor); otherwise the input (``aten::_adaptive_avg_pool{r}d``)."""
        if all(s is not None and s == 1 for s in self.output_size):
            return ()
        return (saved_input(shape),)



class _AdaptiveMaxPool(_AdaptivePool):
    __doc__ = _AdaptivePool.__doc__.replace("{kind}", "Max").replace("{extra}", ", return_indices=False")

    def __init__(self, output_size, return_indices=False, name=None):
        super().__init__(name)
        self._sizes(output_size)
        self.return_indices = bool(return_indices)

    def saved(self, shape):
        """Training (``aten::adaptive_max_pool{r}d``): the input and the int64 index of each
        output element's maximum."""
        return (saved_input(shape), Saved("indices", elements(self.output_shape(shape)), "int64"))



def _adaptive(base, rank: int, name: str):
    return ranked(base, rank, name, __name__, base.__doc__.replace("{r}", str(rank)))


AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d = (
    _adaptive(_AdaptiveAvgPool, r, f"AdaptiveAvgPool{r}d") for r in (1, 2, 3))
AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d = (
    _adaptive(_AdaptiveMaxPool, r, f"AdaptiveMaxPool{r}d") for r in (1, 2, 3))
