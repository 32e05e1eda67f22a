"""Keras merging layers: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate``, ``Dot``. No weights; they take a list of tensors.

Shapes are checked three-valued: sizes that provably differ are an error naming both
shapes; sizes that are equal only for some values of the dims (``H`` and
``2*floor(H/2)``) become a validity condition ``Eq(H, 2*floor(H/2))``.
"""

from __future__ import annotations

import sympy

from ..dims import decided, product, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Product, Requirement
from ..saved import Saved, elements, saved_input


def _shapes_text(shapes) -> str:
    return ", ".join(size_text(s) for s in shapes)


def _same(a, b) -> bool | None:
    return decided(sympy.Eq(a, b))


class ElementwiseMerge(Layer):
    """Elementwise merge (Keras ``Merge._compute_elemwise_op_output_shape``): shapes
    align from the right, a size of 1 broadcasts, other sizes must be equal; the
    output has the longest rank."""

    n_inputs = None  # a list of tensors
    min_inputs = 1
    max_inputs = None

    def __init__(self, name=None):
        super().__init__(name)

    def _check_count(self, shapes):
        if not isinstance(shapes, tuple) or not shapes or not isinstance(shapes[0], tuple):
            raise ShapeError(f"A merge layer should be called on a list of inputs. Received: input_shape={shapes}")
        n = len(shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = self.min_inputs if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise ShapeError(f"{self.type_name} expects {want} inputs. Received {n} inputs: {_shapes_text(shapes)}")

    def _merged(self, shapes):
        """Output shape and the undecided equalities it needs."""
        out, needs = shapes[0][1:], []
        for shape in shapes[1:]:
            a, b = (out, shape[1:]) if len(out) >= len(shape[1:]) else (shape[1:], out)
            merged = list(a[: len(a) - len(b)])
            for i, j in zip(a[len(a) - len(b):], b):
                if i == 1 or j == 1:
                    merged.append(j if i == 1 else i)
                    continue
                verdict = _same(i, j)
                if verdict is False:
                    raise ShapeError(f"Inputs have incompatible shapes. Received shapes {_shapes_text(shapes)}")
                if verdict is None:
                    needs.append(sympy.Eq(i, j))
                merged.append(i)
            out = tuple(merged)
        return (shapes[0][0], *out), needs

    def requirements(self, shapes):
        self._check_count(shapes)
        for need in self._merged(shapes)[1]:
            yield Requirement(need, f"{self.type_name}: the inputs' sizes must be equal")

    def output_shape(self, shapes):
        return self._merged(shapes)[0]

    def saved(self, shapes):
        """Training: nothing (a sum, difference, mean or concatenation needs no tensor for
        its gradient)."""
        return ()


def _pairwise(layer, shapes):
    """A product, maximum or minimum of ``n`` tensors, folded pairwise: every input and
    the ``n − 2`` partial results (each of the output's size)."""
    out = elements(layer.output_shape(shapes))
    partial = (Saved("partial results", (len(shapes) - 2) * out),) if len(shapes) > 2 else ()
    return (*(saved_input(shapes, i) for i in range(len(shapes))), *partial)


class Add(ElementwiseMerge):
    """Keras ``Add()``: elementwise sum of a list of tensors."""


class Subtract(ElementwiseMerge):
    """Keras ``Subtract()``: the difference of exactly two tensors."""

    min_inputs = max_inputs = 2


class Multiply(ElementwiseMerge):
    """Keras ``Multiply()``: elementwise product."""

    def saved(self, shapes):
        return _pairwise(self, shapes)


class Average(ElementwiseMerge):
    """Keras ``Average()``: elementwise mean."""


class Maximum(ElementwiseMerge):
    """Keras ``Maximum()``: elementwise maximum."""

    def saved(self, shapes):
        return _pairwise(self, shapes)


class Minimum(ElementwiseMerge):
    """Keras ``Minimum()``: elementwise minimum."""

    def saved(self, shapes):
        return _pairwise(self, shapes)


class Concatenate(ElementwiseMerge):
    """Keras ``Concatenate(axis=-1)``: sizes along ``axis`` add up (along the batch
    axis too, ``None`` staying ``None``); every other size must be equal across inputs
    (all inputs of the same rank)."""

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ArgumentError(f"Concatenate: axis must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def _merged(self, shapes):
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ShapeError("A `Concatenate` layer requires inputs with matching shapes except for the "
                             f"concatenation axis. Received: input_shape={_shapes_text(shapes)}")
        if not -rank <= self.axis < rank:
            raise ShapeError(f"Concatenate: axis {self.axis} is out of range for inputs of rank {rank}")
        axis, needs = self.axis % rank, []
        for other in shapes[1:]:
            for k in range(1, rank):
                if k == axis:
                    continue
                verdict = _same(shapes[0][k], other[k])
                if verdict is False:
                    raise ShapeError("A `Concatenate` layer requires inputs with matching shapes except for the "
                                     f"concatenation axis. Received: input_shape={_shapes_text(shapes)}")
                if verdict is None:
                    needs.append(sympy.Eq(shapes[0][k], other[k]))
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sympy.Add(*sizes)  # axis 0: batches add up, as in Keras
        return tuple(out), needs


class Dot(ElementwiseMerge):
    """Keras ``Dot(axes, normalize=False)``: the dot product of two tensors along
    ``axes`` (an int or a pair), which must have equal sizes; the output concatenates
    the remaining axes of both (a rank-2 result gains an axis of 1, as in Keras)."""

    min_inputs = max_inputs = 2

    def __init__(self, axes, normalize=False, name=None):
        super().__init__(name)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ArgumentError(f"Dot: axes must be an integer or a pair of integers. Received: axes={axes!r}")
            self.axes = tuple(axes)
        elif isinstance(axes, int) and not isinstance(axes, bool):
            self.axes = (axes, axes)
        else:
            raise ArgumentError(f"Dot: axes must be an integer or a pair of integers. Received: axes={axes!r}")
        self.normalize = bool(normalize)

    def saved(self, shapes):
        """Training: both inputs (``matmul``); with ``normalize``, for each input also its
        L2-normalized copy, two statistics per row of the contracted axis and a 0-d
        constant once per batch."""
        if not self.normalize:
            return (saved_input(shapes, 0), saved_input(shapes, 1))
        out = []
        for index, (shape, axis) in enumerate(zip(shapes, self.axes)):
            n = elements(shape)
            out += [saved_input(shapes, index), Saved("normalized", n), Saved("norm statistics", 2 * n / shape[axis]),
                    Saved("epsilon", 1, per_batch=True)]
        return tuple(out)

    def _merged(self, shapes):
        a, b = shapes
        ax = [x % len(s) for x, s in zip(self.axes, (a, b))]
        if 0 in ax:
            raise ShapeError(f"Dot: cannot contract the batch axis. Received: axes={self.axes}")
        verdict = _same(a[ax[0]], b[ax[1]])
        if verdict is False:
            raise ShapeError(f"Incompatible input shapes: axis values {a[ax[0]]} (at axis {ax[0]}) != "
                             f"{b[ax[1]]} (at axis {ax[1]}). Full input shapes: {_shapes_text(shapes)}")
        needs = [] if verdict else [sympy.Eq(a[ax[0]], b[ax[1]])]
        rest = [s for i, s in enumerate(a) if i not in (0, ax[0])] + [s for i, s in enumerate(b) if i not in (0, ax[1])]
        out = (a[0], *rest) if rest else (a[0], 1)
        return out, needs

    def products(self, shape):
        """One product between activations: every output element sums the contracted
        axis, ``∏(output axes) · d`` multiply-accumulates (Keras's ``batch_dot``, a batched
        matmul that FlopCounterMode counts). ``normalize`` adds only elementwise work."""
        a, _ = shape
        out, _ = self._merged(shape)
        contracted = a[self.axes[0] % len(a)]
        return (Product(product(out[1:]) * contracted, "activation", label="batched dot product"),)
