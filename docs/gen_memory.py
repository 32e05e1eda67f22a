"""Draw docs/img/memory_seq_len.png: Llama-2-7B's training memory per GPU against the
sequence length, on 8 GPUs with ZeRO-3 (bf16, Adam, micro-batch 1), for eager attention,
flash attention and full recomputation, from symcount's formulas.

    python docs/gen_memory.py

Needs the plot extra (matplotlib). The PNG is committed; docs/memory.md shows it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sympy  # noqa: E402

import symcount as sc  # noqa: E402

OUT = ROOT / "docs" / "img" / "memory_seq_len.png"
GIB = 2 ** 30
#: the curves: label and the options that make them
CURVES = (("eager attention", {}), ("flash attention", {"attention": "flash"}),
          ("full recomputation", {"recompute": "full"}))
LENGTHS = [512 * 2 ** k for k in range(6)] + [24_576, 32_768]


def series() -> dict[str, list[float]]:
    """GiB per GPU at each length, per curve, from one symbolic formula each."""
    llama = sc.zoo.symbolic("transformers:LlamaForCausalLM")
    values = {k: v for k, v in sc.zoo.entry("transformers:LlamaForCausalLM").dims.items() if k != "seq_len"}
    seq_len = next(d for d in llama.dims if d.name == "seq_len")
    out = {}
    for label, options in CURVES:
        total = llama.memory(dtype="bf16", optimizer="adam", batch_size=1, dp=8, zero=3, **options).total
        total = total.xreplace({d: sympy.Integer(values[d.name]) for d in llama.dims if d.name in values})
        out[label] = [float(total.xreplace({seq_len: n})) / GIB for n in LENGTHS]
    states = llama.memory(dtype="bf16", optimizer="adam", dp=8, zero=3, training=True)
    out["model states"] = [float((states.weights + states.gradients + states.optimizer).xreplace(
        {d: sympy.Integer(values[d.name]) for d in llama.dims if d.name in values})) / GIB] * len(LENGTHS)
    return out


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symcount.files import write_atomic

    data = series()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for label, points in data.items():
        ax.plot(LENGTHS, points, marker="o" if label != "model states" else None,
                linestyle="--" if label == "model states" else "-", label=label)
    ax.axhline(80e9 / GIB, color="grey", linewidth=0.8)  # an 80 GB card: 74.5 GiB
    ax.text(LENGTHS[0], 80e9 / GIB * 1.05, "80 GB GPU", color="grey", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)")
    ax.set_ylabel("GiB per GPU")
    ax.set_title("Llama-2-7B training on 8 GPUs (ZeRO-3, bf16 Adam, micro-batch 1)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    write_atomic(OUT, lambda temporary: fig.savefig(temporary, format="png"))
    print(OUT)


if __name__ == "__main__":
    main()
