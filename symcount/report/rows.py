"""The rows of a summary table, with blocks deeper than ``depth`` folded into one row.

As torchinfo's ``depth``: a layer whose block path (``record.path``, the blocks it sits
in, outermost first) has at most ``depth - 1`` levels keeps its own row; the layers of a
block ``depth`` levels down — and of every block inside it — become one row, placed where
the block's first layer stood, with the block's totals as :meth:`symcount.count.Count.blocks`
computes them (a repeated block counted ``n`` times). Its output shape is its last
layer's. A layer row is for one occurrence of the layer and carries its repetition
(``×n_layer``). Only selection happens here: every number comes from the count.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .. import printing
from ..errors import ArgumentError

#: the deepest ``--depth`` accepted (no model nests blocks deeper)
MAX_DEPTH = 64


@dataclass(frozen=True)
class Row:
    """One row: a layer (``layers == 0``) or a folded block (``layers`` layers in it).

    ``params``/``macs`` are the values at the count's bindings, ``*_formula`` the
    expressions before any binding; ``repeat`` is the layer's repetition (1 for a block,
    whose totals already include it)."""

    name: str
    type: str
    output_shape: tuple
    params_formula: sympy.Expr
    params: sympy.Expr
    macs_formula: sympy.Expr
    macs: sympy.Expr
    repeat: sympy.Expr = sympy.Integer(1)
    shared: bool = False
    layers: int = 0

    @property
    def label(self) -> str:
        """``conv2d_1 (Conv2D)``; ``h.*.attn (GPT2Attention) ×n_layer``; ``layer1 (block of 6 layers)``."""
        if self.layers:
            return f"{self.name} ({self.type})"
        return (f"{self.name} ({self.type})" + (" [shared]" if self.shared else "")
                + ("" if self.repeat == 1 else f" ×{self.repeat}"))


def check_depth(depth) -> None:
    """``depth`` is None (no folding) or a whole number from 1 to :data:`MAX_DEPTH`."""
    if depth is None:
        return
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ArgumentError(f"depth must be a whole number from 1 to {MAX_DEPTH}. Received: depth={depth!r}")


def rows(count, depth: int | None = None) -> list[Row]:
    """The table's rows of ``count``: every layer, or (``depth``) blocks folded."""
    check_depth(depth)
    symbolic = count.symbolic or count
    blocks = count.blocks(depth) if depth is not None else {}
    symbolic_blocks = symbolic.blocks(depth) if depth is not None else {}
    out, folded = [], {}
    for record, sym in zip(count.layers, symbolic.layers):
        if depth is None or len(record.path) < depth:
            out.append(Row(record.name, record.type, record.output_shape, sym.params, record.params,
                           sym.macs, record.macs, record.repeat, not record.counted))
            continue
        key = record.path[:depth]
        if key not in folded:
            folded[key] = [len(out), 0, record]
            out.append(None)
        folded[key][1] += 1
        folded[key][2] = record
    for key, (index, n, last) in folded.items():
        totals, formulas = blocks[key], symbolic_blocks[key]
        keys = printing.repeats(count)
        kind = f"block of {n} layer{'s' if n != 1 else ''}"
        out[index] = Row(".".join(key), kind, last.output_shape, printing.collect(formulas["params"], keys),
                         totals["params"], printing.collect(formulas["macs"], keys), totals["macs"], layers=n)
    return out
