"""Weights, gradients and optimizer states per device, against the ZeRO paper's figures
and torch's own optimizers.

Rajbhandari et al. (2020), "ZeRO: Memory Optimizations Toward Training Trillion Parameter
Models", Figure 1: Ψ = 7.5B parameters, N_d = 64 devices, mixed-precision Adam (K = 12):
(2 + 2 + K)Ψ = 120 GB; P_os 2Ψ + 2Ψ + KΨ/N_d = 31.4 GB; P_os+g 2Ψ + (2 + K)Ψ/N_d = 16.6 GB;
P_os+g+p (2 + 2 + K)Ψ/N_d = 1.9 GB.
"""

import pytest
import sympy
import torch

import symcount as sc
from symcount.errors import ArgumentError
from symcount.torch import Embedding, Linear, Repeat, Sequential

PSI = 7_500_000_000


def one_tensor(rows=7_500_000, cols=1000):
    """A model of exactly one trainable tensor of rows·cols parameters (Ψ = 7.5B)."""
    return Sequential([Embedding(rows, cols)]).count(input_shape=(1,))


def model_states(memory):
    return memory.weights + memory.gradients + memory.optimizer


@pytest.mark.parametrize("zero, gigabytes", [(0, 120), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_figure_1(zero, gigabytes):
    count = one_tensor()
    assert count.total == PSI
    dp = 64 if zero else 1
    memory = count.memory(dtype="float16", optimizer="adam", dp=dp, zero=zero)
    states = model_states(memory) - 4 * sympy.Rational(1, dp if zero else 1)  # torch's one fp32 `step` scalar
    exact = {0: 16 * PSI, 1: 4 * PSI + sympy.Rational(12 * PSI, 64), 2: 2 * PSI + sympy.Rational(14 * PSI, 64),
             3: sympy.Rational(16 * PSI, 64)}[zero]
    assert states == exact
    assert round(float(states) / 1e9, 1) == gigabytes


def test_mixed_precision_adam_is_16_bytes_per_parameter_and_8_without_master_weights():
    n = sc.dim("n")
    count = Sequential([Linear(n, n, bias=False)]).count(input_shape=(n,))
    mixed = count.memory(dtype="bf16", optimizer="adam")
    assert (mixed.weights, mixed.gradients) == (2 * n**2, 2 * n**2)
    assert mixed.optimizer == 12 * n**2 + 4  # fp32 master copy, momentum, variance; one step scalar
    pure = count.memory(dtype="bf16", optimizer="adam", master_weights=False)
    assert model_states(pure) == 8 * n**2 + 4
    fp32 = count.memory(dtype="float32", optimizer="adam")
    assert model_states(fp32) == 16 * n**2 + 4


def torch_state_bytes(module, optimizer) -> int:
    """Bytes of the states torch.optim keeps after one step."""
    module(torch.randn(2, module[0].in_features)).sum().backward()
    optimizer.step()
    return sum(v.numel() * v.element_size() for state in optimizer.state.values()
               for v in state.values() if torch.is_tensor(v))


@pytest.mark.parametrize("name, make", [
    ("adam", lambda p: torch.optim.Adam(p)),
    ("adamw", lambda p: torch.optim.AdamW(p)),
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("adafactor", lambda p: torch.optim.Adafactor(p)),
])
def test_optimizer_states_equal_torch_optim(name, make):
    module = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3, bias=False))
    count = Sequential([Linear(6, 5), Linear(5, 3, bias=False)]).count(input_shape=(6,))
    ours = count.memory(dtype="float32", optimizer=name).optimizer
    assert ours == torch_state_bytes(module, make(module.parameters()))


def test_adafactor_factors_every_matrix_symbolically():
    """torch.optim.Adafactor: a (r, c) weight keeps row_var (r, 1) and col_var (1, c); a
    vector keeps a full variance; one step scalar each."""
    r, c = sc.dims("r c")
    count = Sequential([Linear(c, r)]).count(input_shape=(c,))
    assert count.memory(optimizer="adafactor").optimizer == 4 * (r + c) + 4 * r + 2 * 4


def test_adam8bit_follows_bitsandbytes_blocks_and_min_8bit_size():
    """bitsandbytes Optimizer2State: uint8 state1 and state2, fp32 absmax per 256-element
    block for each; a tensor under min_8bit_size = 4096 elements keeps fp32 states."""
    count = Sequential([Linear(100, 100, bias=True)]).count(input_shape=(100,))
    states = count.memory(dtype="float32", optimizer="adam8bit").optimizer
    assert states == (2 * 10_000 + 8 * 40) + 8 * 100


def test_pipeline_first_stage_holds_its_share_of_the_layers_and_microbatches_in_flight():
    n, d = sc.dims("n d")
    count = Sequential([Linear(d, d), Repeat([Linear(d, d, bias=False)], n), Linear(d, 3)]).count(input_shape=(d,))
    memory = count.memory(dtype="float32", optimizer="sgd", pp=4)
    assert sympy.simplify(memory.weights - 4 * (d * d + d + n * d * d / 4)) == 0
    assert memory.conditions and "Mod(n, 4)" in str(memory.conditions[0].relation)
    # activations: the stage's micro-batches in flight (pp of them), each its layers' inputs
    one = count.memory(dtype="float32", optimizer="sgd").activations
    assert sympy.expand(one - 4 * (d + n * d + d)) == 0
    staged = count.memory(dtype="float32", optimizer="sgd", pp=4).activations
    assert sympy.simplify(staged - 4 * 4 * (d + n * d / 4)) == 0
    with pytest.raises(ArgumentError, match="pp must divide 6"):
        count.subs(n=6, d=8).memory(pp=4)


@pytest.mark.parametrize("kwargs, message", [
    ({"dtype": "float12"}, "unknown dtype"),
    ({"optimizer": "lion"}, "unknown optimizer"),
    ({"zero": 1}, "needs dp > 1"),
    ({"sp": True}, "needs tp > 1"),
    ({"kv_cache": True}, "pass training=False"),
    ({"recompute": "some"}, "unknown recompute"),
    ({"batch_size": 0}, "batch_size"),
    ({"tp": 2}, "no layer of this model is tensor-parallel"),
    ({"pp": 2}, "has none"),
    ({"training": False, "kv_cache": True}, "no layer of this model keeps a key/value cache"),
])
def test_impossible_options_are_one_clear_error(kwargs, message):
    count = Sequential([Linear(4, 4)]).count(input_shape=(4,))
    with pytest.raises(ArgumentError, match=message):
        count.memory(**kwargs)


def test_shares_of_memory_and_activations_add_up_to_the_model_totals():
    """``symcount shares --what memory`` splits Count.memory() by layer: the parts add up."""
    from symcount.scaling.shares import shares

    n, d = sc.dims("n d")
    count = Sequential([Linear(d, d), Repeat([Linear(d, d, bias=False)], n), Linear(d, 3)]).count(input_shape=(d,))
    assert sympy.expand(shares(count, what="memory").total - count.memory().total) == 0
    assert sympy.expand(shares(count, what="activations").total - count.activations) == 0
    assert sympy.expand(count.activations - 4 * (d + n * d + d)) == 0


def test_flash_attention_is_refused_where_only_the_eager_kernel_is_known():
    """A model whose attention probabilities are declared for the eager kernel only (no
    entry says what a flash kernel keeps) cannot answer attention='flash' by silently
    counting the eager tensors."""
    from symcount.layer import Layer
    from symcount.saved import Saved, elements

    class EagerOnly(Layer):
        def saved(self, shape):
            return (Saved("probabilities", elements(shape) * shape[1], selective=True, attention="eager"),)

    count = Sequential([Linear(4, 4), EagerOnly()]).count(input_shape=(6, 4))
    assert count.memory(dtype="float32").activations == 4 * (6 * 4 + 6 * 4 * 6)
    with pytest.raises(ArgumentError, match="attention='flash'"):
        count.memory(attention="flash")
