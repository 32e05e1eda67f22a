"""What a torch ``forward`` does with tensors outside any module: ``x + y`` and
``torch.cat``. No weights and no products (FlopCounterMode counts neither), so they
exist to join the branches of a functional model:

    x = Input((64, H, W))
    y = Add()([x, Conv2d(64, 64, 3, padding=1, bias=False)(x)])     # out += identity
    z = Cat(dim=1)([x, y])                                          # torch.cat([x, y], 1)

Sizes are checked three-valued: sizes that provably differ are an error quoting both
shapes (torch's own wording), sizes equal only for some values of the dims become a
validity condition.
"""

from __future__ import annotations

import sympy

from ..dims import decided, size_text
from ..errors import ArgumentError, ShapeError
from ..layer import Layer, Requirement
from .core import normalize_dim


def _tensors(layer, shapes) -> None:
    if not isinstance(shapes, tuple) or not shapes or not all(isinstance(s, tuple) for s in shapes):
        raise ShapeError(f"{layer.type_name} takes a list of tensors. Received: input shape={shapes}")


def _shapes_text(shapes) -> str:
    return ", ".join(size_text(s) for s in shapes)


class Add(Layer):
    """``x + y + …`` (``torch.add``; torchvision's ``out += identity``) on a list of
    tensors, with torch's broadcasting: shapes align from the right, a size of 1 (or
    a missing axis) broadcasts, other sizes must be equal; batch axes (``None``) must
    line up. No weights, no MACs.
    """

    n_inputs = None  # a list of tensors

    def __init__(self, name=None):
        super().__init__(name)

    def _broadcast(self, shapes):
        """The broadcast shape and the equalities it needs that are not yet decided."""
        rank = max(len(s) for s in shapes)
        padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
        out, needs = [], []
        for axis in range(rank):
            sizes = [s[axis] for s in padded]
            if any(n is None for n in sizes):  # the batch axis: only with batch axes (or a missing axis)
                if any(n is not None and rank - axis <= len(s) for n, s in zip(sizes, shapes)):
                    raise ShapeError(f"Add: the batch axes of the tensors must line up. Received: input shapes "
                                     f"{_shapes_text(shapes)}")
                out.append(None)
                continue
            kept = [n for n in sizes if n != 1]
            size = kept[0] if kept else sympy.Integer(1)
            for i, n in enumerate(sizes):
                if n == 1 or n == size:
                    continue
                verdict = decided(sympy.Eq(size, n))
                if verdict is False:
                    raise ShapeError(
                        f"The size of tensor a ({size}) must match the size of tensor b ({n}) at non-singleton "
                        f"dimension {axis}. Received: input shapes {_shapes_text(shapes)}")
                if verdict is None:
                    needs.append(sympy.Eq(size, n))
            out.append(size)
        return tuple(out), needs

    def requirements(self, shapes):
        _tensors(self, shapes)
        for need in self._broadcast(shapes)[1]:
            yield Requirement(need, "Add: the sizes of the tensors must match (or be 1)")

    def saved(self, shapes):
        """Training: nothing (the gradient of a sum or a concatenation needs no tensor)."""
        return ()

    def output_shape(self, shapes):
        return self._broadcast(shapes)[0]


class Cat(Layer):
    """``torch.cat(tensors, dim=0)``: tensors of one rank joined along ``dim``, whose sizes
    add up; every other size must be equal. No weights, no MACs. The channels of a
    channels-first image are ``dim=1`` (DenseNet's and SqueezeNet's concatenations).
    """

    n_inputs = None  # a list of tensors

    def __init__(self, dim=0, name=None):
        super().__init__(name)
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise ArgumentError(f"Cat: dim must be an integer. Received: dim={dim!r}")
        self.dim = dim

    def _joined(self, shapes):
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ShapeError(f"Tensors must have same number of dimensions. Received: input shapes "
                             f"{_shapes_text(shapes)}")
        axis, needs = normalize_dim(self.dim, rank), []
        for number, other in enumerate(shapes[1:], start=1):
            for k in range(rank):
                if k == axis or shapes[0][k] is None or other[k] is None:
                    continue
                verdict = decided(sympy.Eq(shapes[0][k], other[k]))
                if verdict is False:
                    raise ShapeError(
                        f"Sizes of tensors must match except in dimension {axis}. Expected size {shapes[0][k]} "
                        f"but got size {other[k]} for tensor number {number} in the list. Received: input "
                        f"shapes {_shapes_text(shapes)}")
                if verdict is None:
                    needs.append(sympy.Eq(shapes[0][k], other[k]))
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sympy.Add(*sizes)
        return tuple(out), needs

    def requirements(self, shapes):
        _tensors(self, shapes)
        for need in self._joined(shapes)[1]:
            yield Requirement(need, f"Cat: the sizes of the tensors must match except in dimension {self.dim}")

    def saved(self, shapes):
        """Training: nothing (the gradient of a sum or a concatenation needs no tensor)."""
        return ()

    def output_shape(self, shapes):
        return self._joined(shapes)[0]
