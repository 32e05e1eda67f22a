"""Linear, Bilinear, Conv1d/2d/3d and ConvTranspose1d/2d/3d against torch: random
configurations, valid and invalid, numerically and through dims."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, check, oracle
from .strategies import SETTINGS, near, per_axis, rarely

@hs.composite
def linear_cases(draw):
    n_in, n_out = draw(hs.integers(1, 8)), draw(hs.integers(1, 8))
    lead = tuple(draw(hs.lists(hs.integers(1, 4), max_size=2)))
    kwargs = dict(in_features=n_in, out_features=n_out, bias=draw(hs.booleans()))
    return Case("Linear", kwargs, ((*lead, near(draw, n_in)),), sizes=("in_features", "out_features"), flops=True)


@hs.composite
def bilinear_cases(draw):
    n1, n2, n_out = (draw(hs.integers(1, 5)) for _ in range(3))
    lead = tuple(draw(hs.lists(hs.integers(1, 3), max_size=2)))
    lead2 = lead + (2,) if rarely(draw, 12) else lead
    kwargs = dict(in1_features=n1, in2_features=n2, out_features=n_out, bias=draw(hs.booleans()))
    shapes = ((*lead, near(draw, n1)), (*lead2, near(draw, n2)))
    return Case("Bilinear", kwargs, shapes, multi=True, sizes=("in1_features", "in2_features", "out_features"))


@hs.composite
def conv_cases(draw):
    rank = draw(hs.integers(1, 3))
    groups = draw(hs.integers(1, 3))
    in_channels = groups * draw(hs.integers(1, 2)) + (1 if rarely(draw, 8) else 0)
    out_channels = groups * draw(hs.integers(1, 3)) + (1 if rarely(draw, 8) else 0)
    kernel = per_axis(draw, rank, hs.integers(1, 4))
    stride = per_axis(draw, rank, hs.integers(1, 3))
    padding = draw(hs.one_of(hs.sampled_from(["same", "valid"]), hs.integers(0, 2),
                             hs.tuples(*[hs.integers(0, 2)] * rank)))
    kwargs = dict(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel, stride=stride,
                  padding=padding, dilation=per_axis(draw, rank, hs.integers(1, 2)), groups=groups,
                  bias=draw(hs.booleans()),
                  padding_mode=draw(hs.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])))
    spatial = tuple(draw(hs.integers(1, 9 if rank < 3 else 5)) for _ in range(rank))
    shape = (near(draw, in_channels, 8), *spatial)
    sizes = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
    return Case(f"Conv{rank}d", kwargs, (shape,), sizes=sizes, flops=True)


@hs.composite
def conv_transpose_cases(draw):
    rank = draw(hs.integers(1, 3))
    groups = draw(hs.integers(1, 3))
    in_channels = groups * draw(hs.integers(1, 2)) + (1 if rarely(draw, 8) else 0)
    out_channels = groups * draw(hs.integers(1, 3)) + (1 if rarely(draw, 8) else 0)
    kwargs = dict(in_channels=in_channels, out_channels=out_channels,
                  kernel_size=per_axis(draw, rank, hs.integers(1, 4)), stride=per_axis(draw, rank, hs.integers(1, 3)),
                  padding=per_axis(draw, rank, hs.integers(0, 2)),
                  output_padding=per_axis(draw, rank, hs.integers(0, 2)) if rarely(draw, 40) else 0,
                  groups=groups, bias=draw(hs.booleans()),
                  dilation=per_axis(draw, rank, hs.integers(1, 2)))
    if rarely(draw, 5):
        kwargs["padding_mode"] = "reflect"
    spatial = tuple(draw(hs.integers(1, 6 if rank < 3 else 4)) for _ in range(rank))
    sizes = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
             "groups")
    return Case(f"ConvTranspose{rank}d", kwargs, ((near(draw, in_channels, 8), *spatial),), sizes=sizes,
                flops=True)


@oracle
@settings(SETTINGS, max_examples=100)
@given(linear_cases())
def test_linear_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=80)
@given(bilinear_cases())
def test_bilinear_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=300)
@given(conv_cases())
def test_conv_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=250)
@given(conv_transpose_cases())
def test_conv_transpose_matches_torch(case):
    check(case)
