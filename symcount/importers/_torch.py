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

import warnings
from dataclasses import dataclass

import sympy

from ..errors import ArgumentError, SymcountError
from ..graph import Model, Tensor
from ..layer import Layer, build
from . import _hf
from ._common import Call, Frozen, Opaque, Recorded, warn
from ._symbols import Symbols
from ._torch_modules import NotMapped, mapping_of
from ._torch_tree import (Entry, Unsupported, collapse, flatten, indexed_children, layer_key, own_args,
                         path_of)


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an optional dependency
        raise ArgumentError("from_torch needs PyTorch: pip install torch") from None
    return torch


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
    factory = None
    if not isinstance(module, torch.nn.Module) and callable(module):
        factory = _Factory(module, dims, input_shape)
        module = factory.build(factory.values, "meta")
        name = name or type(module).__name__
    if not isinstance(module, torch.nn.Module):
        raise ArgumentError(f"from_torch: expected a torch.nn.Module or a callable returning one. "
                            f"Received: {module!r} ({type(module).__name__})")
    importer = _Importer(module, dims, name)
    importer.factory = factory
    return importer.run(input_shape, dtype)


class _Factory:
    """A user's ``lambda **dims: MyNet(**dims)``: the module at any values of its dims."""

    def __init__(self, make, dims, input_shape):
        import inspect

        if not isinstance(dims, dict):
            raise ArgumentError("from_torch: a callable needs dims as a dict of the values to build it at, "
                                f"e.g. dims={{'d_model': 64}}. Received: dims={dims!r}")
        self.make = make
        self.values = dict(dims)
        axes = set()
        for shape in (input_shape if input_shape and all(isinstance(s, (list, tuple)) for s in input_shape)
                      else [input_shape or ()]):
            axes.update(a for a in shape if isinstance(a, str))
        try:
            parameters = inspect.signature(make).parameters
        except (TypeError, ValueError):
            parameters = {}
        takes_all = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        self.arguments = [k for k in self.values if takes_all or k in parameters]
        # an input axis may be a size of the model too (d_model); a pure axis (seq_len) is no argument
        for _ in range(len(axes) + 1):
            try:
                self.build(self.values, "meta")
                break
            except TypeError as exc:
                unexpected = [a for a in axes if a in self.arguments and repr(a) in str(exc)]
                if not unexpected:
                    self.arguments = [k for k in self.arguments if k not in axes]
                    break
                self.arguments.remove(unexpected[0])

    def build(self, values, device):
        torch = _torch()
        with torch.device(device):
            module = self.make(**{k: values[k] for k in self.arguments})
        if not isinstance(module, torch.nn.Module):
            raise ArgumentError(f"from_torch: the callable returned {type(module).__name__}, not a torch.nn.Module")
        return module


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
            if not any(True for _ in m.parameters()):
                return None  # nothing to miscount; its shapes are checked where it is called
            built = build(layer, mapping.probe(m))
        except (NotMapped, SymcountError, AttributeError, TypeError) as exc:
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
                layer = Frozen(layer)
        else:  # opaque: its own parameters (none for an unknown weightless module), the outputs it was seen to give
            layer = _OpaqueRecorded(type(m).__name__, kind.params, outputs=outputs or (), name=display)
        self.layers[key] = layer
        return layer

    def unnamed_key(self, m):
        kind = self.kind(m)
        if kind.kind == "leaf":
            where = f"{self.qualnames.get(id(m), '') or 'the model'} ({type(m).__name__})"
            return layer_key(kind.mapping.make(m, self.sizer(where), None))
        return (kind.kind, type(m).__name__, kind.params)

    # -- the three modes -------------------------------------------------------------------

    def _operators(self, inputs, dtype):
        """The import from the operators the model runs (:mod:`.traced`), or None when its
        forward cannot be recorded."""
        from . import hf
        from .operators import Runner, tensor_inputs
        from .traced import trace

        axes = [s.name for shape in inputs for s in shape if isinstance(s, sympy.Symbol)]
        dtype = dtype or (self.torch.long if getattr(self.root, "main_input_name", None) == "input_ids"
                          else self.torch.float32)
        make_inputs = tensor_inputs(inputs, dtype)
        factory = getattr(self, "factory", None)
        config = getattr(self.root, "config", None)
        if factory is not None:
            runner = Runner(factory.build, make_inputs)
            probe = list(dict.fromkeys([*factory.arguments, *axes]))
        elif config is not None and self.symbols.configs and type(self.root).__module__.startswith("transformers."):
            cls = type(self.root)
            runner = Runner(hf.builder(config, lambda cfg: cls._from_config(
                cfg, attn_implementation="eager", experts_implementation="eager")), make_inputs)
            base = runner.build
            root = self.root
            runner.build = lambda values, device: root if _same(values, self.symbols.values) and \
                device == "meta" and any(p.is_meta for p in root.parameters()) else base(values, device)
            probe = [f for f in self.symbols.config_fields if f in self.symbols.values] + axes
        else:
            runner = Runner(None, make_inputs, module=self.root)
            probe = list(dict.fromkeys(axes))
        base_values = dict(self.symbols.values)
        try:
            # every input axis is also probed at +1 and +3 (floors of strided layers show), a
            # factory's argument too: a value the model rejects is simply no probe
            return trace(runner, base_values, probe, self.name, axes=list(dict.fromkeys(axes)))
        except Exception as exc:  # noqa: BLE001 - a forward that cannot be recorded: the other modes
            self.notes.append(f"operators not recorded: {exc}")
            return None

    def run(self, input_shape, dtype):
        inputs = self._inputs(input_shape)
        traced = self._operators(inputs, dtype) if inputs is not None else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = self._run_modes(inputs, dtype)
        if traced is None or _agrees(model, traced, self.symbols.values):
            for w in caught:  # the module-mapped import stands: its warnings are the user's
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if traced is not None:
            from .traced import finish, report

            if not _agrees(model, traced, self.symbols.values):
                model = finish(traced, self.symbols.values)
                model.notes = list(self.notes)
                report(traced, f"from_torch: {self.name}")
                self._verify(model.count())
                return model
            model.uncounted = tuple(traced.uncounted)
            report(traced, f"from_torch: {self.name}")
        return model

    def _run_modes(self, inputs, dtype):
        model = None
        if inputs is not None:
            try:
                model = self._graph(inputs)
            except Unsupported as exc:
                self.notes.append(f"not traced as a graph: {exc}")
            if model is None:
                self.layers.clear()
                try:
                    model = self._recorded(inputs, dtype)
                    model.count()  # the recorded shapes fit the layers (a time-major module fed batch first does not)
                except (Unsupported, SymcountError) as exc:
                    warn(f"from_torch: {self.name}: the forward pass on the meta device could not be recorded ({exc}); "
                         f"only the parameters are imported")
                    self.notes.append(f"not recorded: {exc}")
                    self.layers.clear()
                    model = None
        if model is None:
            model = self._parameters()
        return self._finish(model)

    def _finish(self, model):
        self._tie(model)
        count = model.count()
        model.values = {d.name: self.symbols.values[d.name] for d in count.dims if d.name in self.symbols.values}
        model.notes = list(self.notes)
        self._verify(count)
        return model

    def _inputs(self, input_shape):  # noqa: C901
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
                    axes.append(entry)  # a number the user wrote stays a number: a dim is named
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

        from ._torch_graph import GraphBuilder

        builder = GraphBuilder(self)
        from ..graph import as_tensor

        tensors = [as_tensor(Input(shape, name="input" if len(inputs) == 1 else f"input_{i}"))
                   for i, shape in enumerate(inputs)]
        try:
            outputs = builder.call(self.root, "", tensors)
            flat = [o for o in flatten(outputs) if isinstance(o, Tensor)]
            if not flat:
                raise Unsupported("the forward returns no tensor")
            model = Model(tensors, flat if len(flat) > 1 else flat[0], name=self.name)
            model.count()  # every layer built on its shapes now, so that a failure falls back here
        except Unsupported:
            raise
        except SymcountError as exc:
            raise Unsupported(f"a layer rejected its input: {exc}") from None
        model.exact = "graph"
        model._used = builder.used
        return model

    # -- mode 2: a recorded forward pass ------------------------------------------------------

    def _recorded(self, inputs, dtype):
        from ._torch_recorded import Recorder

        recorder = Recorder(self, inputs, dtype)
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
                entries.append(Entry(m, qual or type(m).__name__, None, None))
        entries = collapse(self, entries)
        calls, used = [], []
        for e in entries:
            kind = self.kind(e.module)
            layer = self.layer(e.module, e.display)
            if kind.kind == "leaf":
                inner = getattr(layer, "layer", layer)
                shape = _symbolize_probe(kind.mapping.probe(e.module), own_args(inner, self.symbols.values))
            else:
                shape = (None,)
            calls.append(Call(layer, shape, path_of(e.display), e.repeat, True))
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

    def _verify(self, count) -> None:
        """The import's parameter count at the dims' values against the module's own."""
        expected = sum(p.numel() for p in self.root.parameters())
        total = count.total.xreplace({d: sympy.Integer(self.symbols.values[d.name]) for d in count.dims
                                      if d.name in self.symbols.values})
        if not total.is_Integer or int(total) != expected:
            warn(f"from_torch: {self.name}: the import counts {total} parameters where the module has {expected:,}; "
                 f"please report this with the model's definition")


def _same(values, base) -> bool:
    return all(base.get(k) == v for k, v in values.items())


def _agrees(model, traced, values) -> bool:
    """Whether the module-mapped model counts what the operators ran: parameters, FLOPs
    and training FLOPs equal at the dims' values and at the configuration the traced
    formula was checked at (then its derivations, per known module, are kept)."""
    if model is None or getattr(model, "exact", None) == "parameters" or traced.uncounted:
        return False
    if traced.unplaced:
        return False
    mine, theirs = model.count(), traced.model.count()
    points = [values] + ([traced.checked_at] if traced.checked_at else [])
    for point in points:
        for what in ("total", "flops", "training_flops"):
            a = _at(getattr(mine, what), point)
            b = _at(getattr(theirs, what), point)
            if a is None or a != b:
                return False
    return True


def _at(expr, values):
    expr = expr if isinstance(expr, sympy.Basic) else sympy.Integer(expr)
    number = expr.xreplace({s: sympy.Integer(values[s.name]) for s in expr.free_symbols
                                           if s.name in values})
    return int(number) if number.is_Integer else None


def _numeric(value, hint=None, repeat=False):
    return tuple(value) if isinstance(value, list) else value


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
