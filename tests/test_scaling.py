"""symcount.scaling: leading terms, shares, budgets, elasticities, sweeps, plots.

The published formulas are written out here (Kaplan et al. 2020, Megatron-LM,
Llama-2-7b's parameter count); the unit tests use the small stand-ins of
``tests/scaling_models.py``; the done-when tests use the zoo's transformers.
"""

from __future__ import annotations

import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy

import symcount as sc
from symcount.errors import ArgumentError, SubstitutionError, SymcountError
from symcount.layer import Layer, Requirement, Weight
from symcount.scaling import (
    compare, compute_optimal, elasticities, elasticity, flops_per_token, leading, parse_range, plot_contours,
    plot_scaling, plot_shares, shares, solve, sweep,
)
from symcount.scaling.common import exact_number, parse_number
from symcount.scaling.grid import integer_form

from .scaling_models import gpt_like, llama_like

GPT2 = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12)
LLAMA2_7B = dict(num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                 intermediate_size=11008)


@pytest.fixture(scope="module")
def gpt():
    return gpt_like()


@pytest.fixture(scope="module")
def llama():
    return llama_like()


def zoo(name):
    from symcount import zoo as z

    return z.symbolic(name)


def d(name):
    return sc.dim(name)


# ---------------------------------------------------------------------------
# done when: published formulas
# ---------------------------------------------------------------------------


def test_gpt2_leading_term_is_kaplans_12_n_layer_d_model_squared():
    count = zoo("transformers:GPT2Model")
    n_layer, d_model = d("n_layer"), d("n_embd")
    kaplan = 12 * n_layer * d_model**2  # Kaplan et al. 2020, section 2.1: N ≈ 12·n_layer·d_model²
    lead = leading(count, grow=["n_embd", "n_layer"])
    assert sympy.expand(lead.term - kaplan) == 0
    assert lead.degree == 3


def test_megatron_formula_differs_from_gpt2_total_by_the_final_layer_norm():
    count = zoo("transformers:GPT2Model")
    l, h, V, s = (sympy.Symbol(n) for n in "l h V s".split())  # Megatron-LM (Narayanan et al. 2021): P
    megatron = 12 * l * h**2 * (1 + sympy.Rational(13, 12) / h + (V + s) / (12 * l * h))
    result = compare(count, megatron, names={"l": "n_layer", "h": "n_embd", "V": "vocab_size", "s": "n_positions"})
    assert not result.equal
    assert result.difference == 2 * d("n_embd")


def test_decoder_stack_forward_flops_per_token_match_kaplan_table_1_to_leading_order():
    count = zoo("transformers:GPT2Model")
    n_layer, d_model, n_ctx = d("n_layer"), d("n_embd"), d("seq_len")
    d_attn, d_ff = d_model, 4 * d_model
    N = 2 * d_model * n_layer * (2 * d_attn + d_ff)  # Kaplan et al. Table 1: non-embedding parameters
    kaplan = 2 * N + 2 * n_layer * n_ctx * d_attn  # Kaplan et al. Table 1: C_forward per token
    stack = shares(count, by="block", what="flops", causal=True).parts["h"]  # the decoder blocks, per sequence
    per_token = sympy.expand(stack / n_ctx)
    grow = ["n_embd", "n_layer", "seq_len"]
    assert sympy.expand(leading(per_token, grow).term - leading(kaplan, grow).term) == 0
    # what Kaplan drops: biases, norms and the causal diagonal, of lower order
    assert leading(per_token - kaplan, grow).degree < 3


def test_solve_finds_llama2_7b_hidden_size_4096():
    count = zoo("transformers:LlamaForCausalLM")
    answer = solve(count, "6.74e9", for_="hidden_size", given=LLAMA2_7B, multiple_of=128)
    assert answer.values == {"hidden_size": 4096}
    assert answer.achieved == 6_738_415_616  # Llama-2-7b's parameter count
    assert answer.below[0] == {"hidden_size": 4096} and answer.above[0] == {"hidden_size": 4224}


def test_sweep_of_a_million_configurations_is_exact():
    """Exact int64 values at 10⁶ points (its speed is measured in benchmarks/, not here)."""
    count = zoo("transformers:GPT2Model")
    given = dict(vocab_size=50257, n_positions=1024, seq_len=1024, n_head=16)
    ranges = dict(n_embd=np.arange(16, 16 * 1001, 16), n_layer=np.arange(1, 1001))
    result = sweep(count, given=given, **ranges)
    assert result.values.shape == (1000, 1000) and result.values.dtype == np.int64
    rng = random.Random(6)
    for _ in range(20):
        i, j = rng.randrange(1000), rng.randrange(1000)
        exact = count.subs(n_embd=int(ranges["n_embd"][i]), n_layer=int(ranges["n_layer"][j]), **given).total
        assert int(result.values[i, j]) == int(exact)


def test_sweep_above_2_63_uses_python_integers_and_agrees_with_subs():
    count = zoo("transformers:GPT2Model")
    given = dict(vocab_size=50257, n_positions=1024, seq_len=1024, n_head=16)
    ranges = dict(n_embd=np.arange(1, 1001) * 2**20, n_layer=np.arange(1, 1001) * 10**5)
    result = sweep(count, given=given, **ranges)
    assert result.exact_paths["total"] == "object"
    assert result.values[-1, -1] > 2**63
    rng = random.Random(63)
    for i, j in [(999, 999), (0, 0)] + [(rng.randrange(1000), rng.randrange(1000)) for _ in range(20)]:
        exact = count.subs(n_embd=int(ranges["n_embd"][i]), n_layer=int(ranges["n_layer"][j]), **given).total
        assert type(result.values[i, j]) is int and result.values[i, j] == int(exact)


# ---------------------------------------------------------------------------
# leading terms
# ---------------------------------------------------------------------------


def test_leading_lists_orders_and_the_dropped_share_exactly(gpt):
    lead = leading(gpt, ["n_embd", "n_layer"])
    n_embd, n_layer, V, s = d("n_embd"), d("n_layer"), d("vocab_size"), d("n_positions")
    assert [k for k, _ in lead.orders] == [3, 2, 1]
    assert sympy.expand(lead.orders[1][1] - 13 * n_layer * n_embd) == 0
    assert sympy.expand(lead.rest - (13 * n_layer * n_embd + (V + s + 2) * n_embd)) == 0
    total = 124_439_808  # gpt2's parameter count
    assert lead.dropped(**GPT2) == Fraction(total - 12 * 12 * 768**2, total)


def test_leading_relaxes_floors_of_growing_sizes():
    H, W = sc.dims("H W")
    from symcount.torch import Conv2d, Flatten, MaxPool2d, Sequential

    count = Sequential([Conv2d(3, 8, 3), MaxPool2d(2), Flatten()]).count(input_shape=(3, H, W))
    lead = leading(count, ["H", "W"], what="macs")
    assert lead.term == 216 * H * W and lead.degree == 2


def test_leading_of_a_quotient_of_dims(llama):
    lead = leading(llama, ["hidden_size", "num_hidden_layers", "intermediate_size"])
    h, n, ff = d("hidden_size"), d("num_hidden_layers"), d("intermediate_size")
    heads, kv = d("num_attention_heads"), d("num_key_value_heads")
    assert sympy.simplify(lead.term - (2 * n * h**2 + 2 * n * h**2 * kv / heads + 3 * n * h * ff)) == 0


def test_leading_needs_known_dims(gpt):
    with pytest.raises(ArgumentError, match="unknown dim 'd_model'.*n_embd"):
        leading(gpt, ["d_model"])
    with pytest.raises(ArgumentError, match="at least one dim"):
        leading(gpt, [])


# ---------------------------------------------------------------------------
# elasticities and comparisons
# ---------------------------------------------------------------------------


def test_elasticities_of_the_leading_term_add_up_to_its_degree(gpt):
    lead = leading(gpt, ["n_embd", "n_layer"]).term
    values = elasticities(lead, at=GPT2)
    assert values == {"n_embd": 2, "n_layer": 1}


def test_elasticity_of_gpt2_params_in_n_embd(gpt):
    n_embd, n_layer, V, s = d("n_embd"), d("n_layer"), d("vocab_size"), d("n_positions")
    P = 12 * n_layer * n_embd**2 + 13 * n_layer * n_embd + (V + s + 2) * n_embd
    by_hand = n_embd * sympy.diff(P, n_embd) / P
    assert sympy.simplify(elasticity(gpt, "n_embd") - by_hand) == 0
    expected = by_hand.xreplace({n_embd: 768, n_layer: 12, V: 50257, s: 1024})
    assert elasticity(gpt, "n_embd", at=GPT2) == Fraction(int(expected.p), int(expected.q))


def test_compare_reads_text_safely_and_finds_equality(gpt):
    text = "12*l*h^2 + 13*l*h + (V + s + 2)*h"
    names = {"l": "n_layer", "h": "n_embd", "V": "vocab_size", "s": "n_positions"}
    assert compare(gpt, text, names=names).equal
    with pytest.raises(SymcountError, match="unexpected character"):
        compare(gpt, "__import__('os')", names=names)


def test_comparison_relative_difference_at_gpt2(gpt):
    result = compare(gpt, "12*l*h^2", names={"l": "n_layer", "h": "n_embd"})
    assert result.relative(**GPT2) == Fraction(124_439_808 - 84_934_656, 124_439_808)


# ---------------------------------------------------------------------------
# shares
# ---------------------------------------------------------------------------


def test_shares_by_type_add_up_and_have_limits(gpt):
    parts = shares(gpt, by="type")
    assert sympy.expand(parts.total - gpt.total) == 0
    fractions = parts.at(**GPT2)
    assert sum(fractions.values()) == 1
    assert fractions["Embedding"] == Fraction((50257 + 1024) * 768, 124_439_808)  # the 31.6 %
    limits = parts.limit(["n_embd", "n_layer"])
    assert limits == {"Embedding": 0, "LayerNorm": 0, "CausalAttention": sympy.Rational(1, 3),
                      "Linear": sympy.Rational(2, 3)}


def test_shares_by_block_and_by_a_function(gpt):
    blocks = shares(gpt, by="block")
    assert set(blocks.parts) == {"wte", "wpe", "h", "ln_f"}
    mlp = shares(gpt, by=lambda r: "mlp" if r.name.startswith("c_") else "other")
    assert sympy.expand(mlp.parts["mlp"] - gpt.total + mlp.parts["other"]) == 0
    assert mlp.at(**GPT2)["mlp"] == Fraction(12 * (8 * 768**2 + 5 * 768), 124_439_808)


def test_shares_of_flops_leave_out_zero_parts(gpt):
    flops = shares(gpt, by="type", what="flops")
    assert set(flops.parts) == {"CausalAttention", "Linear"}
    assert "share" in flops.table(**GPT2)


def test_shares_reject_bad_groupings(gpt):
    with pytest.raises(ArgumentError, match="by must be one of"):
        shares(gpt, by="module")
    with pytest.raises(ArgumentError, match="unknown quantity"):
        shares(gpt, what="bytes")


# ---------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------


def test_solve_below_above_and_closest(llama):
    below = solve(llama, "6.74e9", for_="hidden_size", given=LLAMA2_7B, nearest="below")
    above = solve(llama, "6.74e9", for_="hidden_size", given=LLAMA2_7B, nearest="above")
    # hidden_size must be a multiple of the 32 heads: 4096 and 4128 straddle the budget
    assert (below.value, above.value) == (4096, 4128)
    assert below.achieved <= 6_740_000_000 <= above.achieved
    assert above.step == {"hidden_size": 32}


def test_solve_hits_a_budget_exactly(gpt):
    given = {k: v for k, v in GPT2.items() if k != "n_embd"}
    answer = solve(gpt, 124_439_808, for_="n_embd", given=given)
    assert answer.values == {"n_embd": 768} and answer.exact and answer.difference == 0


def test_solve_two_dims_at_a_fixed_ratio(gpt):
    given = dict(vocab_size=50257, n_positions=1024, n_head=16)
    answer = solve(gpt, "7e9", for_=["n_embd", "n_layer"], ratio=128, given=given, multiple_of=128)
    n_embd, n_layer = answer.values["n_embd"], answer.values["n_layer"]
    assert n_embd == 128 * n_layer and n_embd % 128 == 0
    total = 12 * n_layer * n_embd**2 + 13 * n_layer * n_embd + (50257 + 1024 + 2) * n_embd
    assert answer.achieved == total
    for other in (n_layer - 1, n_layer + 1):
        other_total = 12 * other * (128 * other) ** 2 + 13 * other * 128 * other + 51283 * 128 * other
        assert abs(other_total - 7 * 10**9) >= abs(total - 7 * 10**9)


class Picky(Layer):
    """A layer whose closed form holds only for ``units·(units + 1)`` divisible by 3."""

    def __init__(self, units, name=None):
        super().__init__(name)
        self.units = units

    def requirements(self, shape):
        u = self.units
        yield Requirement(sympy.Eq(sympy.Mod(u * (u + 1), 3), 0), "units·(units + 1) divisible by 3")

    def weights(self, shape):
        yield Weight("kernel", (shape[-1], self.units))

    def output_shape(self, shape):
        return (*shape[:-1], self.units)


def test_solve_skips_values_that_break_a_condition():
    u = d("u")
    count = sc.Sequential([sc.Input((10,)), Picky(u)]).count()
    assert count.conditions
    # 10·u against 72: u = 7 (70) is nearest, but 7·8 = 56 is not divisible by 3;
    # u = 6 (60, 6·7 = 42) and u = 8 (80, 8·9 = 72) are valid, and 80 is nearer
    answer = solve(count, 72, for_="u", nearest="closest")
    assert answer.values == {"u": 8} and answer.below == ({"u": 6}, 60)
    assert [s[0] for s in answer.skipped] == [{"u": 7}]
    assert "skipped 1 value" in str(answer)
    with pytest.raises(SubstitutionError):
        count.subs(u=7)


def test_solve_folds_lower_bounds_into_the_start():
    H = d("H")
    from symcount.torch import Conv2d, Flatten, Sequential

    count = Sequential([Conv2d(1, 1, 5, bias=False), Flatten()]).count(input_shape=(1, H, 8))
    answer = solve(count, 1, for_="H", what="macs", nearest="above")
    assert answer.values == {"H": 5}  # the kernel must fit: H >= 5, MACs 25·(H − 4)·4
    # a budget below every valid value is unreachable: "closest" does not answer the smallest (issue 18)
    for nearest in ("below", "closest"):
        with pytest.raises(SymcountError, match="unreachable: no valid value has a macs at most 1; the smallest, H=5"):
            solve(count, 1, for_="H", what="macs", nearest=nearest)


def test_solve_errors_are_one_line_symcount_errors(gpt):
    given = {k: v for k, v in GPT2.items() if k != "n_embd"}
    with pytest.raises(ArgumentError, match="missing: n_positions"):
        solve(gpt, "7e9", for_="n_embd", given={"n_layer": 12, "vocab_size": 50257})
    with pytest.raises(ArgumentError, match="nearest must be"):
        solve(gpt, "7e9", for_="n_embd", given=given, nearest="round")
    with pytest.raises(ArgumentError, match="float 0.1 is not exact"):
        solve(gpt, 0.1, for_="n_embd", given=given)
    with pytest.raises(ArgumentError, match="does not depend on n_head"):
        solve(gpt, "7e9", for_="n_head", given={k: v for k, v in GPT2.items() if k != "n_head"})
    with pytest.raises(SubstitutionError, match="n_embd % n_head == 0"):
        given = {k: v for k, v in GPT2.items() if k != "n_layer"} | {"n_embd": 100, "n_head": 3}
        solve(gpt, "7e9", for_="n_layer", given=given)
    with pytest.raises(SymcountError, match="cannot show that"):
        x = d("x")
        solve((x - 10) ** 2 + 1, 50, for_="x")


def test_solve_proves_monotonicity_of_polynomials_with_negative_terms():
    x = d("x")
    answer = solve(x**3 - 3 * x**2 + 5 * x, 1000, for_="x")  # derivative 3x² − 6x + 5 > 0
    assert answer.value == 11 and answer.achieved == 1023 and answer.below == ({"x": 10}, 750)


# ---------------------------------------------------------------------------
# exact numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("7e9", 7 * 10**9), ("6.74e9", 6_740_000_000), ("6.74*10^9", 6_740_000_000), ("6.74·10^9", 6_740_000_000),
    ("7B", 7 * 10**9), ("1_000_000", 10**6), ("1,000", 1000), ("175B", 175 * 10**9), ("3.14e23", 314 * 10**21),
    ("0.5", sympy.Rational(1, 2)), ("1e-3", sympy.Rational(1, 1000)),
    ("12345678901234567890123e2", 12345678901234567890123 * 100),  # beyond a float's 53 bits
])
def test_parse_number_is_exact(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1e", "7e9.5", "e9", "1.2.3", "7 billion", "--1"])
def test_parse_number_rejects_what_it_cannot_read(text):
    with pytest.raises(ArgumentError, match="cannot read"):
        parse_number(text)


def test_exact_number_takes_only_exact_floats():
    assert exact_number(7e9) == 7 * 10**9
    with pytest.raises(ArgumentError, match="not exact"):
        exact_number(1e30)
    with pytest.raises(ArgumentError, match="expected a number"):
        exact_number(True)


# ---------------------------------------------------------------------------
# compute-optimal
# ---------------------------------------------------------------------------


def test_training_flops_per_token_lead_with_six_n(gpt):
    per_token = flops_per_token(gpt, "n_positions")
    grow = ["n_embd", "n_layer"]
    assert sympy.expand(leading(per_token, grow).term - 6 * leading(gpt, grow).term) == 0


def test_compute_optimal_uses_the_models_own_flops(gpt):
    given = dict(vocab_size=50257, n_positions=2048, n_head=16)
    result = compute_optimal(gpt, "1e21", for_=["n_embd", "n_layer"], ratio=128, seq="n_positions", given=given,
                             multiple_of=128)
    values = {**given, **result.values}
    params = int(gpt.subs(**values).total)
    assert result.params == params and result.tokens == 20 * params
    per_token = flops_per_token(gpt, "n_positions").xreplace({d(k): v for k, v in values.items()})
    assert result.compute == per_token * 20 * params
    assert 0.9 < result.ratio_to_6nd < 1.1


# ---------------------------------------------------------------------------
# sweeps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, values", [
    ("256:8192:2x", [256, 512, 1024, 2048, 4096, 8192]), ("64:256:64", [64, 128, 192, 256]),
    ("1:10:1.5x", [1, 2, 3, 5, 7]), ("1,2,4", [1, 2, 4]), ("4k", [4000]), ("1:1e3:10x", [1, 10, 100, 1000]),
])
def test_parse_range(text, values):
    assert parse_range(text) == values


@pytest.mark.parametrize("text, message", [
    ("8:1:2x", "below the start"), ("1:8:1x", "must exceed 1"), ("0:8:1", "positive integers"),
    ("1:8", "cannot read"), ("1.5", "positive integers"),
])
def test_parse_range_errors(text, message):
    with pytest.raises(ArgumentError, match=message):
        parse_range(text)


def test_sweep_flags_points_that_break_conditions(gpt):
    result = sweep(gpt, n_embd=[64, 96, 100], n_head=[3, 4], given=dict(vocab_size=50257, n_positions=1024, n_layer=2))
    assert result.valid.tolist() == [[False, True], [True, True], [False, True]]
    assert result.conditions == ("n_embd % n_head == 0",)
    rows = result.rows()
    assert len(rows) == 4 and all(r["valid"] for r in rows)
    assert "invalid" in result.table()


def test_sweep_of_floors_agrees_with_subs_everywhere():
    H, W = sc.dims("H W")
    from symcount.torch import Conv2d, Flatten, MaxPool2d, Sequential

    model = Sequential([Conv2d(3, 16, 5), MaxPool2d(2, ceil_mode=True), Conv2d(16, 32, 3, stride=2), Flatten()])
    count = model.count(input_shape=(3, H, W))
    result = sweep(count, what=["total", "macs"], H=range(1, 40), W=[7, 8, 9, 33])
    for i, h in enumerate(range(1, 40)):
        for j, w in enumerate([7, 8, 9, 33]):
            try:
                exact = count.subs(H=h, W=w)
            except SubstitutionError:
                assert not result.valid[i, j]
                continue
            assert result.valid[i, j] and result["macs"][i, j] == int(exact.macs)


def test_sweep_keeps_non_integer_values_as_fractions(gpt):
    per_token = flops_per_token(gpt, "n_positions", training=False, causal=True)
    given = dict(vocab_size=50257, n_embd=768, n_layer=12)
    result = sweep(per_token, n_positions=[1, 2, 3, 1024], given=given)
    for i, s in enumerate([1, 2, 3, 1024]):
        exact = per_token.xreplace({d("n_positions"): s, d("vocab_size"): 50257, d("n_embd"): 768, d("n_layer"): 12})
        assert Fraction(result.values[i]) == Fraction(int(exact.p), int(exact.q))


def test_integer_form_turns_ceilings_and_rationals_into_floor_divisions():
    H = d("H")
    form = integer_form(sympy.ceiling(H / 3) + H * (H + 1) / 2)
    f = sympy.lambdify([H], form, modules=[{"_floordiv": np.floor_divide, "_exactdiv": np.floor_divide}, "numpy"])
    values = np.arange(1, 50)
    assert f(values).tolist() == [-(-h // 3) + h * (h + 1) // 2 for h in range(1, 50)]


def test_sweep_errors(gpt):
    with pytest.raises(ArgumentError, match="missing: n_positions"):
        sweep(gpt, n_embd=[64], given=dict(vocab_size=5, n_layer=2, n_head=1))
    with pytest.raises(ArgumentError, match="at least one dim"):
        sweep(gpt)
    with pytest.raises(SubstitutionError, match="positive integer"):
        sweep(gpt, n_embd=[0, 64], given=dict(vocab_size=5, n_layer=2, n_head=1, n_positions=8))
    with pytest.raises(ArgumentError, match="conditions need values for n_head"):
        sweep(gpt, n_embd=[64], given=dict(vocab_size=5, n_layer=2, n_positions=8))


# ---------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF-"}


@pytest.mark.parametrize("kind, suffix", [("scaling", ".png"), ("shares", ".svg"), ("contours", ".pdf"),
                                          ("contours", ".png")])
def test_plots_are_written_as_real_files(gpt, tmp_path, kind, suffix):
    pytest.importorskip("matplotlib")
    given = dict(vocab_size=50257, n_positions=1024, n_head=16)
    path = tmp_path / f"{kind}{suffix}"
    if kind == "scaling":
        plot_scaling(gpt, "n_embd", "256:8192:2x", path, what=["total", "flops"], given={**given, "n_layer": 12})
    elif kind == "shares":
        plot_shares(gpt, "n_embd", "256:8192:2x", path, by="type", given={**given, "n_layer": 12})
    else:  # n_embd = 120·k breaks n_embd % 16 == 0 at odd k: those points are marked
        plot_contours(gpt, ("n_embd", "240:8160:120"), ("n_layer", "2:96:2"), path, given=given,
                      budgets=["1e9", "7e9"])
    data = path.read_bytes()
    assert data.startswith(MAGIC[suffix]) and len(data) > 5000, (path, len(data))


def test_plot_rejects_unknown_formats(gpt, tmp_path):
    with pytest.raises(ArgumentError, match=r"\.png, \.svg, \.pdf"):
        given = {k: v for k, v in GPT2.items() if k != "n_embd"}
        plot_scaling(gpt, "n_embd", "256:1024:2x", tmp_path / "out.jpg", given=given)


def test_plot_without_matplotlib_names_the_extra(gpt, tmp_path, monkeypatch):
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    given = {k: v for k, v in GPT2.items() if k != "n_embd"}
    with pytest.raises(SymcountError, match=r"symcount\[plot\]"):
        plot_scaling(gpt, "n_embd", "256:1024:2x", tmp_path / "out.png", given=given)


def test_importing_scaling_does_not_import_matplotlib():
    code = "import symcount.scaling, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_solve_compares_rational_quantities_exactly():
    x = d("x")
    answer = solve(x**2 / 3, 10, for_="x")  # 25/3 is 5/3 below 10, 12 is 2 above
    assert answer.values == {"x": 5} and answer.achieved == Fraction(25, 3)
    assert answer.difference == Fraction(-5, 3)


def test_solve_over_floors_proves_monotonicity_from_the_start():
    """Square inputs (H = W): the MACs are sums of products of two floors, nonnegative
    from the smallest valid size on; the answer agrees with a search by substitution."""
    H, W = sc.dims("H W")
    from symcount.torch import Conv2d, Flatten, Sequential

    model = Sequential([Conv2d(3, 8, 3, stride=2), Conv2d(8, 8, 3, stride=2), Flatten()])
    count = model.count(input_shape=(3, H, W))
    answer = solve(count, 10**6, for_=["H", "W"], ratio=1, what="macs", nearest="below")
    macs = {s: int(count.subs(H=s, W=s).macs) for s in range(7, 400)}
    best = max(s for s, m in macs.items() if m <= 10**6)
    assert answer.values == {"H": best, "W": best} and answer.achieved == macs[best]
