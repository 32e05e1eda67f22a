"""Derivations: the rule in the layer's notation, the model's values put in, the result.

The numbers are checked against hand derivations (the articles that started symcount)
and, for hypothesis-generated layers, against Keras's rules written out here in plain
integer arithmetic; the printed values stage is evaluated by a small arithmetic reader
of its own, not by SymPy.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcount as sc
from symcount.derivation import derive
from symcount.keras import (GRU, LSTM, AveragePooling2D, BatchNormalization, Conv1D, Conv2D, Conv2DTranspose, Dense,
                            DepthwiseConv2D, Embedding, Flatten, GroupNormalization, Input, LayerNormalization,
                            MaxPooling2D, Repeat, SeparableConv2D, Sequential, SimpleRNN)
from symcount.spec import load


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def by_name(count, name):
    return next(r for r in count.layers if r.name == name)


def chain(record, quantity="params"):
    return next(d for d in record.derivation if d.quantity == quantity)


@pytest.fixture(scope="module")
def seed():
    return load(EXAMPLES / "seed_cnn.yaml").model.count().subs(H=256, W=256, classes=9)


# ---------------------------------------------------------------------------
# The seed CNN, as the article derives it by hand
# ---------------------------------------------------------------------------


def test_first_conv_reads_rule_values_result_like_the_article(seed):
    # article: param = 3 × 3 × 3 × 32 + 1 × 32 = 896
    d = chain(by_name(seed, "conv2d"))
    assert d.text == "P = k_h·k_w·C_in·C_out + C_out = 3·3·3·32 + 32 = 896"
    assert d.latex == (r"P = k_h k_w C_{\mathrm{in}} C_{\mathrm{out}} + C_{\mathrm{out}}"
                       r" = 3 \cdot 3 \cdot 3 \cdot 32 + 32 = 896")
    assert [s.kind for s in d.steps] == ["rule", "values", "result"]


def test_flatten_shows_the_product_of_the_sizes(seed):
    # article: the dimension of the vector is 19 × 19 × 32 = 11552
    d = chain(by_name(seed, "flatten"), "output[1]")
    assert d.text == "n_out = d_1·d_2·d_3 = 19·19·32 = 11552"
    assert r"19 \cdot 19 \cdot 32 = 11{,}552" in d.latex


def test_first_dense_reads_like_the_article(seed):
    # article: dense_1: 11552 × 512 + 512 = 5915136
    assert chain(by_name(seed, "dense")).text == "P = n_in·n_out + n_out = 11552·512 + 512 = 5915136"


def test_pooling_derives_its_output_size_with_a_floor(seed):
    d = chain(by_name(seed, "max_pooling2d"), "output[1]")
    assert d.text == "H_out = ⌊(H_in − p_h)/p_h⌋ + 1 = ⌊(254 − 3)/3⌋ + 1 = 84"
    assert r"\left\lfloor \frac{254 - 3}{3} \right\rfloor + 1 = 84" in d.latex


def test_valid_conv_derives_its_output_size_and_same_conv_does_not(seed):
    assert [d.quantity for d in by_name(seed, "conv2d").derivation] == ["params", "macs"]  # same: 256 stays 256
    d = chain(by_name(seed, "conv2d_1"), "output[1]")
    assert d.text == "H_out = H_in − k_h + 1 = 256 − 3 + 1 = 254"


def test_layers_without_weights_or_arithmetic_have_no_derivation(seed):
    assert by_name(seed, "dropout").derivation == ()


def test_symbolic_dims_end_in_the_closed_form():
    count = load(EXAMPLES / "seed_cnn.yaml").model.count()
    assert chain(by_name(count, "dense_2")).text == "P = n_in·n_out + n_out = 128·classes + classes = 129·classes"
    pool = chain(by_name(count, "max_pooling2d_2"), "output[1]")
    # the previous size, bracketed, put into the rule; then one merged floor
    assert pool.text == "H_out = ⌊(H_in − p_h)/p_h⌋ + 1 = ⌊((⌊(H − 26)/6⌋ + 1) − 2)/2⌋ + 1 = ⌊(H − 32)/12⌋ + 1"


def test_a_bound_layer_argument_is_read_at_its_value():
    classes = sc.dim("classes")
    count = Sequential([Input((128,)), Dense(classes)]).count().subs(classes=9)
    assert chain(count.layers[0]).text == "P = n_in·n_out + n_out = 128·9 + 9 = 1161"


def test_batch_normalization_has_two_trainable_parameters_per_channel(seed):
    # article: BatchNormalization: 2 parameters (γ, β) per filter (Keras adds 2 moving statistics)
    count = Sequential([Input((8, 8, 32)), BatchNormalization()]).count()
    d = chain(count.layers[0])
    assert d.text == "P = 2·C + 2·C = 2·32 + 2·32 = 128"
    rule = d.steps[0].form
    assert [(t.names, t.trainable) for t in rule] == [(("gamma", "beta"), True),
                                                      (("moving_mean", "moving_variance"), False)]


def test_grouped_strided_conv_writes_groups_and_strides_in_its_rule():
    count = Sequential([Input((32, 30, 16)), Conv2D(8, (3, 5), strides=(2, 1), groups=4, use_bias=False)]).count()
    params, height, width, macs = count.layers[0].derivation
    assert params.text == "P = k_h·k_w·(C_in/g)·C_out = 3·5·(16/4)·8 = 480"
    assert height.text == "H_out = ⌊(H_in − k_h)/s_h⌋ + 1 = ⌊(32 − 3)/2⌋ + 1 = 15"
    assert width.text == "W_out = W_in − k_w + 1 = 30 − 5 + 1 = 26"  # stride 1 is not written
    # by hand: 15·26 output positions, each 3·5·(16/4) inputs to each of 8 filters: 187,200
    assert macs.text == "MACs = H_out·W_out·k_h·k_w·(C_in/g)·C_out = 15·26·3·5·(16/4)·8 = 187200"


def test_rules_are_the_layers_textbook_formulas():
    k_h, k_w, c_in, c_out, g, n_in, n_out = (sympy.Symbol(n, integer=True, positive=True)
                                             for n in ("k_h", "k_w", "C_in", "C_out", "g", "n_in", "n_out"))
    count = Sequential([Input((12, 12, 6)), Conv2D(6, 3, groups=3), Flatten(), Dense(4)]).count()
    assert sympy.expand(chain(count.layers[0]).rule - (k_h * k_w * c_in / g * c_out + c_out)) == 0
    assert sympy.expand(chain(count.layers[2]).rule - (n_in * n_out + n_out)) == 0


def test_shared_layer_derives_its_parameters_at_its_first_use_only():
    x = Input((6,))
    shared = Dense(6)
    first, second = sc.Model(x, shared(shared(x))).count().layers[1:]
    assert chain(first).text == "P = n_in·n_out + n_out = 6·6 + 6 = 42"
    assert not second.counted
    # its weights count once, its products at every call: 6·6 = 36 MACs each time
    assert [d.text for d in second.derivation] == ["MACs = n_in·n_out = 6·6 = 36"]
    assert chain(first, "macs").text == "MACs = n_in·n_out = 6·6 = 36"


def test_torch_convolution_derives_its_macs_in_torchs_letters():
    import symcount.torch as T

    record = Sequential([Input((3, 32, 32)), T.Conv2d(3, 16, 3, padding=1, stride=2)]).count().layers[0]
    # by hand: ⌊(32 − 3 + 2·1)/2⌋ + 1 = 16 per axis; each of the 16·16 positions multiplies a
    # 3·3 window of 3 channels into each of 16 filters: 110,592 (torch's weight order: C_out, C_in, k)
    assert chain(record, "macs").text == "MACs = H_out·W_out·C_out·C_in·k_h·k_w = 16·16·16·3·3·3 = 110592"


def test_attention_derives_each_product_under_its_label():
    from symcount.keras import MultiHeadAttention

    record = Sequential([Input((6, 8)), MultiHeadAttention(2, 4)]).count().layers[0]
    macs = [d for d in record.derivation if d.quantity == "macs"]
    assert [d.label for d in macs] == ["projections", "scores and values"]
    # by hand: q, k, v projections 6·8·2·4 each and the output 6·2·4·8: 1536;
    # Q·Kᵀ and A·V: 2 heads · 6·6 query-key pairs · (4 + 4): 576
    hand = [4 * 6 * 8 * 2 * 4, 2 * 6 * 6 * (4 + 4)]
    assert [d.result for d in macs] == hand
    for d, number in zip(macs, hand):
        assert d.rule is None  # no notation: the values and the result, as for its parameters
        assert [s.kind for s in d.steps] == ["values", "result"]
        assert evaluate(d.steps[0].text) == number, d.steps[0].text
    assert macs[0].text.startswith("MACs (projections) = ")


def test_symbolic_mac_derivation_ends_in_the_closed_form():
    count = load(EXAMPLES / "seed_cnn.yaml").model.count()
    # same padding keeps H, W: H·W positions of a 3·3·3 window into 32 filters
    assert chain(by_name(count, "conv2d"), "macs").text == \
        "MACs = H_in·W_in·k_h·k_w·C_in·C_out = H·W·3·3·3·32 = 864·H·W"
    assert chain(by_name(count, "dense_2"), "macs").text == "MACs = n_in·n_out = 128·classes"


def test_repeated_block_derives_one_occurrence():
    n, d = sc.dims("n d")
    count = Sequential([Input((d,)), Repeat([Dense(d)], n)]).count()
    record = count.layers[0]
    assert record.repeat == n
    assert chain(record).text == "P = n_in·n_out + n_out = d·d + d = d² + d"


# ---------------------------------------------------------------------------
# Properties: every derivation's stages agree, for random layers
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\d+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+|max\(|min\(|[()⌊⌋⌈⌉+−·/,])")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def evaluate(text: str) -> Fraction:
    """An independent reader for the printed values stage: integers, + − · /, brackets,
    floors, ceilings, max and min, superscript powers; exact fractions."""
    tokens = _TOKEN.findall(text)
    assert "".join(tokens) == re.sub(r"\s+", "", text), f"unexpected characters in {text!r}"
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr():
        value = term()
        while peek() in ("+", "−"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term():
        value = power()
        while peek() in ("·", "/"):
            value = value * power() if take() == "·" else value / power()
        return value

    def power():
        value = atom()
        if peek() is not None and peek()[0] in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            value = value ** int(take().translate(_SUPERSCRIPT))
        return value

    def atom():
        token = take()
        if token.isdigit():
            return Fraction(int(token))
        if token in ("max(", "min("):
            args = [expr()]
            while peek() == ",":
                take()
                args.append(expr())
            assert take() == ")"
            return max(args) if token == "max(" else min(args)
        closing = {"(": ")", "⌊": "⌋", "⌈": "⌉"}[token]
        value = expr()
        assert take() == closing
        if token == "⌊":
            return Fraction(value.numerator // value.denominator)
        if token == "⌈":
            return Fraction(-((-value.numerator) // value.denominator))
        return value

    result = expr()
    assert pos == len(tokens)
    return result


def conv_params(kh, kw, c_in, filters, groups, use_bias):
    return kh * kw * (c_in // groups) * filters + (filters if use_bias else 0)


def conv_length(n, k, s, d, padding):
    if padding == "same":
        return (n - 1) // s + 1
    return (n - d * (k - 1) - 1) // s + 1


def check(record, hand_params, hand_output, hand_macs=0):
    """Every chain: result = hand number, values stage evaluates to it, rule with the
    bindings put in equals it; the rule is written in notation symbols only. A layer
    with MACs derives them (one product here), a layer without derives none."""
    quantities = {d.quantity: d for d in record.derivation}
    if hand_params:
        assert "params" in quantities
    assert ("macs" in quantities) == (hand_macs != 0)
    for quantity, d in quantities.items():
        if quantity == "macs":
            hand, own = hand_macs, record.macs
        elif quantity == "params":
            hand, own = hand_params, record.params
        else:
            hand = hand_output[int(quantity[7:-1])]
            own = record.output_shape[int(quantity[7:-1])]
        assert d.result == hand == own
        values = next((s for s in d.steps if s.kind == "values"), None)
        if values is not None:
            assert evaluate(values.text) == hand, values.text
        if d.rule is not None:
            assert d.rule.free_symbols <= set(dict(d.bindings))
            assert d.rule.xreplace(dict(d.bindings)) == hand
        assert d.text.endswith(f"= {hand}")
    for axis in range(1, len(hand_output)):
        shown = f"output[{axis}]" in quantities
        if shown:
            assert hand_output[axis] == record.output_shape[axis]


sizes = st.integers(1, 5)


@settings(max_examples=60, deadline=None)
@given(n_in=st.integers(1, 300), units=st.integers(1, 300), use_bias=st.booleans(),
       leading=st.lists(st.integers(1, 9), max_size=2))
def test_dense_derivation_agrees_with_hand_count(n_in, units, use_bias, leading):
    record = Sequential([Input((*leading, n_in)), Dense(units, use_bias=use_bias)]).count().layers[0]
    positions = 1
    for n in leading:
        positions *= n
    check(record, n_in * units + (units if use_bias else 0), (None, *leading, units), positions * n_in * units)


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3, 4]))
    kh, kw = draw(sizes), draw(sizes)
    dilated = draw(st.booleans())
    strides = (1, 1) if dilated else (draw(sizes), draw(sizes))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    padding = draw(st.sampled_from(["valid", "same"]))
    h = draw(st.integers(dilation[0] * (kh - 1) + 1, 40))
    w = draw(st.integers(dilation[1] * (kw - 1) + 1, 40))
    return dict(c_in=groups * draw(sizes), filters=groups * draw(sizes), kh=kh, kw=kw, strides=strides,
                dilation=dilation, padding=padding, groups=groups, use_bias=draw(st.booleans()), h=h, w=w)


@settings(max_examples=100, deadline=None)
@given(conv_configs())
def test_conv2d_derivation_agrees_with_hand_count(cfg):
    layer = Conv2D(cfg["filters"], (cfg["kh"], cfg["kw"]), strides=cfg["strides"], padding=cfg["padding"],
                   dilation_rate=cfg["dilation"], groups=cfg["groups"], use_bias=cfg["use_bias"])
    record = Sequential([Input((cfg["h"], cfg["w"], cfg["c_in"])), layer]).count().layers[0]
    out = (None,
           conv_length(cfg["h"], cfg["kh"], cfg["strides"][0], cfg["dilation"][0], cfg["padding"]),
           conv_length(cfg["w"], cfg["kw"], cfg["strides"][1], cfg["dilation"][1], cfg["padding"]),
           cfg["filters"])
    params = conv_params(cfg["kh"], cfg["kw"], cfg["c_in"], cfg["filters"], cfg["groups"], cfg["use_bias"])
    # by hand: every output position multiplies a kh·kw·(c_in/groups) window into each filter
    macs = out[1] * out[2] * cfg["kh"] * cfg["kw"] * (cfg["c_in"] // cfg["groups"]) * cfg["filters"]
    check(record, params, out, macs)
    rule = chain(record).rule
    assert ("g" in {s.name for s in rule.free_symbols}) == (cfg["groups"] != 1)
    assert chain(record, "macs").rule is not None  # written in the convolution's notation


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 64), min_size=1, max_size=3), data=st.data(),
       center=st.booleans(), scale=st.booleans())
def test_batch_normalization_derivation_agrees_with_hand_count(shape, data, center, scale):
    axis = data.draw(st.sampled_from([a for a in range(-len(shape), len(shape) + 1) if a % (len(shape) + 1) != 0]))
    record = Sequential([Input(tuple(shape)), BatchNormalization(axis=axis, center=center, scale=scale)]).count().layers[0]
    channels = (None, *shape)[axis]
    check(record, channels * (2 + int(center) + int(scale)), (None, *shape))


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from([MaxPooling2D, AveragePooling2D]), p=st.tuples(sizes, sizes),
       s=st.one_of(st.none(), st.tuples(sizes, sizes)), padding=st.sampled_from(["valid", "same"]),
       extra=st.tuples(st.integers(0, 30), st.integers(0, 30)), c=st.integers(1, 8))
def test_pooling_derivation_agrees_with_hand_count(kind, p, s, padding, extra, c):
    h, w = p[0] + extra[0], p[1] + extra[1]
    record = Sequential([Input((h, w, c)), kind(p, strides=s, padding=padding)]).count().layers[0]
    strides = s or p
    out = (None, conv_length(h, p[0], strides[0], 1, padding), conv_length(w, p[1], strides[1], 1, padding), c)
    check(record, 0, out)


@settings(max_examples=40, deadline=None)
@given(cfg=conv_configs(), pool=st.tuples(sizes, sizes), values=st.tuples(st.integers(0, 60), st.integers(0, 60)))
def test_symbolic_stages_substituted_equal_the_numeric_stages(cfg, pool, values):
    """A symbolic chain (H, W free) with numbers put in equals the chain computed at those numbers."""
    H, W = sc.dims("H W")
    layers = [Input((H, W, cfg["c_in"])),
              Conv2D(cfg["filters"], (cfg["kh"], cfg["kw"]), strides=cfg["strides"], padding=cfg["padding"],
                     dilation_rate=cfg["dilation"], groups=cfg["groups"]),
              MaxPooling2D(pool), Flatten(), Dense(3)]
    symbolic = Sequential(layers).count()
    need = {c.relation.lhs.name: int(c.relation.rhs) for c in symbolic.conditions
            if isinstance(c.relation, sympy.GreaterThan)}
    h, w = need.get("H", 1) + values[0], need.get("W", 1) + values[1]
    bound = symbolic.subs(H=h, W=w)
    at = {H: h, W: w}
    for sym_record, num_record in zip(symbolic.layers, bound.layers):
        numeric = {d.quantity: d for d in num_record.derivation}
        for d in sym_record.derivation:
            for step in d.steps:
                value = step.expr.xreplace(dict(d.bindings)) if step.kind == "rule" else step.value
                assert value.xreplace(at) == numeric[d.quantity].result, (sym_record.name, step.kind)


def test_derive_is_what_the_record_exposes(seed):
    record = by_name(seed, "conv2d")
    assert derive(record) == record.derivation


# ---------------------------------------------------------------------------
# Other layers that declare a notation: Keras's own counting rules, by hand
# ---------------------------------------------------------------------------

ZOO = [
    # (input shape, layer, hand parameter count, hand output shape, hand MACs)
    ((32, 32, 8), DepthwiseConv2D(3, depth_multiplier=2), 3 * 3 * 8 * 2 + 8 * 2, (None, 30, 30, 16),
     30 * 30 * 3 * 3 * 8 * 2),
    ((30, 30, 8), SeparableConv2D(16, 3, strides=2), 3 * 3 * 8 + 8 * 16 + 16, (None, 14, 14, 16),
     14 * 14 * (3 * 3 * 8 + 8 * 16)),  # depthwise window, then pointwise, at every output position
    ((14, 14, 16), Conv2DTranspose(8, 3, strides=2), 3 * 3 * 8 * 16 + 8, (None, (14 - 1) * 2 + 3, (14 - 1) * 2 + 3, 8),
     14 * 14 * 3 * 3 * 16 * 8),  # every input position scatters a 3·3·8 window from its 16 channels
    ((50, 4), Conv1D(8, 5, strides=3, groups=2), 5 * 2 * 8 + 8, (None, (50 - 5) // 3 + 1, 8),
     16 * 5 * (4 // 2) * 8),
    ((10,), Embedding(1000, 16), 1000 * 16, (None, 10, 16), 0),
    ((10, 8), LayerNormalization(), 2 * 8, (None, 10, 8), 0),
    ((6, 6, 8), GroupNormalization(4), 2 * 8, (None, 6, 6, 8), 0),
    # recurrent: every step multiplies the input (features) and the state (units) into gates·units columns
    ((5, 8), LSTM(7), 4 * (8 * 7 + 7 * 7 + 7), (None, 7), 5 * (8 + 7) * 4 * 7),
    ((5, 7), GRU(6), 3 * (7 * 6 + 6 * 6) + 2 * 3 * 6, (None, 6), 5 * (7 + 6) * 3 * 6),
    ((5, 6), SimpleRNN(4), 6 * 4 + 4 * 4 + 4, (None, 4), 5 * (6 + 4) * 4),
]


@pytest.mark.parametrize("shape, layer, params, output, macs", ZOO, ids=[type(z[1]).__name__ for z in ZOO])
def test_declared_notation_derives_keras_counts(shape, layer, params, output, macs):
    record = Sequential([Input(shape), layer]).count().layers[0]
    check(record, params, output, macs)
    assert chain(record).rule is not None  # written in the layer's notation
    if macs:
        assert chain(record, "macs").rule is not None


def test_transposed_convolution_derives_its_output_size():
    record = Sequential([Input((14, 14, 16)), Conv2DTranspose(8, 3, strides=2)]).count().layers[0]
    d = chain(record, "output[1]")
    assert d.text == "H_out = s_h·(H_in − 1) + max(k_h, s_h) = 2·(14 − 1) + max(3, 2) = 29"
