"""Benchmark: an exact sweep of 10⁶ GPT-2 configurations (issue 6).

    python benchmarks/sweep_million.py

Times ``symcount.scaling.sweep`` over 1000 × 1000 values of ``n_embd`` and ``n_layer``
in int64, then over a grid whose counts pass 2⁶³ (Python integers), and checks a random
sample of each against exact substitution.
"""

from __future__ import annotations

import random
import time

import numpy as np

from symcount import zoo
from symcount.scaling import sweep

GIVEN = dict(vocab_size=50257, n_positions=1024, seq_len=1024, n_head=16)
GRIDS = {
    "int64": dict(n_embd=np.arange(16, 16 * 1001, 16), n_layer=np.arange(1, 1001)),
    "beyond 2^63": dict(n_embd=np.arange(1, 1001) * 2**20, n_layer=np.arange(1, 1001) * 10**5),
}


def main() -> None:
    count = zoo.symbolic("transformers:GPT2Model")
    sweep(count, given=GIVEN, n_embd=[64], n_layer=[1])  # warm-up: imports, lambdify
    for label, ranges in GRIDS.items():
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            result = sweep(count, given=GIVEN, **ranges)
            best = min(best, time.perf_counter() - start)
        rng = random.Random(0)
        for _ in range(100):
            i, j = rng.randrange(1000), rng.randrange(1000)
            values = dict(n_embd=int(ranges["n_embd"][i]), n_layer=int(ranges["n_layer"][j]), **GIVEN)
            assert int(result.values[i, j]) == int(count.subs(**values).total)
        print(f"{label:>12}: {result.values.size:,} configurations in {best:.3f} s "
              f"({result.exact_paths['total']}, max {int(np.max(result.values)):.3e}); 100 samples equal subs")


if __name__ == "__main__":
    main()
