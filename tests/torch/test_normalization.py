"""BatchNorm, InstanceNorm, LayerNorm, GroupNorm and RMSNorm against torch: parameters
and buffers by name (running statistics are buffers, never parameters)."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, check, oracle
from .strategies import SETTINGS, near, rarely


@hs.composite
def batch_instance_cases(draw):
    kind = draw(hs.sampled_from(["BatchNorm", "InstanceNorm"]))
    rank = draw(hs.integers(1, 3))
    features = draw(hs.integers(1, 5))
    kwargs = dict(num_features=features, affine=draw(hs.booleans()), track_running_stats=draw(hs.booleans()))
    if rarely(draw, 30):
        kwargs["bias"] = draw(hs.booleans())
    spatial_rank = rank if not (kind == "BatchNorm" and rank == 1) else draw(hs.integers(0, 1))
    spatial = tuple(draw(hs.integers(1, 4)) for _ in range(spatial_rank))
    return Case(f"{kind}{rank}d", kwargs, ((near(draw, features, 15), *spatial),), sizes=("num_features",))


@hs.composite
def layer_norm_cases(draw):
    kind = draw(hs.sampled_from(["LayerNorm", "RMSNorm"]))
    shape = tuple(draw(hs.lists(hs.integers(1, 4), min_size=1, max_size=3)))
    n = draw(hs.integers(1, len(shape)))
    normalized = tuple(shape[-n:])
    if rarely(draw, 15):
        normalized = (*normalized[:-1], normalized[-1] + 1)
    kwargs = dict(normalized_shape=normalized[0] if n == 1 and draw(hs.booleans()) else normalized,
                  elementwise_affine=draw(hs.booleans()))
    if kind == "LayerNorm":
        kwargs["bias"] = draw(hs.booleans())
    return Case(kind, kwargs, (shape,), sizes=("normalized_shape",))


@hs.composite
def group_norm_cases(draw):
    groups = draw(hs.integers(1, 3))
    channels = groups * draw(hs.integers(1, 3)) + (1 if rarely(draw, 10) else 0)
    kwargs = dict(num_groups=groups, num_channels=channels, affine=draw(hs.booleans()))
    if rarely(draw, 30):
        kwargs["bias"] = draw(hs.booleans())
    spatial = tuple(draw(hs.lists(hs.integers(1, 4), max_size=2)))
    in_channels = channels + draw(hs.sampled_from([0, 0, 0, 0, 1, groups]))
    return Case("GroupNorm", kwargs, ((in_channels, *spatial),), sizes=("num_groups", "num_channels"))


@oracle
@settings(SETTINGS, max_examples=200)
@given(batch_instance_cases())
def test_batch_and_instance_norm_match_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=100)
@given(layer_norm_cases())
def test_layer_and_rms_norm_match_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=100)
@given(group_norm_cases())
def test_group_norm_matches_torch(case):
    check(case)
