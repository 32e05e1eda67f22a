"""CSV for a spreadsheet or pandas: ``symcount count --format csv`` and ``symcount summary
--format csv``. One header row; formulas as SymPy reads them back (``129*classes``, the
expression before any binding) beside their values at the bound dims (a plain integer,
no grouping, or the expression while a dim is free). Written with the ``csv`` module
(RFC 4180 quoting), lines ending in ``\\n``. Only formatting happens here.
"""

from __future__ import annotations

import csv
import io

from .. import printing
from .rows import check_depth, rows

#: ``count --format csv``: one row per total
TOTALS = (("total", "total"), ("trainable", "trainable"), ("non_trainable", "non_trainable"),
          ("macs", "macs"), ("flops", "flops"), ("training_flops", "training_flops"))

SUMMARY_HEADER = ("layer", "type", "output_shape", "repeat", "params_formula", "params", "macs_formula", "macs")


def _value(expr) -> str:
    return str(int(expr)) if getattr(expr, "is_Integer", False) else printing.python(expr)


def _write(header, records) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    return out.getvalue()


def totals(count, depth: int | None = None) -> str:
    """``quantity,formula,value``: each total of the model; with ``depth``, also each
    block's parameters (``params:layer1``; ``params:`` for the layers outside blocks)."""
    check_depth(depth)
    symbolic = count.symbolic or count
    records = [(name, printing.python(getattr(symbolic, attribute)), _value(getattr(count, attribute)))
               for name, attribute in TOTALS]
    if depth is not None:
        formulas = symbolic.blocks(depth)
        for key, group in count.blocks(depth).items():
            records.append(("params:" + ".".join(key), printing.python(formulas[key]["params"]),
                            _value(group["params"])))
    return _write(("quantity", "formula", "value"), records)


def summary(count, depth: int | None = None) -> str:
    """One row per layer (or folded block, see :mod:`symcount.report.rows`): name, type,
    output shape, repetitions, parameters and MACs as formula and value."""
    records = [(row.name, row.type, printing.shape(row.output_shape, "python"), _value(row.repeat),
                printing.python(row.params_formula), _value(row.params),
                printing.python(row.macs_formula), _value(row.macs))
               for row in rows(count, depth)]
    return _write(SUMMARY_HEADER, records)
