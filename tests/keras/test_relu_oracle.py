"""symcount.keras.ReLU against Keras 3's ``layers.ReLU``: argument checks and shapes."""

from __future__ import annotations

import keras  # tests/conftest.py has set KERAS_BACKEND=torch before this import
import pytest

import symcount.keras as sk
from symcount.errors import ArgumentError

pytestmark = pytest.mark.oracle

ARGUMENTS = [
    {},
    {"max_value": 6.0},
    {"max_value": 0},
    {"max_value": -1.0},
    {"negative_slope": 0.1},
    {"negative_slope": -0.5},
    {"negative_slope": None},
    {"threshold": 1.0},
    {"threshold": -1.0},
    {"threshold": None},
    {"max_value": 6.0, "negative_slope": 0.2, "threshold": 0.5},
]


def _accepts(make) -> bool:
    try:
        make()
    except (ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("arguments", ARGUMENTS, ids=str)
def test_relu_accepts_and_rejects_like_keras(arguments):
    assert _accepts(lambda: sk.ReLU(**arguments)) == _accepts(lambda: keras.layers.ReLU(**arguments))


def test_relu_error_names_the_argument():
    with pytest.raises(ArgumentError, match="max_value of a ReLU layer cannot be a negative value. "
                                            "Received: max_value=-1"):
        sk.ReLU(max_value=-1)


@pytest.mark.parametrize("shape", [(7, 5, 3), (11,)])
def test_relu6_keeps_the_shape_without_weights(shape):
    x = sk.Input(shape)
    count = sk.Model(x, sk.ReLU(6.0)(x)).count()
    keras.backend.clear_session(free_memory=False)  # Keras's automatic names start again: re_lu
    inputs = keras.Input(shape)
    model = keras.Model(inputs, keras.layers.ReLU(6.0)(inputs))
    assert [r.name for r in count.layers] == [layer.name for layer in model.layers]
    assert count.output_shape == tuple(model.output.shape)
    assert int(count.total) == model.count_params() == 0
