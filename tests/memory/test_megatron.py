"""megatron:GPT against the papers that define it: its parameter count is Narayanan et
al. (2021)'s formula (plus the final layer norm, which the formula leaves out), and the
activation memory of one of its layers is Korthikanti et al. (2022)'s Table 2 in every
form of parallelism and recomputation (plus the layer norms' float32 statistics, which
the table leaves out), derived symbolically."""

from __future__ import annotations

import pytest
import sympy

from symcount import zoo
from symcount.zoo.megatron.gpt import PRESETS

COUNT = zoo.symbolic("megatron:GPT")
SYMBOLS = {s.name: s for s in COUNT.total.free_symbols}
L, h, s, V = (SYMBOLS[n] for n in ("num_layers", "hidden_size", "seq_length", "vocab_size"))
a = next(x for x in COUNT.memory().activations.free_symbols if x.name == "num_attention_heads")
b, t = sympy.symbols("b t", positive=True, integer=True)


def test_parameters_are_narayanan_et_al_formula_plus_the_final_layer_norm():
    formula = 12 * L * h ** 2 * (1 + sympy.Rational(13, 12) / h + (V + s) / (12 * L * h))
    assert sympy.expand(COUNT.total - formula) == 2 * h  # decoder.final_layernorm: weight and bias


@pytest.mark.parametrize("name, billions", [("22B", 22), ("175B", 175), ("530B", 530), ("1T", 1008)])
def test_table_3_configurations_have_their_sizes(name, billions):
    assert round(zoo.get("megatron:GPT", **PRESETS[name]).evaluate() / 1e9) == billions


def per_layer(**options):
    """Activation bytes of one transformer layer: what one more layer adds."""
    total = COUNT.memory(dtype="bf16", device="cuda", batch_size=b, **options).activations
    return sympy.expand(total.subs(L, L + 1) - total)


# Korthikanti et al. (2022), Table 2, bytes per layer; and the layer norms' statistics on top:
# two LayerNorms saving a float32 mean and rstd per token (16·s·b bytes), split like the rest
# under sequence parallelism. Terms without h are exactly these.
TABLE_2 = [
    ({}, s * b * h * (34 + 5 * a * s / h), 16 * s * b),
    ({"tp": t}, s * b * h * (10 + 24 / t + 5 * a * s / (h * t)), 16 * s * b),
    ({"tp": t, "sp": True}, s * b * h * (34 / t + 5 * a * s / (h * t)), 16 * s * b / t),
    ({"tp": t, "recompute": "selective"}, s * b * h * (10 + 24 / t), 16 * s * b),
    ({"tp": t, "sp": True, "recompute": "selective"}, s * b * h * 34 / t, 16 * s * b / t),
    ({"recompute": "full"}, 2 * s * b * h, 0),
]


@pytest.mark.parametrize("options, table, statistics", TABLE_2,
                         ids=["none", "tp", "tp+sp", "tp+selective", "tp+sp+selective", "full"])
def test_layer_activations_are_table_2(options, table, statistics):
    assert sympy.expand(per_layer(**options) - table - statistics) == 0


def test_flash_attention_keeps_the_log_sum_exp_instead_of_the_scores():
    """With a flash kernel the seq² tensors (5·a·s² bytes: softmax output, mask,
    dropped-out probabilities) are gone; the kernel keeps its output (the row-parallel
    projection's input, already counted) and a float32 log-sum-exp per head and token."""
    assert sympy.expand(per_layer(attention="flash") - per_layer()) == -5 * a * s ** 2 * b + 4 * a * s * b


def test_tensor_parallelism_must_divide_the_heads_the_widths_and_the_vocabulary():
    conditions = {c.relation for c in COUNT.memory(dtype="bf16", tp=t).conditions}
    for split in (a, h, 3 * h, 4 * h, V):
        assert sympy.Eq(sympy.Mod(split, t), 0) in conditions


def test_weights_are_split_as_megatron_splits_them():
    """Per device with tp = t: the column- and row-parallel weights and the vocabulary
    divided by t; the layer norms, the row-parallel biases (linear_proj, linear_fc2) and
    the position embeddings whole."""
    weights = COUNT.memory(dtype="float32", tp=t, training=False).weights / 4
    split = L * (12 * h ** 2 + 3 * h + 4 * h) + V * h
    whole = L * (4 * h + 2 * h) + s * h + 2 * h
    assert sympy.expand(weights - split / t - whole) == 0


def test_kv_cache_is_keys_and_values_of_every_layer():
    """Inference: 2·L·h·tokens per sequence, bytes of the dtype, split over tp."""
    memory = COUNT.memory(dtype="bf16", training=False, kv_cache=True, batch_size=b, seq_len=4096, tp=t)
    assert sympy.expand(memory.kv_cache - 2 * L * h * 4096 * b * 2 / t) == 0
