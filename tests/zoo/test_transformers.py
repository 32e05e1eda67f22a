"""The transformers entries against Hugging Face transformers and published counts.

Without a framework: GPT-2's textbook closed form (derived by hand below), the published
parameter counts of the checkpoints the defaults reproduce, causal costs derived by
hand, and the validity conditions. Oracle tests build the transformers models from
inline configs — parameter counts on ``device="meta"`` (no download, no memory), every
named weight with its shape and multiplicity, per-block totals — and count real forward
and training FLOPs of small models with ``FlopCounterMode`` and eager attention.
"""

from __future__ import annotations

import re

import pytest
import sympy

import symcount.zoo as zoo
from symcount import dim
from symcount.errors import ArgumentError, SubstitutionError

# ---------------------------------------------------------------------------
# Closed forms and published numbers
# ---------------------------------------------------------------------------


def test_gpt2_closed_form_is_the_textbook_formula():
    # per block: ln_1, ln_2 2·2E; c_attn 3E² + 3E; c_proj E² + E; c_fc 4E² + 4E; mlp.c_proj 4E² + E
    n_layer, n_embd, vocab_size, n_positions = (dim(n) for n in ("n_layer", "n_embd", "vocab_size", "n_positions"))
    formula = 12 * n_layer * n_embd**2 + 13 * n_layer * n_embd + (vocab_size + n_positions) * n_embd + 2 * n_embd
    total = zoo.symbolic("transformers:GPT2Model").total
    assert sympy.expand(total - formula) == 0
    assert zoo.get("transformers:GPT2Model").total == 124_439_808


def test_gpt2_lm_head_is_tied_to_wte_and_counted_once():
    model, lm = zoo.symbolic("transformers:GPT2Model"), zoo.symbolic("transformers:GPT2LMHeadModel")
    assert sympy.expand(lm.total - model.total) == 0
    head = next(r for r in lm.layers if r.name == "lm_head")
    assert [w.tied_to for w in head.weights] == ["transformer.wte.weight"]
    # the tied matrix is still multiplied: L·n_embd·vocab_size more MACs than GPT2Model
    seq_len, n_embd, vocab_size = dim("seq_len"), dim("n_embd"), dim("vocab_size")
    assert sympy.expand(lm.macs - model.macs - seq_len * n_embd * vocab_size) == 0


@pytest.mark.parametrize("name, arguments, published", [
    ("GPT2Model", {}, 124_439_808),                      # gpt2
    ("GPT2LMHeadModel", {}, 124_439_808),                # gpt2, lm_head tied
    ("BertModel", {}, 109_482_240),                      # bert-base-uncased
    ("LlamaForCausalLM", {}, 6_738_415_616),             # meta-llama/Llama-2-7b-hf
    ("T5Model", {}, 60_506_624),                         # t5-small
    ("ViTModel", {}, 86_389_248),                        # google/vit-base-patch16-224 (ViTModel, with pooler)
])
def test_default_configurations_have_the_published_counts(name, arguments, published):
    assert zoo.get(f"transformers:{name}", **arguments).total == published


def test_gpt2_causal_cost_counts_the_unmasked_pairs():
    # by hand: per block 12·L·E² by weights; scores and values E·L·(L+1)/2 each under the mask, E·L² each in full
    n_layer, n_embd, seq_len = dim("n_layer"), dim("n_embd"), dim("seq_len")
    count = zoo.symbolic("transformers:GPT2Model")
    weights = 12 * seq_len * n_embd**2
    assert sympy.expand(count.cost(causal=True) - 2 * n_layer * (weights + n_embd * seq_len * (seq_len + 1))) == 0
    assert sympy.expand(count.cost() - 2 * n_layer * (weights + 2 * n_embd * seq_len**2)) == 0


def test_llama_grouped_query_attention_shrinks_key_and_value_projections():
    # Llama-2-70b: 8 key/value heads of 128 for 64 query heads; k_proj, v_proj (1024, 8192)
    count = zoo.get("transformers:LlamaForCausalLM", hidden_size=8192, intermediate_size=28672,
                    num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8)
    attention = next(r for r in count.layers if r.name == "model.layers.*.self_attn")
    assert {w.name: tuple(w.shape) for w in attention.weights} == {
        "q_proj.weight": (8192, 8192), "k_proj.weight": (1024, 8192), "v_proj.weight": (1024, 8192),
        "o_proj.weight": (8192, 8192)}
    assert count.total == 68_976_648_192  # Llama-2-70b-hf


def test_sequence_longer_than_the_learned_positions_is_rejected():
    with pytest.raises(SubstitutionError, match="seq_len <= n_positions"):
        zoo.get("transformers:GPT2Model", seq_len=1025)
    with pytest.raises(SubstitutionError, match="seq_len <= max_position_embeddings"):
        zoo.get("transformers:BertModel", seq_len=513)
    assert zoo.get("transformers:LlamaModel", seq_len=8192).total == 6_607_343_616  # rotary: no limit


def test_heads_must_divide_the_width():
    with pytest.raises(SubstitutionError, match="n_embd % n_head == 0"):
        zoo.get("transformers:GPT2Model", n_embd=100, n_head=12)
    with pytest.raises(SubstitutionError, match="num_attention_heads % num_key_value_heads == 0"):
        zoo.get("transformers:LlamaModel", num_key_value_heads=5)


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", [
    ("GPT2Model", {"n_embd": 100, "n_head": 12}),
    ("BertModel", {"hidden_size": 100, "num_attention_heads": 12}),
    ("LlamaModel", {"hidden_size": 4004, "head_dim": 100}),  # LlamaConfig checks it even with head_dim
])
def test_transformers_rejects_what_symcount_rejects(name, arguments):
    with pytest.raises(SubstitutionError, match="% n"):
        zoo.get(f"transformers:{name}", **arguments)
    with pytest.raises(Exception, match="divisible|multiple"):  # ValueError, or huggingface_hub's validation error
        meta_model(name, arguments)


def test_unknown_t5_feed_forward_is_an_argument_error():
    with pytest.raises(ArgumentError, match="feed_forward_proj must be one of relu, gated-gelu"):
        zoo.get("transformers:T5Model", feed_forward_proj="gated-swish")


def test_closed_forms_are_symbolic_in_depth():
    assert sympy.degree(zoo.symbolic("transformers:LlamaModel").total, dim("num_hidden_layers")) == 1
    t5 = zoo.symbolic("transformers:T5Model").total
    for depth in ("num_layers", "num_decoder_layers"):
        assert sympy.degree(t5, dim(depth)) == 1


# ---------------------------------------------------------------------------
# Oracle: transformers 5 models from inline configs
# ---------------------------------------------------------------------------


def _transformers():
    import transformers  # the oracle extra installs it

    transformers.logging.set_verbosity_error()
    return transformers


def hf_model(name: str, arguments: dict):
    """The transformers model an entry reproduces, at the entry's defaults overridden by
    ``arguments`` (``seq_len`` and the like are not config fields)."""
    t = _transformers()
    a = {**zoo.entry(f"transformers:{name}").arguments, **arguments}
    eager = {"attn_implementation": "eager"}
    if name.startswith("GPT2"):
        config = t.GPT2Config(n_layer=a["n_layer"], n_embd=a["n_embd"], n_head=a["n_head"],
                              vocab_size=a["vocab_size"], n_positions=a["n_positions"], n_inner=a["n_inner"], **eager)
        return (t.GPT2Model if name == "GPT2Model" else t.GPT2LMHeadModel)(config)
    if name == "BertModel":
        config = t.BertConfig(hidden_size=a["hidden_size"], num_hidden_layers=a["num_hidden_layers"],
                              num_attention_heads=a["num_attention_heads"], intermediate_size=a["intermediate_size"],
                              vocab_size=a["vocab_size"], max_position_embeddings=a["max_position_embeddings"],
                              type_vocab_size=a["type_vocab_size"], **eager)
        return t.BertModel(config, add_pooling_layer=a["add_pooling_layer"])
    if name.startswith("Llama"):
        config = t.LlamaConfig(hidden_size=a["hidden_size"], intermediate_size=a["intermediate_size"],
                               num_hidden_layers=a["num_hidden_layers"], num_attention_heads=a["num_attention_heads"],
                               num_key_value_heads=a["num_key_value_heads"], vocab_size=a["vocab_size"],
                               max_position_embeddings=a["max_position_embeddings"], head_dim=a["head_dim"],
                               attention_bias=a["attention_bias"], mlp_bias=a["mlp_bias"],
                               tie_word_embeddings=a.get("tie_word_embeddings", False), **eager)
        return (t.LlamaModel if name == "LlamaModel" else t.LlamaForCausalLM)(config)
    if name == "ViTModel":
        config = t.ViTConfig(hidden_size=a["hidden_size"], num_hidden_layers=a["num_hidden_layers"],
                             num_attention_heads=a["num_attention_heads"], intermediate_size=a["intermediate_size"],
                             image_size=a["image_size"], patch_size=a["patch_size"], num_channels=a["num_channels"],
                             qkv_bias=a["qkv_bias"], **eager)
        return t.ViTModel(config, add_pooling_layer=a["add_pooling_layer"], use_mask_token=a["use_mask_token"])
    if name == "T5Model":
        config = t.T5Config(d_model=a["d_model"], d_kv=a["d_kv"], d_ff=a["d_ff"], num_layers=a["num_layers"],
                            num_decoder_layers=a["num_decoder_layers"], num_heads=a["num_heads"],
                            vocab_size=a["vocab_size"],
                            relative_attention_num_buckets=a["relative_attention_num_buckets"],
                            feed_forward_proj=a["feed_forward_proj"], **eager)
        return t.T5Model(config)
    raise AssertionError(name)


def meta_model(name, arguments):
    import torch

    with torch.device("meta"):
        return hf_model(name, arguments)


SMALL_GPT2 = {"n_layer": 3, "n_embd": 96, "n_head": 4, "vocab_size": 1000, "n_positions": 64, "seq_len": 64}
SMALL_BERT = {"hidden_size": 96, "num_hidden_layers": 3, "num_attention_heads": 6, "intermediate_size": 200,
              "vocab_size": 500, "max_position_embeddings": 128, "type_vocab_size": 3, "seq_len": 100}
SMALL_LLAMA = {"hidden_size": 128, "intermediate_size": 200, "num_hidden_layers": 3, "num_attention_heads": 8,
               "num_key_value_heads": 2, "vocab_size": 500, "seq_len": 64}
SMALL_VIT = {"hidden_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 160,
             "image_size": 70, "patch_size": 16, "num_channels": 1}
SMALL_T5 = {"d_model": 96, "d_kv": 20, "d_ff": 160, "num_layers": 3, "num_decoder_layers": 2, "num_heads": 3,
            "vocab_size": 400, "relative_attention_num_buckets": 16, "seq_len": 40, "decoder_seq_len": 30}

#: (entry, arguments): each entry at its default config and at other depths, widths, heads,
#: vocabularies, key/value heads and options
CONFIGS = [
    ("GPT2Model", {}),
    ("GPT2Model", SMALL_GPT2),
    ("GPT2Model", {"n_layer": 24, "n_embd": 1024, "n_head": 16}),                      # gpt2-medium
    ("GPT2Model", {**SMALL_GPT2, "n_inner": 200, "n_head": 8}),
    ("GPT2LMHeadModel", {}),
    ("GPT2LMHeadModel", {**SMALL_GPT2, "n_layer": 5, "vocab_size": 777}),
    ("GPT2LMHeadModel", {"n_layer": 36, "n_embd": 1280, "n_head": 20}),                # gpt2-large
    ("BertModel", {}),
    ("BertModel", {"add_pooling_layer": False}),
    ("BertModel", {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                   "intermediate_size": 4096}),                                          # bert-large
    ("BertModel", SMALL_BERT),
    ("LlamaModel", {}),
    ("LlamaModel", SMALL_LLAMA),
    ("LlamaModel", {**SMALL_LLAMA, "num_key_value_heads": 8, "attention_bias": True, "mlp_bias": True}),
    ("LlamaForCausalLM", {}),
    ("LlamaForCausalLM", {**SMALL_LLAMA, "tie_word_embeddings": True}),
    ("LlamaForCausalLM", {**SMALL_LLAMA, "num_key_value_heads": 1, "head_dim": 24}),
    ("LlamaForCausalLM", {"hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80,
                          "num_attention_heads": 64, "num_key_value_heads": 8}),       # Llama-2-70b
    ("ViTModel", {}),
    ("ViTModel", {"add_pooling_layer": False, "qkv_bias": False, "use_mask_token": True}),
    ("ViTModel", SMALL_VIT),                                                            # 70 // 16 = 4 patches a side
    ("ViTModel", {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
                  "intermediate_size": 4096, "image_size": 384, "patch_size": 32}),     # vit-large-patch32-384
    ("T5Model", {}),
    ("T5Model", {"d_model": 768, "d_ff": 3072, "num_layers": 12, "num_decoder_layers": 12, "num_heads": 12}),  # t5-base
    ("T5Model", SMALL_T5),
    ("T5Model", {**SMALL_T5, "num_layers": 1, "num_decoder_layers": 4, "feed_forward_proj": "gated-gelu"}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", CONFIGS, ids=IDS)
def test_parameters_match_transformers(name, arguments):
    model = meta_model(name, arguments)
    assert zoo.get(f"transformers:{name}", **arguments).total == sum(p.numel() for p in model.parameters())


def symcount_weights(count) -> dict:
    """``{name: (shape, occurrences)}`` of the parameters, named ``layer.weight`` (a block
    repeated 0 times, T5's ``block.*`` with one layer, has none)."""
    found = {}
    for record in count.layers:
        for w in record.weights:
            if record.counted and w.counts and record.repeat != 0:
                found[f"{record.name}.{w.name}"] = (tuple(int(s) for s in w.shape), int(record.repeat))
    return found


def transformers_weights(model, names) -> dict:
    """``named_parameters()`` the same way: a name symcount spells out (``block.0``) as
    is, otherwise the first layer index starred (``h.3.attn`` → ``h.*.attn``)."""
    found: dict = {}
    for name, p in model.named_parameters():
        key = name if name in names else re.sub(r"\.\d+\.", ".*.", name, count=1)
        shape, n = found.get(key, (tuple(p.shape), 0))
        assert shape == tuple(p.shape), f"{name}: the layers' shapes differ"
        found[key] = (shape, n + 1)
    return found


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", CONFIGS, ids=IDS)
def test_named_weights_match_transformers(name, arguments):
    ours = symcount_weights(zoo.get(f"transformers:{name}", **arguments))
    assert transformers_weights(meta_model(name, arguments), ours) == ours


#: per-block totals: symcount's block path → the transformers sub-modules it stands for
BLOCKS = {
    "GPT2Model": {("h",): lambda m: m.h},
    "GPT2LMHeadModel": {("transformer.h",): lambda m: m.transformer.h},
    "BertModel": {("encoder.layer",): lambda m: m.encoder.layer},
    "LlamaModel": {("layers",): lambda m: m.layers},
    "LlamaForCausalLM": {("model.layers",): lambda m: m.model.layers},
    "ViTModel": {("layers",): lambda m: m.layers},
    "T5Model": {("encoder.block.0",): lambda m: [m.encoder.block[0]],
                ("encoder.block.*",): lambda m: m.encoder.block[1:],
                ("decoder.block.0",): lambda m: [m.decoder.block[0]],
                ("decoder.block.*",): lambda m: m.decoder.block[1:]},
}


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", [c for c in CONFIGS if c[1] in (SMALL_GPT2, SMALL_BERT, SMALL_LLAMA,
                                                                             SMALL_VIT, SMALL_T5, {})])
def test_block_totals_match_transformers_modules(name, arguments):
    blocks = zoo.get(f"transformers:{name}", **arguments).blocks()
    model = meta_model(name, arguments)
    for path, modules in BLOCKS[name].items():
        expected = sum(p.numel() for module in modules(model) for p in module.parameters())
        assert blocks[path]["params"] == expected, path


# -- FLOPs: FlopCounterMode on small real models, eager attention ----------------------

def _count(name, arguments):
    return zoo.get(f"transformers:{name}", **arguments)


def _inputs(name, a, batch):
    import torch

    generator = torch.Generator().manual_seed(0)
    if name == "ViTModel":
        return {"pixel_values": torch.randn(batch, a["num_channels"], a["image_size"], a["image_size"],
                                            generator=generator)}
    inputs = {"input_ids": torch.randint(0, a["vocab_size"], (batch, a["seq_len"]), generator=generator)}
    if name == "T5Model":
        inputs["decoder_input_ids"] = torch.randint(0, a["vocab_size"], (batch, a["decoder_seq_len"]),
                                                    generator=generator)
    return inputs


def measured_flops(name, arguments, batch=2, training=False) -> int:
    """FlopCounterMode's total for ``batch`` examples: a forward pass, or a forward pass and
    ``loss.backward()`` with every output in the loss."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = hf_model(name, arguments)
    inputs = _inputs(name, {**zoo.entry(f"transformers:{name}").arguments, **arguments}, batch)
    model.train(training)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is several times faster on a busy machine
    try:
        with FlopCounterMode(display=False) as counter, torch.set_grad_enabled(training):
            out = model(**inputs)
            if training:
                tensors = [v for v in out.values() if isinstance(v, torch.Tensor) and v.requires_grad]
                sum(t.float().sum() for t in tensors).backward()
    finally:
        torch.set_num_threads(threads)
    return counter.get_total_flops()


SMALL_GPT2_FLOPS = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab_size": 300, "n_positions": 48}
FLOP_CONFIGS = [
    ("GPT2Model", {**SMALL_GPT2_FLOPS, "seq_len": 8}),
    ("GPT2Model", {**SMALL_GPT2_FLOPS, "seq_len": 48}),
    ("GPT2LMHeadModel", {**SMALL_GPT2_FLOPS, "seq_len": 8}),
    ("GPT2LMHeadModel", {**SMALL_GPT2_FLOPS, "seq_len": 33}),
    ("BertModel", {**SMALL_BERT, "seq_len": 17}),
    ("BertModel", {**SMALL_BERT, "seq_len": 40, "add_pooling_layer": False}),
    ("LlamaForCausalLM", {**SMALL_LLAMA, "seq_len": 12}),
    ("LlamaForCausalLM", {**SMALL_LLAMA, "seq_len": 30, "tie_word_embeddings": True, "head_dim": 24}),
    ("LlamaModel", {**SMALL_LLAMA, "seq_len": 20}),
    ("ViTModel", SMALL_VIT),
    ("ViTModel", {**SMALL_VIT, "image_size": 48, "patch_size": 8, "num_channels": 3, "add_pooling_layer": False}),
    ("T5Model", SMALL_T5),
    ("T5Model", {**SMALL_T5, "seq_len": 9, "decoder_seq_len": 21, "num_layers": 1, "feed_forward_proj": "gated-gelu"}),
]
FLOP_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(FLOP_CONFIGS)]


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", FLOP_CONFIGS, ids=FLOP_IDS)
def test_forward_flops_match_flop_counter(name, arguments):
    assert 2 * _count(name, arguments).flops == measured_flops(name, arguments, batch=2)


@pytest.mark.oracle
@pytest.mark.parametrize("name, arguments", FLOP_CONFIGS, ids=FLOP_IDS)
def test_training_flops_match_flop_counter(name, arguments):
    count = _count(name, arguments)
    assert 2 * count.training_flops == measured_flops(name, arguments, batch=2, training=True)
