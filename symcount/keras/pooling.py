"""Keras pooling layers (channels-last): ``MaxPooling1D/2D/3D``,
``AveragePooling1D/2D/3D``, ``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D``.

One base per family, parametrised by ``rank`` (the number of spatial axes), as in
Keras's ``BasePooling`` and ``BaseGlobalPooling``. The window rule is
``dims.keras_pool_length`` (Keras ``compute_pooling_output_shape``).
"""

from __future__ import annotations

import sympy

from ..derivation import Notation
from ..dims import as_tuple, keras_pool_length, product
from ..errors import ArgumentError
from ..layer import Layer, ranked
from ..saved import Saved, elements, saved_input, saved_output
from .arguments import check_bool, check_data_format
from .conv import channels_first, same_padding_total


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


#: the 2-D pools' notation (``p_h``, ``s_h`` …)
_NOTATION_2D = Notation(
    {"pool_size": ("p_h", "p_w"), "strides": ("s_h", "s_w")},
    inputs=("H_in", "W_in", "C"), outputs=("H_out", "W_out", "C"), hidden_at_one=("strides",),
)


def _padded(pool, shape):
    """With ``same`` padding that is asymmetric on some axis (an odd total), Keras's torch
    backend pads the channels-first copy on every axis (``replicate``, which keeps the copy)
    and the pooling keeps the padded tensor; ``Piecewise`` when the parity is undecided."""
    if pool.padding != "same":
        return []
    spatial = shape[1:-1]
    totals = [same_padding_total(n, k, st) for n, k, st in zip(spatial, pool.pool_size, pool.strides)]
    odd = sympy.Or(*(sympy.Ne(sympy.Mod(t, 2), 0) for t in totals))
    if odd is sympy.false:
        return []
    padded = shape[-1] * product([n + t for n, t in zip(spatial, totals)])
    return [Saved("padded copy", padded if odd is sympy.true else sympy.Piecewise((padded, odd), (0, True)))]


def _doc(kind: str, rank: int, default=None) -> str:
    """``default=None``: ``pool_size`` is required, as in Keras's ``AveragePoolingND``."""
    axes = {1: "steps", 2: "H, W", 3: "D, H, W"}[rank]
    pool_size = "pool_size" if default is None else f"pool_size={default}"
    return (f"Keras ``{kind}Pooling{rank}D({pool_size}, strides=None, padding=\"valid\", "
            f"data_format=None)`` on ``(batch, {axes}, C)``.\n\n    "
            + _Pooling.__doc__.split("\n\n", 1)[1].strip())


class _MaxPooling(_Pooling):
    def saved(self, shape):
        """Training on Keras's torch backend: the channels-first copy of the input (and the
        padded one with asymmetric ``same``), and the int64 index of every output element's
        maximum (``max_pool{r}d_with_indices``)."""
        indices = Saved("indices", elements(self.output_shape(shape)), "int64")
        return (channels_first(shape), *_padded(self, shape), indices)

    """Keras ``MaxPoolingND``: ``pool_size`` defaults to 2 on every axis."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


class _AveragePooling(_Pooling):
    def saved(self, shape):
        """Training on Keras's torch backend: the channels-first copy of the input (and the
        padded one with asymmetric ``same``), which ``avg_pool{r}d`` keeps."""
        return (channels_first(shape), *_padded(self, shape))

    """Keras ``AveragePoolingND``: ``pool_size`` is required."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None):
        super().__init__(pool_size, strides, padding, data_format, name)


def _pooling(kind: str, rank: int, default=None):
    base = _MaxPooling if kind == "Max" else _AveragePooling
    extra = {"notation": _NOTATION_2D} if rank == 2 else {}
    return ranked(base, rank, f"{kind}Pooling{rank}D", __name__, _doc(kind, rank, default), **extra)


MaxPooling1D = _pooling("Max", 1, 2)
MaxPooling2D = _pooling("Max", 2, (2, 2))
MaxPooling3D = _pooling("Max", 3, (2, 2, 2))
AveragePooling1D = _pooling("Average", 1)
AveragePooling2D = _pooling("Average", 2)
AveragePooling3D = _pooling("Average", 3)


# ---------------------------------------------------------------------------
# Global pooling
# ---------------------------------------------------------------------------


class _GlobalPooling(Layer):
    """Keras ``BaseGlobalPooling``: ``Global{Max,Average}PoolingND(data_format=None,
    keepdims=False)`` on ``(batch, *spatial, C)`` (rank ``rank + 2`` exactly).

    No weights. Output ``(batch, C)``, or ``(batch, 1, …, 1, C)`` with ``keepdims``.
    """

    rank: int
    #: "Max" or "Average"
    kind: str = "Average"

    def __init__(self, data_format=None, keepdims=False, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.data_format = check_data_format(data_format, owner)
        self.keepdims = check_bool(keepdims, owner, "keepdims")

    def requirements(self, shape):
        self.expect_rank(shape, self.rank + 2, "(batch, " + ", ".join(["spatial"] * self.rank) + ", channels)")
        return ()

    def saved(self, shape):
        """Training: the max keeps its input and output (``amax``); the mean nothing."""
        if self.kind == "Max":
            return (saved_input(shape), saved_output(self.output_shape(shape)))
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


def _global(kind: str, rank: int):
    return ranked(_GlobalPooling, rank, f"Global{kind}Pooling{rank}D", __name__, _global_doc(kind, rank), kind=kind)


GlobalMaxPooling1D = _global("Max", 1)
GlobalMaxPooling2D = _global("Max", 2)
GlobalMaxPooling3D = _global("Max", 3)
GlobalAveragePooling1D = _global("Average", 1)
GlobalAveragePooling2D = _global("Average", 2)
GlobalAveragePooling3D = _global("Average", 3)
