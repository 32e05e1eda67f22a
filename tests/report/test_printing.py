"""How formulas print: names as a person writes them, floors over one denominator,
thousands separators, values put in without evaluating."""

import pytest
import sympy

import symcount as sc
from symcount.dims import LATEX_NAMES
from symcount.printing import latex, latex_name, latex_number, python, text


@pytest.mark.parametrize("name, expected", [
    ("d_model", r"d_{\mathrm{model}}"),
    ("n_layer", r"n_{\mathrm{layer}}"),
    ("k_h", "k_h"),
    ("H", "H"),
    ("alpha", r"\alpha"),
    ("Omega_2", r"\Omega_2"),
    ("classes", r"\mathrm{classes}"),
    ("hidden_size", r"\mathrm{hidden\_size}"),  # a word upright as written, not hidden_{size}
])
def test_dim_names_print_as_a_person_writes_them(name, expected):
    assert latex_name(name) == expected


def test_a_users_latex_name_comes_first(monkeypatch):
    monkeypatch.setitem(LATEX_NAMES, "V", "V")
    V = sc.dim("V", latex=r"\lvert\mathcal{V}\rvert")
    d = sc.dim("d")
    assert latex(V * d) == r"\lvert\mathcal{V}\rvert d"


def test_floors_are_put_over_one_denominator():
    H = sc.dim("H")
    expr = sympy.floor(H / 12 - sympy.Rational(8, 3)) + 1
    assert latex(expr) == r"\left\lfloor \frac{H - 32}{12} \right\rfloor + 1"
    assert text(expr) == "⌊(H − 32)/12⌋ + 1"
    assert python(expr) == "floor((H - 32)/12) + 1"


def test_sums_lead_with_the_term_in_most_dims_and_end_with_the_constant():
    H, W, classes = sc.dims("H W classes")
    rows, cols = (sympy.floor(x / 12 - sympy.Rational(8, 3)) + 1 for x in (H, W))
    total = 129 * classes + sympy.Mul(16384, rows, cols) + 113312  # as the seed CNN's count holds it
    assert text(total) == "16384·(⌊(H − 32)/12⌋ + 1)·(⌊(W − 32)/12⌋ + 1) + 129·classes + 113312"
    assert latex(total).endswith(r"+ 129 \cdot \mathrm{classes} + 113{,}312")


def test_numbers_get_thousands_separators_in_latex():
    assert [latex_number(n) for n in (896, 9248, 5915136)] == ["896", "9{,}248", "5{,}915{,}136"]


def test_bindings_are_printed_in_place_without_evaluating():
    H_in, p_h = sympy.symbols("H_in p_h", integer=True, positive=True)
    rule = sympy.floor((H_in - p_h) / p_h) + 1
    assert latex(rule, {H_in: 254, p_h: 3}) == r"\left\lfloor \frac{254 - 3}{3} \right\rfloor + 1"
    H = sc.dim("H")
    assert text(rule, {H_in: H - 2, p_h: 3}) == "⌊((H − 2) − 3)/3⌋ + 1"  # a substituted sum is bracketed


def test_python_style_reads_back_as_the_same_expression():
    H, W, classes = sc.dims("H W classes")
    expr = 4097 * classes + 2097152 * sympy.floor(H / 32) * sympy.floor(W / 32) + 31500096
    namespace = {"floor": sympy.floor, "H": H, "W": W, "classes": classes}
    assert sympy.parse_expr(python(expr), local_dict=namespace) == expr


def test_totals_gather_a_repeated_block_behind_its_count():
    from symcount.keras import BatchNormalization, Block, Dense, Input, Repeat, Sequential

    d, n, V = sc.dims("d n V")
    layer = Block("layer", [Dense(4 * d), Dense(d), BatchNormalization()])
    count = Sequential([Input((d,)), Repeat(layer, n), Dense(V)]).count()
    # by hand: n·((4d² + 4d) + (4d² + d) + 4d) + (V d + V)
    assert " Total params: V*d + n*(8*d**2 + 9*d) + V" in count.summary()
    assert r"n \cdot \left(8 d^{2} + 9 d\right)" in count.latex(standalone=True)
    assert r"n \cdot \left(8 d^{2} + 9 d\right)" in count.markdown()
