"""``from_torch``'s second way: the module runs on meta tensors (no memory, no
arithmetic) a few times — the example input, a batch one larger, each named input axis
shorter by 1 and by 3 — while hooks record which known modules run, in which order, on
which shapes. A recorded size that changes with the batch is the batch axis; one that
follows an input axis linearly at the three lengths is that expression; the others are
numbers (a dim where one has the value).
"""

from __future__ import annotations

import sympy

from ..errors import SymcountError
from ..layer import build
from ._common import Call, warn
from ._torch_tree import Entry, Unsupported, collapse, flatten, own_args, path_of



class Recorder:
    """Runs the module on meta tensors a few times (the example input; a batch one
    larger; each named input axis a little shorter) and turns the recorded calls into
    symbolic layer calls."""

    BATCH = (2, 3)
    SHIFTS = (1, 3)

    def __init__(self, importer: "Importer", inputs, dtype):
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
        calls, stack, counter, keep = [], [], [0], []
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
            used = tensors[:needed]
            keep.extend(used + outs[:1])  # alive until the end: their ids identify them
            calls.append((order, module, tuple(tuple(t.shape) for t in used),
                          tuple(outs[0].shape) if outs else None, any(t.requires_grad for t in used),
                          tuple(id(t) for t in used), id(outs[0]) if outs else None))

        for m in importer.root.modules():
            if id(m) in known:
                handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
                handles.append(m.register_forward_hook(post, with_kwargs=True))
        examples = []
        for shape in self.inputs:
            concrete = [batch] + [sizes.get(s.name, importer._value(s)) if isinstance(s, sympy.Symbol)
                                  else importer._value(s) for s in shape]
            examples.append(torch.zeros(concrete, dtype=self.dtype, device="meta"))
        state = {n: _meta_like(torch, t) for n, t in root.named_parameters()}
        state.update({n: _meta_like(torch, t) for n, t in root.named_buffers()})
        modes = {m: m.training for m in root.modules()}
        try:
            root.train(False)  # inference mode (Module.eval), no dropout
            torch.func.functional_call(root, state, tuple(examples), strict=False, tie_weights=True)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise Unsupported(f"{type(exc).__name__}: {first}") from None
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
        produced: dict = {}  # a recorded output tensor (by id) → its symbolic shape
        for i, (module, in_shapes, out_shape, grad, in_ids, out_id) in enumerate(base):
            kind = importer.kind(module)
            qual = importer.qualnames.get(id(module), "") or type(module).__name__
            where = f"{qual} ({type(module).__name__})"
            unnamed = kind.mapping.make(module, importer.sizer(where), None) if kind.kind == "leaf" else None
            own = own_args(unnamed, symbols.values) if unnamed is not None else {}
            shapes = tuple(produced.get(in_ids[k]) or tuple(sym(i, ("in", k), a, v, own) for a, v in enumerate(s))
                           for k, s in enumerate(in_shapes))
            shape = shapes[0] if len(shapes) == 1 else shapes
            out = None  # a known layer's output follows from its input; an opaque one's was recorded
            if unnamed is None and out_shape is not None:
                out = tuple(sym(i, ("out",), a, v, own) for a, v in enumerate(out_shape))
                outputs.setdefault(id(module), []).append((shape, out))
            follows = out if unnamed is None else self._output(unnamed, shape, out_shape)
            if out_id is not None and follows is not None:
                produced[out_id] = follows
            entries.append(Entry(module, qual, shape, out, grad, order=i))
        for axis in sorted(nonlinear):
            warn(f"from_torch: {importer.name}: some recorded sizes depend on {axis} in a way the forward pass "
                 f"does not show (strides, pooling); they are the numbers at {axis}={symbols.values[axis]}. "
                 f"A model torch.fx can trace gets exact shapes")
        entries = collapse(importer, entries)
        calls = []
        for e in entries:
            layer = importer.layer(e.module, e.display, outputs=tuple(outputs.get(id(e.module), ())))
            if not any(layer is used for _, used in self.used):
                self.used.append((e.module, layer))
            calls.append(Call(layer, e.shape, path_of(e.display), e.repeat, e.grad))
        return calls

    def _output(self, layer, shape, recorded):
        """The layer's symbolic output shape where it agrees with the recorded one at the
        dims' values (then the next module fed this very tensor takes it), else None."""
        if recorded is None:
            return None
        try:
            out = build(layer, shape).output_shape
        except SymcountError:
            return None
        values = self.importer.symbols.values
        if len(out) != len(recorded):
            return None
        for size, seen in zip(out, recorded):
            if size is None:
                continue
            number = size.xreplace({s: sympy.Integer(values[s.name]) for s in size.free_symbols if s.name in values}) \
                if isinstance(size, sympy.Basic) else size
            if number != seen:
                return None
        return out

    def _aligned(self, base, batch, sizes):
        """A run whose calls are those of ``base`` (same modules, same order), or None."""
        try:
            run = self.run(batch, sizes)
        except Unsupported:
            return None
        if len(run) != len(base) or any(a[0] is not b[0] or len(a[1]) != len(b[1]) for a, b in zip(run, base)):
            return None
        return run


def _size_at(call, which, axis_index):
    in_shapes, out_shape = call[1], call[2]
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
        return list(flatten(value))
