"""T5 (``transformers.models.t5``): ``T5Model``, encoder and decoder without a head.

``shared`` = ``Embedding(vocab_size, d_model)`` embeds both the encoder's ``input_ids``
and the decoder's ``decoder_input_ids`` (``encoder.embed_tokens`` and
``decoder.embed_tokens`` are tied to it: one parameter). Each stack has ``block.0``,
whose self-attention owns ``relative_attention_bias`` = ``Embedding(
relative_attention_num_buckets, num_heads)`` (the position bias every block reuses), then
the other blocks as one ``Repeat`` named ``block.*`` (``num_layers − 1`` of them; the
decoder's ``num_decoder_layers − 1``), ``final_layer_norm`` and dropout. A block is
pre-norm sub-layers with residual sums: ``layer.0`` self-attention (causal in the
decoder), in the decoder ``layer.1`` cross-attention ``EncDecAttention`` over the
encoder's ``seq_len`` hidden states, and the feed-forward ``DenseReluDense`` (``wi`` →
ReLU → ``wo``; with ``feed_forward_proj="gated-gelu"``, ``wi_0``, ``wi_1``, ``wo``).
Attention is :class:`T5Attention`: ``q``, ``k``, ``v``, ``o`` over ``num_heads · d_kv``
(independent of ``d_model``). Norms are ``T5LayerNorm`` (a weight, no bias); no linear
layer has a bias.

Dims: the encoder's ``seq_len`` and the decoder's ``decoder_seq_len``. The option
``dropout_rate`` is T5Config's (0.1): dropout saves a mask in training (none at 0). The
encoder's output, which every decoder block's cross-attention projects, is one saved
tensor: ``block.0``'s cross-attention declares it. Tensor parallelism as Megatron-LM
splits a transformer: ``wi`` column-parallel, ``wo`` row-parallel, ``shared``
vocabulary-parallel (the attention's projections inside :class:`T5Attention`). The decoder's
cross-attention reads the encoder's output as a size: a block repeated over one stream
takes one tensor, so the model's outputs are both stacks' last hidden states (as
``T5Model`` returns ``last_hidden_state`` and ``encoder_last_hidden_state``).
"""

from __future__ import annotations

from ...errors import ArgumentError
from ...torch import Add, Block, Dropout, Embedding, Input, Linear, Model, ReLU, Repeat
from ...printing import conventional
from ..registry import register
from .layers import T5Attention, T5DenseGatedActDense, T5LayerNorm, parallel

#: the symbols papers use for this config's names (Kaplan et al. 2020, Narayanan et al. 2021), in math
conventional(num_layers="L", num_decoder_layers="L_dec", d_model="h", d_kv="d_kv", d_ff="d_ff", num_heads="a",
             vocab_size="V", relative_attention_num_buckets="b", seq_len="s", decoder_seq_len="s_dec")

#: the t5-small checkpoint's config
DIMS = {"d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_decoder_layers": 6, "num_heads": 8,
        "vocab_size": 32128, "relative_attention_num_buckets": 32, "seq_len": 512, "decoder_seq_len": 512}
FEED_FORWARD = ("relu", "gated-gelu")


def _sublayer(prefix: str, index: int, module, d_model, dropout_rate=0.1):
    """A ``T5Layer*``: ``x + dropout(module(layer_norm(x)))`` (module: one layer or a list)."""
    p = f"{prefix}.layer.{index}"
    layer_norm = T5LayerNorm(d_model, name=f"{p}.layer_norm")
    dropout = Dropout(dropout_rate, name=f"{p}.dropout")
    residual = Add(name=f"{p}.add")
    modules = module if isinstance(module, list) else [module]

    def forward(x):
        y = layer_norm(x)
        for layer in modules:
            y = layer(y)
        return residual([x, dropout(y)])

    return forward


def t5_block(prefix: str, index: str, d_model, d_kv, d_ff, num_heads, buckets, feed_forward_proj, decoder,
             encoder_length=None, dropout_rate=0.1) -> Block:
    """``T5Block``: self-attention, cross-attention (decoder), feed-forward."""
    p = f"{prefix}.block.{index}"
    first = index == "0"

    def attention(kind, **kw):
        return T5Attention(d_model, d_kv, num_heads, buckets, dropout=dropout_rate,
                           name=f"{p}.layer.{len(sublayers)}.{kind}", **kw)

    sublayers = []
    sublayers.append(_sublayer(p, 0, attention("SelfAttention", has_relative_attention_bias=first,
                                               is_causal=decoder), d_model, dropout_rate))
    if decoder:
        sublayers.append(_sublayer(p, 1, attention("EncDecAttention", key_value_length=encoder_length,
                                                   saves_key_value_states=first), d_model, dropout_rate))
    f = f"{p}.layer.{len(sublayers)}.DenseReluDense"
    if feed_forward_proj == "gated-gelu":
        feedforward = T5DenseGatedActDense(d_model, d_ff, dropout_rate, name=f)
    else:
        feedforward = [parallel(Linear(d_model, d_ff, bias=False, name=f"{f}.wi"), "column"), ReLU(name=f"{f}.act"),
                       Dropout(dropout_rate, name=f"{f}.dropout"),
                       parallel(Linear(d_ff, d_model, bias=False, name=f"{f}.wo"), "row")]
    sublayers.append(_sublayer(p, len(sublayers), feedforward, d_model, dropout_rate))

    def forward(x):
        for sublayer in sublayers:
            x = sublayer(x)
        return x

    return Block(p, forward)


def t5_stack(prefix: str, x, num_layers, dims: dict, feed_forward_proj, decoder, encoder_length=None,
             dropout_rate=0.1):
    """``T5Stack`` on embedded tokens: dropout, ``block.0``, ``block.*`` × (num_layers − 1),
    ``final_layer_norm``, dropout (the same module as the first)."""
    dropout = Dropout(dropout_rate, name=f"{prefix}.dropout")
    x = dropout(x)
    for index in ("0", "*"):
        block = t5_block(prefix, index, **dims, feed_forward_proj=feed_forward_proj, decoder=decoder,
                         encoder_length=encoder_length, dropout_rate=dropout_rate)
        x = block(x) if index == "0" else Repeat(block, num_layers - 1)(x)
    return dropout(T5LayerNorm(dims["d_model"], name=f"{prefix}.final_layer_norm")(x))


@register("transformers:T5Model", dims=DIMS, options={"feed_forward_proj": "relu", "dropout_rate": 0.1},
          source="transformers.T5Model(T5Config()) (the t5-small checkpoint's config)")
def t5_model(d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads, vocab_size,
             relative_attention_num_buckets, seq_len, decoder_seq_len, feed_forward_proj, dropout_rate):
    if feed_forward_proj not in FEED_FORWARD:
        raise ArgumentError(f"T5Model: feed_forward_proj must be one of {', '.join(FEED_FORWARD)}. "
                            f"Received: feed_forward_proj={feed_forward_proj!r}")
    dims = {"d_model": d_model, "d_kv": d_kv, "d_ff": d_ff, "num_heads": num_heads,
            "buckets": relative_attention_num_buckets}
    input_ids = Input((seq_len,), name="input_ids")
    decoder_input_ids = Input((decoder_seq_len,), name="decoder_input_ids")
    shared = parallel(Embedding(vocab_size, d_model, name="shared"), "vocab")
    encoder = t5_stack("encoder", shared(input_ids), num_layers, dims, feed_forward_proj, decoder=False,
                       dropout_rate=dropout_rate)
    decoder = t5_stack("decoder", shared(decoder_input_ids), num_decoder_layers, dims, feed_forward_proj,
                       decoder=True, encoder_length=seq_len, dropout_rate=dropout_rate)
    return Model([input_ids, decoder_input_ids], [decoder, encoder], name="T5Model")
