"""Derivations of torch layers read in torch's letters and agree with the count: every
stage (rule at its bindings, values) equals the record's own result."""

import sympy
from hypothesis import given, settings
from hypothesis import strategies as hs

import symcount.torch as st
from symcount.errors import SymcountError

from .test_linear_conv import conv_cases, conv_transpose_cases
from .test_pooling import pool_cases
from .test_recurrent import rnn_cases


def stages_agree(case):
    try:
        layer = getattr(st, case.cls)(**case.kwargs)
        if case.batch_first:
            count = st.Sequential([layer]).count(input_shape=case.shapes[0])
        else:
            count = st.Sequential([st.Input(case.shapes[0], batch_first=False), layer]).count()
    except SymcountError:
        return
    record = count.layers[-1]
    for d in record.derivation:
        for step in d.steps:
            value = step.expr.xreplace(dict(d.bindings)) if step.kind == "rule" else step.value
            assert sympy.simplify(value - d.result) == 0, (case, d.text)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(hs.one_of(conv_cases(), conv_transpose_cases(), pool_cases(), rnn_cases()))
def test_torch_layer_derivations_agree_with_their_counts(case):
    stages_agree(case)


def test_conv2d_rule_is_torchs_docs_formula():
    record = st.Sequential([st.Conv2d(3, 8, 3, stride=2, padding=1)]).count(input_shape=(3, 32, 30)).layers[0]
    texts = [d.text for d in record.derivation]
    assert texts[0] == "P = C_out·C_in·k_h·k_w + C_out = 8·3·3·3 + 8 = 224"
    assert texts[1] == "H_out = ⌊(H_in − k_h + 2·p_h)/s_h⌋ + 1 = ⌊(32 − 3 + 2·1)/2⌋ + 1 = 16"


def test_batch_norm_derives_its_parameters_without_the_running_statistics():
    record = st.Sequential([st.BatchNorm2d(8)]).count(input_shape=(8, 4, 4)).layers[0]
    assert [d.text for d in record.derivation] == ["P = 2·C = 2·8 = 16"]
