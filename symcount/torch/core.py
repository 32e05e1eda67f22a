"""torch core modules without a family of their own: ``Identity``, the dropouts,
``Flatten``, ``Unflatten``, the activations (``ReLU``, ``GELU``, ``Softmax``, ``PReLU``,
``GLU``, …) and ``Input`` (an input of a torch-style model, time-major if asked).

None of them has weights except ``PReLU`` (``weight (num_parameters,)``); all keep the
input shape except ``Flatten``, ``Unflatten`` and ``GLU``.
"""

from __future__ import annotations

import sympy

from ..dims import divisible, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import InputLayer, Layer, Requirement, Weight
from ..saved import Saved
from .common import TorchLayer, batch_axis, elements, equal, probability, saved_input, saved_output, size


def Input(shape=None, batch_first=True, name=None) -> InputLayer:
    """The input of a torch-style model, ``shape`` without the batch axis.

    ``Input((3, H, W))`` is ``(None, 3, H, W)``. ``Input((L, E), batch_first=False)`` is the
    time-major ``(L, None, E)`` that ``LSTM``/``MultiheadAttention``/``Transformer*`` take
    with their default ``batch_first=False``: the batch axis sits where torch has it.
    """
    if batch_first:
        return InputLayer(shape=shape, name=name)
    return TimeMajorInput(shape=shape, name=name)


class TimeMajorInput(InputLayer):
    """An input whose batch axis is second: ``shape=(L, *features)`` gives ``(L, None,
    *features)`` — token indices ``(L,)`` give ``(L, None)``. Made by
    ``Input(shape, batch_first=False)``."""

    @property
    def type_name(self) -> str:
        return "InputLayer"

    @property
    def batch_shape(self):
        return (self.shape[0], None, *self.shape[1:])


def normalize_dim(dim, rank: int, what: str = "dim") -> int:
    """torch's ``maybe_wrap_dim``: ``-rank <= dim < rank``, negative dims counted from the end."""
    if not -rank <= dim < rank:
        raise ShapeError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim}). "
            f"Received: {what}={dim} for an input of rank {rank}"
        )
    return dim % rank


def _int_arg(value, what: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{owner}: {what} must be an integer. Received: {what}={value!r}")
    return value


class Identity(Layer):
    """torch ``nn.Identity()``: the input unchanged. (torch also accepts and ignores any
    arguments; symcount takes none, so that a layer's configuration rebuilds it.)"""

    view = True

    def __init__(self, name=None):
        super().__init__(name)

    def saved(self, shape):
        return ()


class _Dropout(TorchLayer):
    """torch ``nn.{cls}(p=0.5, inplace=False)``: zeroes elements with probability ``p``
    in training; no weights, same shape. torch rejects ``p`` outside ``[0, 1]``."""

    #: the input ranks (batch included) torch accepts; None for any
    ranks: tuple | None = None

    def __init__(self, p=0.5, inplace=False, name=None):
        super().__init__(name)
        self.p = probability(p, f"{type(self).__name__}: dropout")
        self.inplace = bool(inplace)
        self.view = self.inplace or self.p == 0  # p = 0: torch returns the input itself

    def saved(self, shape):
        """Training: the mask. ``aten::native_dropout`` keeps a 1-byte bool on CUDA and the
        activation's dtype on the CPU (kind ``mask``); in place (``inplace=True``) torch
        multiplies by a noise tensor of the activation's dtype on both. Nothing when
        ``p = 0`` (torch skips the op); ``p = 1`` multiplies by a 0-d zero, once per batch."""
        if self.p == 0:
            return ()
        if self.p == 1:
            return (Saved("zero", 1, per_batch=True),)
        return (self._mask(shape),)

    def _mask(self, shape):
        return Saved("mask", elements(shape), "activation" if self.inplace else "mask")

    def requirements(self, shape):
        if self.ranks is not None and len(shape) not in self.ranks:
            raise ShapeError(
                f"{type(self).__name__}: Expected {' or '.join(f'{r}D' for r in self.ranks)} input "
                f"(batched). Received: input shape={size_text(shape)}"
            )
        return ()


class Dropout(_Dropout):
    __doc__ = _Dropout.__doc__.replace("{cls}", "Dropout")


class _FeatureDropout(_Dropout):
    """The dropouts of whole channels (``Dropout1d/2d/3d``)."""

    def _mask(self, shape):
        """Noise of one element per channel (``C``) in the activation's dtype
        (``aten::feature_dropout``'s ``_dropout_impl``)."""
        return Saved("mask", shape[1])


class Dropout1d(_FeatureDropout):
    __doc__ = _Dropout.__doc__.replace("{cls}", "Dropout1d") + " Input ``(N, C, L)``."
    ranks = (3,)


class Dropout2d(_FeatureDropout):
    __doc__ = _Dropout.__doc__.replace("{cls}", "Dropout2d") + " Input ``(N, C, H, W)``."
    ranks = (4,)


class Dropout3d(_FeatureDropout):
    __doc__ = _Dropout.__doc__.replace("{cls}", "Dropout3d") + " Input ``(N, C, D, H, W)``."
    ranks = (5,)


class AlphaDropout(_Dropout):
    __doc__ = _Dropout.__doc__.replace("{cls}", "AlphaDropout")

    def _mask(self, shape):
        """Noise of the input's size in the activation's dtype (``aten::alpha_dropout``'s
        ``_dropout_impl``)."""
        return Saved("mask", elements(shape))


class Flatten(Layer):
    """torch ``nn.Flatten(start_dim=1, end_dim=-1)``: axes ``start_dim … end_dim`` become one
    of size their product; no weights. ``(None, C, H, W)`` → ``(None, C·H·W)``.

    The batch axis cannot be flattened into others (its size is unknown). A view: saves nothing.
    """

    view = True

    def saved(self, shape):
        return ()

    def __init__(self, start_dim=1, end_dim=-1, name=None):
        super().__init__(name)
        self.start_dim = _int_arg(start_dim, "start_dim", "Flatten")
        self.end_dim = _int_arg(end_dim, "end_dim", "Flatten")

    def _axes(self, shape):
        start = normalize_dim(self.start_dim, len(shape), "start_dim")
        end = normalize_dim(self.end_dim, len(shape), "end_dim")
        if start > end:
            raise ShapeError(
                f"flatten() has invalid args: start_dim cannot come after end_dim. "
                f"Received: start_dim={self.start_dim}, end_dim={self.end_dim}, input shape={size_text(shape)}"
            )
        if start < end and start <= batch_axis(shape) <= end and shape[batch_axis(shape)] is None:
            raise ShapeError(
                f"Flatten would merge the batch axis (position {batch_axis(shape)}) with others. "
                f"Received: start_dim={self.start_dim}, end_dim={self.end_dim}, input shape={size_text(shape)}"
            )
        return start, end

    def requirements(self, shape):
        self._axes(shape)
        return ()

    def output_shape(self, shape):
        start, end = self._axes(shape)
        if start == end:
            return tuple(shape)
        return (*shape[:start], product(shape[start:end + 1]), *shape[end + 1:])


class Unflatten(Layer):
    """torch ``nn.Unflatten(dim, unflattened_size)``: axis ``dim`` becomes the axes
    ``unflattened_size`` (one entry may be ``-1``, inferred). No weights.

    Their product must equal the axis's size (with ``-1``: divide it).
    """

    view = True

    def saved(self, shape):
        """A view: saves nothing."""
        return ()

    def __init__(self, dim, unflattened_size, name=None):
        super().__init__(name)
        self.dim = _int_arg(dim, "dim", "Unflatten")
        if not isinstance(unflattened_size, (list, tuple)):
            raise ArgumentError(
                f"Unflatten: unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        if sum(1 for s in unflattened_size if s == -1 and isinstance(s, int)) > 1:
            raise ArgumentError(f"Unflatten: only one dimension can be inferred. Received: {unflattened_size}")
        self.unflattened_size = tuple(
            -1 if isinstance(s, int) and not isinstance(s, bool) and s == -1
            else size(s, "Unflatten unflattened_size") for s in unflattened_size)
        if not self.unflattened_size:
            raise ArgumentError("Unflatten: unflattened_size must not be empty")

    def _known(self):
        return product(s for s in self.unflattened_size if s != -1)

    def requirements(self, shape):
        axis = normalize_dim(self.dim, len(shape))
        if shape[axis] is None:
            raise ShapeError(f"Unflatten cannot split the batch axis. Received: dim={self.dim}, "
                             f"input shape={size_text(shape)}")
        what = f"unflattened_size {self.unflattened_size} must multiply to the size of axis {self.dim} ({shape[axis]})"
        if -1 in self.unflattened_size:
            yield Requirement(divisible(shape[axis], self._known()), what.replace("multiply to", "divide"))
        else:
            yield equal(self._known(), shape[axis], what)

    def output_shape(self, shape):
        axis = normalize_dim(self.dim, len(shape))
        inferred = shape[axis] / self._known()
        new = tuple(inferred if s == -1 else s for s in self.unflattened_size)
        return (*shape[:axis], *new, *shape[axis + 1:])


# ---------------------------------------------------------------------------
# Activations: no weights, the input shape (PReLU has weights, GLU halves an axis)
# ---------------------------------------------------------------------------


class _Activation(TorchLayer):
    """An elementwise activation: no weights, same shape, no multiply-accumulates counted.

    Saved for backward, as autograd's formula for the op (``derivatives.yaml``) asks and as
    ``saved_tensors_hooks`` sees it: ``saves`` names what the out-of-place op keeps —
    ``"output"`` (ReLU's ``threshold_backward``, sigmoid, tanh, softmax), ``"input"`` (GELU,
    SiLU, ReLU6 as ``hardtanh``…), ``"input+buffer"`` (the input and a tensor of its size
    made inside: softsign's ``1 + |x|``, log-sigmoid's ``buffer``) or ``"internal"`` (only
    a tensor made inside: tanhshrink's ``tanh(x)``). In place (``inplace=True``, a view of
    the input) ``inplace_saves`` says what is kept instead: ``"output"`` (the result: ReLU,
    LeakyReLU, ELU, CELU, SELU) or ``"copy"`` (autograd clones the input before
    overwriting it: ReLU6, Hardtanh, SiLU, Mish, Hardsigmoid, Hardswish, Threshold)."""

    saves = "input"
    inplace_saves = "copy"

    def _inplace(self, inplace):
        self.inplace = bool(inplace)
        self.view = self.inplace

    def saved(self, shape):
        if self.view:
            if self.inplace_saves == "output":
                return (saved_output(shape),)
            return (Saved("input copy", elements(shape)),)
        if self.saves == "output":
            return (saved_output(shape),)
        if self.saves == "internal":
            return (Saved(self.internal, elements(shape)),)
        if self.saves == "input+buffer":
            return (saved_input(shape), Saved(self.internal, elements(shape)))
        return (saved_input(shape),)


class ReLU(_Activation):
    """torch ``nn.ReLU(inplace=False)``: ``max(0, x)``. No weights, same shape. Saves its
    output; ``inplace=True`` writes it over the input (one tensor)."""

    saves = "output"
    inplace_saves = "output"

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class ReLU6(_Activation):
    """torch ``nn.ReLU6(inplace=False)``: ``min(max(0, x), 6)``. No weights, same shape."""

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class LeakyReLU(_Activation):
    """torch ``nn.LeakyReLU(negative_slope=0.01, inplace=False)``: ``max(0, x) + negative_slope·min(0, x)``.
    No weights, same shape."""

    inplace_saves = "output"

    def __init__(self, negative_slope=0.01, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class ELU(_Activation):
    """torch ``nn.ELU(alpha=1.0, inplace=False)``: exponential linear unit. No weights, same shape."""

    inplace_saves = "output"

    def __init__(self, alpha=1.0, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class CELU(_Activation):
    """torch ``nn.CELU(alpha=1.0, inplace=False)``: continuously differentiable ELU. No weights, same shape."""

    inplace_saves = "output"

    def __init__(self, alpha=1.0, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class SELU(_Activation):
    """torch ``nn.SELU(inplace=False)``: scaled ELU. No weights, same shape."""

    inplace_saves = "output"

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class SiLU(_Activation):
    """torch ``nn.SiLU(inplace=False)``: ``x·sigmoid(x)``. No weights, same shape."""

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class Mish(_Activation):
    """torch ``nn.Mish(inplace=False)``: ``x·tanh(softplus(x))``. No weights, same shape."""

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class Sigmoid(_Activation):
    """torch ``nn.Sigmoid()``: logistic sigmoid. No weights, same shape."""

    saves = "output"

    def __init__(self, name=None):
        super().__init__(name)


class Tanh(_Activation):
    """torch ``nn.Tanh()``: hyperbolic tangent. No weights, same shape."""

    saves = "output"

    def __init__(self, name=None):
        super().__init__(name)


class Softsign(_Activation):
    """torch ``nn.Softsign()``: ``x / (1 + |x|)``. No weights, same shape."""

    saves, internal = "input+buffer", "1 + |x|"

    def __init__(self, name=None):
        super().__init__(name)


class Tanhshrink(_Activation):
    """torch ``nn.Tanhshrink()``: ``x - tanh(x)``. No weights, same shape."""

    saves, internal = "internal", "tanh(x)"

    def __init__(self, name=None):
        super().__init__(name)


class LogSigmoid(_Activation):
    """torch ``nn.LogSigmoid()``: ``log(sigmoid(x))``. No weights, same shape."""

    saves, internal = "input+buffer", "buffer"

    def __init__(self, name=None):
        super().__init__(name)


class Hardsigmoid(_Activation):
    """torch ``nn.Hardsigmoid(inplace=False)``: piecewise-linear sigmoid. No weights, same shape."""

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class Hardswish(_Activation):
    """torch ``nn.Hardswish(inplace=False)``: ``x·hardsigmoid(x)``. No weights, same shape."""

    def __init__(self, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class Softplus(_Activation):
    """torch ``nn.Softplus(beta=1.0, threshold=20.0)``: ``log(1 + exp(beta·x)) / beta``. No weights, same shape."""

    def __init__(self, beta=1.0, threshold=20.0, name=None):
        super().__init__(name)


class Hardshrink(_Activation):
    """torch ``nn.Hardshrink(lambd=0.5)``: ``x`` where ``|x| > lambd``, else 0. No weights, same shape."""

    def __init__(self, lambd=0.5, name=None):
        super().__init__(name)


class Threshold(_Activation):
    """torch ``nn.Threshold(threshold, value, inplace=False)``: ``x`` if ``x > threshold`` else ``value``.
    No weights, same shape."""

    def __init__(self, threshold, value, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)


class Hardtanh(_Activation):
    """torch ``nn.Hardtanh(min_val=-1.0, max_val=1.0, inplace=False)``: ``x`` clamped to
    ``[min_val, max_val]``; torch requires ``max_val > min_val``. No weights, same shape."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, name=None):
        super().__init__(name)
        self._inplace(inplace)
        if max_val <= min_val:
            raise ArgumentError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")


class Softshrink(_Activation):
    """torch ``nn.Softshrink(lambd=0.5)``: ``x - lambd·sign(x)`` where ``|x| > lambd``, else 0;
    torch requires ``lambd >= 0``. No weights, same shape."""

    def __init__(self, lambd=0.5, name=None):
        super().__init__(name)
        if lambd < 0:
            raise ArgumentError(f"Softshrink: lambda must be greater or equal to 0, but found to be {lambd}")


class GELU(_Activation):
    """torch ``nn.GELU(approximate='none')``: Gaussian error linear unit, ``approximate``
    ``'none'`` or ``'tanh'``. No weights, same shape."""

    def __init__(self, approximate="none", name=None):
        super().__init__(name)
        if approximate not in ("none", "tanh"):
            raise ArgumentError(
                f"GELU: approximate argument must be either none or tanh. Received: approximate={approximate!r}"
            )


class _SoftmaxLike(_Activation):
    """torch ``nn.{cls}(dim=None)``: normalizes along ``dim``. No weights, same shape.
    ``dim`` must lie in the input's range (``dim=None`` is torch's legacy choice: 0 for
    ranks 0, 1 and 3, else 1)."""

    saves = "output"

    def __init__(self, dim=None, name=None):
        super().__init__(name)
        self.dim = None if dim is None else _int_arg(dim, "dim", type(self).__name__)

    def requirements(self, shape):
        if self.dim is not None:
            normalize_dim(self.dim, len(shape))
        return ()


class Softmax(_SoftmaxLike):
    __doc__ = _SoftmaxLike.__doc__.replace("{cls}", "Softmax")


class LogSoftmax(_SoftmaxLike):
    __doc__ = _SoftmaxLike.__doc__.replace("{cls}", "LogSoftmax")


class Softmin(_SoftmaxLike):
    __doc__ = _SoftmaxLike.__doc__.replace("{cls}", "Softmin")


class Softmax2d(_Activation):
    """torch ``nn.Softmax2d()``: softmax over channels of ``(N, C, H, W)``. No weights, same shape."""

    saves = "output"

    def __init__(self, name=None):
        super().__init__(name)

    def requirements(self, shape):
        if len(shape) != 4:
            raise ShapeError(f"Softmax2d: expected input to be 3D or 4D (4D when batched), got {len(shape)}D "
                             f"instead. Received: input shape={size_text(shape)}")
        return ()


class GLU(Layer):
    """torch ``nn.GLU(dim=-1)``: ``a ⊗ sigmoid(b)`` with ``a, b`` the halves of axis ``dim``.
    No weights; axis ``dim`` is halved and must be even."""

    def saved(self, shape):
        """Training (``aten::glu``): the input."""
        return (saved_input(shape),)

    def __init__(self, dim=-1, name=None):
        super().__init__(name)
        self.dim = _int_arg(dim, "dim", "GLU")

    def requirements(self, shape):
        axis = normalize_dim(self.dim, len(shape))
        if shape[axis] is None:
            raise ShapeError(
                f"GLU cannot halve the batch axis. Received: dim={self.dim}, input shape={size_text(shape)}")
        yield Requirement(divisible(shape[axis], 2),
                          f"Halving dimension must be even, but dimension {axis} is size {shape[axis]}")

    def output_shape(self, shape):
        axis = normalize_dim(self.dim, len(shape))
        return (*shape[:axis], shape[axis] / 2, *shape[axis + 1:])


class PReLU(Layer):
    """torch ``nn.PReLU(num_parameters=1, init=0.25)``: ``max(0, x) + weight·min(0, x)``.

    Weights: ``weight (num_parameters,)``. Same shape. ``num_parameters`` must be 1 or the
    number of channels (axis 1 of the input).
    """

    def saved(self, shape):
        """Training (``aten::_prelu_kernel``): the input."""
        return (saved_input(shape),)

    def __init__(self, num_parameters=1, init=0.25, name=None):
        super().__init__(name)
        self.num_parameters = size(num_parameters, "PReLU num_parameters")
        self.init = init

    def requirements(self, shape):
        if self.num_parameters == 1:
            return
        if len(shape) < 2:
            raise ShapeError(f"PReLU with num_parameters={self.num_parameters} needs a channel axis. "
                             f"Received: input shape={size_text(shape)}")
        yield Requirement(sympy.Or(sympy.Eq(self.num_parameters, 1), sympy.Eq(self.num_parameters, shape[1])),
                          f"Mismatch of parameter numbers and input channel size: num_parameters "
                          f"({self.num_parameters}) must be 1 or the channels (axis 1)")

    def weights(self, shape):
        yield Weight("weight", (self.num_parameters,))
