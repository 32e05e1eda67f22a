"""Markdown for READMEs and issues: a table, totals and derivations with inline math."""

import re
import subprocess
import sys
from pathlib import Path

from symcount.spec import default_values, load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def seed(**values):
    spec = load(EXAMPLES / "seed_cnn.yaml")
    return spec.model.count().subs({**default_values(spec), **values})


def test_markdown_table_has_both_columns_and_derivations():
    md = seed(classes=9).markdown()
    assert "| Layer (type) | Output shape | Param # (formula) | Param # |" in md
    assert "| `dense` (Dense) | (None, 512) | $16{,}384 \\cdot" in md and "| 5,915,136 |" in md
    assert "- `conv2d` (Conv2D): $P = k_h k_w C_{\\mathrm{in}} C_{\\mathrm{out}} + C_{\\mathrm{out}} = " \
           "3 \\cdot 3 \\cdot 3 \\cdot 32 + 32 = 896$" in md
    assert "$n_{\\mathrm{out}} = d_1 d_2 d_3 = 19 \\cdot 19 \\cdot 32 = 11{,}552$" in md
    assert "Valid for $H \\geq 32$, $W \\geq 32$" in md


def test_table_rows_keep_five_cells_and_math_stays_inline():
    md = seed().markdown()  # classes symbolic: shapes and formulas in math
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == 18
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        assert len(cells) == 5, row  # layer, shape, param formula, param number, MACs
        assert row.count("$") % 2 == 0
    assert "\\\\" not in md and "\\," not in md  # nothing Markdown would eat before MathJax


def test_jupyter_shows_markdown_and_latex():
    count = seed(classes=9)
    assert count._repr_markdown_() == count.markdown()
    assert count._repr_latex_().startswith("$\\displaystyle P = 16{,}384")
    assert count._repr_latex_().endswith("= 6{,}029{,}097$")


def test_summary_format_markdown_from_the_command_line():
    out = subprocess.run([sys.executable, "-m", "symcount", "summary", str(EXAMPLES / "mlp.yaml"),
                          "--format", "markdown"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("**mlp**")
    assert "$P = n_{\\mathrm{in}} n_{\\mathrm{out}} + n_{\\mathrm{out}} = 4 \\cdot 7 + 7 = 35$" in out.stdout
