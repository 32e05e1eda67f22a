"""GPT-2 (``transformers.models.gpt2``): ``GPT2Model`` and ``GPT2LMHeadModel``.

Token and position embeddings (``wte``, ``wpe``), ``n_layer`` pre-norm blocks ``h`` —
``ln_1``, causal self-attention ``attn`` (:class:`GPT2Attention`), a residual sum,
``ln_2``, the MLP ``c_fc`` → GELU (tanh) → ``c_proj`` (HF ``Conv1D`` s), a residual sum —
and ``ln_f``. The blocks are one ``Repeat`` over the symbolic ``n_layer``; their layers are
named ``h.*.…`` (``*`` standing for every index), so a weight's name is transformers'
``named_parameters()`` name with the index starred.

``GPT2LMHeadModel`` adds ``lm_head`` = ``Linear(n_embd, vocab_size, bias=False)`` whose
weight *is* ``wte.weight`` (tied): counted once among the parameters, while its product
``L·n_embd·vocab_size`` is computed in full.

The sequence length is the dim ``seq_len``; the learned positions need ``seq_len <=
n_positions``. With the default ``n_inner=None`` (``4·n_embd``) the parameter count is
``12·n_layer·n_embd² + 13·n_layer·n_embd + (vocab_size + n_positions)·n_embd + 2·n_embd``.
"""

from __future__ import annotations

from ...torch import GELU, Add, Block, Dropout, Embedding, Input, LayerNorm, Linear, Model, Repeat
from ..registry import register
from .layers import Conv1D, GPT2Attention, PositionIds

#: the ``gpt2`` checkpoint's config (124M parameters); ``seq_len`` = ``n_positions``
DIMS = {"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257, "n_positions": 1024, "seq_len": 1024}
OPTIONS = {"n_inner": None}


def gpt2_block(n_embd, n_head, inner, prefix: str) -> Block:
    """``GPT2Block``: ``x + attn(ln_1(x))``, then ``h + mlp(ln_2(h))``."""
    p = f"{prefix}h.*"
    ln_1 = LayerNorm(n_embd, name=f"{p}.ln_1")
    attn = GPT2Attention(n_embd, n_head, name=f"{p}.attn")
    ln_2 = LayerNorm(n_embd, name=f"{p}.ln_2")
    mlp = [Conv1D(inner, n_embd, name=f"{p}.mlp.c_fc"), GELU(approximate="tanh", name=f"{p}.mlp.act"),
           Conv1D(n_embd, inner, name=f"{p}.mlp.c_proj"), Dropout(0.1, name=f"{p}.mlp.dropout")]
    attn_sum, mlp_sum = Add(name=f"{p}.add"), Add(name=f"{p}.add_1")

    def forward(x):
        h = attn_sum([attn(ln_1(x)), x])
        y = ln_2(h)
        for layer in mlp:
            y = layer(y)
        return mlp_sum([y, h])

    return Block(f"{prefix}h", forward)


def gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner, prefix: str = ""):
    """``GPT2Model``'s layers on token ids; returns ``(wte, last_hidden_state)``."""
    inner = 4 * n_embd if n_inner is None else n_inner
    wte = Embedding(vocab_size, n_embd, name=f"{prefix}wte")
    wpe = Embedding(n_positions, n_embd, name=f"{prefix}wpe")
    positions = PositionIds(n_positions, name=f"{prefix}position_ids")(ids)
    x = Add(name=f"{prefix}add")([wte(ids), wpe(positions)])
    x = Dropout(0.1, name=f"{prefix}drop")(x)
    x = Repeat(gpt2_block(n_embd, n_head, inner, prefix), n_layer)(x)
    return wte, LayerNorm(n_embd, name=f"{prefix}ln_f")(x)


@register("transformers:GPT2Model", dims=DIMS, options=OPTIONS,
          source="transformers.GPT2Model(GPT2Config()) (the gpt2 checkpoint)")
def gpt2_model(n_layer, n_embd, n_head, vocab_size, n_positions, seq_len, n_inner):
    ids = Input((seq_len,), name="input_ids")
    _, hidden = gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner)
    return Model(ids, hidden, name="GPT2Model")


@register("transformers:GPT2LMHeadModel", dims=DIMS, options=OPTIONS,
          source="transformers.GPT2LMHeadModel(GPT2Config()) (the gpt2 checkpoint; lm_head tied to wte)")
def gpt2_lm_head_model(n_layer, n_embd, n_head, vocab_size, n_positions, seq_len, n_inner):
    ids = Input((seq_len,), name="input_ids")
    wte, hidden = gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner,
                                   prefix="transformer.")
    lm_head = Linear(n_embd, vocab_size, bias=False, name="lm_head")
    model = Model(ids, lm_head(hidden), name="GPT2LMHeadModel")
    model.tie(lm_head, "weight", wte, "weight")
    return model
