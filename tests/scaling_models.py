"""Small transformer stand-ins built from symcount layers, for the scaling tests.

``gpt_like`` is GPT-2's architecture (token and position embeddings, ``n_layer``
pre-norm blocks of causal self-attention and a 4× MLP, a final LayerNorm) and
``llama_like`` Llama's (RMSNorm, grouped-query attention, SwiGLU MLP, untied head);
each attention layer declares its score and value products with their causal MACs.
"""

from __future__ import annotations

import symcount as sc
from symcount.layer import Layer, Product, Requirement, Weight
from symcount.dims import divisible
from symcount.keras import Add, Multiply  # residual sums and SwiGLU's product: no weights, no products
from symcount.torch import GELU, Block, Embedding, Input, LayerNorm, Linear, Model, Repeat, RMSNorm, SiLU


class CausalAttention(Layer):
    """Self-attention on ``(None, L, d)`` with ``heads`` query heads and ``kv_heads``
    key/value heads of ``d / heads`` each; projections with or without biases."""

    def __init__(self, d, heads, kv_heads=None, bias=True, name=None):
        super().__init__(name)
        self.d, self.heads = d, heads
        self.kv_heads = heads if kv_heads is None else kv_heads
        self.bias = bias

    def requirements(self, shape):
        yield Requirement(divisible(self.d, self.heads), "d must be divisible by heads")

    def weights(self, shape):
        d, kv = self.d, self.kv_heads * (self.d / self.heads)
        for name, out in (("q_proj", d), ("k_proj", kv), ("v_proj", kv), ("o_proj", d)):
            yield Weight(f"{name}.weight", (out, d))
            if self.bias:
                yield Weight(f"{name}.bias", (out,))

    def products(self, shape):
        L, d = shape[1], self.d
        kv = self.kv_heads * (d / self.heads)
        yield Product(L * d * (2 * d + 2 * kv), label="projections")
        yield Product(2 * L * L * d, "activation", causal_macs=2 * d * L * (L + 1) / 2, label="scores and values")


def gpt_like():
    V, n_ctx, d, n_layer, n_head = sc.dims("vocab_size n_positions n_embd n_layer n_head")
    tokens = Input((n_ctx,))
    x = Add()([Embedding(V, d, name="wte")(tokens), Embedding(n_ctx, d, name="wpe")(tokens)])

    def block(x):
        h = CausalAttention(d, n_head, name="attn")(LayerNorm(d, name="ln_1")(x))
        x = Add()([x, h])
        h = Linear(4 * d, d, name="c_proj")(GELU()(Linear(d, 4 * d, name="c_fc")(LayerNorm(d, name="ln_2")(x))))
        return Add()([x, h])

    x = Repeat(Block("h", block), n_layer)(x)
    x = LayerNorm(d, name="ln_f")(x)
    return Model(tokens, x, name="gpt_like").count()


def llama_like():
    V, L, d, n_layer, heads, kv, ff = sc.dims(
        "vocab_size seq_len hidden_size num_hidden_layers num_attention_heads num_key_value_heads intermediate_size")
    tokens = Input((L,))
    x = Embedding(V, d, name="embed_tokens")(tokens)

    def layer(x):
        h = CausalAttention(d, heads, kv, bias=False, name="self_attn")(RMSNorm(d, name="input_layernorm")(x))
        x = Add()([x, h])
        h = RMSNorm(d, name="post_attention_layernorm")(x)
        gate = SiLU()(Linear(d, ff, bias=False, name="gate_proj")(h))
        up = Linear(d, ff, bias=False, name="up_proj")(h)
        h = Linear(ff, d, bias=False, name="down_proj")(Multiply()([gate, up]))
        return Add()([x, h])

    x = Repeat(Block("layers", layer), n_layer)(x)
    x = RMSNorm(d, name="norm")(x)
    x = Linear(d, V, bias=False, name="lm_head")(x)
    return Model(tokens, x, name="llama_like").count()


