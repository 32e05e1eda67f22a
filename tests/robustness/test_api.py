"""The Python entry points with hostile arguments: a right answer or a SymcountError naming
the argument (issue 18). Each case here was a traceback before."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy

from symcount import spec, zoo
from symcount.errors import SymcountError
from symcount.importers import from_keras
from symcount.scaling import sweep

GPT2 = {"n_layer": 12, "n_head": 12, "vocab_size": 50257, "n_positions": 1024, "seq_len": 1024}


@pytest.fixture(scope="module")
def gpt2():
    return zoo.symbolic("transformers:GPT2Model")


@pytest.mark.parametrize("value", [np.int64(2), sympy.Integer(2), 2], ids=["numpy", "sympy", "int"])
def test_subs_takes_any_integer_type(gpt2, value):
    # by hand: per block 12·d² + 13·d, embeddings (vocab + positions)·d, final LayerNorm 2·d, at n_layer = 2, d = 768
    d = 768
    assert int(gpt2.subs({**GPT2, "n_layer": value, "n_embd": d}).total) == 2 * (12 * d * d + 13 * d) + (50257 + 1024) * d + 2 * d


@pytest.mark.parametrize("value, says", [
    (10 ** 5000, "n_layer is a number of more than 4,000 digits; a value has at most 4,000"),
    (float("nan"), "n_layer must be a positive integer. Received: n_layer=nan"),
    (sympy.oo, "n_layer must be a positive integer. Received: n_layer=oo"),
    (np.float64(2.0), "n_layer must be a positive integer"),
], ids=["5000-digits", "nan", "infinity", "numpy-float"])
def test_subs_refuses_what_is_no_positive_integer(gpt2, value, says):
    with pytest.raises(SymcountError, match=says):
        gpt2.subs(n_layer=value)


def test_subs_reports_every_broken_condition_together(gpt2):
    with pytest.raises(SymcountError) as caught:
        gpt2.subs({**GPT2, "n_embd": 13, "n_head": 12, "seq_len": 2000})
    message = str(caught.value)
    assert message.startswith("GPT2Model: these values break 2 conditions: ")
    assert "n_embd % n_head == 0" in message and "n_positions >= seq_len" in message.replace("seq_len <= n_positions",
                                                                                           "n_positions >= seq_len")


@pytest.mark.parametrize("max_points", ["x", 0, 2.5, True])
def test_sweep_max_points_must_be_a_positive_integer(gpt2, max_points):
    with pytest.raises(SymcountError, match="max_points must be a positive integer"):
        sweep(gpt2, {"n_embd": "12:24:12"}, given=GPT2, max_points=max_points)


@pytest.mark.parametrize("value, says", [
    ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
    ("[1, 2]", "expected a Keras model: a JSON object with class_name and config. Received: list"),
    ("a" * 5000 + ".keras", "not a readable Keras file"),
], ids=["deep", "list", "long-name"])
def test_from_keras_text_that_is_no_model(value, says):
    with pytest.raises(SymcountError, match=says):
        from_keras(value)


@pytest.mark.parametrize("path, says", [
    (3, "an architecture file is named by a path. Received: 3 (int)"),
    ("a" * 5000 + ".yaml", "not a readable architecture file"),
    (None, "an architecture file is named by a path"),
], ids=["int", "long-name", "none"])
def test_spec_load_of_no_path(path, says):
    with pytest.raises(SymcountError, match=re.escape(says)):
        spec.load(path)


@pytest.mark.parametrize("call, says", [
    (lambda: zoo.entry(3), "a zoo entry is named by a string"),
    (lambda: zoo.symbolic("transformers:GPT2Model", n_inner=[1]), r"option n_inner=\[1\]: expected None"),
    (lambda: zoo.get("keras:MobileNet", alpha=float("inf")), "option alpha=inf: expected None"),
    (lambda: zoo.get("keras:MobileNet", alpha=10 ** 50), "an integer below 10\\^40"),
], ids=["entry-not-a-string", "option-a-list", "option-infinite", "option-huge"])
def test_zoo_refuses_what_is_no_name_or_plain_option(call, says):
    with pytest.raises(SymcountError, match=says):
        call()
