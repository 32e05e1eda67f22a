"""LaTeX that fits the page, for the zoo's largest entries, and formulas as papers write them.

Each report is compiled once with pdflatex (``compile_pdf`` fails on a TeX error and on
an ``Overfull \\hbox`` over 1 pt); its text (pdftotext) must carry the parameter count
the frameworks publish, and a transformer's totals must be in its family's conventional
notation (L, h, a, a_kv, V, s, d_ff) with the table of notation.
"""

import re

import pytest

from symcount import printing
from symcount.report import latex
from symcount.targets import load_target

from .report.test_latex import compile_pdf, numbers

#: entry → its parameter count as the framework reports it (sum of p.numel() in
#: transformers / torchvision, count_params() in keras.applications)
LARGEST = {
    "transformers:T5Model": 60_506_624,            # t5-small
    "transformers:LlamaForCausalLM": 6_738_415_616,  # Llama-2-7b
    "torchvision:resnet152": 60_192_808,
    "keras:ResNet152": 60_419_944,
    "keras:EfficientNetB7": 66_658_687,
}


@pytest.mark.parametrize("target", LARGEST)
def test_largest_zoo_reports_compile_without_overfull_boxes(tmp_path, target):
    count = load_target(target, [], [], [])
    tex = tmp_path / (target.replace(":", "_") + ".tex")
    tex.write_text(latex.document(count), encoding="utf-8")
    log, text = compile_pdf(tex)  # fails on an overfull box over 1 pt
    assert not re.search(r"Overfull \\vbox", log), "a display or table runs off the bottom of a page"
    assert LARGEST[target] in numbers(text)


def test_llama_total_is_written_in_conventional_notation_with_its_table():
    doc = latex.document(load_target("transformers:LlamaForCausalLM", [], [], []))
    # Llama: per layer 2·a_kv·h²/a (k, v) + 2h² (q, o) + 3·h·d_ff (gate, up, down) + 2h (two RMSNorms);
    # then the embedding and the untied head (2Vh) and the final norm (h)
    assert (r"P &= L \cdot \left(\frac{2 a_{\mathrm{kv}} h^{2}}{a} + 3 h d_{\mathrm{ff}} + 2 h^{2} + 2 h\right)"
            r" + 2 h V + h = 6{,}738{,}415{,}616") in doc
    for symbol, name in ((r"L", "num\\_\\allowbreak{}hidden\\_\\allowbreak{}layers"), (r"h", "hidden\\_size"),
                         (r"a_{\mathrm{kv}}", "num\\_\\allowbreak{}key\\_\\allowbreak{}value\\_\\allowbreak{}heads"),
                         (r"d_{\mathrm{ff}}", "intermediate\\_\\allowbreak{}size"), (r"V", "vocab\\_size")):
        assert f"${symbol}$ & \\texttt{{{name}}}" in doc
    assert "_{\\mathrm{size}}" not in doc and "_{\\mathrm{hidden}" not in doc  # never nested subscripts


def test_expanded_totals_multiply_the_groups_out():
    count = load_target("transformers:GPT2Model", [], [], [])
    grouped, expanded = latex.totals(count), latex.totals(count, expanded=True)
    assert r"L \cdot \left(12 h^{2} + 13 h\right)" in grouped
    # GPT-2 per layer: 12h² + 13h (attention 4h² + 4h, MLP 8h² + 5h, two LayerNorms 4h)
    assert r"12 L h^{2} + 13 h L" in expanded and r"\left(" not in expanded.split(r"\intertext")[0]


def test_a_dim_without_a_symbol_prints_upright_as_written():
    assert printing.latex_name("relative_attention_num_buckets_x") == r"\mathrm{relative\_attention\_num\_buckets\_x}"
    assert printing.latex_name("classes") == r"\mathrm{classes}"
    assert printing.latex_name("d_model") == r"d_{\mathrm{model}}"


def test_user_notation_comes_first_and_is_checked():
    try:
        printing.notation(n_in="x")
        assert printing.latex_name("n_in") == "x"
        with pytest.raises(printing_errors(), match="two dims would print as y"):
            printing.notation(n_in="y", n_out="y")
        with pytest.raises(printing_errors(), match="must be a letter"):
            printing.notation(n_in="2x")
    finally:
        printing.notation(n_in=None)
    assert printing.latex_name("n_in") == r"n_{\mathrm{in}}"


def printing_errors():
    from symcount.errors import ArgumentError

    return ArgumentError
