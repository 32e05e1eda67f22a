"""Small drawing helpers shared by the torch oracle tests."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as hs

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def rarely(draw, percent):
    """True about ``percent`` % of the time (False for hypothesis's simplest example)."""
    return draw(hs.integers(0, 99)) >= 100 - percent


def near(draw, value, percent=12):
    """``value``, or now and then one more (an invalid size both should reject)."""
    return value + 1 if rarely(draw, percent) else value


def per_axis(draw, rank, values):
    """An int for every axis, or a tuple of ``rank`` of them (torch accepts both)."""
    if draw(hs.booleans()):
        return draw(values)
    return tuple(draw(values) for _ in range(rank))
