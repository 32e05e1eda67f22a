"""torch ``Linear`` and ``Bilinear``: affine maps on the last axis."""

from __future__ import annotations

from ..dims import size_text
from ..errors import ShapeError
from ..derivation import Notation
from ..layer import Layer, Weight
from .common import equal, positions, saved_input, size


class Linear(Layer):
    """torch ``nn.Linear(in_features, out_features, bias=True)``: ``y = x Wᵀ + b`` on the last axis.

    Weights: ``weight (out_features, in_features)``, ``bias (out_features,)`` when ``bias``.
    Output: the input shape ``(*, in_features)`` with its last axis ``out_features``.
    MACs: ``in_features · out_features`` per position (every axis but batch and last).
    Saved for backward: the input (``aten::addmm``/``mm`` keeps it for the weight's gradient).
    """

    notation = Notation({"in_features": "n_in", "out_features": "n_out"}, inputs=("n_in",), outputs=("n_out",))

    def __init__(self, in_features, out_features, bias=True, name=None):
        super().__init__(name)
        self.in_features = size(in_features, "Linear in_features")
        self.out_features = size(out_features, "Linear out_features")
        self.bias = bool(bias)

    def requirements(self, shape):
        self.expect_min_rank(shape, 2)
        yield equal(shape[-1], self.in_features,
                    f"the input's last axis must equal in_features ({self.in_features})")

    def weights(self, shape):
        yield Weight("weight", (self.out_features, self.in_features))
        if self.bias:
            yield Weight("bias", (self.out_features,))

    def output_shape(self, shape):
        return (*shape[:-1], self.out_features)

    def macs(self, shape):
        return positions(shape) * self.in_features * self.out_features

    def saved(self, shape):
        return (saved_input(shape),)


class Bilinear(Layer):
    """torch ``nn.Bilinear(in1_features, in2_features, out_features, bias=True)``:
    ``y_k = x1ᵀ W_k x2 + b_k`` for two inputs ``(*, in1_features)`` and ``(*, in2_features)``
    with the same leading axes.

    Weights: ``weight (out_features, in1_features, in2_features)``, ``bias (out_features,)``.
    Output: ``(*, out_features)``. MACs: ``in1_features · in2_features · out_features`` per
    position (the bilinear form; torch's FlopCounterMode does not count ``bilinear``).
    Called on a list of two tensors: ``Bilinear(4, 5, 6)([x1, x2])``.
    """

    n_inputs = 2

    def __init__(self, in1_features, in2_features, out_features, bias=True, name=None):
        super().__init__(name)
        self.in1_features = size(in1_features, "Bilinear in1_features")
        self.in2_features = size(in2_features, "Bilinear in2_features")
        self.out_features = size(out_features, "Bilinear out_features")
        self.bias = bool(bias)

    def _pair(self, shape):
        if len(shape) != 2 or not all(isinstance(s, tuple) for s in shape):
            raise ShapeError(f"Bilinear takes two inputs (input1, input2). Received: input shape={size_text(shape)}")
        return shape

    def requirements(self, shape):
        first, second = self._pair(shape)
        self.expect_min_rank(first, 2)
        if len(first) != len(second):
            raise ShapeError(f"bilinear(): input batch dimensions do not match: got {size_text(first[:-1])} "
                             f"and {size_text(second[:-1])}")
        for a, b in zip(first[:-1], second[:-1]):
            if (a is None) != (b is None):
                raise ShapeError(f"bilinear(): input batch dimensions do not match: got {size_text(first[:-1])} "
                                 f"and {size_text(second[:-1])}")
            if a is not None:
                yield equal(a, b, f"bilinear(): input batch dimensions must match ({a} and {b})")
        yield equal(first[-1], self.in1_features,
                    f"input1's last axis must equal in1_features ({self.in1_features})")
        yield equal(second[-1], self.in2_features,
                    f"input2's last axis must equal in2_features ({self.in2_features})")

    def weights(self, shape):
        yield Weight("weight", (self.out_features, self.in1_features, self.in2_features))
        if self.bias:
            yield Weight("bias", (self.out_features,))

    def output_shape(self, shape):
        first, _ = self._pair(shape)
        return (*first[:-1], self.out_features)

    def saved(self, shape):
        """Training (``aten::_trilinear``): both inputs."""
        return (saved_input(shape, 0), saved_input(shape, 1))

    def macs(self, shape):
        first, _ = self._pair(shape)
        return positions(first) * self.in1_features * self.in2_features * self.out_features


__all__ = ["Bilinear", "Linear"]
