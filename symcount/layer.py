"""The Layer base: a layer declares its weights, its output shape and its cost.

Everything else — the parameter count, the trainable split, the derivation, the
comparison with a framework's named weights — is derived from the declaration by
:func:`build`, in one place. A layer never writes its parameter formula by hand.

Layers are stateless value objects: the constructor arguments are recorded once
(``config``), which makes layers hashable (so per-layer results are cached) and lets
a layer be re-instantiated with symbols in place of numbers (the rule in its own
notation, used by derivations).
"""

from __future__ import annotations

import functools
import itertools
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import sympy
from sympy import Expr, Integer

from .dims import Condition, as_expr, at_least, decided, product, size_text
from .errors import ArgumentError, ShapeError, SymcountError
from .saved import Saved

Shape = tuple  # (None, d1, d2, ...): batch axis first, then SymPy expressions


@dataclass(frozen=True)
class Weight:
    """A named weight tensor: ``Weight("kernel", (3, 3, 3, 32))``.

    ``trainable=False`` marks what Keras counts as non-trainable parameters
    (BatchNormalization's moving statistics). ``buffer=True`` marks what torch keeps
    outside ``parameters()`` (running statistics): shown, never counted.
    """

    name: str
    shape: tuple
    trainable: bool = True
    buffer: bool = False
    tied_to: str | None = None

    @functools.cached_property
    def size(self) -> Expr:
        return product(self.shape)

    @property
    def counts(self) -> bool:
        """Whether the weight is a parameter of its own (not a buffer, not tied to another)."""
        return not self.buffer and self.tied_to is None

    def subs(self, mapping) -> "Weight":
        return replace(self, shape=tuple(subs_value(s, mapping) for s in self.shape))


@dataclass(frozen=True)
class Requirement:
    """A condition a layer needs of its input: ``relation`` must hold.

    ``needed`` says it in words for the error message ("the kernel to fit the input").
    """

    relation: sympy.Basic
    needed: str


@dataclass(frozen=True)
class Product:
    """One family of multiply-accumulates in a layer's forward pass, per example.

    These are what ``torch.utils.flop_counter.FlopCounterMode`` sees as ``mm``/``bmm``/
    ``convolution`` calls (2 FLOPs per multiply-accumulate); bias additions, norms and
    activations are not products.

    - ``operand="weight"``: one factor is the layer's weight (Dense, Conv). Backward
      computes the input's gradient (when the input needs one) and the weight's (when
      the weight is trainable): one more ``macs`` each.
    - ``operand="activation"``: both factors are activations (attention's Q·Kᵀ and A·V).
      Backward computes both gradients: ``2·macs``.
    - ``causal_macs``: the MACs when a causal mask's masked half is not counted (the
      score and value products over ``L·(L+1)/2`` query–key pairs instead of ``L²``).
    """

    macs: Expr
    operand: str = "weight"
    causal_macs: Expr | None = None
    label: str = ""
    #: the backward's MACs when known exactly from the operator autograd differentiates
    #: (an imported model's recorded product: which operands need a gradient is read off
    #: the autograd graph); overrides the ``operand`` rule
    backward_macs: Expr | None = None

    def __post_init__(self):
        if self.operand not in ("weight", "activation"):
            raise ValueError(f"Product.operand must be 'weight' or 'activation', not {self.operand!r}")
        if isinstance(self.macs, int):
            object.__setattr__(self, "macs", Integer(self.macs))

    def forward(self, causal: bool = False) -> Expr:
        """MACs of the forward pass (the unmasked part only when ``causal``)."""
        return self.causal_macs if causal and self.causal_macs is not None else self.macs

    def backward(self, input_grad: bool, weight_grad: bool, causal: bool = False) -> Expr:
        """MACs of the backward pass, as autograd runs it (FlopCounterMode's count / 2)."""
        if self.backward_macs is not None:
            return self.backward_macs
        macs = self.forward(causal)
        if self.operand == "activation":
            return 2 * macs if input_grad else Integer(0)
        return macs * (int(input_grad) + int(weight_grad))

    def scaled(self, n) -> "Product":
        """The same product ``n`` times (a stack of ``n`` identical layers)."""
        causal = None if self.causal_macs is None else n * self.causal_macs
        backward = None if self.backward_macs is None else n * self.backward_macs
        return replace(self, macs=n * self.macs, causal_macs=causal, backward_macs=backward)

    def subs(self, mapping) -> "Product":
        return replace(self, macs=subs_value(self.macs, mapping), causal_macs=subs_value(self.causal_macs, mapping),
                       backward_macs=subs_value(self.backward_macs, mapping))


def subs_value(value, mapping):
    if value is None or not mapping or not isinstance(value, sympy.Basic):
        return value
    memo = getattr(mapping, "memo", None)
    if memo is None:
        return value.xreplace(mapping)
    result = memo.get(value)
    if result is None:
        result = memo[value] = value.xreplace(mapping)
    return result


class Substitution(dict):
    """dim → value, remembering what it has substituted: a model's records share most of
    their sizes (one layer's output shape is the next one's input shape), so
    :meth:`symcount.count.Count.subs` substitutes each distinct expression once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.memo: dict = {}


def freeze(value):
    """Constructor arguments as hashable values (lists become tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def ranked(base: type, rank: int, name: str, module: str, doc: str, **attributes) -> type:
    """The ``rank``-dimensional class of an N-dimensional layer rule: ``base`` with
    ``rank`` set, its own name (``Conv2d``), module and docstring, and any class
    ``attributes`` (its notation). ``Conv2d = ranked(_Conv, 2, "Conv2d", __name__, doc)``
    declares a framework's 2-D convolution in a line."""
    namespace = {"rank": rank, "__module__": module, "__qualname__": name, "__doc__": doc, **attributes}
    return type(name, (base,), namespace)


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``Conv2D`` → ``conv2d``, ``MaxPooling2D`` → ``max_pooling2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


class Layer:
    """Base of every layer. Subclasses override the declarative methods:

    - ``weights(shape)`` yields :class:`Weight` s (default: none);
    - ``output_shape(shape)`` returns the output shape (default: the input shape);
    - ``macs(shape)``: multiply-accumulates of its matrix products and convolutions,
      per example (default: 0) — or, for layers whose products differ in kind
      (attention: projections by weights, scores between activations),
      ``products(shape)`` yielding :class:`Product` s (the default wraps ``macs``);
    - ``requirements(shape)`` yields :class:`Requirement` s checked before the
      output shape is computed (default: none). Every output dimension is also
      required to be at least 1.
    - ``saved(shape)`` yields the :class:`~symcount.saved.Saved` tensors its backward
      needs (activation memory); the default ``None`` means "not declared", which
      memory reports instead of counting zero. ``view = True`` marks a layer whose
      output is its input's storage (a reshape, an in-place activation).

    ``shape`` is the full input shape with the batch axis first (``None``), as in
    Keras's ``build(input_shape)``.
    """

    #: how many input tensors the layer takes (merging layers take a list)
    n_inputs = 1

    #: how the layer's rule is written in derivations (:class:`symcount.derivation.Notation`)
    notation = None

    #: the output is a view of the (first) input, or the input changed in place: one tensor
    view = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            if "_config" not in self.__dict__:
                accepted = [p for p in signature.parameters if p != "self"]
                unknown = [k for k in kw if k not in signature.parameters]
                if unknown:
                    raise ArgumentError(
                        f"{cls.__name__}: unexpected keyword argument {unknown[0]!r}. "
                        f"Expected: {', '.join(accepted)}"
                    )
                try:
                    bound = signature.bind(self, *args, **kw)
                except TypeError as exc:
                    raise ArgumentError(f"{cls.__name__}: {exc}. Expected: {', '.join(accepted)}") from None
                bound.apply_defaults()
                arguments = dict(bound.arguments)
                arguments.pop("self")
                self.__dict__["_config"] = arguments
            init(self, *args, **kw)

        recording_init.__signature__ = signature
        cls.__init__ = recording_init

    def __init__(self, name: str | None = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise ArgumentError(f"{type(self).__name__}: name must be a non-empty string. Received: name={name!r}")
        self.name = name

    # -- declaration (overridden by layers) ---------------------------------------

    def weights(self, shape: Shape) -> Iterable[Weight]:
        return ()

    def output_shape(self, shape: Shape) -> Shape:
        return tuple(shape)

    def macs(self, shape: Shape) -> Expr:
        if type(self).products is not Layer.products:
            return sympy.Add(*(p.macs for p in self.products(shape)))
        return Integer(0)

    def products(self, shape: Shape) -> Iterable[Product]:
        macs = self.macs(shape)
        return (Product(macs),) if macs != 0 else ()

    def requirements(self, shape: Shape) -> Iterable[Requirement]:
        return ()

    def saved(self, shape: Shape) -> Iterable[Saved] | None:
        """The tensors the backward needs, per example; ``None``: not declared."""
        return None

    def __call__(self, inputs):
        """Call the layer on symbolic tensors (functional API): ``y = Dense(4)(x)``."""
        return call_layer(self, inputs)

    def called_shape(self, shape):
        """The output shape of a call on ``shape``, checked now (a block: its own rule)."""
        return build(self, shape).output_shape

    # -- identity ------------------------------------------------------------------

    @property
    def type_name(self) -> str:
        """The framework's class name (``Conv2D``)."""
        return type(self).__name__

    @property
    def config(self) -> dict:
        """The constructor arguments, defaults filled in (Keras ``get_config``)."""
        return dict(self.__dict__.get("_config", {}))

    def replace(self, **changes) -> "Layer":
        """A copy with some constructor arguments changed."""
        return type(self)(**{**self.config, **changes})

    def _key(self):
        return (type(self), freeze(self.config))

    def __eq__(self, other):
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.type_name}({args})"

    def expect_rank(self, shape: Shape, rank: int, axes: str) -> None:
        """Raise unless ``shape`` (batch included) has ``rank`` axes."""
        if len(shape) != rank:
            raise ShapeError(
                f"expected an input of rank {rank} {axes}. Received: input shape={size_text(shape)}"
            )

    def expect_min_rank(self, shape: Shape, rank: int) -> None:
        if len(shape) < rank:
            raise ShapeError(
                f"expected an input of rank at least {rank}. Received: input shape={size_text(shape)}"
            )


class InputLayer(Layer):
    """The model's input (Keras ``InputLayer(shape, batch_size=None, name=None)``).

    ``shape`` excludes the batch axis; the output shape is ``(batch_size, *shape)``
    with ``None`` for an unspecified batch. No weights. Shared by every front end.
    """

    def __init__(self, shape=None, batch_size=None, name=None):
        super().__init__(name)
        if not isinstance(shape, (list, tuple)) or not shape:
            raise ArgumentError(
                f"Input: shape must be a non-empty tuple of sizes (without the batch axis). Received: shape={shape!r}"
            )
        self.shape = tuple(as_expr(s, f"Input shape[{i}]") for i, s in enumerate(shape))
        self.batch_size = None if batch_size is None else as_expr(batch_size, "Input batch_size")

    @property
    def batch_shape(self):
        return (self.batch_size, *self.shape)

    def output_shape(self, shape):
        return self.batch_shape


@dataclass(frozen=True)
class Built:
    """What a layer declares for one input shape, checked: the raw material of a record."""

    weights: tuple[Weight, ...]
    output_shape: Shape
    products: tuple[Product, ...]
    conditions: tuple[sympy.Basic, ...] = field(default=())
    #: the saved tensors (None: the layer declares none)
    saved: tuple[Saved, ...] | None = None

    @property
    def macs(self) -> Expr:
        return sympy.Add(*(p.macs for p in self.products))


def _check(requirement: Requirement, layer: Layer, shape: Shape) -> sympy.Basic | None:
    """Three-valued check: False raises, True passes, undecided is returned as a condition."""
    return _checked(requirement.relation, lambda: requirement.needed, layer, shape)


def _checked(relation, needed, layer: Layer, shape: Shape) -> sympy.Basic | None:
    """:func:`_check` with the message made by ``needed()`` only when it is raised
    (printing a SymPy expression costs more than deciding the relation)."""
    verdict = decided(relation)
    if verdict is False:
        raise ShapeError(f"{needed()}. Received: input shape={size_text(shape)}, {_args(layer)}")
    return None if verdict else relation


def _whole(size, where: str, layer: Layer, shape: Shape):
    """A size written as a fraction of dims (``units: H/3``, ``d_model / heads``) must be a
    whole number: its divisibility, decided now or kept as a condition."""
    if size is None or not isinstance(size, sympy.Expr) or size.is_Integer or size.is_Symbol:
        return None
    if not _may_be_fraction(size):  # sums and products of dims, integers and floors: whole
        return None
    numerator, denominator = sympy.fraction(sympy.together(size))
    if denominator == 1:
        return None
    relation = sympy.Eq(sympy.Mod(numerator, denominator), 0)
    return _checked(relation, lambda: f"{where} is {size}, which must be a whole number", layer, shape)


def _may_be_fraction(expr) -> bool:
    """Whether ``expr`` has a fraction outside a floor or ceiling (a non-integer rational
    or a negative power): a quick walk, before SymPy is asked anything."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (sympy.floor, sympy.ceiling)) or node.is_Symbol or node.is_Integer:
            continue
        if node.is_Rational:
            return True
        if node.is_Pow and (not node.exp.is_Integer or node.exp < 0):
            return True
        stack.extend(node.args)
    return False


def _args(layer: Layer) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in layer.config.items() if k != "name")


@functools.lru_cache(maxsize=4096)
def build(layer: Layer, shape: Shape) -> Built:
    """Check a layer against its input shape (a tuple of shapes for a multi-input
    layer) and collect its declaration.

    Cached per (layer config, shape): a block repeated many times is built once.
    """
    conditions = [c for r in layer.requirements(shape) if (c := _check(r, layer, shape)) is not None]
    out = tuple(layer.output_shape(shape))
    for axis, size in enumerate(out[1:], start=1):
        if size is None:
            continue
        needed = functools.partial(
            "Computed output size would be zero or negative: axis {} of the output is {}".format, axis, size)
        if (c := _checked(at_least(size, 1), needed, layer, shape)) is not None:
            conditions.append(c)
    weights = tuple(layer.weights(shape))
    # each weight's size now, next to the layer's products (often the same expressions,
    # d_in·d_out): SymPy's cache then serves both, however deep the model
    for weight in weights:
        weight.size  # noqa: B018 (a cached property, computed here)
    for where, size in [*((f"axis {a} of the output", s) for a, s in enumerate(out[1:], start=1)),
                        *((f"the weight {w.name}", s) for w in weights for s in w.shape)]:
        if (c := _whole(size, where, layer, shape)) is not None and c not in conditions:
            conditions.append(c)
    products = tuple(layer.products(shape))
    saved = layer.saved(shape)
    return Built(weights, out, products, tuple(conditions), None if saved is None else tuple(saved))


@dataclass(frozen=True)
class LayerRecord:
    """One layer of a counted model: what ``model.summary()`` prints, symbolically.

    ``params`` is derived from ``weights``: the sum of the products of their shapes
    (buffers and tied weights excluded). ``counted`` is False for a second use of a
    shared layer (its weights count once). ``path`` names the blocks the layer sits in;
    ``repeat`` is how many times it occurs (``n`` inside ``Repeat(block, n)``): model
    totals multiply by it, the per-layer numbers are for one occurrence.

    Costs come from ``products`` (:class:`Product`): ``macs`` per example, ``flops``
    = 2·MACs (FlopCounterMode's convention), ``training_flops`` forward + backward.
    ``input_grad`` is whether the layer's input needs a gradient in training (False
    for a layer fed only by model inputs through weightless layers: autograd then
    skips the input-gradient product, as it does for a network's first convolution).
    """

    name: str
    type: str
    position: int
    input_shape: Shape
    output_shape: Shape
    weights: tuple[Weight, ...]
    products: tuple[Product, ...]
    conditions: tuple[Condition, ...]
    layer: Layer
    counted: bool = True
    path: tuple[str, ...] = ()
    repeat: Expr = Integer(1)
    #: the dims bound by ``subs`` (dim → value), so derivations read the layer's own
    #: arguments (``Dense(classes)``) at the same values as its shapes
    substituted: tuple = ()
    input_grad: bool = True
    #: inside ``Repeat`` fed by inputs without gradient: the first occurrence's input
    #: has none although later ones (after the block's trainable weights) do
    first_without_grad: bool = False
    #: the tensors the backward keeps (:class:`~symcount.saved.Saved`; None: not declared)
    saved: tuple[Saved, ...] | None = None
    #: which tensors of the model the layer reads and writes (keys of
    #: :attr:`symcount.count.Count.tensors`): a saved input or output is one of them
    input_keys: tuple = ()
    output_key: int | None = None

    @functools.cached_property
    def params(self) -> Expr:
        """Parameters of one occurrence: trainable and non-trainable weights."""
        return sympy.Add(*(w.size for w in self.weights if w.counts))

    @functools.cached_property
    def trainable(self) -> Expr:
        return sympy.Add(*(w.size for w in self.weights if w.counts and w.trainable))

    @functools.cached_property
    def non_trainable(self) -> Expr:
        return sympy.Add(*(w.size for w in self.weights if w.counts and not w.trainable))

    @functools.cached_property
    def buffers(self) -> Expr:
        return sympy.Add(*(w.size for w in self.weights if w.buffer))

    @property
    def weight_grad(self) -> bool:
        """Whether backward computes a weight gradient (a trainable weight, tied or not)."""
        return any(w.trainable and not w.buffer for w in self.weights)

    @functools.cached_property
    def macs(self) -> Expr:
        """Multiply-accumulates of one occurrence's forward pass, per example."""
        return sympy.Add(*(p.macs for p in self.products))

    @property
    def flops(self) -> Expr:
        """Forward FLOPs per example: 2 per multiply-accumulate (FlopCounterMode)."""
        return 2 * self.macs

    def cost(self, training: bool = False, causal: bool = False) -> Expr:
        """FLOPs of one occurrence per example: forward, or forward + backward
        (``training``), the masked half of causal attention left out when ``causal``."""
        macs = sympy.Add(*(p.forward(causal) for p in self.products))
        if training:
            macs += sympy.Add(*(p.backward(self.input_grad, self.weight_grad, causal) for p in self.products))
        return 2 * macs

    @property
    def training_flops(self) -> Expr:
        """Forward + backward FLOPs per example, as FlopCounterMode counts ``loss.backward()``."""
        return self.cost(training=True)

    def total_cost(self, training: bool = False, causal: bool = False) -> Expr:
        """FLOPs of all ``repeat`` occurrences per example (see :meth:`cost`)."""
        total = self.cost(training, causal) * self.repeat
        if training and self.first_without_grad:
            total -= 2 * sympy.Add(*(p.backward(True, False, causal) for p in self.products))
        return total

    @functools.cached_property
    def outputs(self) -> Expr:
        """Output elements per example."""
        return product([s for s in self.output_shape[1:] if s is not None])

    @property
    def label(self) -> str:
        """``conv2d_1 (Conv2D)``, as Keras's summary prints it."""
        return f"{self.name} ({self.type})"

    @property
    def derivation(self) -> tuple:
        """Where the numbers come from: rule, values, result (:func:`symcount.derivation.derive`)."""
        from .derivation import derive

        return derive(self)

    def subs(self, mapping) -> "LayerRecord":
        return replace(
            self,
            input_shape=_subs_shape(self.input_shape, mapping),
            output_shape=_subs_shape(self.output_shape, mapping),
            weights=tuple(w.subs(mapping) for w in self.weights),
            products=tuple(p.subs(mapping) for p in self.products),
            repeat=subs_value(self.repeat, mapping),
            saved=None if self.saved is None else tuple(t.subs(mapping, subs_value) for t in self.saved),
            substituted=tuple({**dict(self.substituted), **dict(mapping or {})}.items()),
        )


def _subs_shape(shape, mapping):
    """A shape, or a tuple of shapes (multi-input layers), with dims substituted."""
    return tuple(_subs_shape(s, mapping) if isinstance(s, tuple) else subs_value(s, mapping) for s in shape)


def build_record(layer: Layer, name: str, position: int, shape: Shape, context: str) -> LayerRecord:
    """Build one layer of a model, naming it in any error: ``context › name (Type)``."""
    try:
        built = build(layer, tuple(shape))
    except SymcountError as exc:
        raise type(exc)(f"{context} › {name} ({layer.type_name}, layer {position}): {exc}") from None
    conditions = tuple(Condition(c, (name,)) for c in built.conditions)
    return LayerRecord(name, layer.type_name, position, tuple(shape), built.output_shape,
                       built.weights, built.products, conditions, layer, saved=built.saved)


def positions(shape: Shape) -> Expr:
    """Positions a per-position layer (Dense on the last axis) is applied at."""
    return product(shape[1:-1])


# ---------------------------------------------------------------------------
# Functional graphs: a layer called on symbolic tensors
# ---------------------------------------------------------------------------

_node_ids = itertools.count()


class Node:
    """One call of a layer on tensors (creation order is a topological order)."""

    __slots__ = ("layer", "inputs", "shape", "id")

    def __init__(self, layer: Layer, inputs: tuple, shape):
        self.layer, self.inputs, self.shape, self.id = layer, inputs, shape, next(_node_ids)


class Tensor:
    """A symbolic tensor (Keras ``KerasTensor``): its full shape, batch axis first."""

    __slots__ = ("shape", "node")

    def __init__(self, shape, node: Node):
        self.shape, self.node = tuple(shape), node

    def __repr__(self):
        return f"<Tensor shape={size_text(self.shape)} from {self.node.layer.type_name}>"


def as_tensor(value) -> Tensor:
    """A tensor, or an ``Input`` layer standing for its tensor."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, InputLayer):
        if "_tensor" not in value.__dict__:
            node = Node(value, (), value.batch_shape)
            value.__dict__["_tensor"] = Tensor(value.batch_shape, node)
        return value.__dict__["_tensor"]
    raise ArgumentError(f"expected a symbolic tensor (from Input or a layer call). Received: {value!r}")


def call_layer(layer: Layer, inputs) -> Tensor:
    """``layer(inputs)``: check the layer on the input shapes now, so a mistake is
    reported at the call that makes it; the records are made when the model is counted."""
    if layer.n_inputs == 1:
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ArgumentError(f"{layer.type_name}: expects one input tensor. Received {len(inputs)}")
            inputs = inputs[0]
        tensors = (as_tensor(inputs),)
        shape = tensors[0].shape
    else:
        if not isinstance(inputs, (list, tuple)):
            raise ArgumentError(f"{layer.type_name}: expects a list of input tensors. Received: {inputs!r}")
        tensors = tuple(as_tensor(t) for t in inputs)
        shape = tuple(t.shape for t in tensors)
    try:
        out = layer.called_shape(shape)
    except SymcountError as exc:
        label = layer.name or snake_case(layer.type_name)
        raise type(exc)(f"{label} ({layer.type_name}): {exc}") from None
    return Tensor(out, Node(layer, tensors, shape))
