"""Layers that ``keras.applications`` defines for its models (not in ``keras.layers``):
``LayerScale`` (ConvNeXt), ``StochasticDepth`` (ConvNeXt), ``CustomScaleLayer``
(InceptionResNetV2). Their rules follow their code in ``keras/src/applications``.
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from ..layer import Layer, Weight
from ..saved import Saved, saved_input
from .merging import ElementwiseMerge


class LayerScale(Layer):
    """Keras's ConvNeXt ``LayerScale(init_values, projection_dim)``: ``x * gamma``, one learned
    scale per channel. Weight (Keras ``build``): ``gamma`` of shape ``(projection_dim,)``,
    trainable. Output: the input shape."""

    def __init__(self, init_values, projection_dim, name=None):
        super().__init__(name)
        if isinstance(projection_dim, bool) or not (isinstance(projection_dim, int) and projection_dim > 0
                                                     or isinstance(projection_dim, sympy.Expr)):
            raise ArgumentError(f"LayerScale: projection_dim must be a positive integer. "
                                f"Received: projection_dim={projection_dim!r}")
        self.init_values = init_values
        self.projection_dim = projection_dim

    def weights(self, shape):
        yield Weight("gamma", (self.projection_dim,))

    def saved(self, shape):
        """Training: the input (``gamma``'s gradient)."""
        return (saved_input(shape),)


class StochasticDepth(Layer):
    """Keras's ConvNeXt ``StochasticDepth(drop_path_rate)``: drops a residual branch per sample
    during training. No weights; output: the input shape."""

    def __init__(self, drop_path_rate=0.0, name=None):
        super().__init__(name)
        self.drop_path_rate = drop_path_rate

    def saved(self, shape):
        """Training: the per-sample keep mask ``floor(keep_prob + uniform)``, one element per
        example in the activation's dtype (drawn whatever the rate, even 0)."""
        return (Saved("keep mask", 1),)


class CustomScaleLayer(ElementwiseMerge):
    """Keras's InceptionResNetV2 ``CustomScaleLayer(scale)``: ``inputs[0] + inputs[1] * scale``
    on two tensors of one shape. No weights (``scale`` is a constant)."""

    min_inputs = max_inputs = 2

    def __init__(self, scale, name=None):
        super().__init__(name)
        self.scale = scale
