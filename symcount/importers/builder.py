"""The builder: a template whose slots have expressions, as a symcount model.

Each module call that owns parameters or runs products of its own becomes one
:class:`Traced` layer: its parameters as weights (torch's names and shapes), its products
as :class:`~symcount.layer.Product` s whose forward and backward MACs are the recorded
operators' formulas over the fitted sizes. Module paths are the blocks; a folded run of
``n`` identical calls is the layer ``n`` times (its weights too, unless the run calls one
module ``n`` times, as ALBERT's shared layer is: then the weights once). Parameters of
modules the forward never called are counted as well, in a layer of their own.

Memory: each layer declares the storages autograd saved (:meth:`Traced.saved`): those its
module saved first, and those of the calls inside it that are no layer (an activation
module, a dropout, the parent's own code). A module that is no layer passes them to its
first layer called once per call of it, else to its caller. Each storage was recorded
once over the whole forward pass, so each is an internal entry of one layer, counted
per occurrence of that layer: a tensor one module makes and the next saves is held once
without naming which model tensor it is. A layer whose module updated a key/value cache
declares ``cache_elements`` (:class:`CacheRule`).
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from ..layer import Product, Requirement
from ..saved import Saved
from ._common import Call, Opaque, Recorded
from .attributor import Template, TNode, TOp, index_free
from .recorder import PRODUCTS, conv_backward_macs, conv_macs


class Traced(Opaque):
    """A module as its operators ran: an :class:`~._common.Opaque` layer (``kind`` its
    class name, ``declared`` its own parameters ``(name, shape, trainable)``) that also
    knows its products, ``ops`` ``(macs, backward MACs, operand, label)``, the output
    shape it produced (batch axis ``None``; unknown when empty) and ``integral``, the
    fitted sizes that must be integers (``d/h``)."""

    def __init__(self, kind, declared=(), ops=(), output=(), integral=(), name=None, saves=()):
        super().__init__(kind, declared, tuple(output), name=name)
        self.ops = tuple(ops)
        self.integral = tuple(integral)
        #: what autograd saved in this module's calls (and in the calls it stands for):
        #: ``(name, elements per example, kind)``, or None when a size could not be placed
        self.saves = None if saves is None else tuple(saves)

    def saved(self, shape):
        """The storages autograd saved when the module ran, each once (the recorder
        deduplicates them by storage over the whole forward pass: a tensor one module
        makes and the next saves belongs to the first that saved it), as
        :class:`~symcount.saved.Saved` entries internal to this layer."""
        if self.saves is None:
            return None
        # the model was recorded with transformers' eager attention: the probabilities
        # (selective) are what that kernel keeps, not what a flash kernel would
        return tuple(Saved(name, size, kind, selective=selective, per_batch=per_batch, cast=cast,
                           attention="eager" if selective else None, parallel=split)
                     for name, size, kind, per_batch, cast, selective, split in self.saves)

    def output_shape(self, shape):
        return self.output if self.output else (None,)

    def products(self, shape):
        for macs, backward, operand, label in self.ops:
            yield Product(macs, operand=operand, label=label, backward_macs=backward)

    def requirements(self, shape):
        for expr in self.integral:
            numerator, denominator = sympy.fraction(sympy.together(expr))
            yield Requirement(sympy.Eq(sympy.Mod(numerator, denominator), 0),
                              f"the size {expr} to be a whole number")


class PerBatch:
    """A saved tensor's elements that are per step, not per example (what
    :func:`.traced.trace` found recording the base with two and three examples)."""

    def __init__(self, size):
        self.size = size


class CacheRule:
    """``cache_elements(shape, tokens)`` of a layer that keeps keys and values: per
    occurrence, the cache layers it stands for (``(layers, elements per token, tokens
    kept or None)``, measured by :mod:`.kv_cache`), each keeping ``tokens`` (default: the
    model's sequence axis) or at most what it was seen to keep (a sliding window)."""

    def __init__(self, groups, seq):
        self.groups = tuple(groups)
        self.seq = seq

    def bind(self, mapping) -> None:
        """Dims the model's count does not have (a sliding window) at their values."""
        self.groups = tuple(tuple(x.xreplace(mapping) if isinstance(x, sympy.Basic) else x for x in g)
                            for g in self.groups)

    def __call__(self, shape, tokens=None):
        if tokens is None:
            if self.seq is None:
                raise ArgumentError("memory(kv_cache=True): this model has no sequence dim; give seq_len")
            from ..dims import dim

            tokens = dim(self.seq)
        if len(self.groups) == 1:
            _, per_token, kept = self.groups[0]
            return per_token * (tokens if kept is None else sympy.Min(tokens, kept))
        total = sympy.Integer(0)
        layers = sympy.Integer(0)
        for n, per_token, kept in self.groups:
            total += n * per_token * (tokens if kept is None else sympy.Min(tokens, kept))
            layers += n
        return total / layers


def _op_macs(op: TOp, exprs):
    shapes = tuple(tuple(exprs[s] for s in shape) for shape in op.shapes)
    rule = PRODUCTS[op.op]
    if rule.kind == "convolution":
        out = tuple(exprs[s] for s in op.extra["out"])
        transposed, groups = op.extra["transposed"], exprs[op.extra["groups"]]
        forward = conv_macs(shapes[0], shapes[1], out, transposed)
        backward = conv_backward_macs(shapes[0], shapes[1], out, transposed, groups, op.grads[0], op.grads[1])
        return sympy.expand(forward), sympy.expand(backward)
    forward = rule.forward(*shapes)
    backward = rule.backward(shapes, op.grads, {})
    backward = backward if isinstance(backward, sympy.Basic) else sympy.Integer(backward)
    return sympy.expand(forward), sympy.expand(backward)


def _integral(expr) -> bool:
    """Whether a fitted size is a polynomial with integer coefficients (no condition needed)."""
    symbols = sorted(expr.free_symbols, key=sympy.default_sort_key)
    if not symbols:
        return bool(expr.is_Integer)
    if not expr.is_polynomial(*symbols):
        return False
    return all(c.is_Integer for c in sympy.Poly(expr, *symbols).coeffs())


class Builder:
    """Walks a template, emitting :class:`Traced` layers as calls of a :class:`Recorded` model."""

    def __init__(self, template: Template, exprs: list, name: str, called: set, saved=None, cache=None):
        self.t = template
        self.exprs = exprs
        self.name = name
        self.called = called
        self.layers: dict = {}
        self.calls: list = []
        self.integral: set = set()
        #: parameters a token does not use: experts it is not routed to
        self.inactive = sympy.Integer(0)
        #: the saved tensors' sizes (expressions over Template.saved_values, None: not placed;
        #: :class:`PerBatch` for elements per step)
        self.saved_exprs = saved
        #: id(TNode) → the saved entries its layer holds (:meth:`place`)
        self.held: dict = {}
        self.unheld: list = []
        #: the key/value cache: (group keys, their sizes, the sequence axis) or None
        self.cache = cache
        self.cached: dict = {}  # id(TNode) → [(layers, elements per token, tokens kept or None)]
        self.cache_repeat: dict = {}  # id(TNode) → the occurrences of its layer

    # -- saved tensors -----------------------------------------------------------------

    def own(self, node: TNode) -> bool:
        """Whether a call is a layer: it owns parameters or runs products itself."""
        return node.path in self.t.params or any(isinstance(i, TOp) for i, _, _ in node.items)

    def entries(self, node: TNode) -> list:
        """``(name, elements per call of node, kind)`` of its saved storages; an entry whose
        size could not be placed is None."""
        out = []
        listed = [(*entry, False, k in node.selective, k in node.split) for k, entry in enumerate(node.saved)]
        listed += [(name, "activation", slots, sign, times, True, selective, split)
                   for name, slots, sign, times, selective, split in node.casts]
        for name, kind, (elements, shape), sign, times, cast, selective, split in listed:
            size = self.saved_exprs[elements]
            per_batch = isinstance(size, PerBatch)
            if per_batch:
                size = size.size
            if size is None:  # the elements as no monomial or sum of the dims: the product of the axes
                sizes = [self.saved_exprs[s] for s in shape]
                size = None if any(s is None for s in sizes) else sympy.Mul(*sizes)
            n = sympy.Integer(1) if times is None else self.saved_exprs[times]
            if size is None or n is None:
                out.append(None)
                continue
            out.append((name, sympy.expand(sign * n * size), kind, per_batch, cast, selective, split))
        return out

    def place(self, node: TNode) -> list:
        """Give each saved storage to one layer: a call that is a layer holds its own and
        those of the calls inside it that are none (an activation module, the parent's
        own code); a call that is no layer passes them to its first layer inside called
        once per call of it, else to its caller (times its number of calls there). What
        no layer takes is returned (per call of ``node``)."""
        entries = self.entries(node)
        for item, mult, _ in node.items:
            if isinstance(item, TOp):
                continue
            n = sympy.Integer(1) if mult is None else self.exprs[mult]
            entries += [e if e is None else (e[0], sympy.expand(e[1] * n), *e[2:]) for e in self.place(item)]
        if not entries:
            return []
        target = node if self.own(node) else self._once_inside(node)
        if target is None:
            return entries
        self.held.setdefault(id(target), []).extend(entries)
        return []

    def _once_inside(self, node: TNode):
        for item, mult, _ in node.items:
            if isinstance(item, TOp) or item.routed is not None or (mult is not None and self.exprs[mult] != 1):
                continue
            if self.own(item):
                return item
            found = self._once_inside(item)
            if found is not None:
                return found
        return None

    def place_cache(self) -> bool:
        """Give each group of cache layers to the layer of its owner (the call that
        updated the cache), or of the first layer inside it; False when one cannot be
        placed or its size could not be (then no cache is declared: never a part of it)."""
        keys, sizes, _ = self.cache
        nodes: dict = {}

        def visit(node):
            nodes.setdefault(index_free(node.path), node)
            for item, _, _ in node.items:
                if isinstance(item, TNode):
                    visit(item)

        visit(self.t.root)
        for g, (owner, capped) in enumerate(keys):
            layers, per_token, kept = sizes[3 * g: 3 * g + 3]
            node = nodes.get(owner)
            if node is not None and not self.own(node):
                node = self._once_inside(node)
            if node is None or layers is None or per_token is None or kept is None:
                return False
            self.cached.setdefault(id(node), []).append((layers, per_token, kept if capped else None))
        return True

    def saves(self, node: TNode):
        """The entries ``node``'s layer holds, or None when one could not be placed."""
        if self.saved_exprs is None:
            return None
        held = self.held.get(id(node), [])
        return None if any(e is None for e in held) else tuple(held)

    def shape(self, slots) -> tuple:
        sizes = tuple(self.exprs[s] for s in slots)
        if any(size is None for size in sizes):
            return (None,)  # a size no probe could place: the shape is unknown
        for size in sizes:
            if not _integral(size):
                self.integral.add(size)
        return (None, *sizes)

    def layer(self, node: TNode, display: str) -> Traced:
        """The module's layer; a module called again on other sizes (DeBERTa's
        ``query_proj`` on the hidden states, then on the relative position embeddings)
        gets a layer of its own for that call's products, its weights counted once."""
        cached = self.layers.get(node.module_id)
        declared = [(name, tuple(self.exprs[s] for s in shape), trainable)
                    for name, shape, trainable in self.t.params.get(node.path, ())]
        ops = []
        for item, _, _ in node.items:
            if isinstance(item, TOp):
                for shape in item.shapes:
                    self.shape(shape)
                forward, backward = _op_macs(item, self.exprs)
                operand = "weight" if any(p is not None for p in item.params) else "activation"
                ops.append((forward, backward, operand, item.op))
        output = self.shape(node.output_shape)
        integral = sorted(self.integral, key=sympy.default_sort_key)
        self.integral = set()
        saves = self.saves(node)
        if cached is not None:
            if cached.ops == tuple(ops) and cached.saves == saves:
                return cached
            return Traced(node.kind, (), ops, output, integral, name=f"{display} (called again)", saves=saves)
        layer = Traced(node.kind, declared, ops, output, integral, name=display, saves=saves)
        self.give_roles(layer, node.path, node)
        if id(node) in self.cached:
            layer.cache_elements = CacheRule(self.cached[id(node)], self.cache[2])
        self.layers[node.module_id] = layer
        return layer

    def give_roles(self, layer: Traced, path: str, node: TNode | None = None) -> None:
        """Megatron-LM's roles of the parameters of ``path`` (:mod:`.parallel`):
        ``weight_roles`` (name → column, row or vocab) and ``parallel_sizes``, what
        ``tp`` must divide: the size along the axis each role splits, and the heads of
        the products ``node`` runs split by heads."""
        roles, sizes = {}, []
        for item, _, _ in node.items if node is not None else ():
            if isinstance(item, TOp) and item.split:
                heads = self.exprs[item.shapes[0][0]]
                if all(heads != e for _, e in sizes):
                    sizes.append((f"the heads of {path}", heads))
        for name, shape, _ in self.t.params.get(path, ()):
            found = self.t.roles.get((path, name))
            if found is None:
                continue
            role, axis = found
            roles[name] = role
            what = {"column": "the output features", "row": "the input features", "vocab": "the vocabulary"}[role]
            sizes.append((f"{what} of {path}.{name}", self.exprs[shape[axis]]))
            slot = self.t.heads.get((path, name))
            heads = None if slot is None or self.saved_exprs is None else self.saved_exprs[slot]
            if heads is not None and not isinstance(heads, PerBatch) and all(heads != e for _, e in sizes):
                sizes.append((f"the heads of {path}", heads))
        if roles:
            layer.weight_roles = roles
        if sizes:
            layer.parallel_sizes = lambda shape, sizes=tuple(sizes): sizes

    def walk(self, node: TNode, path: tuple, repeat, weights=None) -> None:
        """Emit ``node``'s calls ``repeat`` times; inside a routed list its parameters
        ``weights`` times (every expert) and its products ``repeat`` times (over the rows
        of all experts together)."""
        own = node.path in self.t.params or any(isinstance(i, TOp) for i, _, _ in node.items)
        display = node.path or self.name
        if own and weights is not None:
            whole = self.layer(node, display)
            shape = self.shape(node.input_shape)
            every = Traced(whole.kind, whole.declared, (), whole.output, whole.integral,
                           name=f"{display} (weights of every expert)")
            self.give_roles(every, node.path, node)
            self.calls.append(Call(every, shape, path, weights, True))
            self.calls.append(Call(Traced(whole.kind, (), whole.ops, whole.output, whole.integral,
                                          name=f"{display} (the routed tokens)", saves=whole.saves),
                                   shape, path, repeat, True))
        elif own:
            counted_before = node.module_id in self.layers
            layer = self.layer(node, display)
            if not counted_before:
                self.inactive += repeat * self._inactive(node)
            if id(node) in self.cached:
                self.cache_repeat[id(node)] = self.cache_repeat.get(id(node), 0) + repeat
            self.calls.append(Call(layer, self.shape(node.input_shape), path, repeat, True))
        inner = (*path, node.path.rsplit(".", 1)[-1]) if node.path else path
        for item, mult, shared in node.items:
            if isinstance(item, TOp):
                continue
            n = sympy.Integer(1) if mult is None else self.exprs[mult]
            if item.routed is not None and weights is None:
                members, rows, tokens = (self.exprs[s] for s in item.routed)
                self.walk(item, inner, repeat * n, repeat * n * members)
                # a token uses rows/tokens of the members' weights (top-k of them)
                self.inactive += repeat * n * (members - rows / tokens) * self._weights_under(item)
            elif shared:
                self.walk(item, inner, repeat, weights)
                self.walk(item, inner, repeat * (n - 1), None if weights is None else weights * (n - 1) / n)
            else:
                self.walk(item, inner, repeat * n, None if weights is None else weights * n)

    def _weights_under(self, node: TNode):
        """The parameters of one member of a routed list (its own and its submodules')."""
        total = sympy.Integer(0)
        for path, params in self.t.params.items():
            if path == node.path or path.startswith(node.path + "."):
                for _, shape, _ in params:
                    total += sympy.Mul(*(self.exprs[s] for s in shape))
        return total

    def _inactive(self, node: TNode):
        """Parameters of the node's stacked experts one token is not routed to: of ``E``
        slices, a token uses ``rows / tokens`` (top-k) on average."""
        total, seen = sympy.Integer(0), set()
        for item, _, _ in node.items:
            if not isinstance(item, TOp) or item.routed is None:
                continue
            rows, tokens = (self.exprs[s] for s in item.routed)
            for p in item.params:
                if p is None or not p[2] or p[:2] in seen:
                    continue
                seen.add(p[:2])
                shape = next((s for name, s, _ in self.t.params.get(p[0], ()) if name == p[1]), None)
                if shape is None:
                    continue
                sizes = [self.exprs[s] for s in shape]
                numel = sympy.Mul(*sizes)
                total += numel * (1 - rows / (tokens * sizes[0]))
        return total

    def build(self) -> Recorded:
        if self.saved_exprs is not None:
            self.unheld = self.place(self.t.root)
        if self.cache is not None and not self.place_cache():
            self.cached = {}
        self.walk(self.t.root, (), sympy.Integer(1))
        if self.cached and any(sympy.expand(self.cache_repeat.get(k, 0) - sum(g[0] for g in groups)) != 0
                               for k, groups in self.cached.items()):
            for call in self.calls:  # a cache layer for each occurrence, or none declared
                call.layer.__dict__.pop("cache_elements", None)
        if self.unheld:  # saved by calls no layer stands for: the model's own code
            saves = None if any(e is None for e in self.unheld) else tuple(self.unheld)
            layer = Traced("Saved", (), (), (None,), name=f"{self.name} (tensors saved outside its layers)",
                           saves=saves)
            self.calls.append(Call(layer, (None,), (), sympy.Integer(1), True))
        for path, params in self.t.params.items():
            if path in self.called:
                continue
            declared = [(name, tuple(self.exprs[s] for s in shape), trainable) for name, shape, trainable in params]
            saves = None if self.saved_exprs is None else ()  # never called: saves nothing
            layer = Traced("Parameters", declared, (), (None,), name=path, saves=saves)
            self.give_roles(layer, path)  # a tied weight another module called (T5's shared embedding)
            self.calls.append(Call(layer, (None,), tuple(path.split(".")[:-1]), sympy.Integer(1), True))
        model = Recorded(self.name, self.calls, exact="operators")
        if self.inactive != 0:
            model.active = None  # set by the caller with the total
            model.inactive = sympy.expand(self.inactive)
        return model


def called_paths(recording) -> set:
    """Every module path the forward called, and the paths inside them that own parameters."""
    paths = set()

    def visit(node):
        paths.add(node.path)
        for c in node.children:
            if hasattr(c, "children"):
                visit(c)

    visit(recording.root)
    return paths
