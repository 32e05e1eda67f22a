"""Composers: models built from layers, shapes flowing from the input.

``Sequential`` runs each layer on the previous layer's output shape, names layers
the way Keras 3 does (``conv2d``, ``conv2d_1``, …) and returns a :class:`Count`.
A layer object used twice is shared: its weights count once, as in Keras.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import sympy

from .count import Count
from .errors import ArgumentError, ShapeError
from .layer import InputLayer, Layer, build_record, snake_case


def model_dims(records) -> tuple[sympy.Symbol, ...]:
    """The dims a model's expressions use, in order of first appearance."""
    seen: dict = {}
    for record in records:
        exprs = [*record.input_shape, *record.output_shape]
        exprs += [s for w in record.weights for s in w.shape]
        for expr in exprs:
            if isinstance(expr, sympy.Basic):
                for sym in sorted(expr.free_symbols, key=lambda s: s.name):
                    seen.setdefault(sym, None)
    return tuple(seen)


class Namer:
    """Keras 3 automatic names: snake_case of the class, then ``_1``, ``_2``, …"""

    def __init__(self):
        self.counts: Counter = Counter()
        self.used: set[str] = set()

    def name(self, layer: Layer, context: str) -> str:
        if layer.name is not None:
            name = layer.name
        else:
            prefix = snake_case(layer.type_name)
            n = self.counts[prefix]
            self.counts[prefix] += 1
            name = prefix if n == 0 else f"{prefix}_{n}"
        if name in self.used:
            raise ArgumentError(
                f"{context}: all layers of a model must have unique names. Received a second layer named {name!r}"
            )
        self.used.add(name)
        return name


class Sequential:
    """A linear stack, as ``keras.Sequential``: ``Sequential([Input(shape), layer, …], name)``."""

    def __init__(self, layers=None, name: str | None = None):
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise ArgumentError(
                f"{self.name}: only symcount layers can be added to a Sequential model. "
                f"Received: {layer!r} ({type(layer).__name__}) at position {len(self.layers)}"
            )
        self.layers.append(layer)

    def count(self, input_shape=None) -> Count:
        """Build every layer on the shape it receives and collect the records.

        The input shape comes from a leading ``Input`` layer or, as for a torch
        ``nn.Sequential``, from ``input_shape`` (without the batch axis).
        """
        layers = self.layers
        if layers and isinstance(layers[0], InputLayer):
            if input_shape is not None:
                raise ShapeError(f"{self.name}: the model starts with an Input; do not pass input_shape as well")
            input_layer, layers = layers[0], layers[1:]
        elif input_shape is not None:
            input_layer = InputLayer(tuple(input_shape))
        else:
            raise ShapeError(
                f"{self.name}: a Sequential model needs an input shape: start it with Input(shape=...) "
                "or pass count(input_shape=...)"
            )
        shape = input_layer.batch_shape
        namer, records, names = Namer(), [], {}
        for position, layer in enumerate(layers, start=1):
            if isinstance(layer, InputLayer):
                raise ShapeError(f"{self.name}: Input may only be the first layer; found one at position {position}")
            shared = id(layer) in names
            if not shared:
                names[id(layer)] = namer.name(layer, self.name)
            record = build_record(layer, names[id(layer)], position, shape, self.name)
            records.append(replace(record, counted=False) if shared else record)
            shape = record.output_shape
        return Count(self.name, tuple(records), model_dims(records))

    def summary(self) -> str:
        return self.count().summary()

    def __repr__(self):
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"
