"""Keras convolution layers (channels-last): ``Conv1D/2D/3D``,
``Conv1DTranspose/2D/3D``, ``DepthwiseConv1D/2D``, ``SeparableConv1D/2D``.

One base per family, parametrised by ``rank`` (the number of spatial axes), as in
Keras's ``BaseConv``. Shape rules come from :mod:`symcount.dims`:
``keras_conv_length`` (Keras ``compute_conv_output_shape``) and
``keras_deconv_length`` (Keras ``compute_conv_transpose_output_shape``).
"""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import (as_expr, as_nonnegative_tuple, as_tuple, divisible, keras_conv_length,
                    keras_deconv_length, product)
from ..errors import ArgumentError
from ..layer import Layer, Requirement, Weight, ranked
from ..saved import Saved, saved_input
from .activations import activation_saved, check_activation
from .arguments import argument_rule, check_data_format, rules, strides_or_dilation_one


def check_padding(padding, owner: str, allowed=("valid", "same")) -> str:
    """Keras ``standardize_padding``: case-insensitive, one of ``allowed``."""
    if not isinstance(padding, str) or padding.lower() not in allowed:
        options = " or ".join(f"'{p}'" for p in allowed)
        raise ArgumentError(f"{owner}: `padding` must be {options}. Received: padding={padding!r}")
    return padding.lower()


_AXES = {1: ("",), 2: ("h", "w"), 3: ("d", "h", "w")}
_SIZES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def window_notation(rank: int, **sizes: str) -> Notation:
    """How derivations write a rank-``rank`` convolution: ``k_h, k_w`` (kernel), ``s_h``
    (strides), ``d_h`` (dilation), input ``(H_in, W_in, C_in)``, output ``(H_out, W_out,
    C_out)`` (1D: ``k``, ``L_in``; 3D: ``k_d``, ``D_in``), plus the given arguments
    (``filters="C_out"``). Strides, dilation, groups and depth multiplier are written only
    where they are not 1."""

    def per_axis(letter):
        return tuple(f"{letter}_{a}" if a else letter for a in _AXES[rank])

    return Notation(
        {**sizes, "kernel_size": per_axis("k"), "strides": per_axis("s"), "dilation_rate": per_axis("d")},
        inputs=(*(f"{n}_in" for n in _SIZES[rank]), "C_in"),
        outputs=(*(f"{n}_out" for n in _SIZES[rank]), "C_out"),
        hidden_at_one=("strides", "dilation_rate", "groups", "depth_multiplier"),
    )


def same_padding_total(n, kernel, stride, dilation=1):
    """The total padding of Keras's ``same`` on the torch backend for one axis
    (``_compute_padding_length``): ``d(k − 1)`` with stride 1, else
    ``max(0, (⌈n/s⌉ − 1)·s + d(k − 1) + 1 − n)``; the odd one goes on the right."""
    effective = (kernel - 1) * dilation + 1
    if stride == 1:
        return effective - 1
    return sympy.Max(0, (sympy.ceiling(n / stride) - 1) * stride + effective - n)


def channels_first(shape, name="channels-first copy"):
    """What Keras's torch backend makes of a channels-last input for a convolution or a
    pooling, per example: ``permute`` to channels-first then ``.contiguous()`` (and
    ``contiguous(memory_format=channels_last)`` for 2-D and 3-D convolutions), a copy of the
    input's size; no copy when the channels or the spatial positions are decidedly 1
    (the permuted tensor is then already contiguous, so the input itself is kept).
    Symbolic sizes that turn out to be 1 are taken as the common case, a copy."""
    channels, spatial = shape[-1], product(shape[1:-1])
    if sympy.Eq(channels, 1) is sympy.true or sympy.Eq(spatial, 1) is sympy.true:
        return saved_input(shape)
    return Saved(name, channels * spatial)


def torch_input(shape, kernel_size, strides, dilation, padding, name="channels-first copy"):
    """The tensor torch convolves or pools for a channels-last Keras input, per example:
    Keras's torch backend permutes the input to channels-first and copies it
    (``_transpose_spatial_inputs``: ``.contiguous()``); with ``same`` padding that is
    asymmetric on some axis (an odd total) it pads that copy on every axis
    (``_apply_same_padding``), and the padded tensor is what the op keeps; without
    padding see :func:`channels_first`. Undecided parity (symbolic sizes with strides)
    gives a ``Piecewise``."""
    channels, spatial = shape[-1], shape[1:-1]
    plain = channels * product(spatial)
    if padding != "same":
        return channels_first(shape, name)
    totals = [same_padding_total(n, k, st, d) for n, k, st, d in zip(spatial, kernel_size, strides, dilation)]
    odd = sympy.Or(*(sympy.Ne(sympy.Mod(t, 2), 0) for t in totals))
    padded = channels * product([n + t for n, t in zip(spatial, totals)])
    if odd is sympy.true:
        return Saved(f"padded {name}", padded)
    if odd is sympy.false:
        return channels_first(shape, name)
    return Saved(f"{name} (padded when asymmetric)", sympy.Piecewise((padded, odd), (plain, True)))


class _Windowed(Layer):
    """What every convolution shares: ``kernel_size``, ``strides``, ``dilation_rate``,
    ``padding`` over ``rank`` spatial axes of a ``(batch, *spatial, channels)`` input."""

    rank: int
    paddings = ("valid", "same")

    def _window(self, kernel_size, strides, padding, data_format, dilation_rate):
        owner = type(self).__name__
        self.kernel_size = as_tuple(kernel_size, self.rank, f"{owner} kernel_size")
        self.strides = as_tuple(strides, self.rank, f"{owner} strides")
        self.padding = check_padding(padding, owner, self.paddings)
        self.data_format = check_data_format(data_format, owner)
        self.dilation_rate = as_tuple(dilation_rate, self.rank, f"{owner} dilation_rate")

    def _strides_rule(self):
        return argument_rule(
            strides_or_dilation_one(self.strides, self.dilation_rate),
            f"{type(self).__name__}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}",
        )

    def _expect_input(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, " + ", ".join(["spatial"] * self.rank) + ", channels)")

    def _depthwise(self, depth_multiplier, activation, use_bias):
        """The arguments a depthwise stage adds (DepthwiseConvND, SeparableConvND)."""
        owner = type(self).__name__
        self.depth_multiplier = as_expr(depth_multiplier, f"{owner} depth_multiplier")
        self.activation = check_activation(activation, owner)
        self.use_bias = bool(use_bias)

    def requirements(self, shape):
        self._expect_input(shape)
        return ()

    def _convolved(self, shape):
        """What the convolution keeps of its input (:func:`torch_input`; ``causal``: Keras
        pads ``d(k − 1)`` on the left, then the backend copies the padded tensor)."""
        if self.padding == "causal":
            (n,), (k,), (d,) = self._spatial_in(shape), self.kernel_size, self.dilation_rate
            return Saved("padded channels-first copy", shape[-1] * (n + d * (k - 1)))
        return torch_input(shape, self.kernel_size, self.strides, self.dilation_rate, self.padding)

    @staticmethod
    def _spatial_in(shape):
        return shape[1:-1]

    def _activation(self, out):
        return activation_saved(self.activation, out, out, fused=True)

    def _kernel_copies(self, shape):
        """The kernels Keras permutes into contiguous copies for torch (2-D and 3-D
        convolutions: ``_maybe_convert_to_channels_last``), kept once per batch."""
        return ()

    def saved(self, shape):
        """Training on Keras's torch backend: the input copy the convolution keeps
        (:meth:`_convolved`), the kernel's copy once per batch (2-D and 3-D), then the
        activation's tensors."""
        activation = self._activation(self.output_shape(shape))
        if activation is None:
            return None
        return (self._convolved(shape), *self._kernel_copies(shape), *activation)

    def _spatial(self, shape):
        """Output sizes of the spatial axes (``causal`` pads ``d(k - 1)`` on the left
        only, so its length is ``same``'s: Keras treats them alike)."""
        padding = "same" if self.padding == "causal" else self.padding
        return tuple(
            keras_conv_length(n, k, s, padding, d)
            for n, k, s, d in zip(shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)
        )


# ---------------------------------------------------------------------------
# Conv1D / Conv2D / Conv3D
# ---------------------------------------------------------------------------


class _Conv(_Windowed):
    """Keras ``BaseConv``: ``ConvND(filters, kernel_size, strides=1, padding="valid",
    data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True)``.

    Weights: ``kernel (*kernel_size, C_in / groups, filters)``, ``bias (filters,)``.
    Output per spatial axis: ``valid``: ``floor((n - d(k - 1) - 1) / s) + 1``; ``same``
    (and Conv1D's ``causal``): ``floor((n - 1) / s) + 1``. Keras requires ``C_in`` and
    ``filters`` divisible by ``groups`` and rejects ``strides > 1`` with
    ``dilation_rate > 1``. MACs: output positions · ``prod(kernel_size) · (C_in / groups) · filters``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.filters = as_expr(filters, f"{owner} filters")
        self._window(kernel_size, strides, padding, data_format, dilation_rate)
        self.groups = as_expr(groups, f"{owner} groups")
        self.activation = check_activation(activation, owner)
        self.use_bias = bool(use_bias)
        self._rules = rules(
            self._strides_rule(),
            argument_rule(
                divisible(self.filters, self.groups),
                f"{owner}: The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}",
            ),
        )

    def requirements(self, shape):
        self._expect_input(shape)
        yield from self._rules
        yield Requirement(divisible(shape[-1], self.groups),
                          f"The number of input channels must be evenly divisible by the number of groups ({self.groups})")

    def weights(self, shape):
        yield Weight("kernel", (*self.kernel_size, shape[-1] / self.groups, self.filters))
        if self.use_bias:
            yield Weight("bias", (self.filters,))

    def output_shape(self, shape):
        return (shape[0], *self._spatial(shape), self.filters)

    def _kernel_copies(self, shape):
        if self.rank == 1:
            return ()
        size = product(self.kernel_size) * (shape[-1] / self.groups) * self.filters
        return (Saved("kernel copy", size, per_batch=True),)

    def macs(self, shape):
        return product(self._spatial(shape)) * product(self.kernel_size) * (shape[-1] / self.groups) * self.filters


#: how a docstring names the axes of a rank: input axes, kernel, output axes, output
#: positions, kernel product, input positions, a 1×…×1 kernel
_WORDS = {
    1: dict(axes="steps", kernel="k", outs="steps'", positions="steps'", kprod="k", inputs="steps", ones="1"),
    2: dict(axes="H, W", kernel="k_h, k_w", outs="H', W'", positions="H' W'", kprod="k_h k_w", inputs="H W",
            ones="1, 1"),
    3: dict(axes="D, H, W", kernel="k_d, k_h, k_w", outs="D', H', W'", positions="D' H' W'", kprod="k_d k_h k_w",
            inputs="D H W", ones="1, 1, 1"),
}


def _ranked(base, rank: int, doc: str, **attributes):
    name = doc.split("``", 2)[1].split("(")[0].replace("Keras ", "").format(r=rank)
    return ranked(base, rank, name, __name__, doc.format(r=rank, **_WORDS[rank]), **attributes)


_CONV_DOC = """Keras ``Conv{r}D(filters, kernel_size, strides=1, padding="valid", data_format=None,
    dilation_rate=1, groups=1, activation=None, use_bias=True)`` on ``(batch, {axes}, C_in)``.

    Weights: ``kernel ({kernel}, C_in / groups, filters)``, ``bias (filters,)``.
    Output ``(batch, {outs}, filters)`` with, per axis, ``valid``:
    ``floor((n - d(k - 1) - 1) / s) + 1``; ``same``: ``floor((n - 1) / s) + 1`` (Keras
    ``compute_conv_output_shape``; Conv1D's ``causal`` pads ``d(k - 1)`` on the left and is
    as long as ``same``). ``C_in`` and ``filters`` divisible by ``groups``; not
    ``strides > 1`` with ``dilation_rate > 1``. MACs: ``{positions} · {kprod} · (C_in / groups) · filters``.
    """

Conv1D = _ranked(_Conv, 1, _CONV_DOC, paddings=("valid", "same", "causal"),
                 notation=window_notation(1, filters="C_out", groups="g"))
Conv2D = _ranked(_Conv, 2, _CONV_DOC, notation=window_notation(2, filters="C_out", groups="g"))
Conv3D = _ranked(_Conv, 3, _CONV_DOC, notation=window_notation(3, filters="C_out", groups="g"))


# ---------------------------------------------------------------------------
# Conv1DTranspose / Conv2DTranspose / Conv3DTranspose
# ---------------------------------------------------------------------------


class _ConvTranspose(_Windowed):
    """Keras ``BaseConvTranspose``: ``ConvNDTranspose(filters, kernel_size, strides=1,
    padding="valid", output_padding=None, data_format=None, dilation_rate=1,
    activation=None, use_bias=True)``.

    Weights: ``kernel (*kernel_size, filters, C_in)`` (output channels before input
    channels), ``bias (filters,)``. Output per spatial axis (``dims.keras_deconv_length``),
    with ``k = (kernel_size - 1) · dilation_rate + 1``: ``valid``:
    ``(n - 1) · s + k + output_padding``, ``output_padding`` defaulting to
    ``max(k, s) - k``; ``same``: ``n · s`` without ``output_padding``, else
    ``(n - 1) · s + (k mod 2) + output_padding``. Keras requires
    ``output_padding < strides`` on every axis and rejects ``strides > 1`` with
    ``dilation_rate > 1``. MACs: input positions · ``prod(kernel_size) · C_in · filters``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.filters = as_expr(filters, f"{owner} filters")
        self._window(kernel_size, strides, padding, data_format, dilation_rate)
        self.output_padding = (None if output_padding is None
                               else as_nonnegative_tuple(output_padding, self.rank, f"{owner} output_padding"))
        self.activation = check_activation(activation, owner)
        self.use_bias = bool(use_bias)
        padding_rules = () if self.output_padding is None else tuple(
            argument_rule(
                op < s,
                f"{owner}: `output_padding` must be strictly less than `strides` for all dimensions. "
                f"At dimension {i}, `output_padding` is {op} but `strides` is {s}. "
                f"Received: output_padding={self.output_padding}, strides={self.strides}",
            )
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides))
        )
        self._rules = rules(*padding_rules, self._strides_rule())

    def requirements(self, shape):
        self._expect_input(shape)
        yield from self._rules

    def weights(self, shape):
        yield Weight("kernel", (*self.kernel_size, self.filters, shape[-1]))
        if self.use_bias:
            yield Weight("bias", (self.filters,))

    def _spatial(self, shape):
        paddings = self.output_padding or (None,) * self.rank
        return tuple(
            keras_deconv_length(n, k, s, self.padding, op, d)
            for n, k, s, op, d in zip(shape[1:-1], self.kernel_size, self.strides, paddings, self.dilation_rate)
        )

    def output_shape(self, shape):
        return (shape[0], *self._spatial(shape), self.filters)

    def _convolved(self, shape):
        """The channels-first copy of the input (``conv_transpose`` pads nothing: ``same``
        crops the output)."""
        return channels_first(shape)

    def macs(self, shape):
        return product(shape[1:-1]) * product(self.kernel_size) * shape[-1] * self.filters


_TRANSPOSE_DOC = """Keras ``Conv{r}DTranspose(filters, kernel_size, strides=1, padding="valid",
    output_padding=None, data_format=None, dilation_rate=1, activation=None,
    use_bias=True)`` on ``(batch, {axes}, C_in)``.

    Weights: ``kernel ({kernel}, filters, C_in)``, ``bias (filters,)``. Output
    ``(batch, {outs}, filters)``, per axis with ``k_eff = (k - 1) · dilation_rate + 1``:
    ``valid``: ``(n - 1) · s + k_eff + output_padding`` (default ``max(k_eff, s) - k_eff``);
    ``same``: ``n · s``, or ``(n - 1) · s + (k_eff mod 2) + output_padding``.
    ``output_padding < strides``. MACs: ``{inputs} · {kprod} · C_in · filters``.
    """

Conv1DTranspose = _ranked(_ConvTranspose, 1, _TRANSPOSE_DOC, notation=window_notation(1, filters="C_out"))
Conv2DTranspose = _ranked(_ConvTranspose, 2, _TRANSPOSE_DOC, notation=window_notation(2, filters="C_out"))
Conv3DTranspose = _ranked(_ConvTranspose, 3, _TRANSPOSE_DOC, notation=window_notation(3, filters="C_out"))


# ---------------------------------------------------------------------------
# DepthwiseConv1D / DepthwiseConv2D
# ---------------------------------------------------------------------------


class _DepthwiseConv(_Windowed):
    """Keras ``BaseDepthwiseConv``: each input channel convolved with
    ``depth_multiplier`` kernels of its own."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, name=None):
        super().__init__(name)
        self._window(kernel_size, strides, padding, data_format, dilation_rate)
        self._depthwise(depth_multiplier, activation, use_bias)

    def weights(self, shape):
        yield Weight("kernel", (*self.kernel_size, shape[-1], self.depth_multiplier))
        if self.use_bias:
            yield Weight("bias", (self.depth_multiplier * shape[-1],))

    def output_shape(self, shape):
        return (shape[0], *self._spatial(shape), self.depth_multiplier * shape[-1])

    def _kernel_copies(self, shape):
        if self.rank == 1:
            return ()
        return (Saved("kernel copy", product(self.kernel_size) * shape[-1] * self.depth_multiplier, per_batch=True),)

    def macs(self, shape):
        return product(self._spatial(shape)) * product(self.kernel_size) * shape[-1] * self.depth_multiplier


_DEPTHWISE_DOC = """Keras ``DepthwiseConv{r}D(kernel_size, strides=1, padding="valid", depth_multiplier=1,
    data_format=None, dilation_rate=1, activation=None, use_bias=True)`` on ``(batch, {axes}, C)``.

    Weights: ``kernel ({kernel}, C, depth_multiplier)``, ``bias (depth_multiplier · C,)``.
    Output ``(batch, {outs}, depth_multiplier · C)`` with ``{outs}`` as Conv{r}D's
    (``valid``/``same``). MACs: ``{positions} · {kprod} · C · depth_multiplier``.
    """

DepthwiseConv1D = _ranked(_DepthwiseConv, 1, _DEPTHWISE_DOC, notation=window_notation(1, depth_multiplier="m"))
DepthwiseConv2D = _ranked(_DepthwiseConv, 2, _DEPTHWISE_DOC, notation=window_notation(2, depth_multiplier="m"))


# ---------------------------------------------------------------------------
# SeparableConv1D / SeparableConv2D
# ---------------------------------------------------------------------------


class _SeparableConv(_Windowed):
    """Keras ``BaseSeparableConv``: a depthwise convolution, then a 1×…×1 pointwise one."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.filters = as_expr(filters, f"{owner} filters")
        self._window(kernel_size, strides, padding, data_format, dilation_rate)
        self._depthwise(depth_multiplier, activation, use_bias)

    def weights(self, shape):
        yield Weight("depthwise_kernel", (*self.kernel_size, shape[-1], self.depth_multiplier))
        yield Weight("pointwise_kernel", ((1,) * self.rank + (self.depth_multiplier * shape[-1], self.filters)))
        if self.use_bias:
            yield Weight("bias", (self.filters,))

    def output_shape(self, shape):
        return (shape[0], *self._spatial(shape), self.filters)

    def saved(self, shape):
        """Training: the depthwise convolution's input copy, the channels-first copy of its
        output that the pointwise convolution keeps (``C·depth_multiplier`` channels), the
        two kernels' copies once per batch (2-D), then the activation's tensors."""
        activation = self._activation(self.output_shape(shape))
        if activation is None:
            return None
        channels = shape[-1] * self.depth_multiplier
        middle = Saved("depthwise output copy", channels * product(self._spatial(shape)))
        kernels = () if self.rank == 1 else (
            Saved("kernel copies", channels * (product(self.kernel_size) + self.filters), per_batch=True),)
        return (self._convolved(shape), middle, *kernels, *activation)

    def macs(self, shape):
        channels = shape[-1] * self.depth_multiplier
        return product(self._spatial(shape)) * channels * (product(self.kernel_size) + self.filters)


_SEPARABLE_DOC = """Keras ``SeparableConv{r}D(filters, kernel_size, strides=1, padding="valid",
    data_format=None, dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True)``
    on ``(batch, {axes}, C)``.

    Weights: ``depthwise_kernel ({kernel}, C, depth_multiplier)``, ``pointwise_kernel
    ({ones}, depth_multiplier · C, filters)``, ``bias (filters,)``. Output
    ``(batch, {outs}, filters)`` with ``{outs}`` as Conv{r}D's (``valid``/``same``).
    MACs: ``{positions} · depth_multiplier · C · ({kprod} + filters)``.
    """

SeparableConv1D = _ranked(_SeparableConv, 1, _SEPARABLE_DOC,
                          notation=window_notation(1, filters="C_out", depth_multiplier="m"))
SeparableConv2D = _ranked(_SeparableConv, 2, _SEPARABLE_DOC,
                          notation=window_notation(2, filters="C_out", depth_multiplier="m"))
