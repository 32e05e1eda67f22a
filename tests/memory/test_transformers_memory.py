"""Activation memory of the transformers zoo entries against what autograd saves.

The truth: the bytes of the distinct storages ``torch.autograd.graph.saved_tensors_hooks``
packs during a real CPU forward pass of transformers' model in train mode
(``attn_implementation="eager"``), parameters and buffers excluded. symcount's side: the
entry's closed form, its dims substituted, ``memory(device="cpu", batch_size=B).activations``.

They agree exactly at batch sizes 2 and 3, the tensors made once per step (GPT-2's
position ids, BERT's token types, Llama's rotary cos/sin, T5's relative position buckets)
included once. Not at batch size 1: there torch's ``matmul`` keeps GPT-2's query as a
view of ``c_attn``'s whole output (3·L·E) where a larger batch copies it (L·E), which
symcount does not follow (it declares the copies).

In float32, bfloat16 and float16 (the model cast with ``.to(dtype)``, ``memory(dtype=…)``):
what transformers keeps in float32 whatever the dtype (Llama's and ViT's softmax, the RMS
norms' upcasts) and the casts back that are tensors of their own only in 16-bit
(``Saved.cast``) are followed exactly, and so are LayerNorm's statistics (in the input's
dtype on the CPU, float32 on CUDA: ``Saved`` kind ``statistic``). One thing symcount does
not follow, derived by hand in :func:`not_followed`: T5's blocks clamp the hidden states
in float16 only.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from symcount import zoo  # noqa: E402
from tests.torch import saved_truth  # noqa: E402

F32 = 4
DTYPES = ["float32", "bfloat16", "float16"]


def saved_bytes(model, *args, **kwargs) -> int:
    """Bytes of the unique storages autograd saves in one forward pass (parameters and
    buffers excluded): tests/torch/saved_truth.py's measurement."""
    return saved_truth.saved_bytes(model, call=lambda: model(*args, **kwargs))


def _eager(model):
    model.set_attn_implementation("eager")
    return model.train()


def _symcount(entry: str, options: dict, dims: dict, batch: int, dtype: str = "float32") -> int:
    count = zoo.symbolic(entry, **options)
    count = count.subs({k: v for k, v in dims.items() if k in {d.name for d in count.dims}})
    memory = count.memory(device="cpu", batch_size=batch, dtype=dtype)
    assert memory.undeclared == ()
    return int(memory.activations)


def _ids(batch, length, vocab):
    return torch.randint(0, vocab, (batch, length))


# each case: (symcount entry, its options, its dims, transformers' model, its inputs at batch B)

def gpt2(size, p):
    layers, width, heads, length = size
    dims = {"n_layer": layers, "n_embd": width, "n_head": heads, "vocab_size": 37, "n_positions": 32,
            "seq_len": length}
    options = {"embd_pdrop": p, "attn_pdrop": p, "resid_pdrop": p}
    config = transformers.GPT2Config(**{k: v for k, v in dims.items() if k != "seq_len"}, **options)
    model = _eager(transformers.GPT2Model(config))
    return "transformers:GPT2Model", options, dims, model, lambda b: ((_ids(b, length, 37),), {})


def llama(size, p):
    layers, width, heads, length = size
    dims = {"hidden_size": width, "intermediate_size": 3 * width, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": heads // 2, "vocab_size": 37,
            "max_position_embeddings": 32, "seq_len": length}
    config = transformers.LlamaConfig(**{k: v for k, v in dims.items() if k != "seq_len"}, attention_dropout=p)
    model = _eager(transformers.LlamaModel(config))
    return "transformers:LlamaModel", {"attention_dropout": p}, dims, model, lambda b: ((_ids(b, length, 37),), {})


def bert(size, p):
    layers, width, heads, length = size
    dims = {"hidden_size": width, "num_hidden_layers": layers, "num_attention_heads": heads,
            "intermediate_size": 3 * width, "vocab_size": 37, "max_position_embeddings": 32, "type_vocab_size": 2,
            "seq_len": length}
    options = {"hidden_dropout_prob": p, "attention_probs_dropout_prob": p}
    config = transformers.BertConfig(**{k: v for k, v in dims.items() if k != "seq_len"}, **options)
    model = _eager(transformers.BertModel(config))
    return "transformers:BertModel", options, dims, model, lambda b: ((_ids(b, length, 37),), {})


def t5(size, p, feed_forward_proj="relu"):
    layers, width, heads, length = size
    decoder_length = length - 1
    dims = {"d_model": width, "d_kv": 3, "d_ff": 3 * width, "num_layers": layers, "num_decoder_layers": layers + 1,
            "num_heads": heads, "vocab_size": 37, "relative_attention_num_buckets": 8, "seq_len": length,
            "decoder_seq_len": decoder_length}
    config = transformers.T5Config(**{k: v for k, v in dims.items() if "seq_len" not in k}, dropout_rate=p,
                                   feed_forward_proj=feed_forward_proj)
    model = _eager(transformers.T5Model(config))

    def inputs(b):
        return (), {"input_ids": _ids(b, length, 37), "decoder_input_ids": _ids(b, decoder_length, 37)}

    return "transformers:T5Model", {"dropout_rate": p, "feed_forward_proj": feed_forward_proj}, dims, model, inputs


def t5_gated(size, p):
    return t5(size, p, "gated-gelu")


def vit(size, p):
    layers, width, heads, _ = size
    dims = {"hidden_size": width, "num_hidden_layers": layers, "num_attention_heads": heads,
            "intermediate_size": 3 * width, "image_size": 8, "patch_size": 4, "num_channels": 3}
    options = {"hidden_dropout_prob": p, "attention_probs_dropout_prob": p}
    config = transformers.ViTConfig(**dims, **options)
    model = _eager(transformers.ViTModel(config))
    return "transformers:ViTModel", options, dims, model, lambda b: ((torch.randn(b, 3, 8, 8),), {})


FAMILIES = {"gpt2": gpt2, "llama": llama, "bert": bert, "t5": t5, "t5-gated-gelu": t5_gated, "vit": vit}
#: (layers, width, heads, sequence length): two sizes through the same closed form
SIZES = [(1, 8, 2, 5), (2, 16, 4, 7)]


def not_followed(family: str, dims: dict, dtype: str, batch: int) -> int:
    """Bytes torch saves beyond symcount's count, by hand: T5 in float16, where
    ``T5Block`` clamps the hidden states after each sub-layer (``if hidden_states.dtype ==
    torch.float16: … torch.clamp(…)``), which keeps its input (the sequence, in float16)
    and its ``min`` and ``max`` (0-d float32 tensors, per step): two clamps per encoder
    block, three per decoder block. symcount's declarations do not depend on the dtype
    beyond kinds and casts, so it does not follow a float16-only branch."""
    if family.startswith("t5") and dtype == "float16":
        encoder, decoder = 2 * dims["num_layers"], 3 * dims["num_decoder_layers"]
        sequence = (encoder * dims["seq_len"] + decoder * dims["decoder_seq_len"]) * dims["d_model"]
        return 2 * sequence * batch + 2 * F32 * (encoder + decoder)
    return 0


def _cast(model, inputs, dtype: str):
    """The model in ``dtype`` and its inputs (floating ones cast too)."""
    dtype = getattr(torch, dtype)
    model.to(dtype)

    def cast(b):
        args, kwargs = inputs(b)
        return tuple(a.to(dtype) if a.is_floating_point() else a for a in args), kwargs

    return model, cast


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.1], ids=["no-dropout", "dropout"])
@pytest.mark.parametrize("size", SIZES, ids=["small", "larger"])
@pytest.mark.parametrize("family", FAMILIES)
def test_activations_are_what_autograd_saves(family, size, p, dtype):
    torch.manual_seed(0)
    entry, options, dims, model, inputs = FAMILIES[family](size, p)
    model, inputs = _cast(model, inputs, dtype)
    for batch in (2, 3):
        args, kwargs = inputs(batch)
        assert _symcount(entry, options, dims, batch, dtype) + not_followed(family, dims, dtype, batch) == \
            saved_bytes(model, *args, **kwargs)


def test_llama_in_bfloat16_keeps_float32_probabilities_and_their_cast():
    """Llama's eager softmax is float32 whatever the model's dtype, and ``.to(query.dtype)``
    makes a second, 16-bit tensor that ``A·V`` keeps: per example and layer, without
    dropout, heads·L² elements of 4 bytes and of 2 where float32 keeps one tensor of 4;
    with dropout the cast is dropout's input, which it does not keep. By hand, against the
    same model in float32 (every other tensor halves)."""
    torch.manual_seed(0)
    layers, width, heads, length = SIZES[1]
    for p in (0.0, 0.1):
        entry, options, dims, model, inputs = FAMILIES["llama"](SIZES[1], p)
        rms = F32 * (2 * layers + 1) * length * (width + 1)  # per example: the norms' float32 copies and rstd
        probabilities = layers * heads * length ** 2
        bf16 = _symcount(entry, options, dims, 2, "bfloat16")
        f32 = _symcount(entry, options, dims, 2, "float32")
        ids = 2 * length * 8  # int64 token ids, kept whole
        cast = 0 if p else 2 * 2 * probabilities
        assert bf16 - ids - 2 * rms - 2 * F32 * probabilities - cast == (f32 - ids - 2 * rms - 2 * F32 *
                                                                         probabilities) / 2
        model, cast_inputs = _cast(model, inputs, "bfloat16")
        args, kwargs = cast_inputs(2)
        assert bf16 == saved_bytes(model, *args, **kwargs)


def test_dropout_adds_its_masks_and_the_dropped_probabilities():
    """GPT-2 per example, by hand: each dropout keeps a float32 mask on the CPU (the
    embeddings', the attention's residual, the MLP's: L·E each), and attention dropout
    adds its mask and the dropped-out probabilities (heads·L² each) per layer."""
    layers, width, heads, length = 2, 12, 4, 7
    dims = {"n_layer": layers, "n_embd": width, "n_head": heads, "vocab_size": 37, "n_positions": 32,
            "seq_len": length}

    def activations(p):
        options = {"embd_pdrop": p, "attn_pdrop": p, "resid_pdrop": p}
        return _symcount("transformers:GPT2Model", options, dims, 1)

    masks = length * width * (1 + 2 * layers) + 2 * heads * length ** 2 * layers
    assert activations(0.1) - activations(0.0) == F32 * masks


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", ["llama", "bert", "vit"])
def test_flash_attention_is_what_the_cpu_flash_kernel_saves(family, dtype):
    """transformers' ``sdpa`` attention without a mask or dropout runs torch's CPU flash
    kernel (``_scaled_dot_product_flash_attention_for_cpu``), which keeps the query, key,
    value, its output and the float32 log-sum-exp: ``memory(attention="flash")``."""
    torch.manual_seed(0)
    entry, options, dims, model, inputs = FAMILIES[family](SIZES[1], 0.0)
    model.set_attn_implementation("sdpa")
    model, inputs = _cast(model, inputs, dtype)
    args, kwargs = inputs(2)
    count = zoo.symbolic(entry, **options)
    count = count.subs({k: v for k, v in dims.items() if k in {d.name for d in count.dims}})
    assert count.memory(device="cpu", batch_size=2, attention="flash", dtype=dtype).activations + \
        not_followed(family, dims, dtype, 2) == saved_bytes(model, *args, **kwargs)


def test_gpt2_at_batch_size_one_keeps_the_whole_fused_projection():
    """At batch size 1 torch's ``matmul`` folds (1, heads) into one axis without a copy, so
    the eager kernel keeps the query as a view of ``c_attn``'s output, whose storage is
    the query, key and value together (3·L·E), and copies the key and value (L·E each):
    5·L·E per layer where larger batches keep three copies (3·L·E), as symcount counts."""
    torch.manual_seed(0)
    layers, width, _, length = SIZES[1]
    entry, options, dims, model, inputs = FAMILIES["gpt2"](SIZES[1], 0.1)
    args, kwargs = inputs(1)
    assert saved_bytes(model, *args, **kwargs) - _symcount(entry, options, dims, 1) == \
        layers * 2 * length * width * F32
