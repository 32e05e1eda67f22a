"""``sc.from_torch`` on small modules written the way users write them.

Each module is built by a factory with keyword sizes and imported once at its first
sizes; its count, evaluated at the first sizes and (through ``subs`` on the same count)
at the second, must equal exactly, at both sizes:

- parameters: ``sum(p.numel() for p in module.parameters())``;
- FLOPs: ``FlopCounterMode`` around ``module(x)``;
- training FLOPs: ``FlopCounterMode`` around the forward pass and
  ``loss.backward()``, the loss the sum of every floating-point output, with ``x``
  the data (no gradient of its own);

measured on real CPU tensors of batch 1, with SDPA on its math backend (the CPU
flash kernel, ``aten._scaled_dot_product_flash_attention_for_cpu``, has no FLOP
formula: FlopCounterMode would count it as zero) and oneDNN off. The reference helper
fails when an operator that multiplies matrices ran without a FLOP formula, except
where a test derives that reference by hand (``torch.addbmm``: FlopCounterMode counts
it as zero).

One correction, as in ``tests/zoo/test_torchvision.py``: torch 2.13's
``conv_backward_flop`` counts the weight gradient of a grouped convolution as if it
were dense, ``groups`` times the products autograd computes (upstream
pytorch/pytorch#183405 divides it by ``groups``); symcount counts the products, so the
reference takes that excess, derived from each ``convolution_backward`` call's shapes,
off FlopCounterMode's total.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from dataclasses import dataclass

import pytest

import symcount as sc
from symcount.importers import SymcountImportWarning

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

pytestmark = pytest.mark.oracle

aten = torch.ops.aten

# Operators that multiply matrices (or contract like them). An operator of this list
# that runs without a formula in ``flop_registry`` is counted as zero by FlopCounterMode:
# the reference would be wrong, so the helper refuses it.
MATRIX_OPS = {
    aten.mm, aten.addmm, aten.bmm, aten.baddbmm, aten.addbmm, aten.mv, aten.addmv,
    aten.dot, aten.vdot, aten.addr, aten.ger, aten.outer, aten.linear, aten.matmul,
    aten._grouped_mm, aten._scaled_mm, aten._int_mm,
    aten.convolution, aten._convolution, aten.convolution_backward, aten.mkldnn_convolution,
    aten._slow_conv2d_forward, aten.slow_conv3d_forward, aten.slow_conv_dilated2d,
    aten.slow_conv_dilated3d, aten.slow_conv_transpose2d, aten.slow_conv_transpose3d,
    aten.thnn_conv2d, aten._conv_depthwise2d,
    aten._scaled_dot_product_flash_attention_for_cpu,
    aten._scaled_dot_product_flash_attention_for_cpu_backward,
    aten._scaled_dot_product_fused_attention_overrideable,
    aten._cdist_forward, aten._cdist_backward, aten._euclidean_dist,
    aten.tensordot, aten.einsum, aten._trilinear, aten.bilinear,
}


# ---------------------------------------------------------------------------
# The reference: FlopCounterMode on real tensors
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    params: int
    flops: int
    training_flops: int
    ops: frozenset  # the aten operators that ran (overload packets)
    grouped_excess: int = 0  # FlopCounterMode's overcount of grouped weight gradients, taken off

    @property
    def numbers(self) -> tuple[int, int, int]:
        return self.params, self.flops, self.training_flops


def _grouped_weight_gradient_excess(args, out) -> int:
    """What torch 2.13's ``conv_backward_flop`` counts beyond the products for the weight
    gradient of one grouped ``convolution_backward`` call: it counts conv(x, grad_out)
    over all C_in·C_out channel pairs, where autograd multiplies C_in/groups·C_out."""
    from torch.utils.flop_counter import conv_flop_count

    grad_out, x, _weight, _bias, _stride, _padding, _dilation, transposed, _output_padding, groups, mask = args[:11]
    if groups == 1 or not mask[1]:
        return 0

    def t(shape):
        return [shape[1], shape[0], *shape[2:]]

    grad_weight = out[1].shape
    if transposed:
        counted = conv_flop_count(t(grad_out.shape), t(x.shape), t(grad_weight), transposed=False)
    else:
        counted = conv_flop_count(t(x.shape), t(grad_out.shape), t(grad_weight), transposed=False)
    return counted - counted // groups


class _OpRecorder(torch.utils._python_dispatch.TorchDispatchMode):
    """The aten operators that run (as FlopCounterMode sees them: entered before it,
    below it on the mode stack, it sees what FlopCounterMode's decompositions run),
    and FlopCounterMode's excess on grouped convolutions' weight gradients."""

    def __init__(self):
        super().__init__()
        self.ops = set()
        self.grouped_excess = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(func._overloadpacket)
        out = func(*args, **(kwargs or {}))
        if func._overloadpacket is aten.convolution_backward:
            self.grouped_excess += _grouped_weight_gradient_excess(args, out)
        return out


def _float_outputs(out):
    leaves, _ = torch.utils._pytree.tree_flatten(out)
    return [t for t in leaves if isinstance(t, torch.Tensor) and t.is_floating_point()]


def _example(shape, dtype, high):
    if dtype is not None and not dtype.is_floating_point:
        return torch.randint(0, high, (1, *shape), dtype=dtype)
    return torch.randn(1, *shape, dtype=dtype or torch.float32)


@contextlib.contextmanager
def _mkldnn_off():
    with warnings.catch_warnings():  # setting the flags warns about TF32 on Intel GPUs
        warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def _measure(module, x, training: bool):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with sdpa_kernel(SDPBackend.MATH), _mkldnn_off():
        with _OpRecorder() as recorder, FlopCounterMode(display=False) as counter:
            out = module(x)
            if training:
                outputs = _float_outputs(out)
                assert outputs and any(t.requires_grad for t in outputs)
                sum(t.sum() for t in outputs).backward()
    return counter.get_total_flops(), recorder.ops, recorder.grouped_excess


def reference(module, shape, dtype=None, high=None, by_hand=()) -> Reference:
    """Parameters, forward FLOPs and forward + backward FLOPs of ``module`` on one
    example of ``shape`` (no batch axis). ``by_hand``: operators the caller counts by
    hand (FlopCounterMode counts them as zero)."""
    from torch.utils.flop_counter import flop_registry

    torch.manual_seed(0)
    x = _example(shape, dtype, high)
    assert not x.requires_grad  # the data: no input gradient
    flops, forward_ops, none = _measure(module, x, training=False)
    assert none == 0
    module.zero_grad(set_to_none=True)
    training_flops, training_ops, excess = _measure(module, x, training=True)
    ops = frozenset(forward_ops | training_ops)
    blind = {str(op) for op in ops if op in MATRIX_OPS and op not in flop_registry} - {str(op) for op in by_hand}
    assert not blind, f"FlopCounterMode has no FLOP formula for {sorted(blind)}: the reference would miss them"
    return Reference(sum(p.numel() for p in module.parameters()), flops, training_flops - excess, ops, excess)


def _shape(input_shape, dims):
    return tuple(dims[a] if isinstance(a, str) else a for a in input_shape)


def _factory_kwargs(make, dims):
    accepted = inspect.signature(make).parameters
    return {k: v for k, v in dims.items() if k in accepted}


def build(make, dims):
    torch.manual_seed(0)
    return make(**_factory_kwargs(make, dims))


def reference_at(make, input_shape, dims, dtype=None, high=None, by_hand=()) -> Reference:
    return reference(build(make, dims), _shape(input_shape, dims), dtype,
                     dims.get(high) if high else None, by_hand)


# ---------------------------------------------------------------------------
# The symcount side
# ---------------------------------------------------------------------------


def imported_count(make, input_shape, dims, dtype=None):
    """``make`` imported once at ``dims`` through a factory taking the sizes as keywords."""
    kwargs = {"dtype": dtype} if dtype is not None else {}
    model = sc.from_torch(lambda **sizes: make(**_factory_kwargs(make, sizes)),
                          input_shape=input_shape, dims=dict(dims), **kwargs)
    return model.count()


def at(count, dims):
    """``count`` at ``dims``: every dim of the count bound (its free dims, and any it
    bound at import, which the second sizes must override)."""
    names = {d.name for d in (*count.free_dims, *count.dims)}
    unknown = names - set(dims)
    assert not unknown, f"the count has dims the test did not name: {sorted(unknown)}"
    return count.subs(**{name: dims[name] for name in names})


def assert_matches(make, input_shape, first, second, *, dtype=None, high=None, refs=None):
    """Parameters, FLOPs and training FLOPs of ``make``'s module at ``first`` and at
    ``second`` (the latter through ``subs`` on the count imported at ``first``) equal
    the references (measured, unless ``refs`` gives them)."""
    if refs is None:
        refs = [reference_at(make, input_shape, dims, dtype, high) for dims in (first, second)]
    count = imported_count(make, input_shape, first, dtype)
    assert not count.uncounted, f"uncounted operators: {count.uncounted}"
    for dims, ref in zip((first, second), refs):
        c = at(count, dims)
        got = (int(c.total), int(c.flops), int(c.training_flops))
        assert got == ref.numbers, f"at {dims}"
    return count


def _param(*shape):
    return nn.Parameter(torch.randn(*shape) / math.sqrt(shape[0]))


# ---------------------------------------------------------------------------
# Matrix products: @, torch.matmul, torch.mm, torch.bmm, torch.baddbmm, torch.addmm
# ---------------------------------------------------------------------------


class VectorMLP(nn.Module):
    """``@`` on 2-D tensors: (batch, d_in) @ (d_in, d_hidden)."""

    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.w1 = _param(d_in, d_hidden)
        self.w2 = _param(d_hidden, d_out)

    def forward(self, x):
        return torch.relu(x @ self.w1) @ self.w2


def make_vector_mlp(d_in=12, d_hidden=20, d_out=7):
    return VectorMLP(d_in, d_hidden, d_out)


def test_matmul_operator_on_2d_tensors_counts_both_products():
    assert_matches(make_vector_mlp, ("d_in",),
                   {"d_in": 12, "d_hidden": 20, "d_out": 7},
                   {"d_in": 9, "d_hidden": 31, "d_out": 5})


class FoldedMLP(nn.Module):
    """Batch and sequence folded into one axis: ``x.view(-1, d) @ W``."""

    def __init__(self, d_model, d_ff):
        super().__init__()
        self.w_in = _param(d_model, d_ff)
        self.w_out = _param(d_ff, d_model)

    def forward(self, x):
        b, s, d = x.shape
        h = torch.relu(x.view(-1, d) @ self.w_in)
        return x + (h @ self.w_out).view(b, s, d)


def make_folded_mlp(d_model=16, d_ff=44):
    return FoldedMLP(d_model, d_ff)


def test_batch_and_sequence_folded_into_one_axis_scale_with_seq_len():
    assert_matches(make_folded_mlp, ("seq_len", "d_model"),
                   {"d_model": 16, "d_ff": 44, "seq_len": 6},
                   {"d_model": 20, "d_ff": 52, "seq_len": 11})


class SingleHeadAttention(nn.Module):
    """``@`` on 3-D batched activations: (b, s, d) @ (b, d, s)."""

    def __init__(self, d_model, d_head):
        super().__init__()
        self.q = nn.Linear(d_model, d_head, bias=False)
        self.k = nn.Linear(d_model, d_head, bias=False)
        self.v = nn.Linear(d_model, d_head, bias=False)
        self.out = nn.Linear(d_head, d_model)
        self.scale = d_head ** -0.5

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = (q @ k.transpose(1, 2)) * self.scale
        return self.out(scores.softmax(dim=-1) @ v)


def make_single_head_attention(d_model=20, d_head=12):
    return SingleHeadAttention(d_model, d_head)


def test_matmul_operator_on_3d_batches_counts_scores_and_values():
    assert_matches(make_single_head_attention, ("seq_len", "d_model"),
                   {"d_model": 20, "d_head": 12, "seq_len": 7},
                   {"d_model": 28, "d_head": 10, "seq_len": 9})


class MatmulMultiHeadAttention(nn.Module):
    """``@`` on 4-D batched activations: (b, h, s, dh) @ (b, h, dh, s)."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (t.view(b, s, self.n_head, d // self.n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.n_head)
        y = att.softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, s, d))


def make_matmul_attention(d_model=24, n_head=3):
    return MatmulMultiHeadAttention(d_model, n_head)


def test_matmul_operator_on_4d_heads_counts_both_attention_products():
    assert_matches(make_matmul_attention, ("seq_len", "d_model"),
                   {"d_model": 24, "n_head": 3, "seq_len": 5},
                   {"d_model": 36, "n_head": 4, "seq_len": 7})


class GatedFeedForward(nn.Module):
    """``torch.matmul`` of a 3-D activation with 2-D weights (a SwiGLU feed-forward)."""

    def __init__(self, d_model, d_ff):
        super().__init__()
        self.w_gate = _param(d_model, d_ff)
        self.w_up = _param(d_model, d_ff)
        self.w_down = _param(d_ff, d_model)

    def forward(self, x):
        h = F.silu(torch.matmul(x, self.w_gate)) * torch.matmul(x, self.w_up)
        return torch.matmul(h, self.w_down)


def make_gated_feed_forward(d_model=16, d_ff=40):
    return GatedFeedForward(d_model, d_ff)


def test_torch_matmul_gated_feed_forward_counts_three_products():
    assert_matches(make_gated_feed_forward, ("seq_len", "d_model"),
                   {"d_model": 16, "d_ff": 40, "seq_len": 6},
                   {"d_model": 24, "d_ff": 56, "seq_len": 9})


class LowRankLinear(nn.Module):
    """``torch.mm`` on the folded tokens: a rank-r factorised projection."""

    def __init__(self, d_model, rank):
        super().__init__()
        self.down = _param(d_model, rank)
        self.up = _param(rank, d_model)

    def forward(self, x):
        b, s, d = x.shape
        y = torch.mm(torch.mm(x.reshape(-1, d), self.down), self.up)
        return y.view(b, s, d)


def make_low_rank_linear(d_model=18, rank=4):
    return LowRankLinear(d_model, rank)


def test_torch_mm_low_rank_projection_counts_both_factors():
    assert_matches(make_low_rank_linear, ("seq_len", "d_model"),
                   {"d_model": 18, "rank": 4, "seq_len": 7},
                   {"d_model": 30, "rank": 6, "seq_len": 5})


class BmmAttention(nn.Module):
    """``torch.bmm`` with the heads folded into the batch axis."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        h, dh = self.n_head, d // self.n_head

        def heads(t):
            return t.view(b, s, h, dh).transpose(1, 2).reshape(b * h, s, dh)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(dh), dim=-1)
        y = torch.bmm(weights, v).view(b, h, s, dh).transpose(1, 2).reshape(b, s, d)
        return self.o(y)


def make_bmm_attention(d_model=24, n_head=4):
    return BmmAttention(d_model, n_head)


def test_torch_bmm_attention_counts_scores_and_values():
    assert_matches(make_bmm_attention, ("seq_len", "d_model"),
                   {"d_model": 24, "n_head": 4, "seq_len": 5},
                   {"d_model": 30, "n_head": 3, "seq_len": 8})


class BaddbmmCausalAttention(nn.Module):
    """``torch.baddbmm`` adding the causal mask to the scaled scores (as BLOOM does)."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.dense = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        h, dh = self.n_head, d // self.n_head
        q, k, v = self.qkv(x).view(b, s, 3, h, dh).permute(2, 0, 3, 1, 4).reshape(3, b * h, s, dh)
        future = torch.ones(s, s, dtype=torch.bool, device=x.device).triu(1)
        mask = torch.zeros(s, s, device=x.device).masked_fill(future, float("-inf"))
        scores = torch.baddbmm(mask.expand(b * h, s, s), q, k.transpose(1, 2), beta=1.0, alpha=dh ** -0.5)
        y = torch.bmm(scores.softmax(dim=-1), v)
        return self.dense(y.view(b, h, s, dh).transpose(1, 2).reshape(b, s, d))


def make_baddbmm_attention(d_model=30, n_head=3):
    return BaddbmmCausalAttention(d_model, n_head)


def test_torch_baddbmm_scores_count_the_full_square():
    assert_matches(make_baddbmm_attention, ("seq_len", "d_model"),
                   {"d_model": 30, "n_head": 3, "seq_len": 6},
                   {"d_model": 32, "n_head": 4, "seq_len": 9})


class AddmmConv1D(nn.Module):
    """``torch.addmm``: GPT-2's ``Conv1D`` (a linear layer with its weight stored (in, out))."""

    def __init__(self, nx, nf):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)


class AddmmMLP(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.c_fc = AddmmConv1D(d_model, d_ff)
        self.c_proj = AddmmConv1D(d_ff, d_model)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


def make_addmm_mlp(d_model=16, d_ff=36):
    return AddmmMLP(d_model, d_ff)


def test_torch_addmm_gpt2_style_conv1d_counts_as_a_linear_layer():
    assert_matches(make_addmm_mlp, ("seq_len", "d_model"),
                   {"d_model": 16, "d_ff": 36, "seq_len": 5},
                   {"d_model": 20, "d_ff": 48, "seq_len": 8})


class HeadSumProjection(nn.Module):
    """``torch.addbmm``: per-head output weights, the heads' products summed in one call."""

    def __init__(self, d_model, n_head, d_out):
        super().__init__()
        self.n_head = n_head
        self.inp = nn.Linear(d_model, d_model)
        self.w = _param(n_head, d_model // n_head, d_out)
        self.b = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        b, s, d = x.shape
        h = self.inp(x).view(b * s, self.n_head, d // self.n_head).transpose(0, 1)  # (n_head, b*s, d_head)
        return torch.addbmm(self.b, h, self.w).view(b, s, -1)


def make_head_sum_projection(d_model=24, n_head=4, d_out=10):
    return HeadSumProjection(d_model, n_head, d_out)


def head_sum_reference(dims) -> Reference:
    """By hand (FlopCounterMode counts ``aten.addbmm`` as zero).

    addbmm(M, b1, b2) with b1 (b, n, m), b2 (b, m, p) is b·n·m·p MACs; here b = n_head,
    n = seq_len (batch 1), m = d_model/n_head, p = d_out: seq_len·d_model·d_out MACs.
    The input linear is seq_len·d_model² MACs.

    Forward: 2·(s·d² + s·d·d_out).
    Backward: the input linear is fed by the data, so only its weight gradient
    (s·d² MACs); addbmm's two gradients are both products (its b1 comes from the
    linear, which has a weight: it needs a gradient), grad_b1 = grad ⊗ b2ᵀ and
    grad_b2 = b1ᵀ ⊗ grad, s·d·d_out MACs each. Training: 2·(2·s·d² + 3·s·d·d_out).
    """
    s, d, p = dims["seq_len"], dims["d_model"], dims["d_out"]
    measured = reference_at(make_head_sum_projection, ("seq_len", "d_model"), dims, by_hand=[aten.addbmm])
    assert aten.addbmm in measured.ops
    flops = 2 * (s * d * d + s * d * p)
    training = 2 * (2 * s * d * d + 3 * s * d * p)
    # what FlopCounterMode sees: the linear, and addbmm's backward (two bmm), never its forward
    assert measured.flops == 2 * s * d * d
    assert measured.training_flops == training - 2 * s * d * p
    return Reference(measured.params, flops, training, measured.ops)


def test_torch_addbmm_counts_the_summed_batch_products_by_hand():
    first = {"d_model": 24, "n_head": 4, "d_out": 10, "seq_len": 6}
    second = {"d_model": 30, "n_head": 5, "d_out": 14, "seq_len": 9}
    refs = [head_sum_reference(first), head_sum_reference(second)]
    assert refs[0].numbers == (24 * 24 + 24 + 24 * 10 + 10, 2 * (6 * 24 * 24 + 6 * 24 * 10),
                               2 * (2 * 6 * 24 * 24 + 3 * 6 * 24 * 10))
    assert_matches(make_head_sum_projection, ("seq_len", "d_model"), first, second, refs=refs)


# ---------------------------------------------------------------------------
# torch.einsum
# ---------------------------------------------------------------------------


class EinsumAttention(nn.Module):
    """Projections ``"bld,de->ble"``, scores ``"bhqd,bhkd->bhqk"``, values ``"bhqk,bhkd->bhqd"``."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.n_head = n_head
        self.w_q = _param(d_model, d_model)
        self.w_k = _param(d_model, d_model)
        self.w_v = _param(d_model, d_model)
        self.w_o = _param(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        h = self.n_head

        def heads(t):
            return t.view(b, s, h, d // h).transpose(1, 2)

        q = heads(torch.einsum("bld,de->ble", x, self.w_q))
        k = heads(torch.einsum("bld,de->ble", x, self.w_k))
        v = heads(torch.einsum("bld,de->ble", x, self.w_v))
        att = torch.einsum("bhqd,bhkd->bhqk", q, k).mul(1 / math.sqrt(d // h)).softmax(dim=-1)
        y = torch.einsum("bhqk,bhkd->bhqd", att, v).transpose(1, 2).reshape(b, s, d)
        return torch.einsum("bld,de->ble", y, self.w_o)


def make_einsum_attention(d_model=24, n_head=3):
    return EinsumAttention(d_model, n_head)


def test_einsum_attention_counts_both_products():
    assert_matches(make_einsum_attention, ("seq_len", "d_model"),
                   {"d_model": 24, "n_head": 3, "seq_len": 5},
                   {"d_model": 40, "n_head": 4, "seq_len": 7})


# ---------------------------------------------------------------------------
# F.linear: a bare nn.Parameter, with a bias, and a tied head
# ---------------------------------------------------------------------------


class FunctionalMLP(nn.Module):
    """``F.linear(x, self.w1, self.b1)`` then ``F.linear(h, self.w2)`` (no bias)."""

    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(d_hidden, d_model) * 0.02)
        self.b1 = nn.Parameter(torch.zeros(d_hidden))
        self.w2 = nn.Parameter(torch.randn(d_model, d_hidden) * 0.02)

    def forward(self, x):
        return F.linear(F.gelu(F.linear(x, self.w1, self.b1)), self.w2)


def make_functional_mlp(d_model=14, d_hidden=33):
    return FunctionalMLP(d_model, d_hidden)


def test_functional_linear_with_and_without_bias_counts_its_parameters_and_products():
    assert_matches(make_functional_mlp, ("seq_len", "d_model"),
                   {"d_model": 14, "d_hidden": 33, "seq_len": 6},
                   {"d_model": 22, "d_hidden": 45, "seq_len": 4})


class BareLinearClassifier(nn.Module):
    """``F.linear(x, self.w)`` on a flat feature vector: one bare parameter, no bias."""

    def __init__(self, d_in, n_classes):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(n_classes, d_in))

    def forward(self, x):
        return F.log_softmax(F.linear(x, self.w), dim=-1)


def make_bare_linear_classifier(d_in=26, n_classes=9):
    return BareLinearClassifier(d_in, n_classes)


def test_functional_linear_of_a_bare_parameter_on_the_data_has_no_input_gradient():
    first = {"d_in": 26, "n_classes": 9}
    ref = reference_at(make_bare_linear_classifier, ("d_in",), first)
    assert ref.training_flops == 2 * ref.flops  # forward + the weight's gradient only
    assert_matches(make_bare_linear_classifier, ("d_in",), first, {"d_in": 17, "n_classes": 5})


class TiedLM(nn.Module):
    """A token model whose head is the embedding: ``F.linear(h, self.emb.weight)``."""

    def __init__(self, vocab_size, d_model, d_ff):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, d_model)
        self.norm = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, d_ff)
        self.proj = nn.Linear(d_ff, d_model)

    def forward(self, idx):
        h = self.emb(idx)
        h = h + self.proj(F.gelu(self.fc(self.norm(h))))
        return F.linear(h, self.emb.weight)


def make_tied_lm(vocab_size=50, d_model=16, d_ff=28):
    return TiedLM(vocab_size, d_model, d_ff)


def test_tied_head_counts_the_embedding_once_and_its_product_per_token():
    first = {"vocab_size": 50, "d_model": 16, "d_ff": 28, "seq_len": 7}
    second = {"vocab_size": 61, "d_model": 24, "d_ff": 36, "seq_len": 5}
    assert_matches(make_tied_lm, ("seq_len",), first, second, dtype=torch.long, high="vocab_size")


# ---------------------------------------------------------------------------
# Convolutions: F.conv1d, F.conv2d, F.conv3d, F.conv_transpose2d, nn.Conv2d(groups=...)
# ---------------------------------------------------------------------------


class FunctionalConv1d(nn.Module):
    """``F.conv1d``: a strided, padded stem, then a same-padded convolution."""

    def __init__(self, c_in, c_hidden):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(c_hidden, c_in, 5) * 0.1)
        self.b1 = nn.Parameter(torch.zeros(c_hidden))
        self.w2 = nn.Parameter(torch.randn(c_hidden, c_hidden, 3) * 0.1)

    def forward(self, x):
        h = F.relu(F.conv1d(x, self.w1, self.b1, stride=2, padding=2))
        return F.conv1d(h, self.w2, padding=1)


def make_conv1d(c_in=6, c_hidden=11):
    return FunctionalConv1d(c_in, c_hidden)


def test_functional_conv1d_strided_and_padded_counts_per_output_position():
    assert_matches(make_conv1d, ("c_in", "length"),
                   {"c_in": 6, "c_hidden": 11, "length": 29},
                   {"c_in": 4, "c_hidden": 9, "length": 40})


class FunctionalConvNet(nn.Module):
    """``F.conv2d`` strided and padded, then grouped and dilated."""

    def __init__(self, c_mid, groups):
        super().__init__()
        self.groups = groups
        self.w1 = nn.Parameter(torch.randn(c_mid, 3, 3, 3) * 0.1)
        self.b1 = nn.Parameter(torch.zeros(c_mid))
        self.w2 = nn.Parameter(torch.randn(c_mid, c_mid // groups, 3, 3) * 0.1)

    def forward(self, x):
        h = F.relu(F.conv2d(x, self.w1, self.b1, stride=2, padding=1))
        return F.conv2d(h, self.w2, padding=2, dilation=2, groups=self.groups)


def make_functional_convnet(c_mid=20, groups=4):
    return FunctionalConvNet(c_mid, groups)


def test_functional_conv2d_strided_padded_grouped_dilated():
    first = {"c_mid": 20, "groups": 4, "H": 16, "W": 14}
    second = {"c_mid": 30, "groups": 5, "H": 23, "W": 19}
    refs = [reference_at(make_functional_convnet, (3, "H", "W"), dims) for dims in (first, second)]
    # by hand at the first sizes: 8×7 output positions; the stem 20·3·9 MACs each, the
    # grouped conv 20·(20/4)·9; the stem is fed by the data (no input gradient)
    stem, grouped = 56 * 20 * 3 * 9, 56 * 20 * 5 * 9
    assert refs[0].flops == 2 * (stem + grouped)
    assert refs[0].training_flops == 2 * (2 * stem + 3 * grouped)
    assert refs[0].grouped_excess == 2 * grouped * (4 - 1)  # FlopCounterMode's overcount, taken off
    assert_matches(make_functional_convnet, (3, "H", "W"), first, second, refs=refs)


class VideoStem(nn.Module):
    """``F.conv3d``: a 3×3×3 stem strided in space only."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3, 3) * 0.1)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        return F.relu(F.conv3d(x, self.weight, self.bias, stride=(1, 2, 2), padding=1))


def make_video_stem(c_in=3, c_out=10):
    return VideoStem(c_in, c_out)


def test_functional_conv3d_counts_every_output_voxel():
    assert_matches(make_video_stem, ("c_in", "T", "H", "W"),
                   {"c_in": 3, "c_out": 10, "T": 4, "H": 12, "W": 9},
                   {"c_in": 2, "c_out": 7, "T": 5, "H": 15, "W": 14})


class UpsamplingDecoder(nn.Module):
    """``F.conv2d`` then ``F.conv_transpose2d`` (kernel 4, stride 2, padding 1: doubles H and W)."""

    def __init__(self, c_in, c_mid, c_out):
        super().__init__()
        self.w_in = nn.Parameter(torch.randn(c_mid, c_in, 3, 3) * 0.1)
        self.w_up = nn.Parameter(torch.randn(c_mid, c_out, 4, 4) * 0.1)  # (in, out, kh, kw)
        self.b_up = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        h = F.relu(F.conv2d(x, self.w_in, padding=1))
        return F.conv_transpose2d(h, self.w_up, self.b_up, stride=2, padding=1)


def make_upsampling_decoder(c_in=5, c_mid=12, c_out=3):
    return UpsamplingDecoder(c_in, c_mid, c_out)


def test_functional_conv_transpose2d_counts_its_input_positions_times_kernel():
    assert_matches(make_upsampling_decoder, ("c_in", "H", "W"),
                   {"c_in": 5, "c_mid": 12, "c_out": 3, "H": 7, "W": 9},
                   {"c_in": 4, "c_mid": 10, "c_out": 6, "H": 11, "W": 8})


class DepthwiseSeparable(nn.Module):
    """``nn.Conv2d(groups=channels)`` depthwise, a pointwise convolution, a grouped 3×3."""

    def __init__(self, channels, c_out, groups):
        super().__init__()
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pointwise = nn.Conv2d(channels, c_out, 1)
        self.grouped = nn.Conv2d(c_out, c_out, 3, padding=1, groups=groups, bias=False)

    def forward(self, x):
        return self.grouped(F.relu(self.pointwise(F.relu(self.depthwise(x)))))


def make_depthwise_separable(channels=8, c_out=20, groups=4):
    return DepthwiseSeparable(channels, c_out, groups)


def test_grouped_conv2d_modules_count_per_group():
    first = {"channels": 8, "c_out": 20, "groups": 4, "H": 11, "W": 13}
    second = {"channels": 6, "c_out": 35, "groups": 5, "H": 9, "W": 10}
    refs = [reference_at(make_depthwise_separable, ("channels", "H", "W"), dims) for dims in (first, second)]
    positions = 11 * 13
    depthwise, pointwise, grouped = positions * 8 * 9, positions * 8 * 20, positions * 20 * 5 * 9
    assert refs[0].flops == 2 * (depthwise + pointwise + grouped)
    assert refs[0].training_flops == 2 * (2 * depthwise + 3 * pointwise + 3 * grouped)
    assert refs[0].grouped_excess == 2 * (depthwise * (8 - 1) + grouped * (4 - 1))
    assert_matches(make_depthwise_separable, ("channels", "H", "W"), first, second, refs=refs)


# ---------------------------------------------------------------------------
# F.scaled_dot_product_attention
# ---------------------------------------------------------------------------


class SDPAttention(nn.Module):
    """Multi-head attention through ``F.scaled_dot_product_attention``; ``mask``:
    ``"none"``, ``"causal"`` (``is_causal=True``) or ``"alibi"`` (a float ``attn_mask``
    of distance penalties built from the sequence)."""

    def __init__(self, d_model, n_head, mask="none"):
        super().__init__()
        self.n_head = n_head
        self.mask = mask
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.n_head, d // self.n_head).permute(2, 0, 3, 1, 4)
        if self.mask == "alibi":
            pos = torch.arange(s, device=x.device)
            attn_mask = -(pos[:, None] - pos[None, :]).abs().float() * 0.5
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.mask == "causal")
        return self.out(y.transpose(1, 2).reshape(b, s, d))


def make_sdpa(d_model=24, n_head=3):
    return SDPAttention(d_model, n_head)


def make_causal_sdpa(d_model=24, n_head=3):
    return SDPAttention(d_model, n_head, mask="causal")


def make_masked_sdpa(d_model=24, n_head=3):
    return SDPAttention(d_model, n_head, mask="alibi")


SDPA_FIRST = {"d_model": 24, "n_head": 3, "seq_len": 5}
SDPA_SECOND = {"d_model": 36, "n_head": 4, "seq_len": 10}


def test_sdpa_counts_scores_and_values():
    assert_matches(make_sdpa, ("seq_len", "d_model"), SDPA_FIRST, SDPA_SECOND)


def test_causal_sdpa_counts_the_full_square_as_flop_counter_mode_does():
    ref = reference_at(make_causal_sdpa, ("seq_len", "d_model"), SDPA_FIRST)
    assert ref.numbers == reference_at(make_sdpa, ("seq_len", "d_model"), SDPA_FIRST).numbers  # the mask saves nothing
    assert_matches(make_causal_sdpa, ("seq_len", "d_model"), SDPA_FIRST, SDPA_SECOND)


def test_sdpa_with_an_attention_mask_counts_like_without():
    assert_matches(make_masked_sdpa, ("seq_len", "d_model"), SDPA_FIRST, SDPA_SECOND)


class GroupedQueryAttention(nn.Module):
    """Grouped-query attention: ``n_kv_head`` key/value heads shared by ``n_head``
    query heads, through ``enable_gqa=True`` or ``repeat_interleave``."""

    def __init__(self, d_model, n_head, n_kv_head, repeat=False):
        super().__init__()
        self.n_head, self.n_kv_head, self.repeat = n_head, n_kv_head, repeat
        self.head_dim = d_model // n_head
        self.q_proj = nn.Linear(d_model, n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d_model, n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d_model, n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_head * self.head_dim, d_model, bias=False)

    def forward(self, x):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.n_kv_head, self.head_dim).transpose(1, 2)
        if self.repeat:
            group = self.n_head // self.n_kv_head
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))


def make_gqa(d_model=48, n_head=6, n_kv_head=2):
    return GroupedQueryAttention(d_model, n_head, n_kv_head)


def make_gqa_repeat_interleave(d_model=48, n_head=6, n_kv_head=2):
    return GroupedQueryAttention(d_model, n_head, n_kv_head, repeat=True)


GQA_FIRST = {"d_model": 48, "n_head": 6, "n_kv_head": 2, "seq_len": 5}
GQA_SECOND = {"d_model": 80, "n_head": 8, "n_kv_head": 4, "seq_len": 7}


def test_sdpa_enable_gqa_counts_every_query_head():
    assert_matches(make_gqa, ("seq_len", "d_model"), GQA_FIRST, GQA_SECOND)


def test_gqa_by_repeat_interleave_counts_like_enable_gqa():
    ref = reference_at(make_gqa_repeat_interleave, ("seq_len", "d_model"), GQA_FIRST)
    assert ref.numbers == reference_at(make_gqa, ("seq_len", "d_model"), GQA_FIRST).numbers
    assert_matches(make_gqa_repeat_interleave, ("seq_len", "d_model"), GQA_FIRST, GQA_SECOND)


# ---------------------------------------------------------------------------
# Structure: a block called twice, top-2 MoE, frozen parameters, the data-fed layer
# ---------------------------------------------------------------------------


class ResidualMLP(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.fc = nn.Linear(d_model, d_ff)
        self.proj = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return x + self.proj(F.gelu(self.fc(x)))


class SharedBlockTwice(nn.Module):
    """One block applied twice in one forward: its weights count once, its cost twice."""

    def __init__(self, d_in, d_model, d_ff):
        super().__init__()
        self.embed = nn.Linear(d_in, d_model)
        self.block = ResidualMLP(d_model, d_ff)

    def forward(self, x):
        return self.block(self.block(self.embed(x)))


def make_shared_block_twice(d_in=10, d_model=16, d_ff=36):
    return SharedBlockTwice(d_in, d_model, d_ff)


def test_block_called_twice_counts_weights_once_and_products_twice():
    first = {"d_in": 10, "d_model": 16, "d_ff": 36, "seq_len": 6}
    ref = reference_at(make_shared_block_twice, ("seq_len", "d_in"), first)
    s, i, d, f = 6, 10, 16, 36
    assert ref.flops == 2 * (s * i * d + 2 * 2 * s * d * f)
    assert_matches(make_shared_block_twice, ("seq_len", "d_in"), first,
                   {"d_in": 7, "d_model": 20, "d_ff": 44, "seq_len": 9})


class Expert(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.w1 = nn.Linear(d_model, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d_model, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)))


class Top2MoE(nn.Module):
    """Top-2 routing: a router, a ModuleList of expert MLPs, each expert fed the tokens
    routed to it (gathered with ``torch.where`` and indexing), outputs scattered back
    with ``index_add_``. Every token runs through two experts: 2·tokens expert calls
    whatever the routing."""

    top_k = 2

    def __init__(self, d_model, d_ff, n_expert):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.router = nn.Linear(d_model, n_expert, bias=False)
        self.experts = nn.ModuleList(Expert(d_model, d_ff) for _ in range(n_expert))

    def forward(self, x):
        b, s, d = x.shape
        tokens = self.norm(x).view(-1, d)
        weights, chosen = torch.topk(self.router(tokens).softmax(dim=-1), self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            token_idx, slot = torch.where(chosen == e)
            if token_idx.numel() == 0:
                continue
            y = expert(tokens[token_idx]) * weights[token_idx, slot, None]
            out.index_add_(0, token_idx, y)
        return x + out.view(b, s, d)


def make_top2_moe(d_model=12, d_ff=20, n_expert=4):
    return Top2MoE(d_model, d_ff, n_expert)


def test_top2_moe_counts_two_experts_per_token_and_the_router():
    first = {"d_model": 12, "d_ff": 20, "n_expert": 4, "seq_len": 6}
    second = {"d_model": 16, "d_ff": 28, "n_expert": 5, "seq_len": 9}
    ref = reference_at(make_top2_moe, ("seq_len", "d_model"), first)
    s, d, f, e = 6, 12, 20, 4
    assert ref.flops == 2 * (s * d * e + 2 * s * 2 * d * f)
    count = assert_matches(make_top2_moe, ("seq_len", "d_model"), first, second)
    # active per token, by hand: the norm (γ, β), the router, two of the experts
    for dims in (first, second):
        d, f, e = dims["d_model"], dims["d_ff"], dims["n_expert"]
        assert int(at(count, dims).active_params) == 2 * d + d * e + 2 * (2 * d * f)


class PartlyFrozen(nn.Module):
    """A trainable input layer, a frozen middle (``requires_grad=False``: the gradient
    flows through it to the input layer but it has no weight gradient), a trainable head."""

    def __init__(self, d_in, d_hidden, n_classes):
        super().__init__()
        self.inp = nn.Linear(d_in, d_hidden)
        self.frozen = nn.Linear(d_hidden, d_hidden)
        self.frozen.requires_grad_(False)
        self.head = nn.Linear(d_hidden, n_classes)

    def forward(self, x):
        return self.head(torch.relu(self.frozen(torch.relu(self.inp(x)))))


def make_partly_frozen(d_in=10, d_hidden=24, n_classes=6):
    return PartlyFrozen(d_in, d_hidden, n_classes)


def test_frozen_layer_has_no_weight_gradient_but_passes_the_input_gradient():
    first = {"d_in": 10, "d_hidden": 24, "n_classes": 6, "seq_len": 5}
    ref = reference_at(make_partly_frozen, ("seq_len", "d_in"), first)
    s, i, h, c = 5, 10, 24, 6
    # inp: forward + weight grad; frozen: forward + input grad; head: all three
    assert ref.training_flops == 2 * s * (2 * i * h + 2 * h * h + 3 * h * c)
    assert_matches(make_partly_frozen, ("seq_len", "d_in"), first,
                   {"d_in": 13, "d_hidden": 32, "n_classes": 4, "seq_len": 8})


class FrozenEncoderProbe(nn.Module):
    """A frozen encoder fed by the data, a trainable probe: the training step
    computes only the probe's weight gradient."""

    def __init__(self, d_in, d_hidden, n_classes):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_hidden))
        for p in self.encoder.parameters():
            p.requires_grad = False
        self.probe = nn.Linear(d_hidden, n_classes)

    def forward(self, x):
        return self.probe(self.encoder(x))


def make_frozen_encoder_probe(d_in=12, d_hidden=28, n_classes=5):
    return FrozenEncoderProbe(d_in, d_hidden, n_classes)


def test_frozen_encoder_before_a_probe_has_no_backward_products():
    first = {"d_in": 12, "d_hidden": 28, "n_classes": 5, "seq_len": 6}
    ref = reference_at(make_frozen_encoder_probe, ("seq_len", "d_in"), first)
    assert ref.training_flops == ref.flops + 2 * 6 * 28 * 5
    assert_matches(make_frozen_encoder_probe, ("seq_len", "d_in"), first,
                   {"d_in": 9, "d_hidden": 34, "n_classes": 3, "seq_len": 4})


class DataFedMLP(nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def make_data_fed_mlp(d_in=11, d_hidden=30, d_out=8):
    return DataFedMLP(d_in, d_hidden, d_out)


def test_first_layer_fed_by_the_data_has_no_input_gradient():
    first = {"d_in": 11, "d_hidden": 30, "d_out": 8, "seq_len": 6}
    ref = reference_at(make_data_fed_mlp, ("seq_len", "d_in"), first)
    first_layer = 2 * 6 * 11 * 30
    assert ref.training_flops == 3 * ref.flops - first_layer  # no gradient of the data
    assert_matches(make_data_fed_mlp, ("seq_len", "d_in"), first,
                   {"d_in": 15, "d_hidden": 26, "d_out": 3, "seq_len": 9})


# ---------------------------------------------------------------------------
# An operator symcount cannot know
# ---------------------------------------------------------------------------


class SolveLayer(nn.Module):
    """``torch.linalg.solve`` with a learned system matrix: no FLOP formula anywhere."""

    def __init__(self, d_model):
        super().__init__()
        self.proj = nn.Linear(d_model, d_model)
        self.system = nn.Parameter(torch.eye(d_model) + 0.01 * torch.randn(d_model, d_model))

    def forward(self, x):
        return torch.linalg.solve(self.system, self.proj(x).transpose(-2, -1)).transpose(-2, -1)


def make_solve_layer(d_model=12):
    return SolveLayer(d_model)


def test_unknown_operator_is_reported_uncounted_with_a_warning():
    dims = {"d_model": 12, "seq_len": 5}
    module = build(make_solve_layer, dims)
    assert module(torch.randn(1, 5, 12)).shape == (1, 5, 12)
    with pytest.warns(SymcountImportWarning):
        count = imported_count(make_solve_layer, ("seq_len", "d_model"), dims)
    assert count.uncounted
    names = " ".join(f"{u} {u!r}" for u in count.uncounted)
    assert "solve" in names, names
    assert int(at(count, dims).total) == 12 * 12 + 12 + 12 * 12
