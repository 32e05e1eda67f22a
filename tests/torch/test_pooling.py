"""MaxPool/AvgPool 1d/2d/3d (ceil_mode, padding, dilation and torch's checks) and the
adaptive poolings against torch."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, check, oracle
from .strategies import SETTINGS, per_axis, rarely


@hs.composite
def pool_cases(draw):
    rank = draw(hs.integers(1, 3))
    kind = draw(hs.sampled_from(["Max", "Avg"]))
    kernel = per_axis(draw, rank, hs.integers(1, 4))
    kwargs = dict(kernel_size=kernel, stride=None if draw(hs.booleans()) else per_axis(draw, rank, hs.integers(1, 3)),
                  padding=per_axis(draw, rank, hs.integers(0, 2 if rarely(draw, 30) else 1)),
                  ceil_mode=draw(hs.booleans()))
    if kind == "Max":
        kwargs["dilation"] = per_axis(draw, rank, hs.integers(1, 2))
    else:
        kwargs["count_include_pad"] = draw(hs.booleans())
        if rank > 1 and rarely(draw, 20):
            kwargs["divisor_override"] = draw(hs.integers(0, 3))
    spatial = tuple(draw(hs.integers(1, 9 if rank < 3 else 5)) for _ in range(rank))
    return Case(f"{kind}Pool{rank}d", kwargs, ((draw(hs.integers(1, 3)), *spatial),),
                sizes=("kernel_size", "stride", "padding", "dilation"))


@hs.composite
def adaptive_cases(draw):
    rank = draw(hs.integers(1, 3))
    kind = draw(hs.sampled_from(["Max", "Avg"]))
    if rank == 1 or draw(hs.booleans()):
        output_size = draw(hs.integers(1, 5))
    else:
        output_size = tuple(draw(hs.one_of(hs.none(), hs.integers(1, 5))) for _ in range(rank))
    spatial = tuple(draw(hs.integers(1, 7)) for _ in range(rank))
    return Case(f"Adaptive{kind}Pool{rank}d", dict(output_size=output_size), ((draw(hs.integers(1, 3)), *spatial),),
                sizes=("output_size",))


@oracle
@settings(SETTINGS, max_examples=300)
@given(pool_cases())
def test_pooling_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=100)
@given(adaptive_cases())
def test_adaptive_pooling_matches_torch(case):
    check(case)
