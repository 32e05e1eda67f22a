"""What both importers share: layers standing for what symcount cannot model, and a
model of layers recorded one by one.

- :class:`Opaque` — a module or layer symcount does not know: its own weights, given as
  numbers, and the output shape it was seen to produce (or its input's). Never run.
- :class:`Frozen` — a layer whose weights are not trainable (Keras ``trainable: false``).
- :class:`Function` — a weightless step of a ``forward`` (``torch.relu(x)``, ``x * 2``):
  same shape as its first input, no products.
- :class:`Recorded` — an imported model whose layers were seen one by one (a forward
  pass on the meta device, or the module tree alone): each layer is built on the
  shape it received, in the order it ran, under its module path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import sympy

from ..dims import product
from ..graph import Emitter, ModelBase
from ..layer import Layer, Weight


class SymcountImportWarning(UserWarning):
    """Something of an imported model symcount keeps but cannot model exactly (an
    unknown module, a Lambda layer, an ambiguous dim)."""


def warn(message: str) -> None:
    warnings.warn(message, SymcountImportWarning, stacklevel=4)


@dataclass
class Uncounted:
    """What an import could not count: an operator or a layer without a rule, the module
    or layer path it ran under, how many calls."""

    op: str
    path: str
    calls: int
    why: str = "no rule for this operator"

    def __str__(self):
        return f"{self.op} in {self.path or '(the model)'} ({self.calls} call{'s' if self.calls != 1 else ''}; {self.why})"


class Opaque(Layer):
    """A layer symcount does not model: ``kind`` is its class name (shown as the layer's
    type), ``weights`` its own weights as ``(name, shape, trainable)``, counted as they
    are; ``output`` the output shape it was seen to produce (full, batch axis ``None``),
    or ``None`` for its input's shape. No products: its cost is unknown, not zero, and
    it is reported so when imported."""

    def __init__(self, kind, weights=(), output=None, inputs=1, name=None):
        super().__init__(name)
        self.kind = str(kind)
        self.declared = tuple((str(n), tuple(s), bool(t)) for n, s, t in weights)
        self.output = None if output is None else tuple(output)
        self.n_inputs = inputs

    @property
    def type_name(self) -> str:
        return self.kind

    def weights(self, shape):
        for weight_name, weight_shape, trainable in self.declared:
            yield Weight(weight_name, weight_shape, trainable=trainable)

    def output_shape(self, shape):
        if self.output is not None:
            return self.output
        return shape[0] if shape and isinstance(shape[0], tuple) else tuple(shape)

    @property
    def size(self):
        return sympy.Add(*(product(s) for _, s, _ in self.declared))


class Frozen(Layer):
    """``layer`` with every weight non-trainable (Keras ``layer.trainable = False``):
    the same shapes, products and requirements, its weights counted as non-trainable."""

    def __init__(self, layer, name=None):
        super().__init__(name if name is not None else layer.name)
        self.layer = layer
        self.n_inputs = layer.n_inputs

    @property
    def type_name(self) -> str:
        return self.layer.type_name

    def requirements(self, shape):
        return self.layer.requirements(shape)

    def weights(self, shape):
        for w in self.layer.weights(shape):
            yield replace(w, trainable=False)

    def output_shape(self, shape):
        return self.layer.output_shape(shape)

    def products(self, shape):
        return self.layer.products(shape)


class Function(Layer):
    """A weightless step of a ``forward`` outside any module (``torch.relu``, ``x * 0.5``,
    ``x.contiguous()``): the shape of its input, no weights, no products. ``function``
    names it (``relu``, ``mul``)."""

    def __init__(self, function, name=None):
        super().__init__(name)
        self.function = str(function)

    @property
    def type_name(self) -> str:
        return self.function



@dataclass(frozen=True)
class Call:
    """One recorded layer call: the layer, the (symbolic) shape it received, its block
    path, its multiplicity and whether its input needed a gradient."""

    layer: Layer
    shape: tuple
    path: tuple = ()
    repeat: sympy.Expr = sympy.Integer(1)
    grad: bool = True


class Recorded(ModelBase):
    """An imported model whose layers were recorded one by one rather than wired into a
    graph. Parameters are exact; shapes and MACs are those of the recorded calls
    (``exact`` says which: ``"shapes"`` when a forward pass was recorded, ``"parameters"``
    when only the module tree was read)."""

    def __init__(self, name: str, calls, exact: str = "shapes"):
        self.name = name
        self.calls = list(calls)
        self.ties: list = []
        self.exact = exact
        #: what the count carries from the import (:class:`~symcount.count.Count` fields)
        self.uncounted: tuple = ()
        self.exactness: tuple = ()
        self.active = None

    def count(self):
        emitter = Emitter(self.name)
        for call in self.calls:
            emitter.emit(call.layer, call.shape, call.path, call.repeat, call.grad)
        count = emitter.count(self.ties)
        if self.exact == "parameters":  # shapes were placeholders: no costs, no shapes to report
            layers = tuple(replace(r, products=(), conditions=(), input_shape=(), output_shape=())
                           for r in count.layers)
            count = replace(count, layers=layers)
        if self.uncounted or self.exactness or self.active is not None:
            count = replace(count, uncounted=tuple(self.uncounted), exactness=tuple(self.exactness),
                            active=self.active)
        return count

    def __repr__(self):
        return f"Recorded(name={self.name!r}, calls={len(self.calls)}, exact={self.exact!r})"
