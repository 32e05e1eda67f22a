"""Hugging Face models imported with ``sc.from_hf``: their memory read off the operators
they run, against transformers itself.

- Activations: ``memory(device="cpu", batch_size=B).activations`` of the imported
  formula, at two configurations (one not a probe of the import), against the bytes
  autograd saves in a real CPU training forward pass of the transformers model built at
  that configuration (``saved_tensors_hooks``, unique storages, parameters and buffers
  excluded: ``tests.torch.saved_truth``). GPT-2 with dropout on and off, Llama, BERT, T5,
  ViT. Exact (position ids and rotary tables, kept once per step, included).
- KV cache: ``memory(training=False, kv_cache=True)`` against the sum of the key and value
  tensors' bytes a ``DynamicCache`` holds after a forward pass with ``use_cache=True``,
  fp16 and fp32, two sizes: Llama, Mistral (sliding window: transformers 5.23 keeps
  ``sliding_window − 1`` tokens), Qwen2 (grouped-query), Falcon (multi-query), GPT-2; and
  Llama-2-7B's published config at 4,096 tokens, fp16, batch 1: 2,147,483,648 bytes.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import symcount as sc  # noqa: E402
from tests.torch.saved_truth import saved_bytes  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hf"

TINY = {
    "gpt2": ("GPT2Config", "GPT2LMHeadModel",
             dict(n_layer=2, n_embd=32, n_head=4, vocab_size=100, n_positions=64)),
    "gpt2_no_dropout": ("GPT2Config", "GPT2LMHeadModel",
                        dict(n_layer=2, n_embd=32, n_head=4, vocab_size=100, n_positions=64, resid_pdrop=0.0,
                             embd_pdrop=0.0, attn_pdrop=0.0)),
    "llama": ("LlamaConfig", "LlamaForCausalLM",
              dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4,
                   num_key_value_heads=2, vocab_size=100, max_position_embeddings=64)),
    "bert": ("BertConfig", "BertForMaskedLM",
             dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4, vocab_size=100,
                  max_position_embeddings=64)),
    "t5": ("T5Config", "T5ForConditionalGeneration",
           dict(num_layers=2, num_decoder_layers=2, d_model=32, d_ff=64, d_kv=8, num_heads=4, vocab_size=100)),
    "vit": ("ViTConfig", "ViTForImageClassification",
            dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4, image_size=16,
                 patch_size=4)),
    "mistral": ("MistralConfig", "MistralForCausalLM",
                dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4,
                     num_key_value_heads=2, vocab_size=100, max_position_embeddings=64, sliding_window=12)),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM",
              dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4,
                   num_key_value_heads=1, vocab_size=100, max_position_embeddings=64)),
    "falcon": ("FalconConfig", "FalconForCausalLM",
               dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, multi_query=True,
                    new_decoder_architecture=False, vocab_size=100, max_position_embeddings=64)),
}


def config(name, **changes):
    cls, arch, fields = TINY[name]
    return getattr(transformers, cls)(**{**fields, **changes}, architectures=[arch])


@functools.lru_cache(maxsize=None)
def imported(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.logging.set_verbosity_error()
        model = sc.from_hf(config(name))
    return model, model.count()


def torch_model(name, changes, dtype=None):
    cfg = config(name, **changes)
    torch.manual_seed(0)
    kwargs = {"attn_implementation": "eager"}
    if dtype is not None:
        kwargs["dtype"] = dtype
    return getattr(transformers, TINY[name][1])._from_config(cfg, **kwargs)


def token_inputs(batch, seq, decoder=None):
    kwargs = {"input_ids": torch.randint(0, 100, (batch, seq)),
              "attention_mask": torch.ones(batch, seq, dtype=torch.long)}
    if decoder is not None:
        kwargs["decoder_input_ids"] = torch.randint(0, 100, (batch, decoder))
    return kwargs


# every field a dim of the formula; the second point changes widths and depth together
ACTIVATIONS = {
    "gpt2": [({}, {"seq_len": 16}, 2), ({"n_embd": 48, "n_head": 6, "n_layer": 3}, {"seq_len": 24}, 3)],
    "gpt2_no_dropout": [({}, {"seq_len": 16}, 2), ({"n_embd": 48, "n_layer": 3}, {"seq_len": 20}, 3)],
    "llama": [({}, {"seq_len": 16}, 2),
              ({"hidden_size": 64, "head_dim": 16, "num_hidden_layers": 3}, {"seq_len": 24}, 3)],
    "bert": [({}, {"seq_len": 16}, 2), ({"hidden_size": 64, "num_hidden_layers": 3}, {"seq_len": 24}, 3)],
    "t5": [({}, {"seq_len": 16, "decoder_seq_len": 8}, 2),
           ({"d_model": 64}, {"seq_len": 24, "decoder_seq_len": 12}, 3)],
    "vit": [({}, {}, 2), ({"image_size": 32, "hidden_size": 64}, {}, 3)],
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_what_autograd_saves(name):
    model, count = imported(name)
    for changes, axes, batch in ACTIVATIONS[name]:
        memory = count.subs({**model.values, **changes, **axes}).memory(device="cpu", batch_size=batch)
        assert memory.undeclared == ()
        module = torch_model(name, changes).train()
        if name == "vit":
            size = module.config.image_size
            kwargs = {"pixel_values": torch.randn(batch, 3, size, size)}
        else:
            kwargs = token_inputs(batch, axes["seq_len"], axes.get("decoder_seq_len"))
            kwargs["use_cache"] = False
        truth = saved_bytes(module, call=lambda: module(**kwargs))
        assert int(memory.activations) == truth, (name, changes, axes, batch)


def test_llama_in_bfloat16():
    """In 16-bit, Llama's RMS norms keep a float32 copy of their input and its statistics,
    and its eager softmax float32 probabilities plus their cast to bf16 (a tensor that in
    float32 is the probabilities themselves): the import sees them in a bf16 recording."""
    model, count = imported("llama")
    for changes, axes, batch in ACTIVATIONS["llama"]:
        memory = count.subs({**model.values, **changes, **axes}).memory(dtype="bfloat16", device="cpu",
                                                                        batch_size=batch)
        module = torch_model("llama", changes, torch.bfloat16).train()
        kwargs = dict(token_inputs(batch, axes["seq_len"]), use_cache=False)
        truth = saved_bytes(module, call=lambda: module(**kwargs))
        assert int(memory.activations) == truth, (changes, axes, batch)


def test_t5_in_bfloat16():
    """T5's layer norm upcasts its input to float32 for the variance and multiplies in
    float32 before casting back; its softmax runs in float32 too. Its 16-bit forward reads
    data on the way (the mask), so the bf16 recording that finds those tensors runs on
    real CPU tensors at the probe."""
    model, count = imported("t5")
    for changes, axes, batch in ACTIVATIONS["t5"]:
        memory = count.subs({**model.values, **changes, **axes}).memory(dtype="bfloat16", device="cpu",
                                                                        batch_size=batch)
        module = torch_model("t5", changes, torch.bfloat16).train()
        kwargs = dict(token_inputs(batch, axes["seq_len"], axes["decoder_seq_len"]), use_cache=False)
        truth = saved_bytes(module, call=lambda: module(**kwargs))
        assert int(memory.activations) == truth, (changes, axes, batch)


MIXTRAL = dict(num_hidden_layers=2, hidden_size=32, intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
               vocab_size=100, num_local_experts=4, max_position_embeddings=64)


@functools.lru_cache(maxsize=None)
def mixtral():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.logging.set_verbosity_error()
        model = sc.from_hf(transformers.MixtralConfig(**MIXTRAL, architectures=["MixtralForCausalLM"]))
    return model, model.count()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_mixture_of_experts_saves_what_its_routed_tokens_need(dtype):
    """Mixtral routes each token to 2 of 4 experts: whichever experts the tokens reach, the
    rows they save add up to top-k · tokens, so random tokens save what the probe's (every
    token alike, two experts hit) did. Its routing reads data, so it is recorded on real
    tensors; a probe with more experts per token saves other tensors, so the sizes are
    claimed where ``num_experts_per_tok`` keeps its value (and key/value heads, whose
    doubling would reach the query heads), and say so."""
    model, count = mixtral()
    assert {str(c) for c in count.memory().conditions} == {"num_experts_per_tok == 2", "num_key_value_heads == 2"}
    name = "bfloat16" if dtype == torch.bfloat16 else "float32"
    for changes, seq, batch in (({}, 16, 2), ({"hidden_size": 64, "num_hidden_layers": 3, "intermediate_size": 96}, 24, 3)):
        memory = count.subs({**model.values, **changes, "seq_len": seq}).memory(dtype=name, device="cpu",
                                                                               batch_size=batch)
        assert memory.undeclared == ()
        torch.manual_seed(0)
        module = transformers.MixtralForCausalLM._from_config(
            transformers.MixtralConfig(**{**MIXTRAL, **changes}), attn_implementation="eager",
            experts_implementation="eager", dtype=dtype).train()
        kwargs = dict(token_inputs(batch, seq), use_cache=False)
        truth = saved_bytes(module, call=lambda: module(**kwargs))
        assert int(memory.activations) == truth, (changes, seq, batch, name)


def test_values_outside_what_was_measured_are_not_counted():
    """Three experts per token save other tensors than the two measured: the layers that
    save are then not counted (listed, never a wrong number), the weights still are."""
    model, count = mixtral()
    memory = count.subs({**model.values, "num_experts_per_tok": 3}).memory()
    assert "model.layers.0.mlp.experts" in memory.undeclared
    assert int(memory.weights) == 4 * int(count.subs(model.values).total)


def test_selective_recomputation_drops_the_attention_probabilities():
    """recompute="selective" drops what Korthikanti et al. (2022) recompute: per layer the
    softmax output, its dropout mask and the dropped-out probabilities (3·heads·s² per
    example, fp32 on the CPU); the recorder follows the softmax's output to them."""
    model, count = imported("gpt2")
    at = count.subs({**model.values, "seq_len": 16})
    full = at.memory(device="cpu", batch_size=2).activations
    selective = at.memory(device="cpu", batch_size=2, recompute="selective").activations
    n_layer, heads, s = 2, 4, 16
    assert full - selective == 2 * 4 * n_layer * 3 * heads * s * s


def test_dropout_off_saves_no_masks():
    """The same GPT-2 without dropout saves less: its masks (fp32 on the CPU) are gone."""
    (on, on_count), (off, off_count) = imported("gpt2"), imported("gpt2_no_dropout")
    at = {"seq_len": 16}
    with_masks = on_count.subs({**on.values, **at}).memory(device="cpu", batch_size=2).activations
    without = off_count.subs({**off.values, **at}).memory(device="cpu", batch_size=2).activations
    # per example and layer: the attention probabilities' mask and the dropped probabilities the
    # product with V saves instead of the softmax's output (2·heads·s²), the two residual masks
    # (2·s·h); and the embedding's mask (s·h); fp32, batch 2
    n_layer, heads, s, h = 2, 4, 16, 32
    assert with_masks - without == 2 * 4 * (n_layer * (2 * heads * s * s + 2 * s * h) + s * h)


# ---------------------------------------------------------------------------
# KV cache
# ---------------------------------------------------------------------------


def cache_bytes(module, batch, seq) -> int:
    """The bytes of the key and value tensors transformers' cache holds after one forward pass."""
    module.eval()
    with torch.no_grad():
        out = module(**token_inputs(batch, seq), use_cache=True)
    layers = out.past_key_values.layers
    return sum(t.numel() * t.element_size() for layer in layers for t in (layer.keys, layer.values))


CACHE = {
    "llama": [({}, 16, 2), ({"hidden_size": 64, "head_dim": 16, "num_hidden_layers": 3}, 24, 3)],
    # 8 tokens below the window (12 − 1 kept), 24 above it
    "mistral": [({}, 8, 2), ({"hidden_size": 64, "head_dim": 16, "num_hidden_layers": 3}, 24, 3)],
    "qwen2": [({}, 16, 2), ({"hidden_size": 64, "num_hidden_layers": 3}, 24, 3)],
    "falcon": [({}, 16, 2), ({"hidden_size": 64, "num_hidden_layers": 3}, 24, 3)],
    "gpt2": [({}, 16, 2), ({"n_embd": 64, "n_layer": 3}, 24, 3)],
}


@pytest.mark.parametrize("name", sorted(CACHE))
def test_kv_cache_is_what_dynamic_cache_holds(name):
    model, count = imported(name)
    for changes, seq, batch in CACHE[name]:
        for dtype, torch_dtype in (("float16", torch.float16), ("float32", torch.float32)):
            memory = count.subs({**model.values, **changes, "seq_len": seq}).memory(
                dtype=dtype, training=False, kv_cache=True, batch_size=batch)
            truth = cache_bytes(torch_model(name, changes, torch_dtype), batch, seq)
            assert int(memory.kv_cache) == truth, (name, changes, seq, batch, dtype)


def test_a_sliding_window_caps_the_cache():
    """Mistral's layers keep ``sliding_window − 1`` tokens (12 − 1 here) once the sequence is longer."""
    model, count = imported("mistral")
    kv = count.memory(training=False, kv_cache=True, dtype="float16", batch_size=1).kv_cache
    at = {s: model.values[s.name] for s in kv.free_symbols if s.name in model.values and s.name != "seq_len"}
    seq = next(s for s in kv.free_symbols if s.name == "seq_len")
    per_token = 2 * 2 * 2 * 8 * 2  # K and V, 2 kv heads of 8, 2 layers, 2 bytes
    assert kv.xreplace(at).subs(seq, 30) == per_token * 11
    assert kv.xreplace(at).subs(seq, 5) == per_token * 5
    assert cache_bytes(torch_model("mistral", {}, torch.float16), 1, 30) == per_token * 11


def test_llama_2_7b_cache_at_4096_tokens():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sc.from_hf(EXAMPLES / "llama-2-7b" / "config.json")
    count = model.count()
    memory = count.subs({**model.values, "seq_len": 4096}).memory(dtype="float16", training=False, kv_cache=True,
                                                                  batch_size=1)
    # 2 (K, V) · 32 layers · 32 kv heads · 128 · 4,096 tokens · 2 bytes
    assert int(memory.kv_cache) == 2 * 32 * 32 * 128 * 4096 * 2 == 2_147_483_648
