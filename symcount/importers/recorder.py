"""The recorder: a module's forward pass at the level of torch's operators (ATen).

A forward pass runs under a ``TorchDispatchMode`` (as ``torch.utils.flop_counter`` does),
on the meta device or on small real tensors, with module hooks keeping the call tree.
Every operator that multiplies matrices becomes an :class:`OpRecord` with its operands'
shapes, whatever Python code called it (``nn.Linear``, ``F.linear``, ``@``,
``torch.einsum``, ``bmm``, ``F.scaled_dot_product_attention``, ``F.conv2d`` …): the
counting is keyed by operator, not by module class. Operators that are not products by
the project's convention (elementwise, reductions, softmax, norms, indexing, copies,
views) are known and skipped; any other operator is *uncounted* and listed by name,
module path and calls, never a silent zero.

Which products autograd differentiates is read off the autograd graph after the forward:
a product's backward runs when its output lies on the path from the loss (the sum of the
floating-point outputs) and computes the gradient of each operand whose ``next_functions``
entry is set. The backward formulas are FlopCounterMode's (``mm``'s two gradients are
two ``mm`` s of the same size; a convolution's weight gradient is counted over all
``in_channels · out_channels``, ``groups`` times the forward; a fused attention kernel's
backward recomputes the scores).

The tensors autograd saves for the backward are recorded in the same pass: the forward
runs under ``torch.autograd.graph.saved_tensors_hooks`` and each storage packed
(parameters and buffers excluded, a view and its base one storage) becomes a
:class:`~.saves.SavedRecord` of the module call that saved it first (:mod:`.saves`):
``CallNode.saved``.

The formulas (:data:`PRODUCTS`) are written over sizes, so the same function gives the
number of a recording and the expression of a fitted shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ArgumentError
from ._common import Uncounted  # noqa: F401 - part of a Recording
from ._torch_tree import flatten
from .parallel import Roles
from .saves import Tracker

# ---------------------------------------------------------------------------
# Product formulas: multiply-accumulates over shapes (ints or SymPy expressions)
# ---------------------------------------------------------------------------


def _prod(values):
    return math.prod(values, start=1)


def mm_macs(a, b):
    """``mm(a (m, k), b (k, n))``: m·k·n (FlopCounterMode's ``mm_flop`` / 2)."""
    return a[0] * a[1] * b[1]


def bmm_macs(a, b):
    """``bmm(a (B, m, k), b (B, k, n))``: B·m·k·n."""
    return a[0] * a[1] * a[2] * b[2]


def conv_macs(x, w, out, transposed):
    """``convolution(input, weight, …, transposed, …)``, FlopCounterMode's
    ``conv_flop_count`` / 2: ``N · C_out · C_in/groups · ∏kernel · ∏positions`` where the
    positions are the output's (the input's for a transposed convolution)."""
    positions = (x if transposed else out)[2:]
    return x[0] * _prod(w) * _prod(positions)


def conv_backward_macs(x, w, out, transposed, groups, input_grad, weight_grad):
    """``convolution_backward``: the input's gradient is a (transposed) convolution of the
    output's gradient by the weight, the weight's a convolution of input and output
    gradient; each as large as the forward. (FlopCounterMode counts the weight's gradient
    over all ``C_in · C_out`` channel pairs, ``groups`` times what autograd computes for a
    grouped convolution; symcount counts what runs, as its torch layers do.)"""
    macs = 0
    if input_grad:
        macs += conv_macs(x, w, out, transposed)
    if weight_grad:
        macs += conv_macs(x, w, out, transposed)
    return macs


def sdpa_macs(q, k, v):
    """A fused attention kernel on ``q (B, H_q, L, E)``, ``k (B, H_kv, S, E)``, ``v (B,
    H_kv, S, E_v)``: scores B·H_q·L·S·E and values B·H_q·L·S·E_v (``sdpa_flop_count``;
    grouped-query attention broadcasts the key/value heads)."""
    return q[0] * q[1] * q[2] * k[2] * q[3] + q[0] * q[1] * q[2] * k[2] * v[3]


def sdpa_backward_macs(q, k, v):
    """The fused kernel's backward (``sdpa_backward_flop_count``): the scores recomputed,
    the gradients of scores and values, then of queries and keys."""
    b, h, sq, d = q
    sk, dv = k[2], v[3]
    return b * h * (sq * d * sk + sq * dv * sk + sk * sq * dv + sq * sk * d + d * sq * sk)


@dataclass(frozen=True)
class Rule:
    """How one operator multiplies: which arguments are its operands (``operands``: the
    positions of the tensors whose shapes the formulas take), the forward formula, and
    the backward formula given which operands need a gradient (``grads``)."""

    operands: tuple
    forward: object
    backward: object
    kind: str = "matmul"


def _bilinear_backward(forward):
    """mm-like products: each operand's gradient is one product as large as the forward."""

    def backward(shapes, grads, extra):
        return forward(*shapes) * sum(1 for g in grads if g)

    return backward


def _conv_forward(x, w, out=None, transposed=False, groups=1):
    return conv_macs(x, w, out, transposed)


def _sdpa_backward(shapes, grads, extra):
    return sdpa_backward_macs(*shapes) if any(grads) else 0


def _conv_backward(shapes, grads, extra):
    x, w = shapes
    return conv_backward_macs(x, w, extra["out"], extra["transposed"], extra["groups"], grads[0], grads[1])


def _rules() -> dict:
    """Operator name (``aten.mm``'s ``mm``) → :class:`Rule`."""
    mm = Rule((0, 1), mm_macs, _bilinear_backward(mm_macs))
    addmm = Rule((1, 2), mm_macs, _bilinear_backward(mm_macs))
    bmm = Rule((0, 1), bmm_macs, _bilinear_backward(bmm_macs))
    baddbmm = Rule((1, 2), bmm_macs, _bilinear_backward(bmm_macs))
    conv = Rule((0, 1), _conv_forward, _conv_backward, kind="convolution")
    sdpa = Rule((0, 1, 2), sdpa_macs, _sdpa_backward, kind="attention")
    return {
        "mm": mm, "_scaled_mm": mm, "addmm": addmm, "bmm": bmm, "baddbmm": baddbmm,
        # addbmm sums the batch of products: b·n·m·p, its gradients are bmm's
        "addbmm": baddbmm,
        "convolution": conv, "_convolution": conv, "convolution_overrideable": conv,
        "_slow_conv2d_forward": conv, "cudnn_convolution": conv,
        "_scaled_dot_product_flash_attention_for_cpu": sdpa,
        "_scaled_dot_product_flash_attention": sdpa,
        "_scaled_dot_product_efficient_attention": sdpa,
        "_scaled_dot_product_cudnn_attention": sdpa,
    }


PRODUCTS = _rules()

#: operators that are not products by the project's convention (besides every pointwise
#: or view operator, which torch tags): reductions, softmax, norms, indexing, copies,
#: creation, pooling, padding, sorting
_NOT_PRODUCTS = {
    "sum", "mean", "var", "std", "var_mean", "std_mean", "amax", "amin", "max", "min", "argmax", "argmin",
    "aminmax", "prod", "cumsum", "cumprod", "logsumexp", "norm", "linalg_vector_norm", "any", "all",
    "_softmax", "softmax", "_log_softmax", "log_softmax", "_safe_softmax", "_softmax_backward_data",
    "native_layer_norm", "native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
    "_native_batch_norm_legit_functional", "native_group_norm", "_fused_rms_norm", "rms_norm", "layer_norm",
    "batch_norm", "group_norm", "instance_norm",
    "embedding", "embedding_dense_backward", "index_select", "gather", "scatter", "scatter_add", "scatter_reduce",
    "index", "index_put", "index_put_", "_index_put_impl_", "index_add", "index_add_", "index_copy",
    "index_fill", "masked_fill", "masked_fill_", "masked_scatter", "masked_select", "take", "put",
    "cat", "stack", "copy", "copy_", "clone", "_to_copy", "to", "lift_fresh", "lift_fresh_copy", "detach",
    "detach_", "alias", "contiguous", "_reshape_alias", "fill", "fill_", "zero_", "zeros", "zeros_like",
    "ones", "ones_like", "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided",
    "new_zeros", "new_ones", "new_full", "full", "full_like", "arange", "linspace", "scalar_tensor",
    "rand", "rand_like", "randn", "randn_like", "randint", "randperm", "bernoulli", "bernoulli_", "uniform_",
    "normal_", "native_dropout", "native_dropout_backward", "dropout", "tril", "triu", "tril_", "triu_",
    "where", "repeat", "repeat_interleave", "roll", "flip", "constant_pad_nd", "pad", "reflection_pad1d",
    "reflection_pad2d", "replication_pad1d", "replication_pad2d", "one_hot", "nonzero", "topk", "sort",
    "argsort", "unique", "_unique2", "bincount", "histc", "searchsorted", "bucketize",
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "max_pool2d_with_indices_backward", "avg_pool1d", "avg_pool2d", "avg_pool3d", "avg_pool2d_backward",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
    "_adaptive_avg_pool3d", "adaptive_max_pool2d", "upsample_nearest2d", "upsample_bilinear2d",
    "_upsample_nearest_exact2d", "_upsample_bilinear2d_aa", "grid_sampler_2d", "im2col", "col2im",
    "_local_scalar_dense", "item", "equal", "is_nonzero", "_assert_async", "_assert_tensor_metadata",
    "sym_size", "sym_numel", "sym_stride", "sym_storage_offset", "_functional_assert_async", "set_",
    "resize_", "as_strided_", "record_stream", "_has_compatible_shallow_copy_type", "count_nonzero",
    "split_with_sizes_copy", "diagonal_copy", "cumsum_", "logcumsumexp", "_pdist_forward", "special_erf",
    "polar", "complex", "view_as_real", "view_as_complex", "_conj", "resolve_conj", "resolve_neg",
    "_foreach_add", "isin", "_unsafe_view", "view", "reshape", "_reshape_copy", "split", "chunk", "unbind",
    "split_with_sizes", "unsafe_split", "unsafe_chunk", "expand", "permute", "transpose", "t", "squeeze", "unsqueeze",
    "slice", "select", "narrow", "unfold", "diagonal", "as_strided", "_unsafe_index", "_unsafe_index_put", "sign", "signbit", "nan_to_num", "clamp", "clamp_min", "clamp_max",
    # elementwise activations torch does not tag pointwise, and rearrangements
    "hardswish", "hardsigmoid", "prelu", "_prelu_kernel", "log_sigmoid_forward", "glu", "rrelu_with_noise",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "normal", "multinomial",
    "_embedding_bag", "_embedding_bag_forward_only", "embedding_bag",
}

#: operators that multiply matrices for which symcount has no rule (FlopCounterMode has
#: none either): named as uncounted
_UNRULED_PRODUCTS = {"mv", "dot", "vdot", "addmv", "addr", "outer", "ger", "_int_mm", "_grouped_mm",
                     "_cdist_forward", "cdist"}


def is_known_zero(func) -> bool:
    """Whether an ATen operator is no product by the project's convention."""
    import torch

    name = func._overloadpacket.__name__
    if name in PRODUCTS or name in _UNRULED_PRODUCTS:
        return False
    if name in _NOT_PRODUCTS or name.rstrip("_") in _NOT_PRODUCTS:
        return True
    tags = getattr(func, "tags", ())
    if torch.Tag.pointwise in tags or torch.Tag.view_copy in tags:
        return True
    schema = func._schema
    if any(a.alias_info is not None and not a.alias_info.is_write for a in schema.returns):
        return True  # a view (transpose, expand, unsqueeze, slice, select …)
    return name.endswith("_backward") and not name.startswith("convolution")


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class OpRecord:
    """One product operator as it ran: ``op`` (``mm``), ``shapes`` of its operands,
    ``extra`` (a convolution's output shape, ``transposed``, ``groups``), which operands'
    gradients autograd computes (``grads``, filled after the forward), and for each
    operand the parameter it reads, if any (``params``: (module path, name, dim-0 index
    when it is one slice of a stacked parameter))."""

    op: str
    shapes: tuple
    extra: dict = field(default_factory=dict)
    grads: tuple = ()
    params: tuple = ()
    #: an activation product on tensors tensor parallelism splits (attention's ``Q·Kᵀ``
    #: and ``P·V`` per head): ``tp`` must divide its batch axis, the heads (:mod:`.parallel`)
    split: bool = False
    _out: object = None
    _requires: tuple = ()

    @property
    def rule(self) -> Rule:
        return PRODUCTS[self.op]

    def macs(self, shapes=None):
        shapes = self.shapes if shapes is None else shapes
        extra = self.extra
        if self.rule.kind == "convolution":
            return conv_macs(shapes[0], shapes[1], extra["out"], extra["transposed"])
        return self.rule.forward(*shapes)

    def backward_macs(self, shapes=None, extra=None):
        shapes = self.shapes if shapes is None else shapes
        return self.rule.backward(shapes, self.grads, extra if extra is not None else self.extra)


@dataclass
class CallNode:
    """One call of a module: its path (``h.0.attn``), class name, what ran inside in order
    (:class:`CallNode` s and :class:`OpRecord` s), its first input's and first output's
    shapes (without the batch axis)."""

    path: str
    kind: str
    module_id: int
    children: list = field(default_factory=list)
    input_shape: tuple = ()
    output_shape: tuple = ()
    #: rows of the first input (all its axes but the last): an MoE experts module's tokens
    input_rows: int = 1
    #: the storages autograd saved whose last save was this call's (:class:`.saves.SavedRecord`)
    saved: list = field(default_factory=list)



@dataclass
class Recording:
    """What one forward pass ran: the call tree, the parameters (module path → own
    parameters as ``(name, shape, trainable)``, each tensor once), the model's output
    shapes, and the uncounted operators."""

    root: CallNode
    params: dict
    outputs: tuple
    uncounted: list
    #: Megatron-LM's tensor-parallel roles: (module path, parameter name) → (role, the axis
    #: ``tp`` divides) (:mod:`.parallel`)
    roles: dict = field(default_factory=dict)
    #: (module path, parameter name) → the heads a column layer's output is viewed as
    heads: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# The recording itself
# ---------------------------------------------------------------------------


def _shape(t) -> tuple:
    return tuple(int(s) for s in t.shape)


class _Recorder:
    def __init__(self, module, substitutes=None):
        import torch

        self.torch = torch
        self.module = module
        substitutes = substitutes or {}
        self.paths = {}
        for qual, m in module.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(m), qual)
        self.param_owner = {}  # id(parameter) → (module path, name)
        self.params = {}
        for qual, m in module.named_modules():
            own = []
            for name, p in m.named_parameters(recurse=False):
                p = substitutes.get(id(p), p)
                if id(p) in self.param_owner:
                    continue  # tied: counted where it first appears
                self.param_owner[id(p)] = (qual, name)
                own.append((name, _shape(p), bool(p.requires_grad)))
            if own:
                self.params[qual] = own
        self.root = CallNode("", type(module).__name__, id(module))
        self.stack = [self.root]
        self.ops: list[OpRecord] = []
        self.uncounted: dict = {}

    # -- module hooks --------------------------------------------------------------

    def pre_hook(self, module, args, kwargs=None):
        path = self.paths.get(id(module))
        if path is None or path == "" and len(self.stack) > 1:
            return
        if path == "":
            return
        node = CallNode(path, type(module).__name__, id(module), input_shape=_first_shape(args, kwargs),
                        input_rows=_first_rows(args, kwargs))
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def post_hook(self, module, args, *rest):
        output = rest[-1]
        path = self.paths.get(id(module))
        if not path:
            return
        # pop back to this module's node (a module whose forward raised is not ours to fix)
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].module_id == id(module):
                self.stack[i].output_shape = _first_shape((output,), None)
                del self.stack[i:]
                break

    # -- operators ------------------------------------------------------------------

    def on_op(self, func, args, kwargs, out):
        name = func._overloadpacket.__name__
        rule = PRODUCTS.get(name)
        if rule is None:
            if not is_known_zero(func):
                key = (name, self.stack[-1].path)
                self.uncounted[key] = self.uncounted.get(key, 0) + 1
            return
        torch = self.torch
        operands = [args[i] if i < len(args) else None for i in rule.operands]
        shapes = tuple(_shape(t) for t in operands)
        extra = {}
        if rule.kind == "convolution":
            extra = {"out": _shape(out if isinstance(out, torch.Tensor) else out[0]),
                     "transposed": bool(args[6]), "groups": int(args[8])}
        params = tuple(self._param_of(t) for t in operands)
        result = out if isinstance(out, torch.Tensor) else out[0]
        record = OpRecord(name, shapes, extra, params=params, _out=result,
                          _requires=tuple(bool(t.requires_grad) for t in operands))
        self.stack[-1].children.append(record)
        self.ops.append(record)

    def param_tensor(self, t):
        """``((path, name), parameter)`` of the parameter ``t`` is or is a view of, or None."""
        seen = t
        while seen is not None:
            owner = self.param_owner.get(id(seen))
            if owner is not None:
                return owner, seen
            seen = getattr(seen, "_base", None)
        return None

    def _param_of(self, t):
        """The parameter a tensor is, or is a view of: (path, name, index of a dim-0 slice or None)."""
        seen = t
        while seen is not None:
            owner = self.param_owner.get(id(seen))
            if owner is not None:
                index = None
                if seen is not t and t.dim() == seen.dim() - 1 and t.numel() * seen.shape[0] == seen.numel():
                    index = (t.storage_offset() - seen.storage_offset()) // max(1, t.numel())
                return (*owner, index)
            seen = getattr(seen, "_base", None)
        return None


def _first_shape(args, kwargs) -> tuple:
    found = _first_tensor(args, kwargs)
    return _shape(found)[1:] if found is not None and found.dim() > 0 else ()


def _first_rows(args, kwargs) -> int:
    found = _first_tensor(args, kwargs)
    return math.prod(_shape(found)[:-1]) if found is not None and found.dim() > 0 else 1


def _first_tensor(args, kwargs):
    import torch

    def first(value):
        if isinstance(value, torch.Tensor):
            return value
        if isinstance(value, (list, tuple)):
            for v in value:
                found = first(v)
                if found is not None:
                    return found
        if isinstance(value, dict):
            for v in value.values():
                found = first(v)
                if found is not None:
                    return found
        if hasattr(value, "to_tuple"):
            return first(value.to_tuple())
        return None

    found = first(args)
    if found is None and kwargs:
        found = first(kwargs)
    return found


def _floating_outputs(value, out):
    import torch

    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _floating_outputs(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _floating_outputs(v, out)
    elif hasattr(value, "to_tuple"):
        _floating_outputs(value.to_tuple(), out)
    return out


def meta_state(module) -> dict:
    """Meta-device stand-ins for a module's parameters and buffers (one per tensor: tied
    parameters stay tied), for :func:`record` of a module whose weights are real."""
    import torch

    made, state = {}, {}
    for name, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
        if id(t) not in made:
            meta = torch.empty(t.shape, dtype=t.dtype, device="meta")
            if isinstance(t, torch.nn.Parameter):
                meta.requires_grad_(t.requires_grad)
            made[id(t)] = meta
        state[name] = made[id(t)]
    return state


def record(module, args=(), kwargs=None, *, state=None) -> Recording:
    """Run ``module(*args, **kwargs)`` under the recorder and read the autograd graph.

    The tensors may be on the meta device or real; the module's parameters too, or
    ``state`` (:func:`meta_state`) stands in for them. The loss whose backward is counted
    is the sum of every floating-point output.
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    substitutes = {}
    if state is not None:
        for name, p in module.named_parameters(remove_duplicate=False):
            substitutes[id(p)] = state[name]
    recorder = _Recorder(module, substitutes)
    held = list(state.values()) if state is not None else \
        [*module.parameters(), *module.buffers()]
    floating = next((t.dtype for t in held if t.is_floating_point()), None)
    tracker = Tracker(held, floating)
    roles = Roles(tracker.root, tracker._raw, recorder.param_tensor)
    roles.note_inputs([*flatten(args), *flatten(kwargs or {})])

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            before = len(recorder.ops)
            recorder.on_op(func, args, kwargs or {}, out)
            tracker.on_op(func, args, out)
            roles.on_op(func, args, out, recorder.ops[-1] if len(recorder.ops) > before else None)
            return out

    def pack(t):
        tracker.on_pack(t, recorder.stack[-1])
        return t

    pre = torch.nn.modules.module.register_module_forward_pre_hook(recorder.pre_hook)
    post = torch.nn.modules.module.register_module_forward_hook(recorder.post_hook)
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # oneDNN's notice about TF32 on Intel GPUs
            mkldnn_off = torch.backends.mkldnn.flags(enabled=False)
            mkldnn_off.__enter__()
        with torch.enable_grad(), torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH), \
                torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), Mode():
            if state is None:
                output = module(*args, **(kwargs or {}))
            else:
                output = torch.func.functional_call(module, state, tuple(args), kwargs or {}, tie_weights=False)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mkldnn_off.__exit__(None, None, None)
        pre.remove()
        post.remove()
    outputs = _floating_outputs(output, [])
    parallel, split, heads = roles.solve(outputs)
    tracker.assign(split)
    recorder.root.input_shape = _first_shape(args, kwargs)
    recorder.root.input_rows = _first_rows(args, kwargs)
    recorder.root.output_shape = _shape(outputs[0])[1:] if outputs and outputs[0].dim() else ()
    _mark_gradients(recorder, outputs)
    uncounted = [Uncounted(op, path, calls) for (op, path), calls in recorder.uncounted.items()]
    leaves = [p for p in (state.values() if state is not None else module.parameters())
              if getattr(p, "requires_grad", False) and p.is_leaf]
    uncounted += _custom_functions(outputs, leaves)
    shapes = tuple(_shape(t)[1:] for t in outputs)
    return Recording(recorder.root, recorder.params, shapes, uncounted, parallel, heads)


def _reachable(outputs) -> set:
    """The autograd nodes a backward from ``outputs`` runs."""
    seen, todo = set(), [t.grad_fn for t in outputs if t.grad_fn is not None]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        todo.extend(n for n, _ in node.next_functions if n is not None)
    return seen


def _mark_gradients(recorder, outputs) -> None:
    """Each product's ``grads``: which operands' gradients its backward computes (none
    when the loss does not depend on it, or it ran without gradients)."""
    reachable = _reachable(outputs)
    for op in recorder.ops:
        node = op._out.grad_fn if op._out is not None else None
        if node is None or node not in reachable:
            op.grads = tuple(False for _ in op.shapes)
        else:
            needed = [n is not None for n, _ in node.next_functions]
            op.grads = _operand_grads(op, needed)
        op._out = None


def _operand_grads(op, needed) -> tuple:
    """``next_functions`` of the product's node (ordered as the operator's tensor
    arguments) restricted to its operands."""
    positions = op.rule.operands
    if op.op in ("convolution", "_convolution", "convolution_overrideable", "_slow_conv2d_forward",
                 "cudnn_convolution"):
        positions = (0, 1)
    grads = []
    for k, pos in enumerate(positions):
        flag = needed[pos] if pos < len(needed) else op._requires[k]
        grads.append(bool(flag) and op._requires[k])
    return tuple(grads)


def _custom_functions(outputs, leaves) -> list:
    """Custom ``torch.autograd.Function`` s on the backward path. Their backward is the
    user's code: it is run (``torch.autograd.grad`` to the parameters, nothing
    accumulated) and recorded, and what it computes beyond elementwise operators (a
    product, an operator symcount does not know) is listed as uncounted. A backward of
    elementwise operators only (Bloom's ``GeLUFunction``) costs no FLOPs by the project's
    convention, as in the forward."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    custom = [n for n in _reachable(outputs) if isinstance(n, torch.autograd.function.BackwardCFunction)]
    if not custom:
        return []
    inside: list = []
    found: dict = {}
    handles = []

    def enter(name):
        def hook(grad_outputs):
            inside.append(name)
        return hook

    def leave(grad_inputs, grad_outputs):
        if inside:
            inside.pop()

    for node in custom:
        handles.append(node.register_prehook(enter(type(node).__name__.removesuffix("Backward"))))
        handles.append(node.register_hook(leave))

    class Mode(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if inside and (func._overloadpacket.__name__ in PRODUCTS or not is_known_zero(func)):
                key = (inside[-1], func._overloadpacket.__name__)
                found[key] = found.get(key, 0) + 1
            return out

    ran = True
    try:
        loss = sum(o.float().sum() for o in outputs)
        with Mode():
            torch.autograd.grad(loss, leaves, allow_unused=True) if leaves else None
    except Exception:  # noqa: BLE001 - a backward that cannot run here is not counted
        ran = False
    finally:
        for h in handles:
            h.remove()
    if not ran or not leaves:
        names: dict = {}
        for node in custom:
            name = type(node).__name__.removesuffix("Backward")
            names[name] = names.get(name, 0) + 1
        return [Uncounted(f"{name}.backward", "", calls, "custom autograd Function: its backward could not be run")
                for name, calls in names.items()]
    return [Uncounted(f"{name}.backward: {op}", "", calls,
                      "custom autograd Function: its backward runs an operator symcount does not count")
            for (name, op), calls in found.items()]


def check_module(module) -> None:
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ArgumentError(f"expected a torch.nn.Module. Received: {module!r} ({type(module).__name__})")
