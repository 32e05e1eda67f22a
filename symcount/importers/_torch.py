"""``from_torch``: a live ``torch.nn.Module`` as a symcount model.

The module tree is read first: each module of a class symcount knows (``nn.Linear``,
``nn.Conv2d`` … and the Hugging Face modules of :mod:`._hf`) becomes the symcount layer
with the same constructor arguments, checked against the module's own parameter count;
a module symcount does not know that owns parameters becomes an :class:`~._common.Opaque`
layer of those parameters (with a warning); the hierarchy gives the blocks. Then the
wiring, in the first way that works:

1. **graph** — ``torch.fx`` traces each container's ``forward`` (its children as leaves)
   and the graph is rebuilt from symcount layers (``x + y`` as ``Add``, ``torch.cat`` as
   ``Cat``, ``torch.flatten`` …): shapes, MACs and validity conditions are symbolic in the
   input's dims, exactly as for a model written with symcount.
2. **recorded** — a forward pass on the meta device (no memory, no arithmetic) with an
   example input records which layers run, in which order, on which shapes; sizes that
   follow an input axis (checked at three lengths) or equal a dim become symbolic, the
   rest are the recorded numbers. Exact for the parameters and for the products inside
   known modules; a product between activations outside them is not seen.
3. **parameters** — without an input shape (or when the forward pass fails), the layers
   in tree order: the parameters are exact, shapes and costs are not reported.

Tied parameters (one ``Parameter`` in two modules) are counted once; a module used twice
is one layer called twice. Runs of identical children of a ``ModuleList``/``Sequential``
become ``Repeat(block, n)`` when a dim has their number as value (``n_layer``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import sympy

from ..errors import ArgumentError, SymcountError
from ..graph import Block, Model, Repeat, Tensor
from ..layer import Layer, build
from . import _hf
from ._common import Call, Function, Opaque, Recorded, warn
from ._symbols import Symbols
from ._torch_modules import _NotMapped, mapping_of


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an optional dependency
        raise ArgumentError("from_torch needs PyTorch: pip install torch") from None
    return torch


class _Unsupported(Exception):
    """The graph cannot be rebuilt from symcount layers (the reason is the message)."""


def from_torch(module, input_shape=None, dims=None, *, dtype=None, name: str | None = None):
    """The symcount model of ``module`` (a ``torch.nn.Module``, on any device, meta included).

    - ``input_shape``: the input's shape without the batch axis, entries ints or dim
      names (``(3, "H", "W")``, ``("seq_len",)``), their values from ``dims``; a list of
      shapes for several inputs. Without it only the parameters are imported.
    - ``dims``: ``{"d_model": 768, …}`` (a value may be an attribute path of the module,
      ``"encoder.layers.0.linear1.out_features"``), a Hugging Face config (its integer
      fields), or a list of these. Size arguments equal to a dim's value become the dim.
    - ``dtype``: the input's dtype for the forward pass (default: ``torch.long`` for a
      transformers model taking ``input_ids``, else ``torch.float32``).

    Returns a model with ``count()``; its ``exact`` says what is exact (``"graph"``: all;
    ``"shapes"``: parameters, recorded shapes and the products of known modules;
    ``"parameters"``: parameters only) and ``values`` the dims' values.

        model = sc.from_torch(gpt2, input_shape=("seq_len",), dims=[gpt2.config, {"seq_len": 1024}])
        model.count().total          # 12*n_embd**2*n_layer + … in GPT-2's config names
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ArgumentError(f"from_torch: expected a torch.nn.Module. Received: {module!r} ({type(module).__name__})")
    return _Importer(module, dims, name).run(input_shape, dtype)


# ---------------------------------------------------------------------------
# The module tree
# ---------------------------------------------------------------------------


@dataclass
class _Kind:
    """What a module is to the importer."""

    kind: str  # "leaf" (mapped), "opaque" (own parameters, children walked), "whole" (opaque with its
    #            children), "function" (weightless, unknown, no children), "container"
    mapping: object = None
    params: tuple = ()  # (name, shape, trainable) of an opaque module


def _layer_key(layer: Layer):
    """A layer's identity without its name (two identical blocks have equal keys)."""
    from ..layer import _freeze

    return type(layer), _freeze({k: v for k, v in layer.config.items() if k != "name"})


def _own_args(layer: Layer, values: dict) -> dict:
    """Value → expression for the layer's symbolic size arguments (provenance for shapes)."""
    found = {}

    def visit(value):
        if isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, sympy.Expr) and value.free_symbols:
            number = value.xreplace({s: sympy.Integer(values[s.name]) for s in value.free_symbols
                                     if s.name in values})
            if number.is_Integer:
                found.setdefault(int(number), value)

    for k, v in layer.config.items():
        visit(v)
    return found


class _Importer:
    def __init__(self, root, dims, name):
        self.torch = _torch()
        self.root = root
        self.name = name or type(root).__name__
        self.symbols = Symbols.parse(dims, resolve=self._resolve, source="from_torch: dims")
        _hf.derive(self.symbols)
        self.qualnames = {id(m): q for q, m in root.named_modules()}
        self.kinds: dict[int, _Kind] = {}
        self.layers: dict[int, Layer] = {}
        self.notes: list[str] = []

    def _resolve(self, name, path):
        """A dim given as an attribute path of the module: ``"encoder.layers.0.linear1.out_features"``."""
        value = self.root
        for part in path.split("."):
            if not hasattr(value, part):
                raise ArgumentError(f"from_torch: dims: {name}={path!r}: {type(value).__name__} has no attribute "
                                    f"{part!r}")
            value = getattr(value, part)
        return value

    # -- classification ------------------------------------------------------------------

    def kind(self, m) -> _Kind:
        key = id(m)
        if key not in self.kinds:
            self.kinds[key] = self._classify(m)
        return self.kinds[key]

    def _classify(self, m) -> _Kind:
        qual = self.qualnames.get(id(m), "") or "(the model)"
        mapping = _hf.mapping_of(m) or mapping_of(m)
        if mapping is not None:
            problem = self._check(m, mapping)
            if problem is None:
                return _Kind("leaf", mapping)
            params = self._params(m, recurse=True)
            if params:
                warn(f"from_torch: {qual} ({type(m).__name__}) {problem}; counted as an opaque block of its "
                     f"{self._numel(params):,} parameters")
            return _Kind("whole" if params else "function", params=params)
        own = self._params(m, recurse=False)
        if own:
            warn(f"from_torch: {qual} ({type(m).__name__}) is a module symcount does not know: counted as an opaque "
                 f"block of its own {self._numel(own):,} parameters ({', '.join(n for n, _, _ in own)}); its cost "
                 f"is not counted")
            return _Kind("opaque", params=own)
        if not any(True for _ in m.children()):
            return _Kind("function")
        return _Kind("container")

    @staticmethod
    def _numel(params) -> int:
        total = 0
        for _, shape, _ in params:
            n = 1
            for s in shape:
                n *= s
            total += n
        return total

    def _params(self, m, recurse: bool) -> tuple:
        seen, params = set(), []
        for n, p in m.named_parameters(recurse=recurse):
            if id(p) not in seen:
                seen.add(id(p))
                params.append((n, tuple(int(s) for s in p.shape), bool(p.requires_grad)))
        return tuple(params)

    def _check(self, m, mapping) -> str | None:
        """Why the mapped layer would not count the module's parameters (None: it does)."""
        try:
            layer = mapping.make(m, _numeric, None)
            if layer is None:
                return "is configured in a way symcount does not model"
            built = build(layer, mapping.probe(m))
        except (_NotMapped, SymcountError, AttributeError, TypeError) as exc:
            return f"cannot be mapped ({exc})"
        declared = sum(int(w.size) for w in built.weights if w.counts)
        actual = sum(p.numel() for p in m.parameters())
        if declared != actual:
            return f"has {actual:,} parameters where {type(layer).__name__} declares {declared:,}"
        return None

    # -- layers ----------------------------------------------------------------------------

    def sizer(self, where: str):
        symbols = self.symbols

        def size(value, hint=None, repeat=False):
            if isinstance(value, (list, tuple)):
                return tuple(size(v, hint) for v in value)
            if repeat:
                found = symbols.repeat(value, where) if isinstance(value, int) else None
                return value if found is None else found
            return symbols.size(value, where, hint)

        return size

    def layer(self, m, display: str, outputs=None) -> Layer:
        """The layer of module ``m`` (one object per module: a module used twice is shared)."""
        key = id(m)
        if key in self.layers:
            return self.layers[key]
        kind = self.kind(m)
        if kind.kind == "leaf":
            layer = kind.mapping.make(m, self.sizer(f"{display} ({type(m).__name__})"), display)
            params = list(m.parameters())
            if params and not any(p.requires_grad for p in params):
                from ._common import Frozen

                layer = Frozen(layer)
        elif kind.kind in ("opaque", "whole"):
            layer = Opaque(type(m).__name__, kind.params, output=None, name=display)
            if outputs:
                layer = _OpaqueRecorded(type(m).__name__, kind.params, outputs=outputs, name=display)
        else:
            layer = _OpaqueRecorded(type(m).__name__, (), outputs=outputs or (), name=display)
        self.layers[key] = layer
        return layer

    def unnamed_key(self, m):
        kind = self.kind(m)
        if kind.kind == "leaf":
            return _layer_key(kind.mapping.make(m, self.sizer(""), None))
        return (kind.kind, type(m).__name__, kind.params)

    # -- the three modes -------------------------------------------------------------------

    def run(self, input_shape, dtype):
        inputs = self._inputs(input_shape)
        model = None
        if inputs is not None:
            try:
                model = self._graph(inputs)
            except _Unsupported as exc:
                self.notes.append(f"not traced as a graph: {exc}")
            if model is None:
                self.layers.clear()
                try:
                    model = self._recorded(inputs, dtype)
                except _Unsupported as exc:
                    warn(f"from_torch: {self.name}: the forward pass on the meta device failed ({exc}); only the "
                         f"parameters are imported")
                    self.notes.append(f"not recorded: {exc}")
                    self.layers.clear()
        if model is None:
            model = self._parameters()
        self._tie(model)
        model.values = self.symbols.values_of_used()
        model.notes = list(self.notes)
        self._verify(model)
        return model

    def _inputs(self, input_shape):
        """The input shapes, symbolic (dim names as the input's axes), or None."""
        if input_shape is None:
            return None
        shapes = input_shape if input_shape and all(isinstance(s, (list, tuple)) for s in input_shape) \
            else [input_shape]
        out = []
        for shape in shapes:
            if not isinstance(shape, (list, tuple)) or not shape:
                raise ArgumentError(f"from_torch: input_shape must be a tuple of sizes without the batch axis, "
                                    f"e.g. (3, 'H', 'W'). Received: {input_shape!r}")
            axes = []
            for entry in shape:
                if isinstance(entry, sympy.Symbol):
                    entry = entry.name
                if isinstance(entry, str):
                    if entry not in self.symbols.values:
                        raise ArgumentError(f"from_torch: input_shape names {entry!r}: give its value in dims, "
                                            f"e.g. dims={{{entry!r}: 224}}")
                    axes.append(self.symbols.axis(entry))
                elif isinstance(entry, int) and not isinstance(entry, bool) and entry > 0:
                    axes.append(self.symbols.size(entry, "input_shape"))
                else:
                    raise ArgumentError(f"from_torch: input_shape entries must be positive integers or dim names. "
                                        f"Received: {entry!r} in {input_shape!r}")
            out.append(tuple(axes))
        return out

    def _value(self, expr) -> int:
        if isinstance(expr, int):
            return expr
        return int(expr.xreplace({s: sympy.Integer(self.symbols.values[s.name]) for s in expr.free_symbols}))

    # -- mode 1: the graph -------------------------------------------------------------------

    def _graph(self, inputs):
        from ..torch import Input

        builder = _GraphBuilder(self)
        from ..graph import as_tensor

        tensors = [as_tensor(Input(shape, name="input" if len(inputs) == 1 else f"input_{i}"))
                   for i, shape in enumerate(inputs)]
        try:
            outputs = builder.call(self.root, "", tensors)
            flat = [o for o in _flatten(outputs) if isinstance(o, Tensor)]
            if not flat:
                raise _Unsupported("the forward returns no tensor")
            model = Model(tensors, flat if len(flat) > 1 else flat[0], name=self.name)
            model.count()  # every layer built on its shapes now, so that a failure falls back here
        except _Unsupported:
            raise
        except SymcountError as exc:
            raise _Unsupported(f"a layer rejected its input: {exc}") from None
        model.exact = "graph"
        model._used = builder.used
        return model

    # -- mode 2: a recorded forward pass ------------------------------------------------------

    def _recorded(self, inputs, dtype):
        recorder = _Recorder(self, inputs, dtype)
        calls = recorder.record()
        model = Recorded(self.name, calls, exact="shapes")
        model._used = recorder.used
        return model

    # -- mode 3: the module tree alone -----------------------------------------------------

    def _parameters(self):
        entries = []
        for qual, m in self.root.named_modules():
            if self._inside_leaf(qual):
                continue
            kind = self.kind(m)
            if kind.kind in ("opaque", "whole") or kind.kind == "leaf" and self._params(m, recurse=True):
                entries.append(_Entry(m, qual or type(m).__name__, None, None))
        entries = _collapse(self, entries)
        calls, used = [], []
        for e in entries:
            kind = self.kind(e.module)
            layer = self.layer(e.module, e.display)
            if kind.kind == "leaf":
                inner = getattr(layer, "layer", layer)
                shape = _symbolize_probe(kind.mapping.probe(e.module), _own_args(inner, self.symbols.values))
            else:
                shape = (None,)
            calls.append(Call(layer, shape, _path(e.display), e.repeat, True))
            used.append((e.module, layer))
        model = Recorded(self.name, calls, exact="parameters")
        model._used = used
        return model

    def _inside_leaf(self, qual: str) -> bool:
        """Whether ``qual`` lies inside a mapped or whole-opaque module (its parameters are that layer's)."""
        parts = qual.split(".")
        for i in range(1, len(parts)):
            parent = self.root.get_submodule(".".join(parts[:i])) if i else self.root
            if self.kind(parent).kind in ("leaf", "whole"):
                return True
        return bool(qual) and self.kind(self.root).kind in ("leaf", "whole")

    # -- ties and the final check -----------------------------------------------------------

    def weight_names(self, m) -> set:
        """The names of the weights the layer of ``m`` declares (torch's parameter names)."""
        kind = self.kind(m)
        if kind.kind != "leaf":
            return {n for n, _, _ in kind.params}
        return {w.name for w in build(kind.mapping.make(m, _numeric, None), kind.mapping.probe(m)).weights}

    def _tie(self, model) -> None:
        """One parameter in two layers (``lm_head.weight = wte.weight``): the later one is tied."""
        owners: dict = {}
        for module, layer in model._used:
            for pname, p in module.named_parameters(remove_duplicate=False):
                owner = owners.get(id(p))
                if owner is None:
                    owners[id(p)] = (module, layer, pname)
                elif owner[1] is not layer and pname in self.weight_names(module) and \
                        owner[2] in self.weight_names(owner[0]):
                    model.tie(layer, pname, owner[1], owner[2])

    def _verify(self, model) -> None:
        """The import's parameter count at the dims' values against the module's own."""
        expected = sum(p.numel() for p in self.root.parameters())
        count = model.count()
        total = count.total.xreplace({d: sympy.Integer(self.symbols.values[d.name]) for d in count.dims
                                      if d.name in self.symbols.values})
        if not total.is_Integer or int(total) != expected:
            warn(f"from_torch: {self.name}: the import counts {total} parameters where the module has {expected:,}; "
                 f"please report this with the model's definition")


def _numeric(value, hint=None, repeat=False):
    return tuple(value) if isinstance(value, list) else value


def _path(display: str) -> tuple:
    parts = display.split(".")
    return tuple(parts[:-1])


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    else:
        yield value


def _symbolize_probe(shape, own):
    if shape and isinstance(shape[0], tuple):
        return tuple(_symbolize_probe(s, own) for s in shape)
    return tuple(None if s is None else own.get(s, s) for s in shape)


class _OpaqueRecorded(Opaque):
    """An opaque module with the outputs it was seen to produce, per input shape."""

    def __init__(self, kind, weights=(), outputs=(), inputs=1, name=None):
        super().__init__(kind, weights, None, inputs, name)
        self.outputs = tuple(outputs or ())

    def output_shape(self, shape):
        for seen, out in self.outputs:
            if seen == tuple(shape):
                return out
        return super().output_shape(shape)


# ---------------------------------------------------------------------------
# Runs of identical children: Repeat
# ---------------------------------------------------------------------------


@dataclass
class _Entry:
    """A module's call (or, without a forward pass, the module itself) to emit."""

    module: object
    qual: str
    shape: object
    output: object
    grad: bool = True
    display: str = ""
    repeat: sympy.Expr = sympy.Integer(1)
    order: int = 0

    def __post_init__(self):
        self.display = self.display or self.qual


def _collapse(importer: _Importer, entries: list) -> list:
    """Runs of identical consecutive children of a list container, whose number is a
    dim, kept once with that multiplicity (the first child's entries, named ``list.*``,
    or ``list.1-5`` for part of the list). Outer lists first; a collapsed run's inner
    lists are collapsed in turn (their multiplicities multiply)."""
    lists = [(q, m) for q, m in importer.root.named_modules()
             if _indexed_children(m) and not importer._inside_leaf(q)]
    for list_qual, container in sorted(lists, key=lambda x: x[0].count(".") if x[0] else -1):
        children = _indexed_children(container)
        prefix = f"{list_qual}." if list_qual else ""
        starts = [f"{prefix}{index}" for index, _ in children]

        def positions(start):
            return [i for i, e in enumerate(entries) if e.qual == start or e.qual.startswith(start + ".")]

        groups = [positions(start) for start in starts]
        signatures = [_signature(importer, entries, g, start) for g, start in zip(groups, starts)]
        drop, i = set(), 0
        while i < len(children):
            j = i + 1
            while j < len(children) and signatures[i] is not None and signatures[j] == signatures[i] \
                    and groups[j][0] == groups[j - 1][-1] + 1:
                j += 1
            run = j - i
            count = None
            if run > 1:
                count = importer.symbols.repeat(run, f"{list_qual or 'the model'}: {run} identical "
                                                     f"{type(children[i][1]).__name__}")
            if count is not None:
                index = children[i][0]
                label = "*" if run == len(children) else f"{index}-{children[j - 1][0]}"
                for k in groups[i]:
                    e = entries[k]
                    rel = e.qual[len(starts[i]):]
                    head = e.display[:len(e.display) - len(rel)] if rel else e.display
                    e.display = head[:len(head) - len(index)] + label + rel
                    e.repeat = e.repeat * count
                drop.update(k for g in groups[i + 1:j] for k in g)
            i = j
        entries = [e for k, e in enumerate(entries) if k not in drop]
    return entries


def _indexed_children(m) -> list:
    """``[(index, child)]`` of a ModuleList/Sequential-like container (children named 0, 1, …)."""
    children = list(m.named_children())
    if len(children) < 2 or not all(n.isdigit() for n, _ in children):
        return []
    return children


def _signature(importer, entries, positions, start):
    """What must agree for two children to be one repeated block: their entries in order
    (relative module names, layers without names, shapes, gradient flags), contiguous."""
    if not positions or positions != list(range(positions[0], positions[0] + len(positions))):
        return None
    sig = []
    for k in positions:
        e = entries[k]
        sig.append((e.qual[len(start):], importer.unnamed_key(e.module), e.shape, e.output, e.grad))
    return tuple(sig)


# ---------------------------------------------------------------------------
# Mode 1: torch.fx graphs, one per container, rebuilt from symcount layers
# ---------------------------------------------------------------------------


class _Size:
    """``x.size(i)`` or ``x.shape[i]`` of a symbolic tensor (only used to reshape)."""

    def __init__(self, tensor, axis):
        self.tensor, self.axis = tensor, axis


class _ShapeOf:
    def __init__(self, tensor):
        self.tensor = tensor


class _GraphBuilder:
    def __init__(self, importer: _Importer):
        self.importer = importer
        self.torch = importer.torch
        self.graphs: dict[int, object] = {}
        self.ops: dict = {}
        self.blocks: dict = {}
        self.used: list = []
        self._used_ids: set = set()

    # -- tracing ---------------------------------------------------------------------------

    def graph(self, m):
        key = id(m)
        if key not in self.graphs:
            import torch.fx as fx

            class Tracer(fx.Tracer):
                def is_leaf_module(self, module, qualname):
                    return module is not m

            try:
                self.graphs[key] = Tracer().trace(m)
            except Exception as exc:  # noqa: BLE001 - any tracing failure means: record instead
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise _Unsupported(f"torch.fx cannot trace {type(m).__name__}: {first}") from None
        return self.graphs[key]

    def signature(self, m):
        kind = self.importer.kind(m)
        if kind.kind == "leaf":
            return self.importer.unnamed_key(m)
        if kind.kind not in ("container", "function"):
            raise _Unsupported(f"{self.importer.qualnames.get(id(m), '')} ({type(m).__name__}) is not a known module")
        graph = self.graph(m)
        children = tuple((n.target, self.signature(m.get_submodule(n.target)))
                         for n in graph.nodes if n.op == "call_module")
        return type(m), graph.python_code(root_module="self").src, children

    # -- calling -----------------------------------------------------------------------------

    def call(self, m, display, tensors):
        """``m`` applied to symbolic tensors: a layer call, or its graph replayed."""
        kind = self.importer.kind(m)
        if kind.kind == "leaf":
            layer = self.importer.layer(m, display or type(m).__name__)
            self._use(m, layer)
            needed = kind.mapping.inputs
            args = tensors[:needed] if needed > 1 else tensors[0]
            if needed > 1 and len(tensors) < needed and needed == 3:
                args = tensors[0]  # self-attention on one tensor
            return layer(args)
        if kind.kind not in ("container", "function"):
            raise _Unsupported(f"{display or 'the model'} ({type(m).__name__}) is not a module symcount knows")
        return self.replay(m, display, tensors)

    def _use(self, m, layer):
        if id(m) not in self._used_ids:
            self._used_ids.add(id(m))
            self.used.append((m, layer))

    def child(self, parent, parent_display, target, tensors, repeat_label=None):
        child = parent.get_submodule(target)
        display = _join(parent_display, repeat_label or target)
        kind = self.importer.kind(child)
        if kind.kind == "container" and len(tensors) == 1:
            key = (id(child), display)
            if key not in self.blocks:
                self.blocks[key] = Block(repeat_label or target, lambda x, c=child, d=display: self._single(c, d, x))
            return self.blocks[key](tensors[0])
        return self.call(child, display, tensors)

    def _single(self, m, display, x):
        out = self.replay(m, display, [x])
        if not isinstance(out, Tensor):
            raise _Unsupported(f"{display} returns {type(out).__name__}, not one tensor")
        return out

    def replay(self, m, display, tensors):
        graph = self.graph(m)
        nodes = list(graph.nodes)
        runs = self.runs(m, nodes)
        env: dict = {}
        inputs = iter(tensors)
        skip: set = set()
        for node in nodes:
            if node.name in skip:
                continue
            if node.op == "placeholder":
                value = next(inputs, _MISSING)
                if value is _MISSING:
                    if node.args:
                        value = node.args[0]
                    else:
                        raise _Unsupported(f"{display or 'the model'}: no input for {node.target!r}")
                env[node.name] = value
            elif node.op == "get_attr":
                raise _Unsupported(f"{display or 'the model'} reads {node.target!r} directly")
            elif node.op == "call_module":
                args = [_lookup(a, env) for a in node.args]
                if node.name in runs:
                    label, members, count = runs[node.name]
                    block_display = _join(display, label)
                    child = m.get_submodule(node.target)
                    key = (id(child), block_display)
                    try:
                        if key not in self.blocks:
                            self.blocks[key] = Repeat(
                                Block(label, lambda x, c=child, d=block_display: self._single(c, d, x)), count)
                        env[members[-1]] = self.blocks[key](args[0])
                        skip.update(members[1:])
                        continue
                    except SymcountError:
                        self.blocks.pop(key, None)  # the block changes its shape: not repeated
                tensors_in = [a for a in _flatten(args) if isinstance(a, Tensor)]
                if not tensors_in:
                    raise _Unsupported(f"{node.target} is called without a tensor")
                env[node.name] = self.child(m, display, node.target, tensors_in)
            elif node.op in ("call_function", "call_method"):
                env[node.name] = self.op(m, display, node, env)
            elif node.op == "output":
                return _lookup(node.args[0], env)
        raise _Unsupported(f"{display or 'the model'}: the graph has no output")

    def runs(self, m, nodes) -> dict:
        """Runs of identical consecutive list children in a graph: first node → (label, members, n)."""
        found = {}
        modules = [n for n in nodes if n.op == "call_module"]
        i = 0
        while i < len(modules):
            first = modules[i]
            prefix, _, index = first.target.rpartition(".")
            if not index.isdigit():
                i += 1
                continue
            container = m.get_submodule(prefix) if prefix else m
            indexed = _indexed_children(container)
            if not indexed:
                i += 1
                continue
            try:
                sig = self.signature(m.get_submodule(first.target))
            except _Unsupported:
                i += 1
                continue
            members = [first]
            j = i + 1
            while j < len(modules):
                node, last = modules[j], members[-1]
                p, _, idx = node.target.rpartition(".")
                if p != prefix or not idx.isdigit() or int(idx) != int(last.target.rpartition(".")[2]) + 1:
                    break
                if tuple(node.args) != (last,) or node.kwargs or len(last.users) != 1:
                    break
                try:
                    if self.signature(m.get_submodule(node.target)) != sig:
                        break
                except _Unsupported:
                    break
                members.append(node)
                j += 1
            if len(members) > 1:
                where = f"{_join(self.importer.qualnames.get(id(m), ''), prefix) or 'the model'}: " \
                        f"{len(members)} identical {type(m.get_submodule(first.target)).__name__}"
                count = self.importer.symbols.repeat(len(members), where)
                if count is not None:
                    whole = len(members) == len(indexed)
                    label = "*" if whole else f"{index}-{members[-1].target.rpartition('.')[2]}"
                    found[first.name] = (_join(prefix, label), [n.name for n in members], count)
            i = j
        return found

    # -- functions and methods -------------------------------------------------------------------

    def op(self, m, display, node, env):
        args = [_lookup(a, env) for a in node.args]
        kwargs = {k: _lookup(v, env) for k, v in node.kwargs.items()}
        target = node.target
        where = f"{display or 'the model'}: {node.format_node()}"
        name = _join(display, node.name)
        key = (id(m), display, node.name)

        def layer(make):
            if key not in self.ops:
                self.ops[key] = make()
            return self.ops[key]

        fn = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        if node.op == "call_method" and fn == "size":
            if len(args) == 2 and isinstance(args[1], int) and isinstance(args[0], Tensor):
                return _Size(args[0], args[1])
            raise _Unsupported(f"{where}: size() of a whole tensor")
        if target is getattr and len(args) == 2 and args[1] == "shape" and isinstance(args[0], Tensor):
            return _ShapeOf(args[0])
        if target is operator.getitem:
            return self._getitem(m, node, args, where)
        tensors = [a for a in _flatten(args) if isinstance(a, Tensor)]
        kind = _OP_KINDS.get(fn if node.op == "call_method" else target)
        if kind is None and node.op == "call_function":
            kind = _OP_KINDS.get(fn) if getattr(target, "__module__", "") in ("torch", "torch.nn.functional") \
                else None
        if kind is None:
            raise _Unsupported(f"{where}: no symcount layer for {fn}")
        if not tensors:
            raise _Unsupported(f"{where}: {fn} without a tensor")
        from .. import torch as T

        if kind == "binary":
            others = [a for a in args[1:] + list(kwargs.values()) if isinstance(a, Tensor)]
            if others:
                base = _BINARY_NAMES.get(fn, fn)
                if base == "add":
                    return layer(lambda: T.Add(name=name))([args[0], *others])
                return layer(lambda: _Elementwise(base, name=name))([args[0], *others])
            if not isinstance(args[0], Tensor):
                return layer(lambda: Function(_BINARY_NAMES.get(fn, fn), name=name))(tensors[0])
            return layer(lambda: Function(_BINARY_NAMES.get(fn, fn), name=name))(args[0])
        if kind == "unary":
            return layer(lambda: Function(fn.strip("_"), name=name))(tensors[0])
        if kind == "cat":
            seq = args[0] if args else kwargs.get("tensors")
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if not isinstance(seq, (list, tuple)) or not all(isinstance(t, Tensor) for t in seq):
                raise _Unsupported(f"{where}: cat of something other than tensors")
            return layer(lambda: T.Cat(dim, name=name))(list(seq))
        if kind == "flatten":
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return layer(lambda: T.Flatten(start, end, name=name))(args[0])
        if kind == "view":
            shape = args[1:] if len(args) > 1 and not isinstance(args[1], (list, tuple)) else \
                (list(args[1]) if len(args) > 1 else kwargs.get("shape", ()))
            if len(shape) == 2 and isinstance(shape[0], _Size) and shape[0].axis == 0 and shape[1] == -1 \
                    and shape[0].tensor is args[0]:
                return layer(lambda: T.Flatten(1, -1, name=name))(args[0])
            raise _Unsupported(f"{where}: a reshape symcount cannot follow")
        if kind in _POOLS:
            cls, names = _POOLS[kind]
            values = dict(zip(names, args[1:]))
            values.update({k: v for k, v in kwargs.items() if k in names})
            return layer(lambda: getattr(T, cls)(**values, name=name))(args[0])
        raise _Unsupported(f"{where}: no symcount layer for {fn}")  # pragma: no cover

    def _getitem(self, m, node, args, where):
        value, index = args
        if isinstance(value, _ShapeOf) and isinstance(index, int):
            return _Size(value.tensor, index)
        if isinstance(value, (list, tuple)):
            return value[index]
        if isinstance(value, Tensor) and index == 0 and _returns_tuple(m, node.args[0]):
            return value  # output, _ = lstm(x): the first output is what the layer's shape is
        if isinstance(value, Tensor) and not node.users and _returns_tuple(m, node.args[0]):
            return None
        raise _Unsupported(f"{where}: indexing a tensor")


def _returns_tuple(container, source) -> bool:
    """Whether an fx node calls a module whose output is a tuple (RNNs, MultiheadAttention)."""
    if getattr(source, "op", None) != "call_module":
        return False
    target = container.get_submodule(source.target)
    return any(cls.__name__ in ("RNNBase", "MultiheadAttention") and cls.__module__.startswith("torch.nn")
               for cls in type(target).__mro__)


_MISSING = object()


def _lookup(arg, env):
    import torch.fx as fx

    return fx.node.map_arg(arg, lambda n: env[n.name])


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


class _Elementwise(Layer):
    """``x * y``, ``x - y``, ``x / y`` on tensors: torch's broadcasting, no weights, no MACs."""

    n_inputs = None

    def __init__(self, function, name=None):
        super().__init__(name)
        self.function = function
        from .. import torch as T

        self._add = T.Add()

    @property
    def type_name(self):
        return self.function

    def requirements(self, shapes):
        return self._add.requirements(shapes)

    def output_shape(self, shapes):
        return self._add.output_shape(shapes)


_BINARY = ["add", "iadd", "mul", "imul", "sub", "isub", "truediv", "itruediv", "div", "floordiv", "__add__",
           "__iadd__", "__mul__", "__imul__", "__sub__", "__isub__", "__truediv__", "__itruediv__", "__radd__",
           "__rmul__", "add_", "mul_", "sub_", "div_", "true_divide"]
_BINARY_NAMES = {n: n.strip("_").lstrip("i") if n.strip("_") in ("iadd", "imul", "isub", "itruediv")
                 else n.strip("_") for n in _BINARY}
_BINARY_NAMES.update({"radd": "add", "rmul": "mul", "truediv": "div", "itruediv": "div", "true_divide": "div"})
_UNARY = ["relu", "relu_", "relu6", "gelu", "silu", "sigmoid", "sigmoid_", "tanh", "tanh_", "exp", "sqrt", "rsqrt",
          "neg", "abs", "pow", "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu",
          "leaky_relu", "hardswish", "hardsigmoid", "hardtanh", "mish", "softplus", "normalize", "clamp", "clamp_",
          "contiguous", "clone", "float", "half", "detach", "type_as", "to", "sign", "erf", "log", "square"]
_OP_KINDS: dict = {n: "binary" for n in _BINARY}
_OP_KINDS.update({n: "unary" for n in _UNARY})
_OP_KINDS.update({operator.add: "binary", operator.iadd: "binary", operator.mul: "binary", operator.imul: "binary",
                  operator.sub: "binary", operator.isub: "binary", operator.truediv: "binary",
                  operator.itruediv: "binary", operator.neg: "unary", operator.pow: "unary",
                  "cat": "cat", "concat": "cat", "concatenate": "cat", "flatten": "flatten", "view": "view",
                  "reshape": "view", "adaptive_avg_pool1d": "aap1", "adaptive_avg_pool2d": "aap2",
                  "max_pool2d": "mp2", "avg_pool2d": "ap2", "max_pool1d": "mp1", "avg_pool1d": "ap1"})
_POOLS = {
    "aap1": ("AdaptiveAvgPool1d", ("output_size",)),
    "aap2": ("AdaptiveAvgPool2d", ("output_size",)),
    "mp1": ("MaxPool1d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")),
    "mp2": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")),
    "ap1": ("AvgPool1d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")),
    "ap2": ("AvgPool2d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")),
}


# ---------------------------------------------------------------------------
# Mode 2: a forward pass on the meta device, recorded by hooks
# ---------------------------------------------------------------------------


class _Recorder:
    """Runs the module on meta tensors a few times (the example input; a batch one
    larger; each named input axis a little shorter) and turns the recorded calls into
    symbolic layer calls."""

    BATCH = (2, 3)
    SHIFTS = (1, 3)

    def __init__(self, importer: _Importer, inputs, dtype):
        self.importer = importer
        self.torch = importer.torch
        self.inputs = inputs
        self.dtype = dtype or self._default_dtype()
        self.used: list = []

    def _default_dtype(self):
        torch = self.torch
        if getattr(self.importer.root, "main_input_name", None) == "input_ids":
            return torch.long
        return torch.float32

    def _hooked(self):
        """The modules whose calls are recorded: mapped and opaque modules, unknown weightless leaves."""
        importer = self.importer
        hooked = []
        for qual, m in importer.root.named_modules():
            if importer._inside_leaf(qual):
                continue
            if importer.kind(m).kind != "container":
                hooked.append(m)
        return hooked

    def run(self, batch: int, sizes: dict) -> list:
        torch = self.torch
        importer = self.importer
        root = importer.root
        calls, stack, counter = [], [], [0]
        known = {id(m) for m in self._hooked()}
        handles = []

        def pre(module, args, kwargs):
            stack.append((module, counter[0]))
            counter[0] += 1

        def post(module, args, kwargs, output):
            _, order = stack.pop()
            if any(importer.kind(m).kind in ("leaf", "whole") for m, _ in stack):
                return
            kind = importer.kind(module)
            needed = kind.mapping.inputs if kind.mapping is not None else 1
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            tensors += [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
            outs = [o for o in _tree_leaves(output) if isinstance(o, torch.Tensor)]
            if not tensors:
                return
            calls.append((order, module, tuple(tuple(t.shape) for t in tensors[:needed]),
                          tuple(outs[0].shape) if outs else None, any(t.requires_grad for t in tensors[:needed])))

        for m in importer.root.modules():
            if id(m) in known:
                handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
                handles.append(m.register_forward_hook(post, with_kwargs=True))
        examples = []
        for shape in self.inputs:
            concrete = [batch] + [sizes.get(s.name, importer._value(s)) if isinstance(s, sympy.Symbol)
                                  else importer._value(s) for s in shape]
            if self.dtype.is_floating_point:
                examples.append(torch.zeros(concrete, dtype=self.dtype, device="meta"))
            else:
                examples.append(torch.zeros(concrete, dtype=self.dtype, device="meta"))
        state = {n: _meta_like(torch, t) for n, t in root.named_parameters()}
        state.update({n: _meta_like(torch, t) for n, t in root.named_buffers()})
        modes = {m: m.training for m in root.modules()}
        try:
            root.eval()
            torch.func.functional_call(root, state, tuple(examples), strict=False, tie_weights=True)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _Unsupported(f"{type(exc).__name__}: {first}") from None
        finally:
            for handle in handles:
                handle.remove()
            for m, mode in modes.items():
                m.training = mode
        calls.sort(key=lambda c: c[0])
        return [c[1:] for c in calls]

    def record(self) -> list:
        importer = self.importer
        symbols = importer.symbols
        axes = sorted({s.name for shape in self.inputs for s in shape if isinstance(s, sympy.Symbol)})
        base = self.run(self.BATCH[0], {})
        batch = self._aligned(base, self.BATCH[1], {})
        shifted = {}
        for axis in axes:
            value = symbols.values[axis]
            runs = []
            for shift in self.SHIFTS:
                if value - shift < 1:
                    break
                run = self._aligned(base, self.BATCH[0], {axis: value - shift})
                if run is None:
                    break
                runs.append((shift, run))
            if len(runs) == len(self.SHIFTS):
                shifted[axis] = runs
            else:
                importer.notes.append(f"shapes are not symbolic in {axis}: the forward pass fails at other lengths")
        nonlinear = set()

        def sym(i, which, axis_index, value, own):
            """One recorded size: the batch axis, a linear function of input axes, or a number."""
            if batch is not None and _size_at(batch[i], which, axis_index) != value:
                return None
            expr = sympy.Integer(value)
            for axis, runs in shifted.items():
                steps = [(shift, value - _size_at(run[i], which, axis_index)) for shift, run in runs]
                slope = sympy.Rational(steps[0][1], steps[0][0])
                if any(sympy.Rational(d, s) != slope for s, d in steps) or not slope.is_integer:
                    nonlinear.add(axis)
                    return int(value)
                if slope:
                    expr += slope * (symbols.symbol(axis) - symbols.values[axis])
            if expr.free_symbols:
                return sympy.expand(expr)
            if int(value) in own:
                return own[int(value)]
            return symbols.size(int(value), "a recorded shape", quiet=True)

        entries = []
        outputs: dict = {}
        for i, (module, in_shapes, out_shape, grad) in enumerate(base):
            kind = importer.kind(module)
            own = {}
            if kind.kind == "leaf":
                own = _own_args(kind.mapping.make(module, importer.sizer(""), None), symbols.values)
            shapes = tuple(tuple(sym(i, ("in", k), a, v, own) for a, v in enumerate(s))
                           for k, s in enumerate(in_shapes))
            out = None if out_shape is None else tuple(sym(i, ("out",), a, v, own) for a, v in enumerate(out_shape))
            qual = importer.qualnames.get(id(module), "") or type(module).__name__
            shape = shapes[0] if len(shapes) == 1 else shapes
            entries.append(_Entry(module, qual, shape, out, grad, order=i))
            if kind.kind != "leaf" and out is not None:
                outputs.setdefault(id(module), []).append((shape, out))
        for axis in sorted(nonlinear):
            warn(f"from_torch: {importer.name}: some recorded sizes depend on {axis} in a way the forward pass "
                 f"does not show (strides, pooling); they are the numbers at {axis}={symbols.values[axis]}. "
                 f"A model torch.fx can trace gets exact shapes")
        entries = _collapse(importer, entries)
        calls = []
        for e in entries:
            layer = importer.layer(e.module, e.display, outputs=tuple(outputs.get(id(e.module), ())))
            if not any(layer is used for _, used in self.used):
                self.used.append((e.module, layer))
            calls.append(Call(layer, e.shape, _path(e.display), e.repeat, e.grad))
        return calls

    def _aligned(self, base, batch, sizes):
        """A run whose calls are those of ``base`` (same modules, same order), or None."""
        try:
            run = self.run(batch, sizes)
        except _Unsupported:
            return None
        if len(run) != len(base) or any(a[0] is not b[0] or len(a[1]) != len(b[1]) for a, b in zip(run, base)):
            return None
        return run


def _size_at(call, which, axis_index):
    _, in_shapes, out_shape, _ = call
    shape = in_shapes[which[1]] if which[0] == "in" else out_shape
    return shape[axis_index] if shape is not None and axis_index < len(shape) else None


def _meta_like(torch, t):
    out = torch.empty(t.shape, dtype=t.dtype, device="meta")
    if t.requires_grad:
        out.requires_grad_(True)
    return out


def _tree_leaves(value):
    from torch.utils._pytree import tree_leaves

    try:
        return tree_leaves(value)
    except Exception:  # noqa: BLE001 - a ModelOutput or an exotic container
        if hasattr(value, "to_tuple"):
            return tree_leaves(value.to_tuple())
        return list(_flatten(value))
