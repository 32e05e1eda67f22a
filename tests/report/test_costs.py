"""MACs and FLOPs in the reports: the MACs column, the cost totals and the per-layer
MAC derivations, in the terminal table, Markdown and LaTeX (compiled by pdflatex).

Every number is derived by hand here: a convolution multiplies, at each output
position, a k_h·k_w·C_in window into each of its C_out filters; a Dense layer multiplies
its n_in inputs into each of its n_out units; FLOPs are 2 per multiply-accumulate
(FlopCounterMode's convention).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import symcount as sc
from symcount.keras import Dense, Flatten, Input, MultiHeadAttention, Sequential
from symcount.layer import Layer, Product
from symcount.report import latex
from symcount.report import text
from symcount.spec import load

from .test_latex import compile_pdf, numbers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The seed CNN at 256×256×3, classes=9, layer by layer (sizes as the article derives them:
# same convolutions keep the size, valid ones take k − 1 = 2, pools 3, 2, 2 divide).
SEED_MACS = {
    "conv2d": 256 * 256 * 3 * 3 * 3 * 32,      # same: 56,623,104
    "conv2d_1": 254 * 254 * 3 * 3 * 32 * 32,   # valid: 256 − 2
    "conv2d_2": 84 * 84 * 3 * 3 * 32 * 32,     # after pool 3: ⌊(254 − 3)/3⌋ + 1 = 84
    "conv2d_3": 82 * 82 * 3 * 3 * 32 * 32,
    "conv2d_4": 41 * 41 * 3 * 3 * 32 * 32,     # after pool 2
    "conv2d_5": 39 * 39 * 3 * 3 * 32 * 32,
    "dense": 11552 * 512,                      # 19·19·32 = 11,552 inputs: 5,914,624
    "dense_1": 512 * 128,
    "dense_2": 128 * 9,
}
SEED_TOTAL_MACS = sum(SEED_MACS.values())
# Training (forward + backward), as autograd runs it: every weight product again for the
# weight's gradient and again for its input's gradient — except the first convolution,
# whose input (the image) needs none.
SEED_TRAINING_FLOPS = 2 * (2 * SEED_MACS["conv2d"] + 3 * (SEED_TOTAL_MACS - SEED_MACS["conv2d"]))


@pytest.fixture(scope="module")
def seed():
    return load(EXAMPLES / "seed_cnn.yaml").model.count().subs(H=256, W=256, classes=9)


def test_hand_numbers_are_the_briefs():
    assert SEED_MACS["conv2d"] == 56_623_104
    assert SEED_MACS["dense"] == 5_914_624
    assert SEED_TOTAL_MACS == 813_689_984


# ---------------------------------------------------------------------------
# The terminal table
# ---------------------------------------------------------------------------


def cells(table: str) -> dict[str, list[str]]:
    """Row label → the cells of its first line (label, shape, formula, param #, MACs)."""
    rows = {}
    for line in table.splitlines():
        if line.startswith("│"):
            parts = [c.strip() for c in line.strip("│").split("│")]
            if parts[0]:
                rows[parts[0].split(" (")[0]] = parts
    return rows


def test_summary_has_a_macs_column_with_each_layers_count(seed):
    table = seed.summary()
    header = r"┃ Layer \(type\) +┃ Output Shape +┃ Param # \(formula\) +┃ +Param # ┃ +MACs ┃"
    assert re.search(header, table)
    rows = cells(table)
    for name, macs in SEED_MACS.items():
        assert rows[name][4] == f"{macs:,}", name
    assert rows["max_pooling2d"][4] == "0" and rows["dropout"][4] == "0" and rows["flatten"][4] == "0"
    body = [line for line in table.splitlines() if line[:1] in "┏┃┡│├└"]
    assert len({len(line) for line in body}) == 1  # the new column keeps the frame


def test_summary_totals_give_macs_flops_and_training_flops(seed):
    lines = text.summary(seed, width=1000).splitlines()  # wide enough for each total on one line
    macs = next(line for line in lines if line.startswith(" MACs: "))
    flops = next(line for line in lines if line.startswith(" FLOPs: "))
    training = next(line for line in lines if line.startswith(" Training FLOPs: "))
    assert macs.endswith(f" = {SEED_TOTAL_MACS:,} (813.69 M)")
    assert flops.endswith(f" = {2 * SEED_TOTAL_MACS:,} (1.63 G)")
    assert training.endswith(f" = {SEED_TRAINING_FLOPS:,} (4.77 G)")
    # formula = value, like the parameter totals: the formula is the closed form in H, W, classes
    assert macs.startswith(" MACs: 864*H*W + 9216*(H - 2)*(W - 2) + ")
    assert "+ 128*classes + 65536 = " in macs
    # Keras's lines come first, unchanged
    keras = [line.split(":")[0] for line in lines if line.startswith(" ") and ":" in line]
    assert keras[:6] == [" Total params", " Trainable params", " Non-trainable params", " MACs", " FLOPs",
                         " Training FLOPs"]


def test_symbolic_summary_shows_macs_formulas_wrapped_inside_the_column():
    table = text.summary(load(EXAMPLES / "seed_cnn.yaml").model.count(), width=160)
    rows = cells(table)
    assert rows["conv2d"][4] == "864*H*W"              # H·W·3·3·3·32
    assert rows["conv2d_1"][4] == "9216*(H - 2)*(W - 2)"  # (H − 2)(W − 2)·3·3·32·32
    assert rows["dense_2"][4] == "128*classes"
    body = [line for line in table.splitlines() if line[:1] in "┏┃┡│├└"]
    assert len({len(line) for line in body}) == 1
    macs = next(line for line in table.splitlines() if line.startswith(" MACs: "))
    assert " = " not in macs  # nothing bound: the formula alone


def test_summary_from_the_command_line_has_the_costs():
    out = subprocess.run([sys.executable, "-m", "symcount", "summary", str(EXAMPLES / "mlp.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # by hand, n_in → 7 → 13 → n_out: 7·n_in + 7·13 + 13·n_out, at n_in = 4, n_out = 5: 184 MACs
    assert " MACs: 7*n_in + 13*n_out + 91 = 184\n" in out.stdout
    assert " FLOPs: 14*n_in + 26*n_out + 182 = 368\n" in out.stdout
    # training: the first Dense has no input gradient: 2·(2·7·n_in + 3·(91 + 13·n_out))
    assert " Training FLOPs: 28*n_in + 78*n_out + 546 = 1,048 (1.05 K)\n" in out.stdout


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def test_markdown_has_the_macs_column_totals_and_derivations(seed):
    md = seed.markdown()
    assert "| Layer (type) | Output shape | Param # (formula) | Param # | MACs |" in md
    assert "| `conv2d` (Conv2D) | (None, 256, 256, 32) | 896 | 896 | 56,623,104 |" in md
    assert "| 5,915,136 | 5,914,624 |" in md  # the dense row: params, then MACs
    assert f" = {SEED_TOTAL_MACS:,}$".replace(",", "{,}") in md.split("**MACs:**")[1].split("\n")[0]
    assert f" = {SEED_TRAINING_FLOPS:,}$".replace(",", "{,}") in md.split("**Training FLOPs:**")[1].split("\n")[0]
    assert ("$\\mathrm{MACs} = H_{\\mathrm{in}} W_{\\mathrm{in}} k_h k_w C_{\\mathrm{in}} C_{\\mathrm{out}} = "
            "256 \\cdot 256 \\cdot 3 \\cdot 3 \\cdot 3 \\cdot 32 = 56{,}623{,}104$") in md
    assert ("$\\mathrm{MACs} = H_{\\mathrm{out}} W_{\\mathrm{out}} k_h k_w C_{\\mathrm{in}} C_{\\mathrm{out}} = "
            "254 \\cdot 254 \\cdot 3 \\cdot 3 \\cdot 32 \\cdot 32 = 594{,}579{,}456$") in md
    assert ("$\\mathrm{MACs} = n_{\\mathrm{in}} n_{\\mathrm{out}} = 11{,}552 \\cdot 512 = 5{,}914{,}624$") in md


def test_markdown_names_each_product_of_attention():
    count = Sequential([Input((6, 8)), MultiHeadAttention(2, 4)], name="attn").count()
    md = count.markdown()
    # by hand: query, key, value projections 6·8 → 2·4 each, output 6·(2·4) → 8: 4·6·8·2·4 = 1536;
    # scores Q·Kᵀ and A·V: 2 heads · 6·6 pairs · (4 + 4) = 576
    assert "$\\mathrm{MACs}_{\\text{projections}} = 4 \\cdot 6 \\cdot 8 \\cdot 2 \\cdot 4 = 1{,}536$" in md
    assert "$\\mathrm{MACs}_{\\text{scores and values}} = 2 \\cdot 6^{2} \\cdot 2 \\cdot 4 = 576$" in md
    assert "| 288 | 2,112 |" in md  # the table gives the layer's total: 1536 + 576


def test_markdown_macs_formulas_stay_inline_math():
    md = load(EXAMPLES / "seed_cnn.yaml").model.count().markdown()
    row = next(line for line in md.splitlines() if line.startswith("| `conv2d` "))
    assert row.endswith("| $864 H W$ |")
    assert "\\\\" not in md and "\\," not in md


# ---------------------------------------------------------------------------
# LaTeX, compiled
# ---------------------------------------------------------------------------


def test_latex_document_with_mac_derivations_compiles_and_shows_the_numbers(seed, tmp_path):
    tex = tmp_path / "seed_costs.tex"
    tex.write_text(seed.latex(standalone=True))
    _, text = compile_pdf(tex)
    flat = re.sub(r"\s+", " ", text)
    assert "256 · 256 · 3 · 3 · 3 · 32 = 56,623,104" in flat
    assert "254 · 254 · 3 · 3 · 32 · 32 = 594,579,456" in flat
    assert "11,552 · 512 = 5,914,624" in flat
    found = numbers(text)
    for name, macs in SEED_MACS.items():
        assert found.count(macs) >= 2, name  # the table's MACs column and the derivation
    assert SEED_TOTAL_MACS in found and 2 * SEED_TOTAL_MACS in found and SEED_TRAINING_FLOPS in found


def test_latex_fragment_with_attention_compiles_with_its_packages(tmp_path):
    d = sc.dim("d")
    count = Sequential([Input((6, d)), MultiHeadAttention(2, 4), Flatten(), Dense(3)], name="attn").count()
    fragment = latex.fragment(count.subs(d=8))
    packages = re.match(r"% symcount: attn\. Needs \\usepackage\{([a-z,]+)\}", fragment).group(1)
    tex = tmp_path / "attn.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage{%s}\n\\begin{document}\n%s\n\\end{document}\n"
                   % (packages, fragment))
    _, text = compile_pdf(tex)
    flat = re.sub(r"\s+", " ", text)
    # the hand numbers above, and Dense(3) on 6·8 = 48 inputs: 144 MACs
    assert "= 1,536" in flat and "= 576" in flat and "48 · 3 = 144" in flat
    assert "projections" in flat and "scores and values" in flat
    assert 1536 + 576 + 144 in numbers(text)  # the MACs total


def test_latex_table_has_a_macs_column(seed):
    table = seed.latex_table()
    assert r"Param \# & MACs \\" in table
    assert r"$5{,}915{,}136$ & $5{,}914{,}624$ \\" in table
    assert f"& ${SEED_TOTAL_MACS:,}$ \\\\".replace(",", "{,}") in table  # the total row


def test_symbolic_latex_table_gives_macs_formulas(tmp_path):
    count = load(EXAMPLES / "seed_cnn.yaml").model.count()
    table = count.latex_table()
    assert r"& $864 H W$ \\" in table
    tex = tmp_path / "symbolic.tex"
    tex.write_text(count.latex(standalone=True))
    _, text = compile_pdf(tex)
    assert "MACs" in text and "FLOPs" in text


class _PairProducts(Layer):
    """Test-only: two products between activations, labelled as the zoo labels attention's."""

    def products(self, shape):
        n = shape[-1]
        return (Product(n * n, "activation", label="scores Q·Kᵀ"), Product(n * n, "activation", label="values A·V"))


def test_labels_with_unicode_compile(tmp_path):
    count = Sequential([Input((5,)), _PairProducts()], name="pairs").count()
    tex = tmp_path / "pairs.tex"
    tex.write_text(count.latex(standalone=True))
    _, text = compile_pdf(tex)
    flat = re.sub(r"\s+", " ", text)
    assert "scores Q·K" in flat and "values A·V" in flat
    assert "= 25" in flat and 50 in numbers(text)  # 5·5 each, 50 in all
