"""Real Keras models from symcount ones, for the oracle tests.

symcount's Keras-semantics layers keep Keras's class names and constructor arguments,
so a layer becomes ``getattr(keras.layers, layer.type_name)(**layer.config)`` once its
sizes are plain ints: dims are bound by name from ``values``, SymPy integers become
``int``. Nothing here knows about a particular layer.
"""

from __future__ import annotations

import sympy


def keras_value(value, values: dict):
    """A constructor argument as Keras takes it: dims bound from ``values`` (by name),
    SymPy integers as ``int``, lists and tuples converted element by element."""
    if isinstance(value, (list, tuple)):
        return type(value)(keras_value(v, values) for v in value)
    if isinstance(value, sympy.Basic):
        bound = value.xreplace({s: sympy.Integer(values[s.name]) for s in value.free_symbols})
        if not bound.is_Integer:
            raise ValueError(f"cannot give Keras the size {value} with values {values}")
        return int(bound)
    return value


def keras_layer(layer, values: dict | None = None):
    """The Keras layer of the same class, built from the symcount layer's arguments."""
    import keras

    config = {k: keras_value(v, values or {}) for k, v in layer.config.items()}
    return getattr(keras.layers, layer.type_name)(**config)


def keras_sequential(model, values: dict | None = None):
    """A ``keras.Sequential`` (uncompiled, built from its Input) of the same layers."""
    import keras

    return keras.Sequential([keras_layer(layer, values) for layer in model.layers], name=model.name)
