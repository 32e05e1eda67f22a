"""Tensor parallelism on imported models: Megatron-LM's roles read off the operators.

- The roles themselves, on hand-written modules whose pairing is known (Shoeybi et al.
  2019, section 3): an MLP's two linears are column then row; a linear that a LayerNorm
  over its whole width follows is replicated; a norm over one head's width keeps the
  pair; a classifier's logits are whole; a router whose scores reach a wider product is
  replicated; a language model's token embedding is vocabulary-parallel and its head
  column-parallel.
- Whole models through ``from_hf`` against the zoo's hand-declared Megatron roles
  (``tests/memory/test_transformers_parallel.py`` derives those by hand): weights,
  gradients, optimizer states and activations per device, exactly, under tensor,
  sequence and pipeline parallelism, ZeRO and both recomputations; float32 and bfloat16,
  on CUDA and on the CPU (a LayerNorm's statistics are fp32 on CUDA, bf16 on the CPU: the
  import marks them as statistics, whatever device it recorded on); and Llama-2-7B's own
  config in bf16 on CUDA with every option: 25,469,272,083 bytes per device, the zoo's
  number.
- The conditions: ``tp`` must divide the heads, the widths and the vocabulary.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import symcount as sc  # noqa: E402
from symcount import zoo  # noqa: E402
from symcount.errors import ArgumentError  # noqa: E402
from symcount.importers.recorder import record  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hf"
nn = torch.nn


def roles_of(module, *args):
    module.train()
    return record(module, args).roles


# ---------------------------------------------------------------------------
# The roles on modules whose pairing is known
# ---------------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.up, self.act, self.down = nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 8)

    def forward(self, x):
        return x + self.down(self.act(self.up(x)))


def test_an_mlp_is_a_column_then_a_row_layer():
    roles = roles_of(MLP(), torch.randn(2, 5, 8))
    assert roles == {("up", "weight"): ("column", 0), ("up", "bias"): ("column", 0),
                     ("down", "weight"): ("row", 1)}


class Transform(nn.Module):
    """BERT's masked-LM transform: a linear whose whole width a LayerNorm reads, then a
    classifier of 5 labels."""

    def __init__(self):
        super().__init__()
        self.dense, self.norm, self.classifier = nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 5)

    def forward(self, x):
        return self.classifier(self.norm(self.dense(x)))


def test_a_linear_a_norm_reads_whole_is_replicated_and_a_classifier_too():
    assert roles_of(Transform(), torch.randn(2, 5, 8)) == {}


class PerHeadNorm(nn.Module):
    """Qwen3's query norm: an RMS norm over each head's width inside the pair."""

    def __init__(self):
        super().__init__()
        self.q, self.norm, self.o = nn.Linear(8, 16), nn.LayerNorm(4), nn.Linear(16, 8)

    def forward(self, x):
        h = self.norm(self.q(x).view(*x.shape[:-1], 4, 4))
        return self.o(h.reshape(*x.shape[:-1], 16))


def test_a_norm_over_one_head_keeps_the_pair():
    roles = roles_of(PerHeadNorm(), torch.randn(2, 5, 8))
    assert roles[("q", "weight")] == ("column", 0) and roles[("o", "weight")] == ("row", 1)
    assert ("norm", "weight") not in roles


class Router(nn.Module):
    """A router's two scores scale the hidden states that a wider linear then reads."""

    def __init__(self):
        super().__init__()
        self.router, self.out = nn.Linear(8, 2), nn.Linear(8, 8)

    def forward(self, x):
        scores = self.router(x).softmax(-1)
        return self.out(x * scores[..., :1])


def test_a_router_reaching_a_wider_product_is_replicated():
    assert roles_of(Router(), torch.randn(2, 5, 8)) == {}


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.mlp, self.head = nn.Embedding(50, 8), MLP(), nn.Linear(8, 50, bias=False)

    def forward(self, ids):
        return self.head(self.mlp(self.embed(ids)))


def test_a_language_model_splits_its_vocabulary():
    roles = roles_of(TinyLM(), torch.zeros(2, 5, dtype=torch.long))
    assert roles[("embed", "weight")] == ("vocab", 0)
    assert roles[("head", "weight")] == ("column", 0)  # its logits stay split, for the parallel cross-entropy
    assert roles[("mlp.up", "weight")] == ("column", 0) and roles[("mlp.down", "weight")] == ("row", 1)


def test_the_split_storages_are_those_between_the_pair():
    """What the MLP saves between its column and row layers (GELU's input, the row
    layer's input) is split; its input, saved by the column layer, is whole."""
    module = MLP().train()
    rec = record(module, (torch.randn(2, 5, 8),))
    saved = {(node.path, r.elements, r.split) for node in [rec.root, *rec.root.children]
             if hasattr(node, "saved") for r in node.saved}
    assert saved == {("up", 2 * 5 * 8, False), ("act", 2 * 5 * 32, True), ("down", 2 * 5 * 32, True)}


# ---------------------------------------------------------------------------
# Imported transformers against the zoo's declared roles
# ---------------------------------------------------------------------------

FAMILIES = {
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(n_layer=2, n_embd=64, n_head=4, vocab_size=128, n_positions=64)),
    "bert": ("BertConfig", "BertModel", dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128,
                                             num_attention_heads=4, vocab_size=128, max_position_embeddings=64)),
    "vit": ("ViTConfig", "ViTModel", dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128,
                                          num_attention_heads=4, image_size=32, patch_size=4)),
    "llama": ("LlamaConfig", "LlamaForCausalLM",
              dict(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=4,
                   num_key_value_heads=2, vocab_size=128, max_position_embeddings=64)),
    "t5": ("T5Config", "T5Model", dict(num_layers=2, num_decoder_layers=2, d_model=64, d_ff=128, d_kv=16,
                                       num_heads=4, vocab_size=128)),
}

PLANS = [dict(tp=2), dict(tp=2, sp=True), dict(tp=2, recompute="selective"), dict(tp=2, sp=True, recompute="selective"),
         dict(recompute="full", pp=2), dict(tp=2, pp=2, dp=2, zero=2, microbatches=4)]


@functools.lru_cache(maxsize=None)
def pair(name):
    cls, arch, fields = FAMILIES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.logging.set_verbosity_error()
        model = sc.from_hf(getattr(transformers, cls)(**fields, architectures=[arch]))
    declared = zoo.symbolic(f"transformers:{arch}")
    values = {d.name: model.values[d.name] for d in declared.dims}
    return model.count().subs(model.values), declared.subs(values), model.count()


def same(imported, declared, **options):
    a, b = imported.memory(**options), declared.memory(**options)
    assert a.undeclared == b.undeclared == ()
    for part in ("weights", "gradients", "optimizer", "activations", "total"):
        assert int(getattr(a, part)) == int(getattr(b, part)), (part, options)


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_an_import_splits_as_the_zoo_declares(name, device):
    imported, declared, _ = pair(name)
    for dtype in ("float32", "bfloat16"):
        for plan in PLANS:
            if name == "t5" and "pp" in plan:
                continue  # an encoder and a decoder: two stacks, which the zoo's T5 does not split into stages
            same(imported, declared, device=device, batch_size=2, dtype=dtype, **plan)


def test_an_imported_llama_layer_by_hand():
    """Bytes per token of one imported Llama layer in bf16 on CUDA under tp = 2, derived by
    hand as in Korthikanti et al.'s Table 2: each RMS norm keeps its input in float32
    (4h), the float32 rstd (4) and the normalized rows (2h); q_proj and gate/up read
    their inputs whole (2h + 2h); split by the devices: the query, the keys and values
    repeated to every head, the heads' output (8h), the float32 probabilities and their
    bf16 cast (6as), the MLP's four intermediate tensors (8I)."""
    imported, _, _ = pair("llama")
    h, a, I, s, b, t = 64, 4, 128, 64, 2, 2
    deeper = imported.subs(num_hidden_layers=3).memory(dtype="bf16", batch_size=b, tp=t).activations
    shallow = imported.memory(dtype="bf16", batch_size=b, tp=t).activations
    per_token = 2 * (4 * h + 4 + 2 * h) + (2 * h + 2 * h) + (8 * h + 6 * a * s + 8 * I) // t
    assert int(deeper - shallow) == s * b * per_token


def test_an_import_has_the_roles_megatron_gives_llama():
    imported, _, _ = pair("llama")
    roles = {r.name: getattr(r.layer, "weight_roles", None) for r in imported.layers}
    assert roles["model.embed_tokens"] == {"weight": "vocab"}
    for name in ("q_proj", "k_proj", "v_proj"):
        assert roles[f"model.layers.0.self_attn.{name}"] == {"weight": "column"}
    assert roles["model.layers.0.self_attn.o_proj"] == {"weight": "row"}
    assert roles["model.layers.0.mlp.gate_proj"] == roles["model.layers.0.mlp.up_proj"] == {"weight": "column"}
    assert roles["model.layers.0.mlp.down_proj"] == {"weight": "row"}
    assert roles["model.layers.0.input_layernorm"] is None and roles["lm_head"] == {"weight": "column"}


def test_llama_2_7b_config_with_every_option_is_the_zoo():
    """The issue's plan on Llama-2-7B's published config: bf16 Adam, micro-batch 8, 4,096
    tokens, tp 8 with sequence parallelism, pp 4 with 16 micro-batches, dp 16 with ZeRO-1,
    selective recomputation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sc.from_hf(EXAMPLES / "llama-2-7b", kv_cache=False)
    imported = model.count().subs({**model.values, "seq_len": 4096})
    declared = zoo.symbolic("transformers:LlamaForCausalLM").subs(
        {d.name: model.values[d.name] for d in zoo.symbolic("transformers:LlamaForCausalLM").dims} | {"seq_len": 4096})
    plan = dict(dtype="bf16", optimizer="adam", batch_size=8, tp=8, sp=True, pp=4, dp=16, zero=1,
                recompute="selective", microbatches=16)
    same(imported, declared, **plan)
    # ZeRO-1 shards Adam's 4-byte step counters too: a quarter byte per device, rounded up as the CLI prints it
    assert math.ceil(imported.memory(**plan).total) == 25_469_272_083


def test_llama_2_7b_attention_is_measured_where_its_heads_are_equal():
    """At 32 query and 32 key/value heads transformers' repeat_kv copies nothing; changing
    either alone saves other tensors, so the two are probed together and the saved sizes
    are claimed where they are equal: a condition of the formula, and values breaking it
    leave attention not counted rather than counted wrong."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sc.from_hf(EXAMPLES / "llama-2-7b", kv_cache=False)
    count = model.count()
    assert "num_key_value_heads == num_attention_heads" in {str(c) for c in count.memory().conditions}
    at = count.subs(model.values).memory(dtype="bf16")
    assert at.undeclared == () and at.conditions == ()
    assert int(at.activations) == 127_644_254_208  # the zoo entry's, with the seq² probabilities
    other = count.subs({**model.values, "num_key_value_heads": 8}).memory(dtype="bf16")
    assert "model.layers.0.self_attn" in other.undeclared


def test_tp_must_divide_the_heads_of_an_import():
    imported, _, _ = pair("llama")  # 4 heads, 64 wide, vocabulary 128
    with pytest.raises(ArgumentError, match="num_attention_heads % 8 == 0"):
        imported.memory(tp=8)
    with pytest.raises(ArgumentError, match="vocab_size % 3 == 0"):
        imported.memory(tp=3)
    symbolic = {str(c) for c in pair("llama")[2].memory(tp=2).conditions}
    assert "num_attention_heads % 2 == 0" in symbolic and "intermediate_size % 2 == 0" in symbolic


def test_tp_must_divide_the_key_value_heads_of_an_import():
    """Megatron-LM gives each device whole key/value heads: k_proj's output viewed as
    (num_key_value_heads, head_dim) says how many there are."""
    cfg = transformers.LlamaConfig(num_hidden_layers=2, hidden_size=64, intermediate_size=128, num_attention_heads=8,
                                   num_key_value_heads=2, vocab_size=128, max_position_embeddings=64,
                                   architectures=["LlamaForCausalLM"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sc.from_hf(cfg)
    assert "num_key_value_heads % 2 == 0" in {str(c) for c in model.count().memory(tp=2).conditions}
    with pytest.raises(ArgumentError, match=r"self_attn\.k_proj: .*num_key_value_heads % 4 == 0"):
        model.count().subs(model.values).memory(tp=4)
    model.count().subs(model.values).memory(tp=2)  # 8 heads, 2 key/value heads: two devices are fine


def test_a_model_without_pairs_has_no_tensor_parallelism():
    """A CNN has no linear pairs: tp is refused, as for any model without parallel layers."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sc.from_torch(net, input_shape=(3, 8, 8))
    with pytest.raises(ArgumentError, match="no layer of this model is tensor-parallel"):
        model.count().memory(tp=2)
