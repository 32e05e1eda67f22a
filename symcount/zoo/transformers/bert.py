"""BERT (``transformers.models.bert``): ``BertModel``.

``embeddings``: word, token-type and position embeddings summed, ``LayerNorm``, dropout;
``encoder.layer``: ``num_hidden_layers`` post-norm layers — self-attention
(:class:`BertSelfAttention`: ``query``, ``key``, ``value``, not causal), ``attention.output``
(``dense``, a residual sum, ``LayerNorm``), ``intermediate.dense`` → GELU, ``output``
(``dense``, a residual sum, ``LayerNorm``) — one ``Repeat`` over the symbolic depth,
its layers named ``encoder.layer.*.…``; and with ``add_pooling_layer`` the ``pooler``:
``dense`` + tanh on the first token.

The sequence length is the dim ``seq_len``; the learned positions need ``seq_len <=
max_position_embeddings``.
"""

from __future__ import annotations

from ...torch import GELU, Add, Block, Dropout, Embedding, Input, LayerNorm, Linear, Model, Repeat, Tanh
from ..registry import register
from .layers import BertSelfAttention, FirstToken, PositionIds, TokenTypeIds

#: the ``bert-base-uncased`` checkpoint's config; ``seq_len`` = ``max_position_embeddings``
DIMS = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
        "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "seq_len": 512}
EPS = 1e-12  # BertConfig.layer_norm_eps


def bert_layer(hidden_size, num_attention_heads, intermediate_size) -> Block:
    """``BertLayer``: attention with its output sub-layer, then the feed-forward."""
    p = "encoder.layer.*"
    attention = [BertSelfAttention(hidden_size, num_attention_heads, name=f"{p}.attention.self"),
                 Linear(hidden_size, hidden_size, name=f"{p}.attention.output.dense"),
                 Dropout(0.1, name=f"{p}.attention.output.dropout")]
    attention_sum = Add(name=f"{p}.attention.output.add")
    attention_norm = LayerNorm(hidden_size, eps=EPS, name=f"{p}.attention.output.LayerNorm")
    feedforward = [Linear(hidden_size, intermediate_size, name=f"{p}.intermediate.dense"),
                   GELU(name=f"{p}.intermediate.intermediate_act_fn"),
                   Linear(intermediate_size, hidden_size, name=f"{p}.output.dense"),
                   Dropout(0.1, name=f"{p}.output.dropout")]
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


@register("transformers:BertModel", dims=DIMS, options={"add_pooling_layer": True},
          source="transformers.BertModel(BertConfig()) (the bert-base-uncased checkpoint)")
def bert_model(hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
               max_position_embeddings, type_vocab_size, seq_len, add_pooling_layer):
    ids = Input((seq_len,), name="input_ids")
    position_ids = PositionIds(max_position_embeddings, name="embeddings.position_ids")(ids)
    token_type_ids = TokenTypeIds(name="embeddings.token_type_ids")(ids)
    x = Add(name="embeddings.add")([
        Embedding(vocab_size, hidden_size, padding_idx=0, name="embeddings.word_embeddings")(ids),
        Embedding(type_vocab_size, hidden_size, name="embeddings.token_type_embeddings")(token_type_ids),
        Embedding(max_position_embeddings, hidden_size, name="embeddings.position_embeddings")(position_ids),
    ])
    x = LayerNorm(hidden_size, eps=EPS, name="embeddings.LayerNorm")(x)
    x = Dropout(0.1, name="embeddings.dropout")(x)
    x = Repeat(bert_layer(hidden_size, num_attention_heads, intermediate_size), num_hidden_layers)(x)
    outputs = [x]
    if add_pooling_layer:
        pooled = Linear(hidden_size, hidden_size, name="pooler.dense")(FirstToken(name="pooler.first_token")(x))
        outputs.append(Tanh(name="pooler.activation")(pooled))
    return Model(ids, outputs, name="BertModel")
