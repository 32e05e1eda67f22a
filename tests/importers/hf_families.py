"""Tiny configurations of thirty-three transformers families and their measured references.

Every family has two tiny configurations (``make_config(family, 1)`` and ``(family, 2)``, from
the keyword arguments ``FAMILIES[family]["kwargs"][1]`` and ``[2]`` of the family's config
class) that differ in every integer size field that matters (widths, heads, key/value heads,
intermediate sizes, vocabulary, depth, image and patch size, ...), so that a formula imported from configuration 1 and evaluated at configuration 2's values is really
tested. Inside one configuration the size fields take different values where possible (so a
formula that confuses two fields gives a wrong number), and widths and heads are powers of two
(doubling or halving one keeps every divisibility).

Fields that are lists (``depths``, ``num_heads`` and ``hidden_sizes`` of Swin and ConvNeXt)
are *not* integer fields of ``config.to_dict()``, so they are the same in both configurations
of a family (GPT-Neo's ``attention_types`` grows with ``num_layers``: its local and global
layers cost the same); so are the structural switches (ALBERT's ``num_hidden_groups`` and
``inner_group_num``, OPT's ``word_embed_proj_dim != hidden_size``, Falcon's attention layout).

``reference(family, which)`` builds ``AutoModel.from_config`` on the CPU with eager attention
(and eager experts for the mixtures of experts) and measures, at batch 1:

* ``params``: ``sum(p.numel() for p in model.parameters())``;
* ``flops``: ``FlopCounterMode`` around the forward (``use_cache=False`` where accepted);
* ``training_flops``: ``FlopCounterMode`` around the forward and ``loss.backward()``, with
  ``loss`` the sum of every floating-point tensor of the model's output, less what
  ``FlopCounterMode`` over-counts on the weight gradient of a grouped convolution (``groups``
  times the products autograd computes; only ConvNeXt's depthwise convolutions here) — the
  raw count is kept as ``flop_counter_training_flops``;
* ``values``: every integer field of ``config.to_dict()`` (booleans excluded) plus ``seq_len``
  for the text models and ``decoder_seq_len`` for the encoder-decoders (Whisper's encoder
  length is ``2 * max_source_positions``; the vision models take ``image_size``): the point a
  formula is evaluated at.

The measurement runs with the math attention backend and without mkldnn, and fails if an
operator that multiplies matrices ran with no ``FlopCounterMode`` formula (it would be
silently missing from the reference).
"""

from __future__ import annotations

import functools
import re

# ---------------------------------------------------------------------------
# The tiny configurations
# ---------------------------------------------------------------------------

# What a family's forward takes: "text" (input_ids), "encdec" (input_ids + decoder_input_ids),
# "whisper" (input_features + decoder_input_ids), "vision" (pixel_values).
FAMILIES: dict[str, dict] = {}


def _family(name, config_class, kind, one, two, seq_len=(7, 5), decoder_seq_len=None):
    FAMILIES[name] = {
        "config_class": config_class,
        "kind": kind,
        "kwargs": {1: one, 2: two},
        "seq_len": dict(zip((1, 2), seq_len)) if kind in ("text", "encdec") else None,
        "decoder_seq_len": dict(zip((1, 2), decoder_seq_len)) if decoder_seq_len else None,
    }


# --- causal language models -------------------------------------------------

_family(
    "gpt2", "GPT2Config", "text",
    dict(vocab_size=100, n_positions=40, n_embd=32, n_layer=3, n_head=4, n_inner=80,
         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, n_positions=48, n_embd=64, n_layer=2, n_head=16, n_inner=144,
         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
_family(  # local and global layers cost the same (eager attention masks a full product)
    "gpt_neo", "GPTNeoConfig", "text",
    dict(vocab_size=100, max_position_embeddings=40, hidden_size=32, num_layers=2,
         attention_types=[[["global", "local"], 1]], num_heads=4, intermediate_size=80, window_size=6,
         resid_dropout=0.0, embed_dropout=0.0, attention_dropout=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, max_position_embeddings=48, hidden_size=64, num_layers=3,
         attention_types=[[["global", "local"], 1], [["global"], 1]], num_heads=16, intermediate_size=144,
         window_size=3,
         resid_dropout=0.0, embed_dropout=0.0, attention_dropout=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
_family(
    "gpt_neox", "GPTNeoXConfig", "text",
    dict(vocab_size=100, max_position_embeddings=40, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
         intermediate_size=80, rotary_pct=0.25, attention_dropout=0.0, hidden_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, max_position_embeddings=48, hidden_size=64, num_hidden_layers=2, num_attention_heads=16,
         intermediate_size=144, rotary_pct=0.25, attention_dropout=0.0, hidden_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
_family(
    "gptj", "GPTJConfig", "text",
    dict(vocab_size=100, n_positions=40, n_embd=32, n_layer=3, n_head=4, n_inner=80, rotary_dim=4,
         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, n_positions=48, n_embd=64, n_layer=2, n_head=16, n_inner=144, rotary_dim=2,
         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
_family(  # word_embed_proj_dim != hidden_size in both (project_in / project_out, as in OPT-350m)
    "opt", "OPTConfig", "text",
    dict(vocab_size=100, hidden_size=32, num_hidden_layers=3, ffn_dim=80, max_position_embeddings=40,
         word_embed_proj_dim=16, num_attention_heads=4, dropout=0.0, attention_dropout=0.0, layerdrop=0.0,
         pad_token_id=1, bos_token_id=2, eos_token_id=2),
    dict(vocab_size=120, hidden_size=64, num_hidden_layers=2, ffn_dim=144, max_position_embeddings=48,
         word_embed_proj_dim=8, num_attention_heads=16, dropout=0.0, attention_dropout=0.0, layerdrop=0.0,
         pad_token_id=1, bos_token_id=2, eos_token_id=2),
)
_family(
    "bloom", "BloomConfig", "text",
    dict(vocab_size=100, hidden_size=32, n_layer=3, n_head=4, hidden_dropout=0.0, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, hidden_size=64, n_layer=2, n_head=16, hidden_dropout=0.0, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
_family(  # the family's default layout (Falcon-7B: multi-query, parallel attention, no bias)
    "falcon", "FalconConfig", "text",
    dict(vocab_size=100, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, ffn_hidden_size=80,
         max_position_embeddings=40, hidden_dropout=0.0, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, hidden_size=64, num_hidden_layers=2, num_attention_heads=16, ffn_hidden_size=144,
         max_position_embeddings=48, hidden_dropout=0.0, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
)

# Llama-like: (hidden, heads, kv heads, head_dim = hidden / heads, layers) = (32, 4, 2, 8, 3)
# and (64, 16, 8, 4, 2).
_LLAMA_1 = dict(vocab_size=100, hidden_size=32, intermediate_size=80, num_hidden_layers=3, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=40, attention_dropout=0.0,
                bos_token_id=1, eos_token_id=2, pad_token_id=0)
_LLAMA_2 = dict(vocab_size=120, hidden_size=64, intermediate_size=144, num_hidden_layers=2, num_attention_heads=16,
                num_key_value_heads=8, max_position_embeddings=48, attention_dropout=0.0,
                bos_token_id=1, eos_token_id=2, pad_token_id=0)

_family("llama", "LlamaConfig", "text", dict(_LLAMA_1), dict(_LLAMA_2))
_family("mistral", "MistralConfig", "text", dict(_LLAMA_1, sliding_window=64), dict(_LLAMA_2, sliding_window=96))
_family("qwen2", "Qwen2Config", "text", dict(_LLAMA_1), dict(_LLAMA_2))
_family("phi3", "Phi3Config", "text",
        dict(_LLAMA_1, original_max_position_embeddings=40, resid_pdrop=0.0, embd_pdrop=0.0),
        dict(_LLAMA_2, original_max_position_embeddings=48, resid_pdrop=0.0, embd_pdrop=0.0))
_family("phi", "PhiConfig", "text",
        dict(_LLAMA_1, partial_rotary_factor=0.5, resid_pdrop=0.0, embd_pdrop=0.0),
        dict(_LLAMA_2, partial_rotary_factor=0.5, resid_pdrop=0.0, embd_pdrop=0.0))
# head_dim set on its own (as in Gemma-7B or Qwen3): 16 != 32 / 4 and 32 != 64 / 16.
_family("qwen3", "Qwen3Config", "text", dict(_LLAMA_1, head_dim=16), dict(_LLAMA_2, head_dim=32))
_family("gemma", "GemmaConfig", "text", dict(_LLAMA_1, head_dim=16), dict(_LLAMA_2, head_dim=32))
_family("gemma2", "Gemma2Config", "text",
        dict(_LLAMA_1, head_dim=16, query_pre_attn_scalar=16, sliding_window=64),
        dict(_LLAMA_2, head_dim=32, query_pre_attn_scalar=32, sliding_window=96))

# Mixtures of experts: (hidden, heads, kv, head_dim, layers, experts, top-k) = (32, 4, 2, 8, 1, 6, 3)
# and (64, 16, 8, 4, 2, 12, 5).
_family("mixtral", "MixtralConfig", "text",
        dict(_LLAMA_1, num_hidden_layers=1, intermediate_size=48, num_local_experts=6, num_experts_per_tok=3,
             router_jitter_noise=0.0, sliding_window=64),
        dict(_LLAMA_2, num_hidden_layers=2, intermediate_size=96, num_local_experts=12, num_experts_per_tok=5,
             router_jitter_noise=0.0, sliding_window=96))
_family("qwen2_moe", "Qwen2MoeConfig", "text",
        dict(_LLAMA_1, num_hidden_layers=1, intermediate_size=80, moe_intermediate_size=24,
             shared_expert_intermediate_size=40, num_experts=6, num_experts_per_tok=3, decoder_sparse_step=1,
             mlp_only_layers=[]),
        dict(_LLAMA_2, num_hidden_layers=2, intermediate_size=144, moe_intermediate_size=48,
             shared_expert_intermediate_size=96, num_experts=12, num_experts_per_tok=5, decoder_sparse_step=1,
             mlp_only_layers=[]))

# --- encoders ---------------------------------------------------------------

_BERT_1 = dict(vocab_size=100, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=80,
               max_position_embeddings=40, type_vocab_size=2, hidden_dropout_prob=0.0,
               attention_probs_dropout_prob=0.0, pad_token_id=0)
_BERT_2 = dict(vocab_size=120, hidden_size=64, num_hidden_layers=2, num_attention_heads=16, intermediate_size=144,
               max_position_embeddings=48, type_vocab_size=3, hidden_dropout_prob=0.0,
               attention_probs_dropout_prob=0.0, pad_token_id=0)

_family("bert", "BertConfig", "text", dict(_BERT_1), dict(_BERT_2))
_family("roberta", "RobertaConfig", "text",
        dict(_BERT_1, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2),
        dict(_BERT_2, type_vocab_size=3, pad_token_id=1, bos_token_id=0, eos_token_id=2))
_family("electra", "ElectraConfig", "text", dict(_BERT_1, embedding_size=16), dict(_BERT_2, embedding_size=8))
# ALBERT: one hidden group of one layer in both (every released ALBERT), shared by all layers.
_family("albert", "AlbertConfig", "text",
        dict(_BERT_1, embedding_size=16, num_hidden_groups=1, inner_group_num=1, pad_token_id=0, bos_token_id=2,
             eos_token_id=3),
        dict(_BERT_2, embedding_size=8, num_hidden_groups=1, inner_group_num=1, pad_token_id=0, bos_token_id=2,
             eos_token_id=3))
_family("distilbert", "DistilBertConfig", "text",
        dict(vocab_size=100, max_position_embeddings=40, dim=32, n_layers=3, n_heads=4, hidden_dim=80,
             dropout=0.0, attention_dropout=0.0, pad_token_id=0),
        dict(vocab_size=120, max_position_embeddings=48, dim=64, n_layers=2, n_heads=16, hidden_dim=144,
             dropout=0.0, attention_dropout=0.0, pad_token_id=0))
_family("clip_text", "CLIPTextConfig", "text",
        dict(vocab_size=100, hidden_size=32, intermediate_size=80, projection_dim=24, num_hidden_layers=3,
             num_attention_heads=4, max_position_embeddings=20, attention_dropout=0.0,
             pad_token_id=1, bos_token_id=0, eos_token_id=2),
        dict(vocab_size=120, hidden_size=64, intermediate_size=144, projection_dim=48, num_hidden_layers=2,
             num_attention_heads=16, max_position_embeddings=24, attention_dropout=0.0,
             pad_token_id=1, bos_token_id=0, eos_token_id=2))

# --- encoder-decoders -------------------------------------------------------

_family(  # d_kv * num_heads != d_model in both (as in T5-11B)
    "t5", "T5Config", "encdec",
    dict(vocab_size=100, d_model=32, d_kv=16, d_ff=80, num_layers=2, num_decoder_layers=3, num_heads=4,
         relative_attention_num_buckets=8, relative_attention_max_distance=20, dropout_rate=0.0,
         feed_forward_proj="relu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0),
    dict(vocab_size=120, d_model=64, d_kv=8, d_ff=144, num_layers=3, num_decoder_layers=1, num_heads=16,
         relative_attention_num_buckets=12, relative_attention_max_distance=24, dropout_rate=0.0,
         feed_forward_proj="relu", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0),
    decoder_seq_len=(6, 9),
)
_family(
    "bart", "BartConfig", "encdec",
    dict(vocab_size=100, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
         decoder_attention_heads=8, encoder_ffn_dim=80, decoder_ffn_dim=48, max_position_embeddings=40,
         dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
         pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2),
    dict(vocab_size=120, d_model=64, encoder_layers=3, decoder_layers=1, encoder_attention_heads=16,
         decoder_attention_heads=2, encoder_ffn_dim=144, decoder_ffn_dim=96, max_position_embeddings=48,
         dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
         pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2),
    decoder_seq_len=(6, 9),
)
_family(  # input_features of length 2 * max_source_positions (no seq_len: the encoder length is fixed)
    "whisper", "WhisperConfig", "whisper",
    dict(vocab_size=100, num_mel_bins=16, d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
         decoder_attention_heads=8, encoder_ffn_dim=80, decoder_ffn_dim=48, max_source_positions=12,
         max_target_positions=20, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
         pad_token_id=0, bos_token_id=1, eos_token_id=1, decoder_start_token_id=3,
         suppress_tokens=None, begin_suppress_tokens=None),
    dict(vocab_size=120, num_mel_bins=8, d_model=64, encoder_layers=1, decoder_layers=2, encoder_attention_heads=16,
         decoder_attention_heads=4, encoder_ffn_dim=144, decoder_ffn_dim=96, max_source_positions=10,
         max_target_positions=24, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
         pad_token_id=0, bos_token_id=1, eos_token_id=1, decoder_start_token_id=3,
         suppress_tokens=None, begin_suppress_tokens=None),
    decoder_seq_len=(6, 9),
)

# --- vision -----------------------------------------------------------------

_family(  # 40 / 8 = 5 and 24 / 4 = 6 patches a side
    "clip_vision", "CLIPVisionConfig", "vision",
    dict(hidden_size=32, intermediate_size=80, projection_dim=24, num_hidden_layers=2, num_attention_heads=4,
         num_channels=3, image_size=40, patch_size=8, attention_dropout=0.0),
    dict(hidden_size=64, intermediate_size=144, projection_dim=48, num_hidden_layers=3, num_attention_heads=16,
         num_channels=2, image_size=24, patch_size=4, attention_dropout=0.0),
)
_family(
    "vit", "ViTConfig", "vision",
    dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
         num_channels=3, image_size=40, patch_size=8, encoder_stride=16,
         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
    dict(hidden_size=64, intermediate_size=144, num_hidden_layers=3, num_attention_heads=16,
         num_channels=2, image_size=24, patch_size=4, encoder_stride=8,
         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
)
_family(  # stages of 24 and 12 (window 6), then 10 and 5 (window 5) patches a side: no padding
    "swin", "SwinConfig", "vision",
    dict(image_size=96, patch_size=4, num_channels=3, embed_dim=16, depths=[2, 2], num_heads=[2, 4],
         window_size=6, mlp_ratio=4.0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
         drop_path_rate=0.0, encoder_stride=8),
    dict(image_size=80, patch_size=8, num_channels=1, embed_dim=32, depths=[2, 2], num_heads=[2, 4],
         window_size=5, mlp_ratio=4.0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
         drop_path_rate=0.0, encoder_stride=16),
)
_family(  # 32 / 4 = 8 then 4; 64 / 8 = 8 then 4 patches a side
    "convnext", "ConvNextConfig", "vision",
    dict(num_channels=3, patch_size=4, num_stages=2, hidden_sizes=[16, 32], depths=[1, 2], image_size=32,
         drop_path_rate=0.0),
    dict(num_channels=1, patch_size=8, num_stages=2, hidden_sizes=[16, 32], depths=[1, 2], image_size=64,
         drop_path_rate=0.0),
)


# --- beyond the list: another MoE, a module called twice on other sizes, a bias
# table upsampled bilinearly ---------------------------------------------------------------

_family("olmoe", "OlmoeConfig", "text",
        dict(_LLAMA_1, num_hidden_layers=1, intermediate_size=48, num_experts=6, num_experts_per_tok=3),
        dict(_LLAMA_2, num_hidden_layers=2, intermediate_size=96, num_experts=12, num_experts_per_tok=5))
_family(  # DeBERTa-v3 layout: query_proj and key_proj run on the hidden states and on the relative embeddings
    "deberta_v2", "DebertaV2Config", "text",
    dict(_BERT_1, type_vocab_size=0, relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=16,
         norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False, pooler_hidden_size=24),
    dict(_BERT_2, type_vocab_size=0, relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=12,
         norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False, pooler_hidden_size=48),
)
_family(  # a relative position bias per layer (interpolated with upsample_bilinear2d: no product)
    "beit", "BeitConfig", "vision",
    dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4, num_channels=3,
         image_size=40, patch_size=8, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
         vocab_size=100, drop_path_rate=0.0, use_relative_position_bias=True),
    dict(hidden_size=64, intermediate_size=144, num_hidden_layers=3, num_attention_heads=16, num_channels=2,
         image_size=24, patch_size=4, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
         vocab_size=120, drop_path_rate=0.0, use_relative_position_bias=True),
)

FAMILY_NAMES = tuple(FAMILIES)

# --- attribution: configurations whose fields coincide in value but differ in role ----------
# (not among the thirty families: tests/importers/test_attribution.py takes them)

_family(  # hidden, intermediate, vocabulary and positions all 64; layers, heads and kv heads all 2
    "llama_coinciding", "LlamaConfig", "text",
    dict(vocab_size=64, hidden_size=64, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
         num_key_value_heads=2, max_position_embeddings=64, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=80, hidden_size=32, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
         num_key_value_heads=1, max_position_embeddings=48, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    seq_len=(8, 5),
)
_family(  # k_proj's width num_key_value_heads·head_dim equals hidden_size; head_dim equals intermediate
    "qwen3_coinciding", "Qwen3Config", "text",
    dict(vocab_size=100, hidden_size=32, intermediate_size=16, num_hidden_layers=2, num_attention_heads=4,
         num_key_value_heads=2, head_dim=16, max_position_embeddings=40, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
    dict(vocab_size=120, hidden_size=64, intermediate_size=80, num_hidden_layers=3, num_attention_heads=8,
         num_key_value_heads=2, head_dim=8, max_position_embeddings=48, attention_dropout=0.0,
         bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
COINCIDING = ("llama_coinciding", "qwen3_coinciding")


def make_config(family: str, which: int):
    """The tiny configuration ``which`` (1 or 2) of ``family``, with eager attention and experts."""
    import transformers

    spec = FAMILIES[family]
    config_class = getattr(transformers, spec["config_class"])
    kwargs = dict(spec["kwargs"][which])
    if "experts_implementation" in _config_init_kwargs():
        kwargs["experts_implementation"] = "eager"
    config = config_class(**kwargs)
    config._attn_implementation = "eager"
    if hasattr(config, "_experts_implementation"):
        config._experts_implementation = "eager"
    return config


@functools.lru_cache(maxsize=None)
def _config_init_kwargs() -> frozenset:
    """The private keyword arguments ``PretrainedConfig.__init__`` pops (``experts_implementation`` in 5.x)."""
    import inspect

    from transformers import configuration_utils

    source = inspect.getsource(configuration_utils)
    return frozenset(re.findall(r'kwargs\.pop\("(\w+)"', source))


def integer_values(config) -> dict[str, int]:
    """Every integer (not boolean) top-level field of ``config.to_dict()``."""
    return {k: v for k, v in config.to_dict().items() if isinstance(v, int) and not isinstance(v, bool)}


def make_inputs(family: str, which: int, config) -> dict:
    import torch

    spec = FAMILIES[family]
    kind = spec["kind"]
    generator = torch.Generator().manual_seed(1234 + which)

    def tokens(length):  # ids past the special tokens (0-3), inside the vocabulary
        return torch.randint(4, config.vocab_size, (1, length), generator=generator)

    if kind == "vision":
        size = config.image_size
        return {"pixel_values": torch.randn(1, config.num_channels, size, size, generator=generator)}
    if kind == "whisper":
        length = 2 * config.max_source_positions
        return {
            "input_features": torch.randn(1, config.num_mel_bins, length, generator=generator),
            "decoder_input_ids": tokens(spec["decoder_seq_len"][which]),
        }
    inputs = {"input_ids": tokens(spec["seq_len"][which])}
    if kind == "encdec":
        inputs["decoder_input_ids"] = tokens(spec["decoder_seq_len"][which])
    return inputs


def values_of(family: str, which: int, config=None) -> dict[str, int]:
    spec = FAMILIES[family]
    config = make_config(family, which) if config is None else config
    values = integer_values(config)
    if spec["seq_len"] is not None:
        values["seq_len"] = spec["seq_len"][which]
    if spec["decoder_seq_len"] is not None:
        values["decoder_seq_len"] = spec["decoder_seq_len"][which]
    return values


# ---------------------------------------------------------------------------
# The measurement
# ---------------------------------------------------------------------------

# An operator whose name says it multiplies matrices (or convolves) and that FlopCounterMode has
# no formula for would be missing from the reference: fail instead.
_MATRIX_OP = re.compile(r"mm|mv|dot|conv|attention|mkldnn|(?<!bi)linear|einsum|addr|\bger\b|matmul|tensordot|onednn")


class UncountedOperatorError(AssertionError):
    pass


def _recorder_mode():
    from torch.utils._python_dispatch import TorchDispatchMode

    class OpRecorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.names: set[str] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.names.add(str(func.overloadpacket))
            return func(*args, **(kwargs or {}))

    return OpRecorder()


def _uncounted(names) -> list[str]:
    from torch.utils.flop_counter import flop_registry

    counted = {str(op) for op in flop_registry}
    return sorted(n for n in names if _MATRIX_OP.search(n.split(".", 1)[-1]) and n not in counted)


def _floating_tensors(value):
    import torch

    if isinstance(value, torch.Tensor):
        if value.is_floating_point():
            yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _floating_tensors(item)
    elif isinstance(value, dict):  # ModelOutput is an OrderedDict of its non-None fields
        for item in value.values():
            yield from _floating_tensors(item)
    # anything else (caches, None, ints) is skipped


def _grouped_conv_excess(module, output) -> int:
    """What torch 2.13's ``FlopCounterMode`` adds to the backward of a grouped convolution.

    Its ``conv_backward_flop`` counts the weight gradient as ``conv(x, grad_out)`` without the
    groups: ``2 * C_in * C_out * k * positions`` where autograd computes ``groups`` times fewer
    products (pytorch/pytorch#183405 divides by the groups). symcount counts the products
    autograd computes, as ``tests/zoo/test_torchvision.py`` does: the reference subtracts this.
    """
    import math

    groups = module.groups
    if groups == 1 or not module.weight.requires_grad:
        return 0
    positions = output.shape[0] * math.prod(output.shape[2:])
    return (2 * positions * math.prod(module.kernel_size) * module.out_channels * module.in_channels
            * (groups - 1) // groups)


def _count(run, backward=False) -> tuple[int, list[str], int]:
    """FLOPs of ``run()``, the matrix operators that ran without a formula, and (``backward``)
    the excess ``FlopCounterMode`` counted for grouped convolutions' weight gradients."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    excess = []

    def hook(module, inputs, output):
        if backward and isinstance(module, torch.nn.modules.conv._ConvNd):
            excess.append(_grouped_conv_excess(module, output))

    recorder = _recorder_mode()
    counter = FlopCounterMode(display=False)
    # The recorder is entered first (outer): it sees what FlopCounterMode let through, after
    # FlopCounterMode's own decompositions.
    with sdpa_kernel(SDPBackend.MATH), torch.backends.mkldnn.flags(enabled=False):
        with torch.nn.modules.module.register_module_forward_hook(hook), recorder, counter:
            run()
    return counter.get_total_flops(), _uncounted(recorder.names), sum(excess)


@functools.lru_cache(maxsize=None)
def build(family: str, which: int):
    """``(config, model, inputs)`` of configuration ``which`` of ``family`` on the CPU."""
    import inspect

    import torch
    from transformers import AutoModel

    config = make_config(family, which)
    torch.manual_seed(0)
    model = AutoModel.from_config(config, attn_implementation="eager")
    if getattr(model.config, "_experts_implementation", None) not in (None, "eager"):
        model.config._experts_implementation = "eager"
    model.train(False)
    inputs = make_inputs(family, which, config)
    if "use_cache" in inspect.signature(model.forward).parameters:
        inputs["use_cache"] = False
    return config, model, inputs


@functools.lru_cache(maxsize=None)
def reference(family: str, which: int) -> dict:
    """``dict(params=, flops=, training_flops=, flop_counter_training_flops=, values=)``
    measured on the real CPU model."""
    import torch

    # One thread: these products are tiny, and on a busy machine the intra-op threads of torch
    # spin-waiting on each other make them ~30 times slower (14 s against 0.5 s on 2 cores).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(family, which)
    finally:
        torch.set_num_threads(threads)


def _measure(family: str, which: int) -> dict:
    import torch

    config, model, inputs = build(family, which)
    params = sum(p.numel() for p in model.parameters())

    def forward():
        with torch.no_grad():
            model(**inputs)

    def training():
        output = model(**inputs)
        loss = sum(t.sum() for t in _floating_tensors(output))
        loss.backward()

    flops, uncounted, _ = _count(forward)
    model.zero_grad(set_to_none=True)
    counted_training_flops, uncounted_training, excess = _count(training, backward=True)
    model.zero_grad(set_to_none=True)
    missing = sorted(set(uncounted) | set(uncounted_training))
    if missing:
        raise UncountedOperatorError(f"{family} ({which}): operators without a FLOP formula ran: {missing}")
    return {
        "params": params,
        "flops": flops,
        # FlopCounterMode's count less its excess on grouped convolutions (ConvNeXt's depthwise)
        "training_flops": counted_training_flops - excess,
        "flop_counter_training_flops": counted_training_flops,
        "values": values_of(family, which, config),
    }


def main() -> None:  # python -m tests.importers.hf_families: the references and their time
    import os
    import time

    os.environ.setdefault("KERAS_BACKEND", "torch")
    start = time.perf_counter()
    for family in FAMILY_NAMES:
        t0 = time.perf_counter()
        rows = [reference(family, which) for which in (1, 2)]
        numbers = "  ".join(f"{r['params']:>8d} {r['flops']:>10d} {r['training_flops']:>10d}" for r in rows)
        print(f"{family:12s} {numbers}  {time.perf_counter() - t0:.2f}s")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
