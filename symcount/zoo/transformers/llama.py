"""Llama (``transformers.models.llama``): ``LlamaModel`` and ``LlamaForCausalLM``.

``embed_tokens``; ``num_hidden_layers`` pre-norm decoder layers ``layers`` —
``input_layernorm`` (RMSNorm), causal grouped-query self-attention ``self_attn``
(:class:`LlamaAttention`: ``num_key_value_heads`` key/value heads shared by
``num_attention_heads / num_key_value_heads`` query heads each), a residual sum,
``post_attention_layernorm``, the gated MLP ``mlp`` (:class:`LlamaMLP`), a residual sum —
one ``Repeat`` over the symbolic depth, its layers named ``layers.*.…``; and ``norm``.
Rotary position embeddings have no parameters (``inv_freq`` is a buffer) and no products
(they multiply elementwise), so ``max_position_embeddings`` enters no count; their ``cos``
and ``sin``, computed once (``rotary_emb``, :class:`LlamaRotaryEmbedding`), are saved for
every layer's backward. ``attention_dropout`` (an option, 0.0) drops attention
probabilities in training. Tensor parallelism as Megatron-LM splits Llama: ``q_proj``,
``k_proj``, ``v_proj``, ``gate_proj``, ``up_proj`` column-parallel, ``o_proj``,
``down_proj`` row-parallel, ``embed_tokens`` vocabulary-parallel, ``lm_head``
column-parallel over the vocabulary.

``head_dim`` defaults to ``hidden_size / num_attention_heads`` (transformers requires
``hidden_size`` divisible by ``num_attention_heads``, and ``repeat_kv`` needs
``num_attention_heads`` divisible by ``num_key_value_heads``: validity conditions).
``LlamaForCausalLM`` prefixes the model's names with ``model.`` and adds ``lm_head`` =
``Linear(hidden_size, vocab_size, bias=False)``, tied to ``embed_tokens`` with
``tie_word_embeddings`` (counted once; its product always in full).
"""

from __future__ import annotations

from ...torch import Add, Block, Embedding, Input, Linear, Model, Repeat
from ...printing import conventional
from ..registry import register
from .layers import LlamaAttention, LlamaMLP, LlamaRMSNorm, LlamaRotaryEmbedding, parallel

#: the symbols papers use for this config's names (Kaplan et al. 2020, Narayanan et al. 2021), in math
conventional(num_hidden_layers="L", hidden_size="h", num_attention_heads="a", num_key_value_heads="a_kv",
             intermediate_size="d_ff", vocab_size="V", max_position_embeddings="s_max", seq_len="s")

#: meta-llama/Llama-2-7b-hf's config; ``seq_len`` = ``max_position_embeddings``
DIMS = {"hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096, "seq_len": 4096}
OPTIONS = {"head_dim": None, "attention_bias": False, "mlp_bias": False, "attention_dropout": 0.0}


def llama_decoder_layer(hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, head_dim,
                        attention_bias, mlp_bias, prefix: str, attention_dropout=0.0) -> Block:
    """``LlamaDecoderLayer``: ``x + self_attn(input_layernorm(x))``, then ``h + mlp(post_attention_layernorm(h))``."""
    p = f"{prefix}layers.*"
    input_layernorm = LlamaRMSNorm(hidden_size, name=f"{p}.input_layernorm")
    self_attn = LlamaAttention(hidden_size, num_attention_heads, num_key_value_heads, head_dim, attention_bias,
                               attention_dropout, name=f"{p}.self_attn")
    post_attention_layernorm = LlamaRMSNorm(hidden_size, name=f"{p}.post_attention_layernorm")
    mlp = LlamaMLP(hidden_size, intermediate_size, mlp_bias, name=f"{p}.mlp")
    attention_sum, mlp_sum = Add(name=f"{p}.add"), Add(name=f"{p}.add_1")

    def forward(x):
        h = attention_sum([x, self_attn(input_layernorm(x))])
        return mlp_sum([h, mlp(post_attention_layernorm(h))])

    return Block(f"{prefix}layers", forward)


def llama_model_layers(ids, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                       num_key_value_heads, vocab_size, head_dim, attention_bias, mlp_bias, prefix: str = "",
                       attention_dropout=0.0):
    """``LlamaModel``'s layers on token ids; returns ``(embed_tokens, last_hidden_state)``."""
    embed_tokens = parallel(Embedding(vocab_size, hidden_size, name=f"{prefix}embed_tokens"), "vocab")
    layer = llama_decoder_layer(hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, head_dim,
                                attention_bias, mlp_bias, prefix, attention_dropout)
    rotary_dim = hidden_size / num_attention_heads if head_dim is None else head_dim
    x = LlamaRotaryEmbedding(rotary_dim, name=f"{prefix}rotary_emb")(embed_tokens(ids))
    x = Repeat(layer, num_hidden_layers)(x)
    return embed_tokens, LlamaRMSNorm(hidden_size, name=f"{prefix}norm")(x)


@register("transformers:LlamaModel", dims=DIMS, options=OPTIONS,
          source="transformers.LlamaModel(LlamaConfig(...)) (meta-llama/Llama-2-7b-hf's config)")
def llama_model(hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
                vocab_size, max_position_embeddings, seq_len, head_dim, attention_bias, mlp_bias, attention_dropout):
    ids = Input((seq_len,), name="input_ids")
    _, hidden = llama_model_layers(ids, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
                                   num_key_value_heads, vocab_size, head_dim, attention_bias, mlp_bias, "",
                                   attention_dropout)
    return Model(ids, hidden, name="LlamaModel")


@register("transformers:LlamaForCausalLM", dims=DIMS, options={**OPTIONS, "tie_word_embeddings": False},
          source="transformers.LlamaForCausalLM(LlamaConfig(...)) (meta-llama/Llama-2-7b-hf's config)")
def llama_for_causal_lm(hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
                        vocab_size, max_position_embeddings, seq_len, head_dim, attention_bias, mlp_bias,
                        attention_dropout, tie_word_embeddings):
    ids = Input((seq_len,), name="input_ids")
    embed_tokens, hidden = llama_model_layers(ids, hidden_size, intermediate_size, num_hidden_layers,
                                              num_attention_heads, num_key_value_heads, vocab_size, head_dim,
                                              attention_bias, mlp_bias, "model.", attention_dropout)
    lm_head = parallel(Linear(hidden_size, vocab_size, bias=False, name="lm_head"), "column")
    model = Model(ids, lm_head(hidden), name="LlamaForCausalLM")
    if tie_word_embeddings:
        model.tie(lm_head, "weight", embed_tokens, "weight")
    return model
