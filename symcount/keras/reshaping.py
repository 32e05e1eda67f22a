"""Keras reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``,
``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``, ``UpSampling1D/2D/3D``. No weights."""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import as_expr, as_nonnegative_tuple, as_tuple, at_least, divisible, product
from ..errors import ArgumentError
from ..layer import Layer, Requirement
from .arguments import check_data_format


class Flatten(Layer):
    """Keras ``Flatten()``: ``(batch, d1, …, dn)`` → ``(batch, d1 · … · dn)``; a rank-1
    input becomes ``(batch, 1)`` (Keras ``Flatten.compute_output_shape``). No weights."""

    notation = Notation(inputs="d", outputs=("n_out",))

    view = True

    def saved(self, shape):
        """A view of the input (a reshape, a permutation or a slice): saves nothing."""
        return ()

    def __init__(self, data_format=None, name=None):
        super().__init__(name)
        self.data_format = data_format

    def output_shape(self, shape):
        return (shape[0], product(shape[1:]))


# ---------------------------------------------------------------------------
# Padding, cropping, up-sampling
# ---------------------------------------------------------------------------

_AXES = {1: "steps", 2: "H, W", 3: "D, H, W"}


def _pairs(value, rank: int, owner: str, what: str) -> tuple[tuple, ...]:
    """Keras's ``padding``/``cropping`` argument as ``rank`` pairs ``(before, after)``.

    Rank 1 (``ZeroPadding1D``, ``Cropping1D``): an int or a pair. Rank 2 and 3: an int
    (every side), or ``rank`` entries, each an int (both sides) or a pair.
    """
    if rank == 1:
        return (as_nonnegative_tuple(value, 2, f"{owner} {what}"),)
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise ArgumentError(f"{owner}: `{what}` should have {rank} elements. Received: {what}={value!r}")
        return tuple(as_nonnegative_tuple(v, 2, f"{owner} {what}[{i}]") for i, v in enumerate(value))
    return (as_nonnegative_tuple(value, 2, f"{owner} {what}"),) * rank


class _Spatial(Layer):
    """A layer on ``(batch, *spatial, C)`` with ``rank`` spatial axes (Keras
    ``InputSpec(ndim=rank + 2)``)."""

    rank: int

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, f"(batch, {_AXES[self.rank]}, channels)")
        return ()


class _ZeroPadding(_Spatial):
    """Keras ``ZeroPaddingND``: zeros added before and after each spatial axis."""

    def __init__(self, padding=1, data_format=None, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.padding = _pairs(padding, self.rank, owner, "padding")
        self.data_format = check_data_format(data_format, owner)

    def output_shape(self, shape):
        spatial = tuple(n + before + after for n, (before, after) in zip(shape[1:-1], self.padding))
        return (shape[0], *spatial, shape[-1])

    def saved(self, shape):
        """Training: nothing (padding, repeating and nearest or bilinear resizing keep no
        tensor for their gradient)."""
        return ()


class ZeroPadding1D(_ZeroPadding):
    """Keras ``ZeroPadding1D(padding=1, data_format=None)`` on ``(batch, steps, C)``:
    ``padding`` is an int or a pair ``(left, right)``. No weights. Output
    ``(batch, steps + left + right, C)``."""

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Keras ``ZeroPadding2D(padding=(1, 1), data_format=None)`` on ``(batch, H, W, C)``:
    ``padding`` is an int, or ``(h, w)`` with each an int or a pair ``(top, bottom)``,
    ``(left, right)``. No weights. Output ``(batch, H + top + bottom, W + left + right, C)``."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, name=None):
        super().__init__(padding, data_format, name)


class ZeroPadding3D(_ZeroPadding):
    """Keras ``ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1)), data_format=None)`` on
    ``(batch, D, H, W, C)``: ``padding`` is an int, or three entries, each an int or a
    pair ``(before, after)``. No weights. Each spatial size grows by its two paddings."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, name=None):
        super().__init__(padding, data_format, name)


class _Cropping(_Spatial):
    """Keras ``CroppingND``: positions removed before and after each spatial axis; each
    cropped size must stay at least 1."""

    view = True

    def saved(self, shape):
        """A view of the input (a reshape, a permutation or a slice): saves nothing."""
        return ()

    def __init__(self, cropping, data_format=None, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.cropping = _pairs(cropping, self.rank, owner, "cropping")
        self.data_format = check_data_format(data_format, owner)

    def requirements(self, shape):
        yield from super().requirements(shape)
        for axis, (n, (before, after)) in enumerate(zip(shape[1:-1], self.cropping), start=1):
            yield Requirement(at_least(n - before - after, 1),
                              f"Values in `cropping` argument should be smaller than the corresponding "
                              f"spatial dimension of the input (axis {axis})")

    def output_shape(self, shape):
        spatial = tuple(n - before - after for n, (before, after) in zip(shape[1:-1], self.cropping))
        return (shape[0], *spatial, shape[-1])


class Cropping1D(_Cropping):
    """Keras ``Cropping1D(cropping=(1, 1))`` on ``(batch, steps, C)``: ``cropping`` is an
    int or a pair ``(left, right)``. No weights. Output ``(batch, steps - left - right, C)``;
    Keras requires ``steps - left - right >= 1``."""

    rank = 1

    def __init__(self, cropping=(1, 1), name=None):
        super().__init__(cropping, None, name)


class Cropping2D(_Cropping):
    """Keras ``Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)`` on
    ``(batch, H, W, C)``: ``cropping`` is an int, or ``(h, w)`` with each an int or a pair
    ``(top, bottom)``, ``(left, right)``. No weights. Output
    ``(batch, H - top - bottom, W - left - right, C)``, each at least 1."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, name=None):
        super().__init__(cropping, data_format, name)


class Cropping3D(_Cropping):
    """Keras ``Cropping3D(cropping=((1, 1), (1, 1), (1, 1)), data_format=None)`` on
    ``(batch, D, H, W, C)``: ``cropping`` is an int, or three entries, each an int or a
    pair. No weights. Each spatial size shrinks by its two croppings and stays at least 1."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, name=None):
        super().__init__(cropping, data_format, name)


INTERPOLATIONS = ("bicubic", "bilinear", "lanczos3", "lanczos5", "nearest")


class _UpSampling(_Spatial):
    """Keras ``UpSamplingND``: each spatial size multiplied by its ``size``."""

    def output_shape(self, shape):
        return (shape[0], *(n * s for n, s in zip(shape[1:-1], self.size)), shape[-1])

    def saved(self, shape):
        """Training: nothing (padding, repeating and nearest or bilinear resizing keep no
        tensor for their gradient)."""
        return ()


class UpSampling1D(_UpSampling):
    """Keras ``UpSampling1D(size=2)`` on ``(batch, steps, C)``: each step repeated
    ``size`` times. No weights. Output ``(batch, size · steps, C)``."""

    rank = 1

    def __init__(self, size=2, name=None):
        super().__init__(name)
        self.size = (as_expr(size, "UpSampling1D size"),)


class UpSampling2D(_UpSampling):
    """Keras ``UpSampling2D(size=(2, 2), data_format=None, interpolation="nearest")`` on
    ``(batch, H, W, C)``. No weights. Output ``(batch, size_h · H, size_w · W, C)``."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", name=None):
        super().__init__(name)
        self.size = as_tuple(size, 2, "UpSampling2D size")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        if not isinstance(interpolation, str) or interpolation.lower() not in INTERPOLATIONS:
            raise ArgumentError(f"UpSampling2D: `interpolation` must be one of {', '.join(INTERPOLATIONS)}. "
                                f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation.lower()


class UpSampling3D(_UpSampling):
    """Keras ``UpSampling3D(size=(2, 2, 2), data_format=None)`` on ``(batch, D, H, W, C)``.
    No weights. Output ``(batch, size_d · D, size_h · H, size_w · W, C)``."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, name=None):
        super().__init__(name)
        self.size = as_tuple(size, 3, "UpSampling3D size")
        self.data_format = check_data_format(data_format, "UpSampling3D")


# ---------------------------------------------------------------------------
# Reshape, Permute, RepeatVector
# ---------------------------------------------------------------------------


class Reshape(Layer):
    """Keras ``Reshape(target_shape)``: ``(batch, d1, …, dn)`` → ``(batch, *target_shape)``.

    No weights. The total size must be unchanged: ``d1 · … · dn = prod(target_shape)``.
    At most one entry may be ``-1``; it becomes ``d1 · … · dn / prod(known entries)``,
    which must divide exactly (Keras ``compute_reshape_output_shape``).
    """

    view = True

    def saved(self, shape):
        """A view of the input (a reshape, a permutation or a slice): saves nothing."""
        return ()

    def __init__(self, target_shape, name=None):
        super().__init__(name)
        if not isinstance(target_shape, (list, tuple)):
            raise ArgumentError(f"Reshape: `target_shape` must be a tuple of sizes. Received: target_shape={target_shape!r}")
        if sum(1 for s in target_shape if _is_minus_one(s)) > 1:
            raise ArgumentError("Reshape: There must be at most one unknown dimension (-1) in `target_shape`. "
                                f"Received: target_shape={tuple(target_shape)}")
        self.target_shape = tuple(None if _is_minus_one(s) else as_expr(s, "Reshape target_shape")
                                  for s in target_shape)

    def _known(self):
        return product(s for s in self.target_shape if s is not None)

    def requirements(self, shape):
        size = product(shape[1:])
        if None in self.target_shape:
            yield Requirement(divisible(size, self._known()),
                              "The total size of the tensor must be unchanged: the input size must be divisible "
                              f"by the known entries of target_shape ({self._known()})")
        else:
            yield Requirement(sympy.Eq(size, self._known()),
                              "The total size of the tensor must be unchanged")

    def output_shape(self, shape):
        unknown = product(shape[1:]) / self._known()
        return (shape[0], *(unknown if s is None else s for s in self.target_shape))


def _is_minus_one(value) -> bool:
    return isinstance(value, (int, sympy.Integer)) and not isinstance(value, bool) and value == -1


class Permute(Layer):
    """Keras ``Permute(dims)``: reorders the non-batch axes; ``dims`` is a permutation
    of ``1 … n`` for an input of rank ``n + 1``. Output axis ``i`` is input axis
    ``dims[i - 1]``. No weights."""

    view = True

    def saved(self, shape):
        """A view of the input (a reshape, a permutation or a slice): saves nothing."""
        return ()

    def __init__(self, dims, name=None):
        super().__init__(name)
        if (not isinstance(dims, (list, tuple)) or any(isinstance(d, bool) or not isinstance(d, int) for d in dims)
                or sorted(dims) != list(range(1, len(dims) + 1))):
            raise ArgumentError("Permute: Invalid permutation argument `dims`. The set of indices in `dims` must be "
                                f"consecutive and start from 1. Received: dims={dims!r}")
        self.dims = tuple(dims)

    def requirements(self, shape):
        self.expect_rank(shape, len(self.dims) + 1, f"(batch + {len(self.dims)} axes, as dims={self.dims})")
        return ()

    def output_shape(self, shape):
        return (shape[0], *(shape[d] for d in self.dims))


class RepeatVector(Layer):
    """Keras ``RepeatVector(n)``: ``(batch, C)`` → ``(batch, n, C)``. No weights."""

    def __init__(self, n, name=None):
        super().__init__(name)
        self.n = as_expr(n, "RepeatVector n")

    def requirements(self, shape):
        self.expect_rank(shape, 2, "(batch, features)")
        return ()

    def output_shape(self, shape):
        return (shape[0], self.n, shape[-1])

    def saved(self, shape):
        """Training: nothing (padding, repeating and nearest or bilinear resizing keep no
        tensor for their gradient)."""
        return ()
