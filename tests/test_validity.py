"""Validity conditions (issue 10): divisibility conditions of grouped convolutions and of
attention heads are listed, stated in every report, enforced by substitution — and the
frameworks reject exactly the values that break them."""

from __future__ import annotations

import pytest

import symcount as sc
from symcount.errors import SubstitutionError
from symcount.keras import Conv2D, Input, Sequential


def grouped(C):
    return Sequential([Input((8, 8, C)), Conv2D(2 * C, 3, groups=4)], name="grouped")


def test_grouped_conv_lists_one_divisibility_condition():
    C = sc.dim("C")
    conditions = grouped(C).count().conditions
    # filters 2C divisible by 4 (C even) is implied by C divisible by 4: only the latter stays
    assert [str(c) for c in conditions] == ["C % 4 == 0"]
    assert conditions[0].needed_by == ("conv2d",)


def test_grouped_conv_substitution_names_the_layer_and_the_condition():
    count = grouped(sc.dim("C")).count()
    with pytest.raises(SubstitutionError, match=r"grouped › conv2d \(Conv2D\): the closed form needs C % 4 == 0"):
        count.subs(C=6)
    # by hand: kernel 3·3·(C/4)·2C + bias 2C at C = 8: 3·3·2·16 + 16 = 304
    assert count.subs(C=8).total == 304


@pytest.mark.oracle
@pytest.mark.parametrize("channels", [4, 6, 8, 10, 12])
def test_keras_accepts_exactly_the_values_the_conditions_allow(channels):
    import keras

    count = grouped(sc.dim("C")).count()
    try:
        ours = int(count.subs(C=channels).total)
    except SubstitutionError:
        ours = None
    try:
        theirs = keras.Sequential([keras.Input((8, 8, channels)),
                                   keras.layers.Conv2D(2 * channels, 3, groups=4)]).count_params()
    except ValueError:
        theirs = None
    assert ours == theirs


def test_gpt2_lists_heads_dividing_the_width_and_the_context():
    count = sc.zoo.symbolic("transformers:GPT2Model")
    assert {str(c) for c in count.conditions} == {"n_embd % n_head == 0", "seq_len <= n_positions"}
    with pytest.raises(SubstitutionError, match=r"h\.\*\.attn \(GPT2Attention\): the closed form needs "
                                                r"n_embd % n_head == 0"):
        sc.zoo.get("transformers:GPT2Model", n_embd=770)
    with pytest.raises(SubstitutionError, match="seq_len <= n_positions"):
        sc.zoo.get("transformers:GPT2Model", seq_len=2048)


@pytest.mark.oracle
@pytest.mark.parametrize("n_embd, n_head", [(64, 4), (66, 4), (60, 8), (96, 12)])
def test_transformers_rejects_exactly_the_widths_the_condition_rejects(n_embd, n_head):
    import torch
    from transformers import GPT2Config, GPT2Model

    try:
        ours = int(sc.zoo.get("transformers:GPT2Model", n_layer=1, n_embd=n_embd, n_head=n_head,
                              vocab_size=100, n_positions=16, seq_len=16).total)
    except SubstitutionError:
        ours = None
    try:
        with torch.device("meta"):
            model = GPT2Model(GPT2Config(n_layer=1, n_embd=n_embd, n_head=n_head, vocab_size=100, n_positions=16))
        theirs = sum(p.numel() for p in model.parameters())
    except ValueError:
        theirs = None
    assert ours == theirs


def test_reports_state_the_conditions():
    count = sc.zoo.symbolic("transformers:GPT2Model")
    assert "Valid for: seq_len <= n_positions, n_embd % n_head == 0" in count.summary()
    latex = count.latex_table() + count.latex(standalone=True)
    # in math, GPT-2's dims print in the family's notation: n_embd as h, n_head as a
    assert r"h \equiv 0 \pmod{a}" in latex
    assert r"\equiv 0 \pmod{a}" in count.markdown()
    assert count.to_json()["conditions"] == ["seq_len <= n_positions", "n_embd % n_head == 0"]
