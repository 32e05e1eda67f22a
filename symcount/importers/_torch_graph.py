"""``from_torch``'s first way: ``torch.fx`` traces each container's ``forward`` (its
children as leaves) and the graph is replayed on symcount tensors — modules as their
layers (containers as blocks, runs of identical list children as ``Repeat``), and the
functions and methods between them (``x + y``, ``torch.cat``, ``torch.flatten``,
``x.view(x.size(0), -1)``, activations) as weightless symcount layers. Anything else
raises :class:`~._torch._Unsupported` and the import records a forward pass instead.
"""

from __future__ import annotations

import operator

from ..errors import SymcountError
from ..graph import Block, Repeat, Tensor
from ..layer import Layer
from ._common import Function
from ._torch_tree import Unsupported, flatten, indexed_children



class _Size:
    """``x.size(i)`` or ``x.shape[i]`` of a symbolic tensor (only used to reshape)."""

    def __init__(self, tensor, axis):
        self.tensor, self.axis = tensor, axis


class _ShapeOf:
    def __init__(self, tensor):
        self.tensor = tensor


class GraphBuilder:
    def __init__(self, importer: "Importer"):
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
                raise Unsupported(f"torch.fx cannot trace {type(m).__name__}: {first}") from None
        return self.graphs[key]

    def signature(self, m):
        kind = self.importer.kind(m)
        if kind.kind == "leaf":
            return self.importer.unnamed_key(m)
        if kind.kind not in ("container", "function"):
            raise Unsupported(f"{self.importer.qualnames.get(id(m), '')} ({type(m).__name__}) is not a known module")
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
            raise Unsupported(f"{display or 'the model'} ({type(m).__name__}) is not a module symcount knows")
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
            raise Unsupported(f"{display} returns {type(out).__name__}, not one tensor")
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
                        raise Unsupported(f"{display or 'the model'}: no input for {node.target!r}")
                env[node.name] = value
            elif node.op == "get_attr":
                raise Unsupported(f"{display or 'the model'} reads {node.target!r} directly")
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
                tensors_in = [a for a in flatten(args) if isinstance(a, Tensor)]
                if not tensors_in:
                    raise Unsupported(f"{node.target} is called without a tensor")
                env[node.name] = self.child(m, display, node.target, tensors_in)
            elif node.op in ("call_function", "call_method"):
                env[node.name] = self.op(m, display, node, env)
            elif node.op == "output":
                return _lookup(node.args[0], env)
        raise Unsupported(f"{display or 'the model'}: the graph has no output")

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
            indexed = indexed_children(container)
            if not indexed:
                i += 1
                continue
            try:
                sig = self.signature(m.get_submodule(first.target))
            except Unsupported:
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
                except Unsupported:
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
            raise Unsupported(f"{where}: size() of a whole tensor")
        if target is getattr and len(args) == 2 and args[1] == "shape" and isinstance(args[0], Tensor):
            return _ShapeOf(args[0])
        if target is operator.getitem:
            return self._getitem(m, node, args, where)
        tensors = [a for a in flatten(args) if isinstance(a, Tensor)]
        kind = _OP_KINDS.get(fn if node.op == "call_method" else target)
        if kind is None and node.op == "call_function":
            kind = _OP_KINDS.get(fn) if getattr(target, "__module__", "") in ("torch", "torch.nn.functional") \
                else None
        if kind is None:
            raise Unsupported(f"{where}: no symcount layer for {fn}")
        if not tensors:
            raise Unsupported(f"{where}: {fn} without a tensor")
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
                raise Unsupported(f"{where}: cat of something other than tensors")
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
            raise Unsupported(f"{where}: a reshape symcount cannot follow")
        if kind in _POOLS:
            cls, names = _POOLS[kind]
            values = dict(zip(names, args[1:]))
            values.update({k: v for k, v in kwargs.items() if k in names})
            return layer(lambda: getattr(T, cls)(**values, name=name))(args[0])
        raise Unsupported(f"{where}: no symcount layer for {fn}")  # pragma: no cover

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
        raise Unsupported(f"{where}: indexing a tensor")


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
