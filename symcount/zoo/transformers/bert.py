"""BERT (``transformers.models.bert``): ``BertModel``.

``embeddings``: word, token-type and position embeddings summed, ``LayerNorm``, dropout;
``encoder.layer``: ``num_hidden_layers`` post-norm layers — self-attention
(:class:`BertSelfAttention`: ``query``, ``key``, ``value``, not causal), ``attention.output``
(``dense``, a residual sum, ``LayerNorm``), ``intermediate.dense`` → GELU, ``output``
(``dense``, a residual sum, ``LayerNorm``) — one ``Repeat`` over the symbolic depth,
its layers named ``encoder.layer.*.…``; and with ``add_pooling_layer`` the ``pooler``:
``dense`` + tanh on the first token.

The sequence length is the dim ``seq_len``; the learned positions need ``seq_len <=
max_position_embeddings``. The options ``hidden_dropout_prob`` and
``attention_probs_dropout_prob`` are BertConfig's (0.1 each): dropout saves a mask in
training (none at 0). Tensor parallelism as Megatron-LM splits BERT: the self-attention
and ``intermediate.dense`` column-parallel, ``attention.output.dense`` and ``output.dense``
row-parallel, ``word_embeddings`` vocabulary-parallel.
"""

from __future__ import annotations

from ...torch import GELU, Add, Block, Dropout, Embedding, Input, LayerNorm, Linear, Model, Repeat, Tanh
from ...printing import conventional
from ..registry import register
from .layers import BertSelfAttention, FirstToken, PositionIds, TokenTypeIds, parallel

#: the symbols papers use for this config's names (Kaplan et al. 2020, Narayanan et al. 2021), in math
conventional(num_hidden_layers="L", hidden_size="h", num_attention_heads="a", intermediate_size="d_ff",
             vocab_size="V", max_position_embeddings="s_max", type_vocab_size="V_type", seq_len="s")

#: the ``bert-base-uncased`` checkpoint's config; ``seq_len`` = ``max_position_embeddings``
DIMS = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
        "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "seq_len": 512}
EPS = 1e-12  # BertConfig.layer_norm_eps


def bert_layer(hidden_size, num_attention_heads, intermediate_size, hidden_dropout_prob=0.1,
               attention_probs_dropout_prob=0.1) -> Block:
    """``BertLayer``: attention with its output sub-layer, then the feed-forward."""
    p = "encoder.layer.*"
    attention = [BertSelfAttention(hidden_size, num_attention_heads, attention_probs_dropout_prob,
                                   name=f"{p}.attention.self"),
                 parallel(Linear(hidden_size, hidden_size, name=f"{p}.attention.output.dense"), "row"),
                 Dropout(hidden_dropout_prob, name=f"{p}.attention.output.dropout")]
    attention_sum = Add(name=f"{p}.attention.output.add")
    attention_norm = LayerNorm(hidden_size, eps=EPS, name=f"{p}.attention.output.LayerNorm")
    feedforward = [parallel(Linear(hidden_size, intermediate_size, name=f"{p}.intermediate.dense"), "column"),
                   GELU(name=f"{p}.intermediate.intermediate_act_fn"),
                   parallel(Linear(intermediate_size, hidden_size, name=f"{p}.output.dense"), "row"),
                   Dropout(hidden_dropout_prob, name=f"{p}.output.dropout")]
    output_sum = Add(name=f"{p}.output.add")
    output_norm = LayerNorm(hidden_size, eps=EPS, name=f"{p}.output.LayerNorm")

    def forward(x):
        a = x
        for layer in attention:
            a = layer(a)
        a = attention_norm(attention_sum([a, x]))
        y = a
        for layer in feedforward:
            y = layer(y)
        return output_norm(output_sum([y, a]))

    return Block("encoder.layer", forward)


@register("transformers:BertModel", dims=DIMS,
          options={"add_pooling_layer": True, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1},
          source="transformers.BertModel(BertConfig()) (the bert-base-uncased checkpoint)")
def bert_model(hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
               max_position_embeddings, type_vocab_size, seq_len, add_pooling_layer, hidden_dropout_prob,
               attention_probs_dropout_prob):
    ids = Input((seq_len,), name="input_ids")
    position_ids = PositionIds(max_position_embeddings, buffer=True, name="embeddings.position_ids")(ids)
    token_type_ids = TokenTypeIds(name="embeddings.token_type_ids")(ids)
    x = Add(name="embeddings.add")([
        parallel(Embedding(vocab_size, hidden_size, padding_idx=0, name="embeddings.word_embeddings"), "vocab")(ids),
        Embedding(type_vocab_size, hidden_size, name="embeddings.token_type_embeddings")(token_type_ids),
        Embedding(max_position_embeddings, hidden_size, name="embeddings.position_embeddings")(position_ids),
    ])
    x = LayerNorm(hidden_size, eps=EPS, name="embeddings.LayerNorm")(x)
    x = Dropout(hidden_dropout_prob, name="embeddings.dropout")(x)
    x = Repeat(bert_layer(hidden_size, num_attention_heads, intermediate_size, hidden_dropout_prob,
                          attention_probs_dropout_prob), num_hidden_layers)(x)
    outputs = [x]
    if add_pooling_layer:
        pooled = Linear(hidden_size, hidden_size, name="pooler.dense")(FirstToken(name="pooler.first_token")(x))
        outputs.append(Tanh(name="pooler.activation")(pooled))
    return Model(ids, outputs, name="BertModel")
