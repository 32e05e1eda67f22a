"""symcount.torch without torch: closed forms derived by hand, torch's checks as symcount
errors quoting what was received, the batch axis where batch_first puts it."""

import subprocess
import sys

import pytest
import sympy

import symcount as sc
import symcount.torch as st
from symcount.errors import ArgumentError, ShapeError, SubstitutionError


def count1(layer, shape):
    return st.Sequential([layer]).count(input_shape=shape)


def weights(count, position=-1):
    return {w.name: w.shape for w in count.layers[position].weights}


def test_importing_symcount_torch_does_not_import_torch():
    code = "import sys, symcount.torch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# Closed forms, derived by hand from torch's docs
# ---------------------------------------------------------------------------


def test_conv2d_closed_form():
    C, H, W = sc.dims("C H W")
    c = count1(st.Conv2d(C, 64, 3, stride=2, padding=1), (C, H, W))
    # weight (64, C, 3, 3) + bias 64; floor((H + 2 - 2 - 1)/2) + 1
    assert sympy.expand(c.total - (576 * C + 64)) == 0
    assert c.output_shape == (None, 64, sympy.floor((H - 1) / 2) + 1, sympy.floor((W - 1) / 2) + 1)
    assert c.subs(C=3, H=224, W=224).total == 1792


def test_grouped_conv_requires_divisible_channels_as_a_condition():
    C, H = sc.dims("C H")
    c = count1(st.Conv1d(C, 8, 3, groups=4), (C, H))
    assert sympy.expand(c.total - (8 * C / 4 * 3 + 8)) == 0
    assert "C % 4 == 0" in [str(x) for x in c.conditions]
    with pytest.raises(SubstitutionError, match="C % 4 == 0"):
        c.subs(C=6, H=10)


def test_batch_norm_buffers_are_shown_not_counted():
    c = count1(st.BatchNorm2d(16), (16, 8, 8))
    assert c.total == 32 and c.buffers == 16 + 16 + 1
    shapes = weights(c)
    assert shapes["num_batches_tracked"] == ()
    assert {w.name for w in c.layers[0].weights if w.buffer} == {"running_mean", "running_var",
                                                                  "num_batches_tracked"}


def test_lstm_closed_form_has_two_bias_vectors():
    L, E, H = sc.dims("L E H")
    c = st.Sequential([st.Input((L, E), batch_first=False), st.LSTM(E, H)]).count()
    # 4 gates: W_ih (4H, E), W_hh (4H, H), b_ih (4H), b_hh (4H)
    assert sympy.expand(c.total - 4 * (H * E + H * H + 2 * H)) == 0
    assert c.output_shape == (L, None, H)


def test_gru_bidirectional_two_layers_names_every_weight():
    c = st.Sequential([st.GRU(4, 5, num_layers=2, bidirectional=True, batch_first=True)]).count(input_shape=(7, 4))
    shapes = weights(c)
    assert shapes["weight_ih_l1_reverse"] == (15, 10) and shapes["bias_hh_l0"] == (15,)
    assert len(shapes) == 16
    assert c.output_shape == (None, 7, 10)


def test_symbolic_num_layers_stacks_the_layers_after_the_first():
    n = sc.dim("n")
    c = st.Sequential([st.RNN(3, 4, num_layers=n, batch_first=True)]).count(input_shape=(5, 3))
    shapes = weights(c)
    assert shapes["weight_ih_l*"] == (n - 1, 4, 4)
    assert [c.subs(n=k).total for k in (1, 2, 3)] == [4 * 3 + 16 + 8 + (k - 1) * (16 + 16 + 8) for k in (1, 2, 3)]


def test_multihead_attention_in_a_sequential_attends_to_itself():
    L, E = sc.dims("L E")
    c = st.Sequential([st.MultiheadAttention(E, 4, batch_first=True)]).count(input_shape=(L, E))
    assert sympy.expand(c.total - (4 * E * E + 4 * E)) == 0  # in_proj 3E·E + 3E, out_proj E·E + E
    assert "E % 4 == 0" in [str(x) for x in c.conditions]
    # projections 4·L·E², scores and weighted sum 2·L²·E
    assert sympy.expand(c.macs - (4 * L * E**2 + 2 * L**2 * E)) == 0


def test_cross_attention_with_kdim_and_vdim_has_separate_projections():
    q = st.Input((3, 8), batch_first=False)
    k = st.Input((5, 2), batch_first=False)
    v = st.Input((5, 6), batch_first=False)
    mha = st.MultiheadAttention(8, 2, kdim=2, vdim=6)
    c = sc.Model([q, k, v], mha([q, k, v])).count()
    shapes = weights(c)
    assert shapes["k_proj_weight"] == (8, 2) and shapes["v_proj_weight"] == (8, 6) and "in_proj_weight" not in shapes
    assert c.output_shape == (3, None, 8)


def test_transformer_names_follow_torch_and_stack_symbolic_layers():
    n = sc.dim("n")
    src = st.Input((4, 8), batch_first=True)
    tgt = st.Input((3, 8), batch_first=True)
    model = st.Transformer(8, 2, num_encoder_layers=n, num_decoder_layers=1, dim_feedforward=16, batch_first=True)
    c = sc.Model([src, tgt], model([src, tgt])).count()
    shapes = weights(c)
    assert shapes["encoder.layers.*.self_attn.in_proj_weight"] == (n, 24, 8)
    assert shapes["decoder.layers.0.multihead_attn.out_proj.bias"] == (8,)
    assert shapes["encoder.norm.weight"] == (8,)
    assert c.output_shape == (None, 3, 8)


# ---------------------------------------------------------------------------
# The batch axis
# ---------------------------------------------------------------------------


def test_time_major_layer_rejects_a_batch_first_input_with_a_hint():
    with pytest.raises(ShapeError, match=r"batch_first=False.*\(None, 5, 3\).*batch_first=True"):
        count1(st.LSTM(3, 4), (5, 3))


def test_batch_first_layer_rejects_a_time_major_input():
    with pytest.raises(ShapeError, match="batch_first=True"):
        st.Sequential([st.Input((5, 3), batch_first=False), st.GRU(3, 4, batch_first=True)]).count()


def test_flatten_does_not_merge_the_batch_axis():
    with pytest.raises(ShapeError, match="batch axis"):
        st.Sequential([st.Input((5, 3), batch_first=False), st.Flatten()]).count()


def test_convolution_needs_the_batch_axis_first():
    with pytest.raises(ShapeError, match="batch axis first"):
        st.Sequential([st.Input((5, 3), batch_first=False), st.Conv1d(3, 2, 1)]).count()


# ---------------------------------------------------------------------------
# torch's checks, with what was received
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("make, match", [
    (lambda: st.Conv2d(3, 8, 3, groups=2),
     r"in_channels must be divisible by groups. Received: in_channels=3, groups=2"),
    (lambda: st.Conv2d(4, 8, 3, stride=2, padding="same"), r"padding='same' is not supported for strided"),
    (lambda: st.Conv2d(4, 8, 3, padding="full"), r"Invalid padding string 'full'"),
    (lambda: st.Conv2d(4, 8, 3, padding_mode="mirror"), r"padding_mode='mirror'"),
    (lambda: st.ConvTranspose2d(4, 8, 3, padding_mode="reflect"), r'Only "zeros" padding mode'),
    (lambda: st.ConvTranspose1d(4, 8, 3, output_padding=1), r"output padding must be smaller than either stride"),
    (lambda: st.MaxPool2d(3, padding=2), r"pad should be at most half of kernel size"),
    (lambda: st.MultiheadAttention(10, 3), r"embed_dim must be divisible by num_heads. Received: embed_dim=10"),
    (lambda: st.LSTM(3, 4, proj_size=4), r"proj_size has to be smaller than hidden_size"),
    (lambda: st.RNN(3, 4, nonlinearity="gelu"), r"Unknown nonlinearity 'gelu'"),
    (lambda: st.RNN(3, 4, bias=1), r"bias should be of type bool, got: int"),
    (lambda: st.GroupNorm(3, 8), r"num_channels \(8\) must be divisible by num_groups \(3\)"),
    (lambda: st.Embedding(5, 2, padding_idx=5), r"Padding_idx must be within num_embeddings"),
    (lambda: st.Dropout(1.5), r"between 0 and 1, but got 1.5"),
    (lambda: st.TransformerEncoderLayer(8, 2, activation="tanh"), r"activation should be relu/gelu, not tanh"),
    (lambda: st.Linear(3.5, 2), r"in_features must be a positive integer"),
    (lambda: st.Conv2d(3, 8, 3, foo=1), r"Conv2d: unexpected keyword argument 'foo'"),
    (lambda: st.BatchNorm3d(3, foo=1), r"BatchNorm3d: unexpected keyword argument 'foo'"),
    (lambda: st.Dropout2d(q=0.1), r"Dropout2d: unexpected keyword argument 'q'"),
])
def test_invalid_arguments_are_argument_errors_quoting_the_values(make, match):
    with pytest.raises(ArgumentError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (st.Conv2d(3, 8, 3), (4, 9, 9), r"expected input to have 3 channels.*Received: input shape=\(None, 4, 9, 9\)"),
    (st.Conv2d(3, 8, 5), (3, 4, 9), r"Computed output size would be zero or negative"),
    (st.Conv1d(3, 8, 3, padding=2, padding_mode="reflect"), (3, 2), r"Padding size should be less than"),
    (st.Linear(4, 2), (3, 5), r"last axis must equal in_features \(4\).*\(None, 3, 5\)"),
    (st.LayerNorm((4, 5)), (3, 5, 4), r"normalized_shape=\[4, 5\]"),
    (st.BatchNorm2d(3), (3, 8), r"expected 4D input"),
    (st.InstanceNorm1d(3), (3, 1), r"more than 1 spatial element"),
    (st.AvgPool3d(3), (1, 2, 5, 5), r"input image smaller than kernel size"),
])
def test_shapes_torch_rejects_are_shape_errors_naming_the_layer(layer, shape, match):
    with pytest.raises(ShapeError, match=match) as info:
        count1(layer, shape)
    assert f"({type(layer).__name__}, layer 1)" in str(info.value)


def test_ceil_mode_length_is_exact_symbolically():
    H = sc.dim("H")
    c = count1(st.MaxPool1d(2, 3, ceil_mode=True), (1, H))
    # ceil((H - 2)/3) + 1, less the window that would start at H: floor((H - 1)/3) + 1
    assert c.output_shape[-1] == sympy.floor((H - 1) / 3) + 1
    assert [c.subs(H=h).output_shape[-1] for h in (2, 3, 4, 5)] == [1, 1, 2, 2]


SAMPLES = [
    st.Linear(3, 4), st.Bilinear(2, 3, 4), st.Conv2d(4, 8, 3, padding="same", padding_mode="reflect"),
    st.ConvTranspose3d(2, 4, (1, 2, 3), output_padding=(0, 1, 0), stride=2), st.MaxPool1d(3, ceil_mode=True),
    st.AvgPool2d(2, divisor_override=3), st.AdaptiveMaxPool2d((None, 3)), st.BatchNorm1d(4, bias=False),
    st.InstanceNorm3d(2, affine=True), st.LayerNorm((3, 4)), st.GroupNorm(2, 4), st.RMSNorm(5),
    st.Embedding(10, 3, padding_idx=-1), st.LSTM(3, 4, proj_size=2), st.GRU(3, 4, 2), st.RNN(3, 4, 1, "relu"),
    st.MultiheadAttention(8, 2, kdim=3), st.TransformerEncoderLayer(8, 2, 16, activation=st.PReLU()),
    st.TransformerDecoder(st.TransformerDecoderLayer(8, 2, 16), 2, st.LayerNorm(8)), st.Transformer(8, 2, 1, 1, 16),
    st.Identity(), st.Dropout2d(0.2), st.Flatten(2), st.Unflatten(1, (2, -1)), st.Threshold(0.1, 2.0),
    st.GELU("tanh"), st.Softmax(-1), st.GLU(), st.PReLU(3),
]


@pytest.mark.parametrize("layer", SAMPLES, ids=lambda layer: type(layer).__name__)
def test_a_layers_configuration_rebuilds_it(layer):
    # Repeat(…, unroll=True) copies layers this way; equal configurations are one cache entry
    copy = layer.replace(name=None)
    assert copy == layer and hash(copy) == hash(layer) and copy is not layer
