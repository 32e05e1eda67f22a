"""Scaling analysis on exact closed forms: how a model's size and cost grow.

    import symcount.zoo as zoo
    from symcount.scaling import leading, shares, solve, sweep

    gpt2 = zoo.symbolic("transformers:GPT2Model")
    leading(gpt2, grow=["n_embd", "n_layer"]).term         # 12*n_embd**2*n_layer
    shares(gpt2, by="type").limit(["n_embd", "n_layer"])    # attention 1/3, MLP 2/3, embeddings 0
    solve(zoo.symbolic("transformers:LlamaForCausalLM"), "6.74e9", for_="hidden_size",
          given={"num_hidden_layers": 32, ...}, multiple_of=128).value       # 4096
    sweep(gpt2, n_embd="256:8192:2x", given={...})["total"]  # exact int64 / Python ints

- :mod:`.asymptotics`: ``leading`` terms as dims grow together, ``elasticity``
  (∂log P/∂log x), ``compare`` with a published formula (the exact difference);
- :mod:`.shares`: the fraction per block or layer type, as expressions, numbers, limits;
- :mod:`.budget`: ``solve`` for a budget (exact integer search, validity conditions
  respected), ``flops_per_token`` and ``compute_optimal`` (C = F·D, D = 20·N);
- :mod:`.grid`: ``sweep``, exact evaluation over grids with NumPy (int64, or Python ints
  where int64 would overflow), invalid points flagged;
- :mod:`.plot`: matplotlib figures (the ``plot`` extra) saved as PNG, SVG or PDF.

Sweeps and plots import NumPy (and matplotlib) only when used.
"""

from .asymptotics import Comparison, Leading, compare, elasticities, elasticity, leading
from .budget import ComputeOptimal, Solution, compute_optimal, flops_per_token, solve
from .shares import Shares, shares

_LAZY = {"Sweep": "grid", "parse_range": "grid", "sweep": "grid", "plot_contours": "plot",
         "plot_scaling": "plot", "plot_shares": "plot"}


def __getattr__(name):
    """``sweep`` and the plots load NumPy; they are imported on first use."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Comparison", "ComputeOptimal", "Leading", "Shares", "Solution", "Sweep", "compare", "compute_optimal",
           "elasticities", "elasticity", "flops_per_token", "leading", "parse_range", "plot_contours",
           "plot_scaling", "plot_shares", "shares", "solve", "sweep"]
