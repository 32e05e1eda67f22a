"""torch normalization: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d``, ``LayerNorm``,
``GroupNorm``, ``RMSNorm``. Same shape out as in.

Running statistics (``running_mean``, ``running_var``, ``num_batches_tracked``) are
buffers: declared so that reports show them, never counted as parameters — as
``model.parameters()`` leaves them out (Keras counts its moving statistics).
"""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import at_least, divisible, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Requirement, Weight
from ..saved import Saved
from .common import TorchLayer, batch_axis, elements, equal, saved_input, size


def _running_stats(features):
    yield Weight("running_mean", (features,), trainable=False, buffer=True)
    yield Weight("running_var", (features,), trainable=False, buffer=True)
    yield Weight("num_batches_tracked", (), trainable=False, buffer=True)


class _NormBase(TorchLayer):
    """What BatchNorm and InstanceNorm share: ``weight``/``bias`` when ``affine``, the
    running statistics as buffers when ``track_running_stats``."""

    ranks: tuple = (4,)
    notation = Notation({"num_features": "C"}, inputs={1: "C"})

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True,
                 name=None):
        super().__init__(name)
        self.num_features = size(num_features, f"{type(self).__name__} num_features")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats, self.bias = bool(affine), bool(track_running_stats), bool(bias)

    def _check_rank(self, shape):
        if len(shape) not in self.ranks or batch_axis(shape) != 0:
            wanted = " or ".join(f"{r}D" for r in self.ranks)
            raise ShapeError(f"expected {wanted} input with the batch axis first (got {len(shape)}D input). "
                             f"Received: input shape={size_text(shape)}")

    def weights(self, shape):
        if self.affine:
            yield Weight("weight", (self.num_features,))
            if self.bias:
                yield Weight("bias", (self.num_features,))
        if self.track_running_stats:
            yield from _running_stats(self.num_features)


class _BatchNorm(_NormBase):
    """torch ``nn.BatchNorm{r}d(num_features, eps=1e-05, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)`` on {axes}. Same shape.

    Parameters: ``weight (num_features,)`` and ``bias (num_features,)`` when ``affine``
    (``bias`` only when ``bias``). Buffers (not parameters): ``running_mean``, ``running_var``
    ``(num_features,)`` and ``num_batches_tracked ()`` when ``track_running_stats``. The
    channels (axis 1) must equal ``num_features`` when there is a weight or a running
    statistic to match.

    Saved for backward in training (``aten::native_batch_norm``): the input, and
    ``save_mean`` and ``save_invstd``, ``C`` elements each once per batch (fp32 on CUDA, kind ``statistic``)
    (``per_batch``: their size does not grow with the batch).
    """

    def requirements(self, shape):
        self._check_rank(shape)
        if self.affine or self.track_running_stats:
            yield equal(shape[1], self.num_features,
                        f"running_mean/weight should contain {shape[1]} elements: the channels (axis 1) "
                        f"must equal num_features ({self.num_features})")

    def saved(self, shape):
        return (saved_input(shape), Saved("save_mean", shape[1], "statistic", per_batch=True),
                Saved("save_invstd", shape[1], "statistic", per_batch=True))


class BatchNorm1d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace("{r}", "1").replace("{axes}", "``(N, C)`` or ``(N, C, L)``")
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace("{r}", "2").replace("{axes}", "``(N, C, H, W)``")
    ranks = (4,)


class BatchNorm3d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace("{r}", "3").replace("{axes}", "``(N, C, D, H, W)``")
    ranks = (5,)


class _InstanceNorm(_NormBase):
    """torch ``nn.InstanceNorm{r}d(num_features, eps=1e-05, momentum=0.1, affine=False,
    track_running_stats=False, *, bias=True)`` on {axes}. Same shape.

    Parameters: ``weight``, ``bias (num_features,)`` when ``affine``; buffers
    ``running_mean``, ``running_var``, ``num_batches_tracked`` when ``track_running_stats``.
    torch requires the channels (axis 1) to equal ``num_features`` when ``affine`` or
    ``track_running_stats`` (otherwise it only warns), and more than one spatial element.

    Saved for backward: torch runs batch norm over ``(1, N·C, *)``: the input, the fp32
    ``save_mean`` and ``save_invstd`` of ``C`` per example; with ``affine`` the weight
    repeated per example (``C``), with ``track_running_stats`` the two running statistics
    repeated (``2·C``).
    """

    def saved(self, shape):
        c = shape[1]
        yield saved_input(shape)
        yield Saved("save_mean", c, "statistic")
        yield Saved("save_invstd", c, "statistic")
        if self.affine:
            yield Saved("weight repeated", c)
        if self.track_running_stats:
            yield Saved("running_mean repeated", c)
            yield Saved("running_var repeated", c)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, bias=True,
                 name=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias, name=name)

    def requirements(self, shape):
        self._check_rank(shape)
        if self.affine or self.track_running_stats:
            yield equal(shape[1], self.num_features,
                        f"expected input's size at dim=1 to match num_features ({self.num_features})")
        yield Requirement(at_least(product(shape[2:]), 2), "Expected more than 1 spatial element when training")


class InstanceNorm1d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.replace("{r}", "1").replace("{axes}", "``(N, C, L)``")
    ranks = (3,)


class InstanceNorm2d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.replace("{r}", "2").replace("{axes}", "``(N, C, H, W)``")
    ranks = (4,)


class InstanceNorm3d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.replace("{r}", "3").replace("{axes}", "``(N, C, D, H, W)``")
    ranks = (5,)


def _normalized_shape(value, owner: str) -> tuple:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ArgumentError(f"{owner}: normalized_shape must not be empty. Received: {value!r}")
        return tuple(size(v, f"{owner} normalized_shape") for v in value)
    return (size(value, f"{owner} normalized_shape"),)


def _trailing(shape, normalized_shape, owner):
    """The input's last axes must equal ``normalized_shape``."""
    n = len(normalized_shape)
    if len(shape) < n + 1 or any(s is None for s in shape[-n:]):
        raise ShapeError(f"{owner}: expected input with shape [*, {', '.join(map(str, normalized_shape))}], "
                         f"but got input of size {size_text(shape)}")
    for axis, (s, want) in enumerate(zip(shape[-n:], normalized_shape), start=len(shape) - n):
        yield equal(s, want, f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                             f"[*, {', '.join(map(str, normalized_shape))}] (axis {axis})")


class LayerNorm(Layer):
    """torch ``nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True)``:
    normalizes over the last ``len(normalized_shape)`` axes, which must equal
    ``normalized_shape``. Same shape.

    Weights: ``weight (*normalized_shape)`` when ``elementwise_affine``, and ``bias
    (*normalized_shape)`` when also ``bias``.

    Saved for backward (``aten::native_layer_norm``): the input, and ``mean`` and
    ``rstd`` per row (the elements over ``prod(normalized_shape)``).
    """

    def saved(self, shape):
        rows = elements(shape) / product(self.normalized_shape)
        return (saved_input(shape), Saved("mean", rows, "statistic"), Saved("rstd", rows, "statistic"))

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, name=None):
        super().__init__(name)
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine, self.bias = eps, bool(elementwise_affine), bool(bias)

    def requirements(self, shape):
        yield from _trailing(shape, self.normalized_shape, "LayerNorm")

    def weights(self, shape):
        if self.elementwise_affine:
            yield Weight("weight", self.normalized_shape)
            if self.bias:
                yield Weight("bias", self.normalized_shape)


class RMSNorm(Layer):
    """torch ``nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)``: root-mean-square
    normalization over the last ``len(normalized_shape)`` axes. Same shape.

    Weights: ``weight (*normalized_shape)`` when ``elementwise_affine`` (no bias).

    Saved for backward (torch's composite ``rms_norm`` on the CPU, in fp32): the input, fp32
    ``rstd`` per row, and with ``elementwise_affine`` the normalized input (``x·rstd``, kept by
    the product with ``weight``). In 16-bit dtypes torch computes in fp32: the input is kept as
    an fp32 copy (declared here as the input).
    """

    def saved(self, shape):
        yield saved_input(shape)
        yield Saved("rstd", elements(shape) / product(self.normalized_shape), "float32")
        if self.elementwise_affine:
            yield Saved("normalized", elements(shape), "float32")

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, name=None):
        super().__init__(name)
        self.normalized_shape = _normalized_shape(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)

    def requirements(self, shape):
        yield from _trailing(shape, self.normalized_shape, "RMSNorm")

    def weights(self, shape):
        if self.elementwise_affine:
            yield Weight("weight", self.normalized_shape)


class GroupNorm(Layer):
    """torch ``nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, *, bias=True)`` on
    ``(N, C, *)``: normalizes each of ``num_groups`` groups of channels. Same shape.

    Weights: ``weight (num_channels,)`` and ``bias (num_channels,)`` when ``affine``.
    torch requires ``num_channels`` divisible by ``num_groups``, and the channels (axis 1)
    equal to ``num_channels`` when ``affine`` (otherwise only divisible by ``num_groups``).

    Saved for backward (``aten::native_group_norm``): the input and ``mean`` and
    ``rstd`` per group (``num_groups`` each per example).
    """

    def saved(self, shape):
        return (saved_input(shape), Saved("mean", self.num_groups, "statistic"),
                Saved("rstd", self.num_groups, "statistic"))

    notation = Notation({"num_groups": "G", "num_channels": "C"}, inputs={1: "C"})

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, bias=True, name=None):
        super().__init__(name)
        self.num_groups = size(num_groups, "GroupNorm num_groups")
        self.num_channels = size(num_channels, "GroupNorm num_channels")
        self.eps, self.affine, self.bias = eps, bool(affine), bool(bias)
        if divisible(self.num_channels, self.num_groups) is sympy.false:
            raise ArgumentError(f"GroupNorm: num_channels ({self.num_channels}) must be divisible by "
                                f"num_groups ({self.num_groups})")

    def requirements(self, shape):
        if len(shape) < 2 or batch_axis(shape) != 0:
            raise ShapeError(f"GroupNorm expects an input (N, C, *) with the batch axis first. "
                             f"Received: input shape={size_text(shape)}")
        yield Requirement(divisible(self.num_channels, self.num_groups),
                          f"num_channels ({self.num_channels}) must be divisible by num_groups ({self.num_groups})")
        if self.affine:
            yield equal(shape[1], self.num_channels,
                        f"Expected the channels (axis 1) to equal num_channels ({self.num_channels})")
        else:
            yield Requirement(divisible(shape[1], self.num_groups),
                              f"Expected number of channels in input to be divisible by num_groups ({self.num_groups})")

    def weights(self, shape):
        if self.affine:
            yield Weight("weight", (self.num_channels,))
            if self.bias:
                yield Weight("bias", (self.num_channels,))
