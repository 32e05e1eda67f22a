"""Composers: models built from layers, shapes flowing from the inputs.

- ``Sequential([Input(shape), layer, …])``: a linear stack (Keras ``Sequential``; a
  torch-style stack passes ``count(input_shape=…)`` instead of an ``Input``).
- Functional graphs: ``x = Input(shape)``, ``y = Conv2D(…)(x)``, ``z = Add()([x, y])``,
  ``Model(inputs, outputs)`` — residuals, branches, merges, several inputs and outputs.
- ``Block(name, layers or function)``: a named group (reports total per block).
- ``Repeat(block, n)``: ``n`` occurrences of a shape-preserving block, ``n`` a number or
  a dim; recorded once with multiplicity ``n`` (no unrolling), or unrolled on request.
- A layer object used twice is shared: its weights count once, as in Keras.
  ``model.tie(layer, "weight", source, "weight")`` ties a weight to another one, as
  torch's ``lm_head.weight = wte.weight``: ``parameters()`` yields it once.

Layers are named the way Keras 3 names them (``conv2d``, ``conv2d_1``, …).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

import sympy

from .count import Count
from .dims import Condition, as_expr, decided, size_text
from .errors import ArgumentError, ShapeError, SymcountError
from .saved import elements
from .layer import InputLayer, Layer, Node, Tensor, as_tensor, build, build_record, call_layer, snake_case  # noqa: F401


def model_dims(records) -> tuple[sympy.Symbol, ...]:
    """The dims a model's expressions use, in order of first appearance."""
    seen: dict = {}
    visited: set = set()  # the same sizes recur from layer to layer: look at each once

    def visit(expr):
        if isinstance(expr, tuple):
            for e in expr:
                visit(e)
        elif isinstance(expr, sympy.Basic) and expr not in visited:
            visited.add(expr)
            for sym in sorted(expr.free_symbols, key=lambda s: s.name):
                seen.setdefault(sym, None)

    for record in records:
        visit(record.input_shape)
        visit(record.output_shape)
        for w in record.weights:
            visit(w.shape)
        visit(record.repeat)
        for product in record.products:  # an imported model's product may move with an axis alone
            visit(product.macs)
            if product.backward_macs is not None:
                visit(product.backward_macs)
        for condition in record.conditions:  # a dim may appear only in a condition (Eq(d, 1))
            visit(condition.relation)
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


class Emitter:
    """Turns layers into records for one model: names them, marks shared layers,
    expands blocks and repetitions."""

    def __init__(self, model_name: str):
        self.model_name = model_name
        self.namer = Namer()
        self.names: dict[int, str] = {}
        self.records: list = []
        self.grad = False
        #: the model's tensors: key → how many there are (a layer's output inside
        #: ``Repeat(block, n)`` is n tensors)
        self.tensors: dict[int, sympy.Expr] = {}
        #: per repeated block: (boundary key, block output key, outer input key, outer output
        #: key, first record, end record, block input elements); see :meth:`Repeat.emit`
        self.boundaries: list[tuple] = []
        #: the key of the tensor the last emitted layer produced
        self.key: int | None = None

    def new_tensor(self, occurrences=sympy.Integer(1)) -> int:
        """A new tensor of the model, ``occurrences`` times over: its key."""
        key = len(self.tensors)
        self.tensors[key] = occurrences
        return key

    def emit(self, layer: Layer, shape, path: tuple[str, ...] = (), repeat=sympy.Integer(1), grad: bool = True,
             inputs: tuple | None = None):
        """Record ``layer`` applied to ``shape``; return its output shape.

        ``grad`` says whether the input needs a gradient in training; afterwards
        ``self.grad`` says whether the output does (the input did, or the layer has
        trainable weights), as autograd's ``requires_grad`` propagates. ``inputs`` are the
        keys of the tensors it reads (default: the last layer's output); afterwards
        ``self.key`` is its output's (the input's own for a ``view`` layer).
        """
        if inputs is None:
            inputs = (self.new_tensor(repeat) if self.key is None else self.key,)
        if isinstance(layer, (Block, Repeat)):
            self.key = inputs[0]
            first = len(self.records)
            out = layer.emit(self, shape, path, repeat, grad)
            self.grad = grad or any(r.weight_grad for r in self.records[first:])
            return out
        shared = id(layer) in self.names
        if not shared:
            self.names[id(layer)] = self.namer.name(layer, self.model_name)
        context = " › ".join((self.model_name, *path))
        record = build_record(layer, self.names[id(layer)], len(self.records) + 1, shape, context)
        self.key = inputs[0] if layer.view and inputs else self.new_tensor(repeat)
        record = replace(record, counted=not shared, path=path, repeat=repeat, input_grad=grad,
                         input_keys=tuple(inputs), output_key=self.key)
        self.records.append(record)
        self.grad = grad or record.weight_grad
        return record.output_shape

    def count(self, ties=()) -> Count:
        records = _apply_ties(self.records, ties, self.names, self.model_name)
        return Count(self.model_name, tuple(records), model_dims(records),
                     tensors=tuple(self.tensors.items()), boundaries=tuple(self.boundaries))


def _apply_ties(records, ties, names, model_name):
    """Mark tied weights (``tie(layer, weight, source, source_weight)``) so they count once."""
    records = list(records)
    for layer, weight, source, source_weight in ties:
        where = f"{model_name}: tie({names.get(id(layer), layer.type_name)}.{weight}, " \
                f"{names.get(id(source), source.type_name)}.{source_weight})"
        if id(layer) not in names or id(source) not in names:
            raise ArgumentError(f"{where}: both layers must be part of the model")
        src = next(r for r in records if r.layer is source)
        src_w = next((w for w in src.weights if w.name == source_weight), None)
        if src_w is None:
            raise ArgumentError(f"{where}: {src.name} has no weight {source_weight!r}. "
                                f"Its weights: {', '.join(w.name for w in src.weights)}")
        for i, record in enumerate(records):
            if record.layer is not layer:
                continue
            target = next((w for w in record.weights if w.name == weight), None)
            if target is None:
                raise ArgumentError(f"{where}: {record.name} has no weight {weight!r}. "
                                    f"Its weights: {', '.join(w.name for w in record.weights)}")
            if decided(sympy.Eq(sympy.Integer(len(target.shape)), len(src_w.shape))) is False or any(
                    decided(sympy.Eq(a, b)) is False for a, b in zip(target.shape, src_w.shape)):
                raise ShapeError(f"{where}: tied weights must have the same shape. "
                                 f"Received: {size_text(target.shape)} and {size_text(src_w.shape)}")
            tied = tuple(replace(w, tied_to=f"{src.name}.{source_weight}") if w is target else w
                         for w in record.weights)
            records[i] = replace(record, weights=tied)
    return records


class ModelBase:
    """What Sequential and functional models share: names, ties, summary."""

    name: str
    #: what an import could not count (layers without a rule: the count's ``uncounted``)
    uncounted: tuple = ()

    def _imported(self, count: Count) -> Count:
        """The count with what the import could not count (its FLOPs then not exact)."""
        if not self.uncounted:
            return count
        inexact = (("flops", False), ("training_flops", False))
        return replace(count, uncounted=tuple(self.uncounted), exactness=inexact)

    def tie(self, layer: Layer, weight: str, source: Layer, source_weight: str) -> None:
        """Make ``layer``'s ``weight`` the same tensor as ``source``'s ``source_weight``
        (torch: ``model.lm_head.weight = model.wte.weight``): it is counted once."""
        self.ties.append((layer, weight, source, source_weight))

    def summary(self) -> str:
        return self.count().summary()


class Sequential(ModelBase):
    """A linear stack, as ``keras.Sequential``: ``Sequential([Input(shape), layer, …], name)``."""

    def __init__(self, layers=None, name: str | None = None):
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        self.ties: list = []
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
        emitter = Emitter(self.name)
        shape, grad = input_layer.batch_shape, False
        emitter.key = emitter.new_tensor()  # the model's input
        for position, layer in enumerate(layers, start=1):
            if isinstance(layer, InputLayer):
                raise ShapeError(f"{self.name}: Input may only be the first layer; found one at position {position}")
            shape = emitter.emit(layer, shape, grad=grad)
            grad = emitter.grad
        return self._imported(emitter.count(self.ties))

    def __repr__(self):
        return f"Sequential(name={self.name!r}, layers={len(self.layers)})"


# ---------------------------------------------------------------------------
# Functional graphs
# ---------------------------------------------------------------------------

# Node, Tensor, as_tensor and call_layer (a layer called on tensors) live with the layer
# (:mod:`symcount.layer`): calling a layer needs nothing above it.


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _graph_nodes(inputs: list[Tensor], outputs: list[Tensor], context: str) -> list[Node]:
    """The nodes between inputs and outputs, in creation (topological) order."""
    seen: dict[int, Node] = {}
    stack = [t.node for t in outputs]
    input_nodes = {id(t.node) for t in inputs}
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        if not node.inputs and id(node) not in input_nodes:
            raise ArgumentError(
                f"{context}: the outputs depend on an input that is not in the model's inputs "
                f"(shape {size_text(node.shape)})"
            )
        if id(node) not in input_nodes:
            stack.extend(t.node for t in node.inputs)
    return sorted(seen.values(), key=lambda n: n.id)


def emit_nodes(emitter: Emitter, nodes, path, repeat, outside: bool = False) -> None:
    """Emit graph nodes in order; a node's input needs a gradient when any of its
    input tensors does. Model inputs do not; a tensor from outside ``nodes`` (a
    block's input) does when ``outside``."""
    grads: dict = {}
    keys: dict = {}
    incoming = emitter.key  # a block's input
    for node in nodes:
        grad = any(grads.get(id(t.node), outside) for t in node.inputs)
        if isinstance(node.layer, InputLayer) and not node.inputs:
            emitter.emit(node.layer, node.shape, path, repeat, grad=False, inputs=())
            grads[id(node)], keys[id(node)] = False, emitter.key
            continue
        inputs = tuple(keys.get(id(t.node), incoming) for t in node.inputs)
        emitter.emit(node.layer, node.shape, path, repeat, grad, inputs=inputs)
        grads[id(node)], keys[id(node)] = emitter.grad, emitter.key


class Model(ModelBase):
    """A functional model, as ``keras.Model(inputs, outputs)``.

    Records come in call order; an ``Input`` appears as ``input_layer`` (InputLayer,
    no weights), as in Keras's summary of a functional model.
    """

    def __init__(self, inputs, outputs, name: str | None = None):
        self.name = name or "functional"
        self.inputs = [as_tensor(t) for t in _as_list(inputs)]
        self.outputs = [as_tensor(t) for t in _as_list(outputs)]
        self.ties: list = []
        self.nodes = _graph_nodes(self.inputs, self.outputs, self.name)

    def count(self) -> Count:
        emitter = Emitter(self.name)
        emit_nodes(emitter, self.nodes, (), sympy.Integer(1))
        return self._imported(emitter.count(self.ties))

    def __repr__(self):
        return f"Model(name={self.name!r}, nodes={len(self.nodes)})"


# ---------------------------------------------------------------------------
# Blocks and repetition
# ---------------------------------------------------------------------------


class Block(Layer):
    """A named group of layers: ``Block("stage1", [Conv2D(…), …])`` or
    ``Block("residual", lambda x: Add()([x, Conv2D(C, 3, padding="same")(x)]))``.

    Reports total per block. Used as a layer in a Sequential or a functional model.
    """

    def __init__(self, name: str, body: Sequence[Layer] | Callable):
        if not isinstance(name, str) or not name:
            raise ArgumentError(f"Block: name must be a non-empty string. Received: {name!r}")
        if not callable(body) and not (isinstance(body, (list, tuple)) and all(isinstance(x, Layer) for x in body)):
            raise ArgumentError(f"Block {name!r}: body must be a list of layers or a function of a tensor. "
                                f"Received: {body!r}")
        super().__init__(name)
        self.body = tuple(body) if isinstance(body, (list, tuple)) else body

    def _trace(self, shape) -> tuple[list[Node], tuple]:
        """The body applied to a tensor of ``shape``: its graph nodes and output shape."""
        start = Tensor(shape, Node(Layer(), (), shape))  # a placeholder: any shape, None axes included
        if isinstance(self.body, tuple):
            x = start
            for layer in self.body:
                x = layer(x)
        else:
            x = as_tensor(self.body(start))
        return [n for n in _graph_nodes([start], [x], self.name) if n is not start.node], x.shape

    def emit(self, emitter: Emitter, shape, path, repeat, grad=True):
        nodes, out = self._trace(shape)
        emit_nodes(emitter, nodes, path + (self.name,), repeat, outside=grad)
        return out

    def called_shape(self, shape):
        return self.output_shape(shape)

    def output_shape(self, shape):
        return self._trace(shape)[1]

    def _key(self):
        return (type(self), self.name, id(self.body) if callable(self.body) else self.body)


class Repeat(Layer):
    """``Repeat(block, n)``: ``n`` occurrences of ``block`` in a row (``n`` an int or a dim).

    The block must keep its input shape. Params and costs are ``n ×`` the block's;
    the layers are recorded once with multiplicity ``n``, or — with ``unroll=True`` and
    a numeric ``n`` — as ``n`` copies with their own names.
    """

    def __init__(self, block, n, unroll: bool = False, name: str | None = None):
        if isinstance(block, (list, tuple)):
            block = Block(name or "repeated", block)
        if not isinstance(block, Layer):
            raise ArgumentError(f"Repeat: expected a Block or a layer. Received: {block!r}")
        super().__init__(name or block.name or snake_case(block.type_name))
        self.block = block
        self.n = as_expr(n, f"Repeat({self.block.name or self.block.type_name}) n")
        self.unroll = bool(unroll)
        if self.unroll and not self.n.is_Integer:
            raise ArgumentError(f"Repeat({self.name}): unroll=True needs a numeric n. Received: n={self.n}")

    def _label(self) -> str:
        return f"Repeat({self.block.name or self.block.type_name}, {self.n})"

    def _block_output(self, shape):
        if isinstance(self.block, (Block, Repeat)):
            return self.block.output_shape(shape)
        return build(self.block, shape).output_shape

    def _shape_conditions(self, shape) -> list:
        """Raise if the block provably changes the shape; return the undecided equalities."""
        out = self._block_output(shape)
        verdicts = [True if a is None and b is None else None if a is None or b is None
                    else decided(sympy.Eq(a, b)) for a, b in zip(shape[1:], out[1:])]
        if len(out) != len(shape) or False in verdicts:
            raise ShapeError(f"{self._label()}: the block must keep its input shape to be repeated. "
                             f"Received: input {size_text(shape)}, block output {size_text(out)}")
        return [sympy.Eq(a, b) for (a, b), v in zip(zip(shape[1:], out[1:]), verdicts)
                if v is None and a is not None and b is not None]

    def called_shape(self, shape):
        return self.output_shape(shape)

    def output_shape(self, shape):
        self._shape_conditions(shape)
        return tuple(shape)

    def emit(self, emitter: Emitter, shape, path, repeat, grad=True):
        """Record the block once with multiplicity ``n`` (or ``n`` copies when unrolled).

        The records take the steady state's gradient flags (after one occurrence of a
        block with trainable weights every input needs a gradient); those whose first
        occurrence has no input gradient are marked ``first_without_grad``.
        """
        first_flags = None
        if not grad and not self.unroll:
            probe = Emitter(emitter.model_name)
            probe.emit(self.block, shape, grad=False)
            if probe.grad:
                grad, first_flags = True, [r.input_grad for r in probe.records]
        try:
            conditions = self._shape_conditions(shape)
        except SymcountError as exc:
            raise type(exc)(f"{' › '.join((emitter.model_name, *path))}: {exc}") from None
        first = len(emitter.records)
        if self.unroll:
            for i in range(int(self.n)):
                emitter.emit(_fresh(self.block, f"{self.name}_{i}"), shape, path, repeat, grad)
                grad = emitter.grad
        else:
            # the tensors between occurrences: T_0 (the input, outside), T_1 … T_{n−1}
            # (one key, n − 1 of them) and T_n (the output, outside); the block reads the
            # middle key and its output is that key too (memory.saved_keys resolves it)
            outer_in = emitter.key
            inner = emitter.key = emitter.new_tensor(repeat * (self.n - 1))
            if isinstance(self.block, Block):
                self.block.emit(emitter, shape, path, repeat * self.n, grad)
            else:
                emitter.emit(self.block, shape, path + (self.name,), repeat * self.n, grad)
            out, after = emitter.key, emitter.new_tensor(repeat)
            emitter.boundaries.append((inner, out, outer_in, after, first, len(emitter.records),
                                       elements(shape)))
            emitter.key = after
        if first_flags is not None:
            for i, flag in enumerate(first_flags, start=first):
                emitter.records[i] = replace(emitter.records[i], first_without_grad=not flag)
        if conditions and len(emitter.records) > first:
            record = emitter.records[first]
            extra = tuple(Condition(c, (self.name,)) for c in conditions)
            emitter.records[first] = replace(record, conditions=record.conditions + extra)
        return tuple(shape)


def _fresh(layer: Layer, name: str | None) -> Layer:
    """A copy with new weights: each unrolled repetition owns its weights (a function
    body makes new layers on every call; a list body is copied layer by layer, and the
    copies take automatic names so that they stay unique)."""
    if isinstance(layer, Block):
        body = layer.body if callable(layer.body) else [_fresh(x, None) for x in layer.body]
        return Block(name or layer.name, body)
    return layer.replace(name=None)
