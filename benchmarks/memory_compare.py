"""symcount's memory against DeepSpeed's ZeRO estimators and llm-analysis (issue 17).

    python benchmarks/memory_compare.py        # writes benchmarks/MEMORY.md

Needs DeepSpeed and llm-analysis beside symcount. Neither is a dependency of symcount;
install them without touching the transformers symcount's tests use (llm-analysis pins
transformers < 5, so without ``--no-deps`` pip downgrades it):

    pip install --no-deps llm-analysis && pip install fire
    DS_BUILD_OPS=0 pip install deepspeed

Every row puts the same configuration to each tool: a Megatron GPT of Korthikanti et al.
(2022), Table 3, and Llama-2-7B; and says where they agree and why they differ where
they do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402

import symcount as sc  # noqa: E402

GB = 10 ** 9


def deepspeed_rows() -> list[list[str]]:
    """Model states per GPU: ZeRO-2 and ZeRO-3 without offload, 16-bit Adam."""
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    rows = []
    for label, target, values in CONFIGS:
        count = sc.zoo.get(target, **values)
        params = int(count.total)
        largest = max(int(r.params) for r in count.layers if r.counted)
        for gpus in (8, 64):
            for stage in (2, 3):
                memory = count.memory(dtype="bf16", optimizer="adam", dp=gpus, zero=stage)
                ours = memory.weights + memory.gradients + memory.optimizer
                if stage == 2:
                    _, theirs = estimate_zero2_model_states_mem_needs(params, gpus, 1, cpu_offload=False)
                    why = ("DeepSpeed also counts an fp32 copy of the gradients (4Ψ/N) and keeps the 16-bit "
                           "gradients whole on every GPU (2Ψ): 2Ψ + 18Ψ/N against the ZeRO paper's 2Ψ + 14Ψ/N")
                else:
                    _, theirs, _ = estimate_zero3_model_states_mem_needs(params, largest, gpus, 1, cpu_offload=False,
                                                                          cpu_offload_params=False)
                    why = ("DeepSpeed: 18Ψ/N (the fp32 gradient copy again) plus 4 bytes of the largest layer "
                           "(a gathered fp32 working copy); the ZeRO paper: 16Ψ/N")
                rows.append([label, f"{gpus}", f"ZeRO-{stage}", _gb(ours), _gb(theirs), _diff(ours, theirs), why])
    return rows


def llm_analysis_rows() -> list[list[str]]:
    """Activations of one transformer layer and the KV cache, as llm-analysis computes them."""
    from llm_analysis.analysis import ActivationRecomputation, LLMAnalysis
    from llm_analysis.config import DtypeConfig, GPUConfig, ModelConfig, ParallelismConfig

    gpu = GPUConfig("a100-80gb", 80, 2039, 300, 8e-06, 312)
    rows = []
    for label, target, values in CONFIGS:
        if not target.startswith("megatron:"):
            continue
        h, a, L, s, V = (values[k] for k in ("hidden_size", "num_attention_heads", "num_layers", "seq_length",
                                             "vocab_size"))
        model = ModelConfig(label, L, a, h, V, max_seq_len=s)
        for tp, sp, recompute in ((1, False, "none"), (8, False, "none"), (8, True, "none"),
                                  (8, True, "selective")):
            analysis = LLMAnalysis(model, gpu, DtypeConfig(), ParallelismConfig(tp_size=tp,
                                                                                 sp_size=tp if sp else 1))
            mode = ActivationRecomputation.SELECTIVE if recompute == "selective" else ActivationRecomputation.NONE
            theirs = analysis.get_activation_memory_per_layer(1, s, is_inference=False, activation_recomputation=mode,
                                                              layernorm_dtype_bytes=2, flash_attn=False,
                                                              softmax_dropout=True)
            ours = per_layer(target, values, tp=tp, sp=sp, recompute=recompute)
            paper = korthikanti(s, h, a, tp, sp, recompute)
            # the whole difference, term by term: llm-analysis leaves out the MLP's dropout
            # mask (s·b·h bytes, ÷t with sp); symcount adds the two layer norms' fp32 mean
            # and rstd (2 · 2 · 4 · s·b bytes, ÷t with sp)
            region = tp if sp else 1
            assert ours - paper == sympy.Rational(16 * s, region), (label, tp, sp, recompute)
            assert abs(float(paper - theirs) - s * h / region) < 1e-6 * float(paper), (label, tp, sp, recompute)
            rows.append([label, f"tp={tp}{', sp' if sp else ''}, recompute={recompute}", _gb(ours), _gb(paper),
                         _gb(theirs), _diff(ours, theirs), WHY_ACTIVATIONS])
    return rows


def korthikanti(s, h, a, t, sp, recompute, b=1):
    """Korthikanti et al. (2022), Table 2: activation bytes per transformer layer."""
    quadratic = 0 if recompute == "selective" else sympy.Rational(5 * a * s, h * t)
    linear = sympy.Rational(34, t) if sp else 10 + sympy.Rational(24, t)
    return s * b * h * (linear + quadratic)


WHY_ACTIVATIONS = ("symcount = Table 2 + the two layer norms' fp32 mean and rstd (16sb); llm-analysis = Table 2 − "
                   "the MLP's dropout mask (sbh): its get_activation_memory_per_layer does not pass with_dropout "
                   "(checked term by term)")


def kv_rows() -> list[list[str]]:
    """The KV cache of Llama-2-7B (32 key/value heads) and of a grouped-query variant with
    8, against llm-analysis's get_memory_kv_cache_per_layer × layers."""
    from llm_analysis.analysis import LLMAnalysis
    from llm_analysis.config import DtypeConfig, GPUConfig, ModelConfig, ParallelismConfig

    gpu = GPUConfig("a100-80gb", 80, 2039, 300, 8e-06, 312)
    rows = []
    for kv_heads in (32, 8):
        count = sc.zoo.get("transformers:LlamaForCausalLM", num_key_value_heads=kv_heads)
        for tp in (1, 8, 16):
            model = ModelConfig("llama-2-7b", 32, 32, 4096, 32000, num_key_value_heads=kv_heads)
            analysis = LLMAnalysis(model, gpu, DtypeConfig(), ParallelismConfig(tp_size=tp))
            theirs = 32 * analysis.get_memory_kv_cache_per_layer(1, 4096)
            try:
                ours = count.memory(dtype="fp16", training=False, kv_cache=True, seq_len=4096, tp=tp).kv_cache
            except sc.SymcountError as exc:  # tp must divide the heads of the layers it splits
                assert "num_key_value_heads % 16 == 0" in str(exc), exc
                rows.append([f"kv_heads={kv_heads}", f"tp={tp}", "refused", "", _gb(theirs), "",
                             "Megatron-LM requires num_query_groups divisible by tp (symcount refuses: "
                             "num_key_value_heads % 16 == 0); llm-analysis, like vLLM, keeps one head per GPU"])
                continue
            rows.append([f"kv_heads={kv_heads}", f"tp={tp}", _gb(ours), f"{int(ours):,}", _gb(theirs),
                         _diff(ours, theirs), "2 · layers · kv_heads/min(tp, kv_heads) · head_dim · tokens · bytes"])
    return rows


def per_layer(target, values, **options) -> sympy.Expr:
    """One transformer layer's activations: the model with one layer more, less the model."""
    more = dict(values, num_layers=values["num_layers"] + 1)
    a = sc.zoo.get(target, **more).memory(dtype="bf16", **options).activations
    b = sc.zoo.get(target, **values).memory(dtype="bf16", **options).activations
    return a - b


#: the configurations: Korthikanti et al. (2022) Table 3's 22B and 175B GPTs, Llama-2-7B
CONFIGS = [
    ("GPT 22B", "megatron:GPT", dict(num_layers=48, hidden_size=6144, num_attention_heads=64, seq_length=2048,
                                     vocab_size=51200)),
    ("GPT 175B", "megatron:GPT", dict(num_layers=96, hidden_size=12288, num_attention_heads=96, seq_length=2048,
                                      vocab_size=51200)),
    ("Llama-2-7B", "transformers:LlamaForCausalLM", {}),
]


def _gb(value) -> str:
    return f"{float(value) / GB:,.3f}"


def _diff(ours, theirs) -> str:
    ours, theirs = float(ours), float(theirs)
    if ours == theirs:
        return "same"
    return f"{(theirs - ours) / ours:+.2%}"


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parts = [__doc__.split("\n\n")[0].strip().replace('"""', ""), ""]
    parts += ["## Model states per GPU against DeepSpeed's estimators (GB, 16-bit Adam, no offload)", "",
              table(["model", "GPUs", "stage", "symcount", "DeepSpeed", "DeepSpeed − symcount", "why"],
                    deepspeed_rows()), ""]
    parts += ["## One layer's activations against llm-analysis (GB, bf16, micro-batch 1, eager attention "
              "with dropout)", "",
              table(["model", "parallelism", "symcount", "Korthikanti Table 2", "llm-analysis",
                     "llm-analysis − symcount", "why"],
                    llm_analysis_rows()), ""]
    parts += ["## KV cache of Llama-2-7B against llm-analysis (GB, fp16, 4,096 tokens, batch 1)", "",
              table(["model", "parallelism", "symcount", "bytes", "llm-analysis", "llm-analysis − symcount", "rule"],
                    kv_rows()), ""]
    out = Path(__file__).with_name("MEMORY.md")
    from symcount.files import write_text

    write_text(str(out), "\n".join(parts))
    print(out.read_text())


if __name__ == "__main__":
    main()
