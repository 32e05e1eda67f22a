"""Dims of a Keras model by role: the input's axes, ``classes`` (the classifier's size),
``"layer.argument"`` paths. A size elsewhere that only equals a dim's value stays a
number; a live model's formula is checked by Keras rebuilding the model, and where it
does not hold the import gives the numbers with a warning.
"""

from __future__ import annotations

import warnings

import pytest
import sympy

import symcount as sc
from symcount.errors import ArgumentError
from symcount.importers import SymcountImportWarning

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.oracle


def test_efficientnet_squeeze_excite_convolutions_are_not_classes():
    # its three squeeze-and-excite convolutions of the first blocks have 10 filters
    model = keras.applications.EfficientNetB0(weights=None, input_shape=(96, 96, 3), classes=10)
    count = sc.from_keras(model, dims={"H": 96, "W": 96, "classes": 10}).count()
    # Keras's EfficientNetB0 at 224×224 and 1000 classes: 5,330,571 parameters
    assert int(count.subs(H=224, W=224, classes=1000).total) == 5_330_571


def test_a_path_names_one_argument_and_equal_values_elsewhere_stay_numbers():
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(12, name="hidden"),
                              keras.layers.Dense(12, name="out")], name="mlp")
    imported = sc.from_keras(model, dims={"n_in": 12, "width": "hidden.units"})
    count = imported.count()
    n, w = sc.dims("n_in width")
    # hidden: (n_in + 1)·width; out: (width + 1)·12 — out's 12 units are not width
    assert sympy.expand(count.total - ((n + 1) * w + (w + 1) * 12)) == 0
    assert imported.values == {"n_in": 12, "width": 12}
    rebuilt = keras.Sequential([keras.Input((20,)), keras.layers.Dense(30), keras.layers.Dense(12)])
    assert int(count.subs(n_in=20, width=30).total) == rebuilt.count_params()


def test_a_formula_keras_cannot_rebuild_gives_the_numbers_and_a_warning():
    # the Reshape's 256 is 8·8·4: it does not follow H, so no second configuration builds
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 1), keras.layers.Reshape((256,)),
                              keras.layers.Dense(5)], name="reshaped")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imported = sc.from_keras(model, dims={"H": 8})
    messages = [str(w.message) for w in caught if issubclass(w.category, SymcountImportWarning)]
    assert len(messages) == 1 and "H" in messages[0] and "numbers" in messages[0]
    count = imported.count()
    assert not count.free_dims and int(count.total) == model.count_params()


@pytest.mark.parametrize("dims, says", [
    ({"classes": 7}, "classes=7, but the model's last Dense layer"),
    ({"width": "nowhere.units"}, "no layer named 'nowhere'"),
    ({"width": "hidden.activation"}, "activation of layer hidden is 'linear', not a positive integer size"),
    ({"width": 0}, "must be a positive integer"),
])
def test_dims_that_name_nothing_are_errors(dims, says):
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(12, name="hidden"),
                              keras.layers.Dense(3, name="out")])
    with pytest.raises(ArgumentError, match=says):
        sc.from_keras(model, dims=dims)
