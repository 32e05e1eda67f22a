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
n_positions``. The options ``embd_pdrop``, ``attn_pdrop`` and ``resid_pdrop`` are
GPT2Config's dropout probabilities (0.1 each): dropout saves a mask in training (none at 0).
The MLP's activation is transformers' ``gelu_new`` (:class:`NewGELUActivation`). Tensor
parallelism as Megatron-LM splits GPT: ``c_attn``, ``c_fc`` column-parallel, ``c_proj`` s
row-parallel, ``wte`` vocabulary-parallel (``lm_head`` column-parallel over the vocabulary).

With the default ``n_inner=None`` (``4·n_embd``) the parameter count is
``12·n_layer·n_embd² + 13·n_layer·n_embd + (vocab_size + n_positions)·n_embd + 2·n_embd``.
"""

from __future__ import annotations

from ...torch import Add, Block, Dropout, Embedding, Input, LayerNorm, Linear, Model, Repeat
from ...printing import conventional
from ..registry import register
from .layers import Conv1D, GPT2Attention, NewGELUActivation, PositionIds, parallel

#: the symbols papers use for this config's names (Kaplan et al. 2020, Narayanan et al. 2021), in math
conventional(n_layer="L", n_embd="h", n_head="a", vocab_size="V", n_positions="n_ctx", seq_len="s")

#: the ``gpt2`` checkpoint's config (124M parameters); ``seq_len`` = ``n_positions``
DIMS = {"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257, "n_positions": 1024, "seq_len": 1024}
OPTIONS = {"n_inner": None, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "resid_pdrop": 0.1}


def gpt2_block(n_embd, n_head, inner, prefix: str, attn_pdrop=0.1, resid_pdrop=0.1) -> Block:
    """``GPT2Block``: ``x + attn(ln_1(x))``, then ``h + mlp(ln_2(h))``."""
    p = f"{prefix}h.*"
    ln_1 = LayerNorm(n_embd, name=f"{p}.ln_1")
    attn = GPT2Attention(n_embd, n_head, attn_pdrop, resid_pdrop, name=f"{p}.attn")
    ln_2 = LayerNorm(n_embd, name=f"{p}.ln_2")
    mlp = [parallel(Conv1D(inner, n_embd, name=f"{p}.mlp.c_fc"), "column"), NewGELUActivation(name=f"{p}.mlp.act"),
           parallel(Conv1D(n_embd, inner, name=f"{p}.mlp.c_proj"), "row"),
           Dropout(resid_pdrop, name=f"{p}.mlp.dropout")]
    attn_sum, mlp_sum = Add(name=f"{p}.add"), Add(name=f"{p}.add_1")

    def forward(x):
        h = attn_sum([attn(ln_1(x)), x])
        y = ln_2(h)
        for layer in mlp:
            y = layer(y)
        return mlp_sum([y, h])

    return Block(f"{prefix}h", forward)


def gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner, prefix: str = "",
                     embd_pdrop=0.1, attn_pdrop=0.1, resid_pdrop=0.1):
    """``GPT2Model``'s layers on token ids; returns ``(wte, last_hidden_state)``."""
    inner = 4 * n_embd if n_inner is None else n_inner
    wte = parallel(Embedding(vocab_size, n_embd, name=f"{prefix}wte"), "vocab")
    wpe = Embedding(n_positions, n_embd, name=f"{prefix}wpe")
    positions = PositionIds(n_positions, name=f"{prefix}position_ids")(ids)
    x = Add(name=f"{prefix}add")([wte(ids), wpe(positions)])
    x = Dropout(embd_pdrop, name=f"{prefix}drop")(x)
    x = Repeat(gpt2_block(n_embd, n_head, inner, prefix, attn_pdrop, resid_pdrop), n_layer)(x)
    return wte, LayerNorm(n_embd, name=f"{prefix}ln_f")(x)


@register("transformers:GPT2Model", dims=DIMS, options=OPTIONS,
          source="transformers.GPT2Model(GPT2Config()) (the gpt2 checkpoint)")
def gpt2_model(n_layer, n_embd, n_head, vocab_size, n_positions, seq_len, n_inner, embd_pdrop, attn_pdrop,
               resid_pdrop):
    ids = Input((seq_len,), name="input_ids")
    _, hidden = gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner, "", embd_pdrop,
                                 attn_pdrop, resid_pdrop)
    return Model(ids, hidden, name="GPT2Model")


@register("transformers:GPT2LMHeadModel", dims=DIMS, options=OPTIONS,
          source="transformers.GPT2LMHeadModel(GPT2Config()) (the gpt2 checkpoint; lm_head tied to wte)")
def gpt2_lm_head_model(n_layer, n_embd, n_head, vocab_size, n_positions, seq_len, n_inner, embd_pdrop, attn_pdrop,
                       resid_pdrop):
    ids = Input((seq_len,), name="input_ids")
    wte, hidden = gpt2_transformer(ids, n_layer, n_embd, n_head, vocab_size, n_positions, n_inner, "transformer.",
                                   embd_pdrop, attn_pdrop, resid_pdrop)
    lm_head = parallel(Linear(n_embd, vocab_size, bias=False, name="lm_head"), "column")
    model = Model(ids, lm_head(hidden), name="GPT2LMHeadModel")
    model.tie(lm_head, "weight", wte, "weight")
    return model
