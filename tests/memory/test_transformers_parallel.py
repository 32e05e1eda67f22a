"""Tensor parallelism on the transformers zoo entries, as Megatron-LM splits a transformer:
the query, key, value, gate and up projections column-parallel, the output and down
projections row-parallel, the vocabulary split; derived by hand for Llama and GPT-2."""

from __future__ import annotations

import sympy

from symcount import zoo

COUNT = zoo.symbolic("transformers:LlamaForCausalLM")
DIMS = {s.name: s for s in COUNT.total.free_symbols}
L, h, I, V = (DIMS[n] for n in ("num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size"))
a = next(x for x in COUNT.dims if x.name == "num_attention_heads")
kv = next(x for x in COUNT.dims if x.name == "num_key_value_heads")
s = next(x for x in COUNT.dims if x.name == "seq_len")
b, t = sympy.symbols("b t", positive=True, integer=True)


def test_weights_per_device():
    """Every projection and both vocabulary matrices divided by t; the RMS norms whole."""
    weights = COUNT.memory(dtype="float32", training=False, tp=t).weights / 4
    d = h / a
    split = L * (2 * h * h + 2 * h * kv * d + 3 * h * I) + 2 * V * h
    whole = L * 2 * h + h
    assert sympy.expand(weights - split / t - whole) == 0


def test_activations_of_a_llama_layer():
    """Bytes per layer in bf16, by hand: each RMS norm keeps its input in float32 (4h),
    the float32 rstd (4) and the normalized rows (2h); the attention its input (2h,
    whole), the query, the keys and values repeated to every head, the probabilities
    (softmax's float32 output, 4as, and its bf16 cast that ``A·V`` keeps, 2as: Llama's
    ``softmax(…, dtype=torch.float32).to(query.dtype)``, no dropout) and the heads
    (2h + 2h + 2h + 6as + 2h, split); the MLP its input (2h, whole) and four tensors of
    the intermediate width (8I, split) — per token."""
    total = COUNT.memory(dtype="bf16", batch_size=b, tp=t).activations
    per_layer = sympy.expand(total.subs(L, L + 1) - total)
    norms = 2 * (4 * h + 4 + 2 * h)
    whole = 2 * h + 2 * h
    split = 8 * h + 6 * a * s + 8 * I
    assert sympy.expand(per_layer - s * b * (norms + whole + split / t)) == 0


def test_tp_must_divide_the_heads_and_the_key_value_heads():
    conditions = {c.relation for c in COUNT.memory(dtype="bf16", tp=t).conditions}
    for size in (a, kv, I, V):
        assert sympy.Eq(sympy.Mod(size, t), 0) in conditions


def test_activations_of_a_gpt2_block():
    """Bytes per token of one GPT-2 block in bf16 on CUDA, dropout on, by hand: Korthikanti
    et al.'s 10h whole (the layer norms' inputs, the projections' inputs, two 1-byte
    dropout masks), the layer norms' float32 statistics (16), and split: q, k, v (6h), the
    softmax, its mask and the dropped-out probabilities (5as), c_proj's input (2h), and
    the MLP: gelu_new's input and its three own tensors (4 · 8h) and c_proj's input (8h) —
    48h where Korthikanti's fused GeLU keeps 24h."""
    count = zoo.symbolic("transformers:GPT2Model")
    n = {x.name: x for x in count.dims}
    total = count.memory(dtype="bf16", batch_size=b, tp=t).activations
    per_layer = sympy.expand(total.subs(n["n_layer"], n["n_layer"] + 1) - total)
    h, heads, length = n["n_embd"], n["n_head"], n["seq_len"]
    expected = length * b * (10 * h + 16 + (48 * h + 5 * heads * length) / t)
    assert sympy.expand(per_layer - expected) == 0
