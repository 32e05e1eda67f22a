"""KV cache of the transformers zoo entries against what transformers' cache holds after a
forward pass with ``use_cache=True`` (``DynamicCache``; T5's ``EncoderDecoderCache`` keeps
the decoder's self-attention keys and values and the encoder's projected for
cross-attention), and Llama-2-7B's cache at 4,096 tokens by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from symcount import zoo  # noqa: E402


def cache_bytes(cache) -> int:
    caches = [cache.self_attention_cache, cache.cross_attention_cache] if hasattr(cache, "cross_attention_cache") \
        else [cache]
    return sum(t.numel() * t.element_size() for c in caches for layer in c.layers for t in (layer.keys, layer.values))


def _kv_cache(entry, dims, batch, **options):
    count = zoo.symbolic(entry, **options)
    count = count.subs({k: v for k, v in dims.items() if k in {d.name for d in count.dims}})
    return int(count.memory(dtype="float32", training=False, kv_cache=True, batch_size=batch).kv_cache)


@pytest.mark.parametrize("layers, width, heads, length", [(1, 8, 2, 5), (3, 16, 4, 7)])
def test_gpt2(layers, width, heads, length):
    dims = {"n_layer": layers, "n_embd": width, "n_head": heads, "vocab_size": 37, "n_positions": 32,
            "seq_len": length}
    model = transformers.GPT2Model(transformers.GPT2Config(**{k: v for k, v in dims.items() if k != "seq_len"}))
    out = model.eval()(torch.randint(0, 37, (3, length)), use_cache=True)
    assert _kv_cache("transformers:GPT2Model", dims, 3) == cache_bytes(out.past_key_values)


@pytest.mark.parametrize("layers, width, heads, kv_heads, length", [(1, 8, 2, 1, 5), (3, 16, 4, 2, 7)])
def test_llama_grouped_query(layers, width, heads, kv_heads, length):
    dims = {"hidden_size": width, "intermediate_size": 24, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kv_heads, "vocab_size": 37,
            "max_position_embeddings": 32, "seq_len": length}
    model = transformers.LlamaModel(transformers.LlamaConfig(**{k: v for k, v in dims.items() if k != "seq_len"}))
    out = model.eval()(torch.randint(0, 37, (2, length)), use_cache=True)
    assert _kv_cache("transformers:LlamaModel", dims, 2) == cache_bytes(out.past_key_values)


def test_t5_self_and_cross_attention():
    dims = {"d_model": 8, "d_kv": 3, "d_ff": 12, "num_layers": 1, "num_decoder_layers": 2, "num_heads": 2,
            "vocab_size": 37, "relative_attention_num_buckets": 8, "seq_len": 5, "decoder_seq_len": 4}
    model = transformers.T5Model(transformers.T5Config(**{k: v for k, v in dims.items() if "seq_len" not in k}))
    out = model.eval()(input_ids=torch.randint(0, 37, (2, 5)), decoder_input_ids=torch.randint(0, 37, (2, 4)),
                       use_cache=True)
    assert _kv_cache("transformers:T5Model", dims, 2) == cache_bytes(out.past_key_values)


def test_llama_2_7b_at_4096_tokens():
    """2 (keys, values) · 32 layers · 32 heads · 128 · 4,096 tokens · 2 bytes (fp16)."""
    memory = zoo.get("transformers:LlamaForCausalLM").memory(dtype="float16", training=False, kv_cache=True,
                                                             batch_size=1, seq_len=4096)
    assert memory.kv_cache == 2_147_483_648
