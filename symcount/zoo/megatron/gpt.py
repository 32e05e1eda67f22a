"""Megatron-LM's GPT (``megatron.core.models.gpt.GPTModel`` with the local layer spec, learned
absolute positions): ``megatron:GPT``.

``embedding``: ``word_embeddings`` (:class:`VocabParallelEmbedding`, ``vocab_size × hidden_size``)
plus ``position_embeddings`` (``Embedding(seq_length, hidden_size)``), then
``embedding_dropout``; ``decoder.layers``: ``num_layers`` pre-LayerNorm layers, one
``Repeat`` named ``decoder.layers.*.…`` —

- ``input_layernorm`` (LayerNorm), ``self_attention``: ``linear_qkv``
  (:class:`ColumnParallelLinear` ``h → 3h``), ``core_attention`` (:class:`DotProductAttention`:
  the fused scale-mask-softmax and dropout on the probabilities), ``linear_proj``
  (:class:`RowParallelLinear` ``h → h``); ``self_attn_bda``: bias-dropout-add (dropout,
  then the residual sum);
- ``pre_mlp_layernorm``, ``mlp``: ``linear_fc1`` (column-parallel ``h → ffn_hidden_size``),
  GeLU, ``linear_fc2`` (row-parallel ``ffn_hidden_size → h``); ``mlp_bda``;

then ``decoder.final_layernorm`` and ``output_layer`` (column-parallel ``h → vocab_size``,
no bias, its weight shared with ``word_embeddings``: counted once).

Dims as Megatron-LM's arguments: ``num_layers`` (L), ``hidden_size`` (h),
``num_attention_heads`` (a), ``seq_length`` (s), ``vocab_size`` (V, the padded
vocabulary). Options: ``ffn_hidden_size`` (None: 4h), ``hidden_dropout`` and
``attention_dropout`` (0.1 each, Megatron's defaults). Parameters: ``12·L·h²·(1 +
13/(12h) + (V + s)/(12·L·h)) + 2h`` — Narayanan et al. (2021)'s formula plus the final
layer norm's weight and bias, which it leaves out.

Activation memory per layer (bf16, CUDA, dropout on) is Korthikanti et al. (2022)'s
Table 2, ``s·b·h·(34 + 5·a·s/h)`` and its tensor-parallel, sequence-parallel and
recomputed forms, plus the layer norms' float32 mean and rstd (``16·s·b`` bytes per
layer), which the paper leaves out.

Configurations of Korthikanti et al. (2022), Table 3, in :data:`PRESETS` (sequence length
2048, vocabulary 51200; the paper trains them with tp = 8 and pp = 1, 8, 35, 64):
``22B`` (a = 64, h = 6144, L = 48), ``175B`` (96, 12288, 96), ``530B`` (128, 20480, 105),
``1T`` (160, 25600, 128).
"""

from __future__ import annotations

from ...torch import GELU, Add, Block, Dropout, Embedding, Input, LayerNorm, Model, Repeat
from ..registry import register
from ..transformers.layers import PositionIds
from .layers import ColumnParallelLinear, DotProductAttention, RowParallelLinear, VocabParallelEmbedding

#: Korthikanti et al. (2022), Table 3: the models of its experiments
PRESETS = {
    "22B": {"num_attention_heads": 64, "hidden_size": 6144, "num_layers": 48},
    "175B": {"num_attention_heads": 96, "hidden_size": 12288, "num_layers": 96},
    "530B": {"num_attention_heads": 128, "hidden_size": 20480, "num_layers": 105},
    "1T": {"num_attention_heads": 160, "hidden_size": 25600, "num_layers": 128},
}
PRESETS = {name: {**dims, "seq_length": 2048, "vocab_size": 51200} for name, dims in PRESETS.items()}

#: GPT-3 175B (Korthikanti et al.'s 175B row) as the default configuration
DIMS = dict(PRESETS["175B"])
OPTIONS = {"ffn_hidden_size": None, "hidden_dropout": 0.1, "attention_dropout": 0.1}


def transformer_layer(hidden_size, num_attention_heads, ffn_hidden_size, hidden_dropout, attention_dropout) -> Block:
    """``TransformerLayer``: ``x + self_attn_bda(self_attention(input_layernorm(x)))``, then
    ``h + mlp_bda(mlp(pre_mlp_layernorm(h)))``."""
    p = "decoder.layers.*"
    input_layernorm = LayerNorm(hidden_size, name=f"{p}.input_layernorm")
    attention = [ColumnParallelLinear(hidden_size, 3 * hidden_size, name=f"{p}.self_attention.linear_qkv"),
                 DotProductAttention(num_attention_heads, hidden_size / num_attention_heads, attention_dropout,
                                     name=f"{p}.self_attention.core_attention"),
                 RowParallelLinear(hidden_size, hidden_size, name=f"{p}.self_attention.linear_proj"),
                 Dropout(hidden_dropout, name=f"{p}.self_attn_bda.dropout")]
    attention_sum = Add(name=f"{p}.self_attn_bda.add")
    pre_mlp_layernorm = LayerNorm(hidden_size, name=f"{p}.pre_mlp_layernorm")
    mlp = [ColumnParallelLinear(hidden_size, ffn_hidden_size, name=f"{p}.mlp.linear_fc1"),
           GELU(name=f"{p}.mlp.activation_func"),
           RowParallelLinear(ffn_hidden_size, hidden_size, name=f"{p}.mlp.linear_fc2"),
           Dropout(hidden_dropout, name=f"{p}.mlp_bda.dropout")]
    mlp_sum = Add(name=f"{p}.mlp_bda.add")

    def forward(x):
        y = input_layernorm(x)
        for layer in attention:
            y = layer(y)
        h = attention_sum([y, x])
        y = pre_mlp_layernorm(h)
        for layer in mlp:
            y = layer(y)
        return mlp_sum([y, h])

    return Block("decoder.layers", forward)


@register("megatron:GPT", dims=DIMS, options=OPTIONS,
          source="megatron.core.models.gpt.GPTModel (local spec, learned absolute positions); "
                 "GPT-3 175B as in Korthikanti et al. 2022, Table 3")
def gpt(num_layers, hidden_size, num_attention_heads, seq_length, vocab_size, ffn_hidden_size, hidden_dropout,
        attention_dropout):
    ffn = 4 * hidden_size if ffn_hidden_size is None else ffn_hidden_size
    ids = Input((seq_length,), name="input_ids")
    word_embeddings = VocabParallelEmbedding(vocab_size, hidden_size, name="embedding.word_embeddings")
    positions = PositionIds(seq_length, name="embedding.position_ids")(ids)
    x = Add(name="embedding.add")([
        word_embeddings(ids),
        Embedding(seq_length, hidden_size, name="embedding.position_embeddings")(positions),
    ])
    x = Dropout(hidden_dropout, name="embedding.embedding_dropout")(x)
    x = Repeat(transformer_layer(hidden_size, num_attention_heads, ffn, hidden_dropout, attention_dropout),
               num_layers)(x)
    x = LayerNorm(hidden_size, name="decoder.final_layernorm")(x)
    output_layer = ColumnParallelLinear(hidden_size, vocab_size, bias=False, name="output_layer")
    model = Model(ids, output_layer(x), name="GPT")
    model.tie(output_layer, "weight", word_embeddings, "weight")
    return model
