"""Rescaling and Normalization against Keras 3 (torch backend): named weights (shape and
trainable flag), ``count_params()`` and output shape, for random configurations; a
configuration Keras rejects symcount rejects too. Symbolic sizes are substituted with
Keras's numbers."""

from __future__ import annotations

import keras  # tests/conftest.py has set KERAS_BACKEND=torch before this import
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcount.keras as sk
from symcount import dim
from symcount.errors import SymcountError

pytestmark = pytest.mark.oracle

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def keras_facts(layer, shape):
    try:
        out = layer(keras.Input(shape))
    except (ValueError, IndexError):
        return None
    weights = {w.path.split("/")[-1]: (tuple(w.shape), w.trainable) for w in layer.weights}
    return tuple(out.shape), layer.count_params(), weights


def symcount_facts(layer, shape, symbolic):
    names = [f"d{i}" for i in range(len(shape))]
    given_shape = tuple(dim(n) for n in names) if symbolic else shape
    try:
        x = sk.Input(given_shape)
        count = sk.Model(x, layer(x)).count()
    except SymcountError:
        return None
    if symbolic:
        count = count.subs(**dict(zip(names, shape)))
    record = count.layers[-1]
    weights = {w.name: (tuple(int(s) for s in w.shape), w.trainable) for w in record.weights}
    output = tuple(None if s is None else int(s) for s in record.output_shape)
    return output, int(record.params), weights


shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


@st.composite
def normalization_cases(draw):
    shape = draw(shapes)
    rank = len(shape) + 1
    axis = draw(st.one_of(
        st.none(),
        st.integers(-rank - 1, rank),
        st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank, unique=True).map(tuple),
    ))
    given_stats = draw(st.booleans()) and draw(st.booleans())
    return shape, axis, given_stats


@SETTINGS
@given(normalization_cases(), st.booleans())
def test_normalization_weights_equal_keras(case, symbolic):
    shape, axis, given_stats = case
    stats = {"mean": 0.5, "variance": 2.0} if given_stats else {}
    theirs = keras_facts(keras.layers.Normalization(axis=axis, **stats), shape)
    ours = symcount_facts(sk.Normalization(axis=axis, **stats), shape, symbolic)
    assert ours == theirs


def test_normalization_of_rgb_channels_is_two_c_plus_one():
    """EfficientNet's stem: ``Normalization(axis=3)`` on ``(H, W, 3)``, odd non-trainable total."""
    theirs = keras_facts(keras.layers.Normalization(axis=3), (32, 32, 3))
    assert theirs[1] == 7
    assert symcount_facts(sk.Normalization(axis=3), (32, 32, 3), symbolic=True) == theirs


@SETTINGS
@given(shapes, st.sampled_from([1 / 255, 2, [0.5, 1.0, 2.0]]), st.sampled_from([0.0, -1]), st.booleans())
def test_rescaling_has_no_weights_and_keeps_the_shape_like_keras(shape, scale, offset, symbolic):
    theirs = keras_facts(keras.layers.Rescaling(scale, offset=offset), shape)
    assert symcount_facts(sk.Rescaling(scale, offset=offset), shape, symbolic) == theirs


def test_rescaling_rejects_a_non_numeric_scale():
    with pytest.raises(SymcountError, match="scale"):
        sk.Rescaling("half")


def test_normalization_needs_both_mean_and_variance():
    with pytest.raises(SymcountError, match="both `mean` and `variance`"):
        sk.Normalization(mean=0.0)
