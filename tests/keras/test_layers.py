"""The Keras-semantics layers by hand: closed forms derived on paper from Keras's rules
(written out in each test), validity conditions, and the errors users see."""

from __future__ import annotations

import pytest
import sympy
from sympy import floor

import symcount as sc
import symcount.keras as sk
from symcount.errors import ArgumentError, ShapeError, SubstitutionError, SymcountError

H, W, D, L, C, F, T, d, u, k, m, n, s = sc.dims("H W D L C F T d u k m n s")
heads = sc.dim("heads")


def one(layer, *shape):
    """The record of ``layer`` on an input of ``shape`` (batch axis added)."""
    return sk.Sequential([sk.Input(shape), layer]).count().layers[-1]


def shapes(record) -> dict:
    return {w.name: w.shape for w in record.weights}


# ---------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------


def test_conv1d_causal_has_the_length_of_same():
    # causal pads d(k - 1) on the left, then a valid convolution:
    # floor((L + d(k-1) - d(k-1) - 1) / s) + 1 = floor((L - 1) / 2) + 1
    record = one(sk.Conv1D(F, 3, strides=2, padding="causal"), L, C)
    assert record.output_shape == (None, floor((L - 1) / 2) + 1, F)
    assert shapes(record) == {"kernel": (3, C, F), "bias": (F,)}
    assert sympy.expand(record.params - (3 * C * F + F)) == 0


def test_conv3d_valid_kernel_and_macs():
    record = one(sk.Conv3D(F, 3, use_bias=False), D, H, W, C)
    assert record.output_shape == (None, D - 2, H - 2, W - 2, F)
    assert shapes(record) == {"kernel": (3, 3, 3, C, F)}
    assert sympy.expand(record.macs - (D - 2) * (H - 2) * (W - 2) * 27 * C * F) == 0
    assert {str(c) for c in record.conditions} == {"D >= 3", "H >= 3", "W >= 3"}


def test_padding_causal_is_only_for_conv1d():
    with pytest.raises(ArgumentError, match="`padding` must be 'valid' or 'same'"):
        sk.Conv2D(4, 3, padding="causal")


@pytest.mark.parametrize("kernel, strides, padding, output_padding, expected", [
    (3, 2, "valid", None, 2 * H + 1),   # (H - 1)·2 + max(3, 2)
    (2, 3, "valid", None, 3 * H),       # (H - 1)·3 + max(2, 3)
    (3, 2, "valid", 1, 2 * H + 2),      # (H - 1)·2 + 3 + 1
    (3, 2, "same", None, 2 * H),        # H·2
    (4, 2, "same", 1, 2 * H - 1),       # (H - 1)·2 + (4 mod 2) + 1
])
def test_conv_transpose_length_follows_keras(kernel, strides, padding, output_padding, expected):
    record = one(sk.Conv2DTranspose(F, kernel, strides=strides, padding=padding, output_padding=output_padding),
                 H, H, C)
    assert record.output_shape == (None, expected, expected, F)
    assert shapes(record) == {"kernel": (kernel, kernel, F, C), "bias": (F,)}  # filters before C_in


def test_conv_transpose_macs_count_input_positions():
    record = one(sk.Conv1DTranspose(F, 3, strides=2), L, C)
    assert sympy.expand(record.macs - L * 3 * C * F) == 0


def test_output_padding_must_be_less_than_strides():
    with pytest.raises(ArgumentError, match="`output_padding` must be strictly less than `strides`"):
        sk.Conv2DTranspose(4, 3, strides=2, output_padding=2)


def test_symbolic_strides_make_output_padding_a_condition():
    count = sk.Sequential([sk.Input((H, C)), sk.Conv1DTranspose(F, 3, strides=s, output_padding=1)]).count()
    assert "1 < s" in [str(c) for c in count.conditions]
    assert count.subs(H=5, C=2, F=3, s=2).layers[-1].output_shape == (None, (5 - 1) * 2 + 3 + 1, 3)
    with pytest.raises(SubstitutionError, match="`output_padding` must be strictly less than `strides`|1 < s"):
        count.subs(H=5, C=2, F=3, s=1)


def test_symbolic_strides_with_dilation_become_a_condition():
    # Keras rejects strides > 1 with dilation_rate > 1: with strides a dim, the closed form needs s = 1
    count = sk.Sequential([sk.Input((H, C)), sk.Conv1D(F, 3, strides=s, dilation_rate=2)]).count()
    assert sympy.Eq(s, 1) in {c.relation for c in count.conditions}
    assert count.subs(H=9, C=1, F=1, s=1).layers[-1].output_shape == (None, 5, 1)  # 9 - 2·2
    with pytest.raises(SubstitutionError):
        count.subs(H=9, C=1, F=1, s=2)


def test_depthwise_conv_multiplies_channels():
    record = one(sk.DepthwiseConv2D(3, depth_multiplier=m), H, W, C)
    assert record.output_shape == (None, H - 2, W - 2, m * C)
    assert shapes(record) == {"kernel": (3, 3, C, m), "bias": (m * C,)}
    assert sympy.expand(record.macs - (H - 2) * (W - 2) * 9 * C * m) == 0


def test_separable_conv_is_depthwise_then_pointwise():
    record = one(sk.SeparableConv2D(F, 3, depth_multiplier=2), H, W, C)
    assert shapes(record) == {"depthwise_kernel": (3, 3, C, 2), "pointwise_kernel": (1, 1, 2 * C, F), "bias": (F,)}
    assert sympy.expand(record.params - (9 * C * 2 + 2 * C * F + F)) == 0
    assert sympy.expand(record.macs - (H - 2) * (W - 2) * 2 * C * (9 + F)) == 0


def test_channels_first_is_refused():
    with pytest.raises(ArgumentError, match="channels-last"):
        sk.Conv1D(4, 3, data_format="channels_first")


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def test_pooling_1d_and_3d():
    assert one(sk.MaxPooling1D(3), L, C).output_shape == (None, floor((L - 3) / 3) + 1, C)
    assert one(sk.AveragePooling3D(2, padding="same"), D, H, W, C).output_shape == \
        (None, floor((D - 1) / 2) + 1, floor((H - 1) / 2) + 1, floor((W - 1) / 2) + 1, C)


def test_average_pooling_needs_pool_size_as_in_keras3():
    with pytest.raises(ArgumentError, match="pool_size"):
        sk.AveragePooling1D()


def test_pooling_padding_is_case_sensitive_as_in_keras():
    with pytest.raises(ArgumentError, match="'valid' or 'same'"):
        sk.MaxPooling2D(padding="SAME")


@pytest.mark.parametrize("layer, expected", [
    (sk.GlobalAveragePooling3D(), (None, C)),
    (sk.GlobalMaxPooling3D(keepdims=True), (None, 1, 1, 1, C)),
])
def test_global_pooling(layer, expected):
    assert one(layer, D, H, W, C).output_shape == expected


def test_global_pooling_needs_its_rank():
    with pytest.raises(ShapeError, match="rank 4"):
        one(sk.GlobalMaxPooling2D(), L, C)


# ---------------------------------------------------------------------------
# Padding, cropping, up-sampling, reshaping
# ---------------------------------------------------------------------------


def test_zero_padding_forms():
    assert one(sk.ZeroPadding1D((1, 2)), L, C).output_shape == (None, L + 3, C)
    assert one(sk.ZeroPadding2D(((1, 2), 3)), H, W, C).output_shape == (None, H + 3, W + 6, C)
    assert one(sk.ZeroPadding3D(), D, H, W, C).output_shape == (None, D + 2, H + 2, W + 2, C)


def test_cropping_records_how_large_the_input_must_be():
    count = sk.Sequential([sk.Input((L, C)), sk.Cropping1D((2, 3))]).count()
    assert count.output_shape == (None, L - 5, C)
    assert [str(c) for c in count.conditions] == ["L >= 6"]
    with pytest.raises(ShapeError, match="`cropping` argument should be smaller"):
        one(sk.Cropping2D(2), 4, 8, C)


def test_up_sampling():
    assert one(sk.UpSampling1D(n), L, C).output_shape == (None, n * L, C)
    assert one(sk.UpSampling3D((2, 3, 4)), D, H, W, C).output_shape == (None, 2 * D, 3 * H, 4 * W, C)


def test_reshape_infers_minus_one_with_a_divisibility_condition():
    count = sk.Sequential([sk.Input((H, W)), sk.Reshape((-1, 4))]).count()
    assert count.output_shape == (None, H * W / 4, 4)
    assert "H*W % 4 == 0" in [str(c) for c in count.conditions]
    assert count.subs(H=2, W=6).output_shape == (None, 3, 4)
    with pytest.raises(SubstitutionError, match="H\\*W % 4 == 0"):
        count.subs(H=3, W=3)


def test_reshape_must_keep_the_size():
    with pytest.raises(ShapeError, match="total size of the tensor must be unchanged"):
        one(sk.Reshape((6,)), 2, 4)
    with pytest.raises(ArgumentError, match="at most one unknown dimension"):
        sk.Reshape((2, -1, -1))


def test_permute_and_repeat_vector():
    assert one(sk.Permute((2, 3, 1)), H, W, C).output_shape == (None, W, C, H)
    with pytest.raises(ArgumentError, match="consecutive and start from 1"):
        sk.Permute((0, 1))
    with pytest.raises(ShapeError, match="rank 3"):
        one(sk.Permute((2, 1)), H, W, C)
    assert one(sk.RepeatVector(n), d).output_shape == (None, n, d)


def test_embedding_adds_an_axis():
    V = sc.dim("V")
    record = one(sk.Embedding(V, d), L)
    assert record.output_shape == (None, L, d)
    assert shapes(record) == {"embeddings": (V, d)}
    assert record.macs == 0


# ---------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------


def test_layer_normalization_weights():
    assert shapes(one(sk.LayerNormalization(), T, C)) == {"gamma": (C,), "beta": (C,)}
    assert shapes(one(sk.LayerNormalization(rms_scaling=True), T, C)) == {"gamma": (C,)}
    # a list of axes: the weights have the sizes of the sorted axes, as Keras builds them
    assert shapes(one(sk.LayerNormalization(axis=[2, 1], center=False), T, C)) == {"gamma": (T, C)}


def test_group_normalization_needs_divisible_channels():
    record = one(sk.GroupNormalization(groups=4), H, W, C)
    assert [str(c) for c in record.conditions] == ["C % 4 == 0"]
    assert sympy.expand(record.params - 2 * C) == 0
    with pytest.raises(ShapeError, match="multiple of the number of groups"):
        one(sk.GroupNormalization(groups=4), H, W, 6)
    assert one(sk.GroupNormalization(groups=-1), H, W, C).conditions == ()  # instance normalization


def test_unit_normalization_has_no_weights():
    assert one(sk.UnitNormalization(axis=[1, 2]), T, C).weights == ()
    with pytest.raises(ShapeError, match="out of bounds"):
        one(sk.UnitNormalization(axis=3), T, C)


# ---------------------------------------------------------------------------
# Recurrent layers and wrappers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer, gates, bias", [
    (sk.SimpleRNN(u), 1, (u,)),
    (sk.LSTM(u), 4, (4 * u,)),                          # one bias vector (torch has two)
    (sk.GRU(u), 3, (2, 3 * u)),                         # reset_after=True: input and recurrent biases
    (sk.GRU(u, reset_after=False), 3, (3 * u,)),
])
def test_recurrent_weights(layer, gates, bias):
    record = one(layer, T, d)
    assert shapes(record) == {"kernel": (d, gates * u), "recurrent_kernel": (u, gates * u), "bias": bias}
    assert record.output_shape == (None, u)
    assert sympy.expand(record.macs - T * (d + u) * gates * u) == 0


def test_gru_reset_after_params():
    # 3u·d + 3u·u + 2·3u  versus  3u·d + 3u·u + 3u
    assert sympy.expand(one(sk.GRU(u), T, d).params - 3 * u * (d + u + 2)) == 0
    assert sympy.expand(one(sk.GRU(u, reset_after=False), T, d).params - 3 * u * (d + u + 1)) == 0


def test_return_sequences_keeps_time():
    assert one(sk.LSTM(u, return_sequences=True), T, d).output_shape == (None, T, u)


def test_return_state_is_refused_with_a_reason():
    with pytest.raises(ArgumentError, match="return_state=True makes the layer return several tensors"):
        sk.LSTM(4, return_state=True)


def test_recurrent_layers_need_rank_3():
    with pytest.raises(ShapeError, match="expected ndim=3"):
        one(sk.GRU(4), T, d, 2)


def test_bidirectional_doubles_the_weights_and_concatenates():
    record = one(sk.Bidirectional(sk.LSTM(u)), T, d)
    assert record.output_shape == (None, 2 * u)
    assert set(shapes(record)) == {f"{side}_lstm/{w}" for side in ("forward", "backward")
                                   for w in ("kernel", "recurrent_kernel", "bias")}
    assert sympy.expand(record.params - 2 * 4 * u * (d + u + 1)) == 0


def test_bidirectional_sum_keeps_the_units():
    assert one(sk.Bidirectional(sk.GRU(u, return_sequences=True), merge_mode="sum"), T, d).output_shape == \
        (None, T, u)


def test_bidirectional_refusals():
    with pytest.raises(ArgumentError, match="merge_mode=None returns"):
        sk.Bidirectional(sk.LSTM(4), merge_mode=None)
    with pytest.raises(ArgumentError, match="different `go_backwards`"):
        sk.Bidirectional(sk.LSTM(4, go_backwards=True))
    with pytest.raises(ArgumentError, match="recurrent layer"):
        sk.Bidirectional(sk.Dense(4))


def test_time_distributed_applies_the_layer_per_step():
    record = one(sk.TimeDistributed(sk.Dense(u)), T, d)
    assert record.output_shape == (None, T, u)
    assert shapes(record) == {"dense/kernel": (d, u), "dense/bias": (u,)}
    assert sympy.expand(record.macs - T * d * u) == 0


def test_time_distributed_passes_on_the_inner_conditions():
    count = sk.Sequential([sk.Input((T, L, C)), sk.TimeDistributed(sk.Conv1D(F, 3))]).count()
    assert count.output_shape == (None, T, L - 2, F)
    assert [str(c) for c in count.conditions] == ["L >= 3"]


# ---------------------------------------------------------------------------
# MultiHeadAttention
# ---------------------------------------------------------------------------


def test_self_attention_params_by_hand():
    # query, key, value: (d, heads, k) kernels and (heads, k) biases; output: (heads, k, d) and (d,)
    record = one(sk.MultiHeadAttention(heads, k), T, d)
    assert shapes(record) == {
        "query/kernel": (d, heads, k), "query/bias": (heads, k),
        "key/kernel": (d, heads, k), "key/bias": (heads, k),
        "value/kernel": (d, heads, k), "value/bias": (heads, k),
        "attention_output/kernel": (heads, k, d), "attention_output/bias": (d,),
    }
    assert record.output_shape == (None, T, d)
    assert sympy.expand(record.params - (4 * d * heads * k + 3 * heads * k + d)) == 0


def test_self_attention_with_key_dim_width_over_heads_counts_like_torch():
    # d = heads · k: 4d² + 4d, torch's nn.MultiheadAttention(d, heads) with biases
    record = one(sk.MultiHeadAttention(heads, k), T, heads * k)
    width = heads * k
    assert sympy.expand(record.params - (4 * width**2 + 4 * width)) == 0


def test_self_attention_macs_by_hand():
    record = one(sk.MultiHeadAttention(heads, k), T, d)
    projections = 3 * T * d * heads * k
    scores_and_sum = heads * T * T * (k + k)
    output = T * heads * k * d
    assert sympy.expand(record.macs - (projections + scores_and_sum + output)) == 0


def test_cross_attention_with_query_value_key():
    Tq, Tv, dq, dv, dk = sc.dims("Tq Tv dq dv dk")
    query, value, key = sk.Input((Tq, dq)), sk.Input((Tv, dv)), sk.Input((Tv, dk))
    layer = sk.MultiHeadAttention(2, 8, value_dim=4, output_shape=(3, 5))
    model = sk.Model([query, value, key], layer(query, value, key))
    record = model.count().layers[-1]
    assert record.output_shape == (None, Tq, 3, 5)
    assert shapes(record)["key/kernel"] == (dk, 2, 8)
    assert shapes(record)["value/kernel"] == (dv, 2, 4)
    assert shapes(record)["attention_output/kernel"] == (2, 4, 3, 5)


def test_value_and_key_must_agree_but_on_the_last_axis():
    query, value, key = sk.Input((4, 8)), sk.Input((5, 8)), sk.Input((6, 8))
    with pytest.raises(ShapeError, match="All dimensions of `value` and `key`, except the last one"):
        sk.MultiHeadAttention(2, 4)(query, value, key)


def test_symbolic_value_and_key_lengths_become_a_condition():
    Tv, Tk = sc.dims("Tv Tk")
    query, value, key = sk.Input((4, 8)), sk.Input((Tv, 8)), sk.Input((Tk, 8))
    count = sk.Model([query, value, key], sk.MultiHeadAttention(2, 4)(query, value, key)).count()
    assert sympy.Eq(Tv, Tk) in {c.relation for c in count.conditions}
    with pytest.raises(SubstitutionError):
        count.subs(Tv=3, Tk=4)


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


def test_every_layer_states_its_keras_rule():
    for name in sk.__all__:
        cls = getattr(sk, name)
        if isinstance(cls, type) and issubclass(cls, sc.layer.Layer) and name not in ("Block", "Repeat"):
            assert cls.__doc__ and "Keras" in cls.__doc__, name


def test_errors_are_symcount_errors():
    with pytest.raises(SymcountError):
        sk.Conv3D(4, (3, 3))
