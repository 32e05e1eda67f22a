"""Count: totals derived from weights, substitution by name, conditions, lambdify."""

import subprocess
import sys

import pytest
import sympy

import symcount as sc
from symcount.errors import ArgumentError, ShapeError, SubstitutionError
from symcount.keras import BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D, Sequential


def test_batch_norm_statistics_are_non_trainable_parameters():
    """Keras: gamma, beta trainable; moving_mean, moving_variance non-trainable (4·C in count_params)."""
    (C,) = sc.dims("C")
    count = Sequential([Input((8, 8, C)), BatchNormalization()]).count()
    assert count.trainable == 2 * C and count.non_trainable == 2 * C and count.total == 4 * C
    assert [w.name for w in count.layers[0].weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_substitution_matches_dims_by_name_not_identity():
    count = Sequential([Input((4,)), Dense(sc.dim("units"))]).count()
    assert int(count.subs(units=7).total) == 35
    assert int(count.subs({sympy.Symbol("units"): 7}).total) == 35  # a plain user symbol, same name


def test_partial_substitution_keeps_the_rest_symbolic():
    H, W = sc.dims("H W")
    count = Sequential([Input((H, W, 1)), Flatten(), Dense(2)]).count()
    partial = count.subs(H=3)
    assert partial.free_dims == (W,)
    assert partial.total == 6 * W + 2
    assert int(partial.subs(W=5).total) == 32


@pytest.mark.parametrize("values, message", [
    ({"H": 0}, r"H must be a positive integer. Received: H=0"),
    ({"H": 2.5}, r"H must be a positive integer"),
    ({"H": True}, r"H must be a positive integer"),
    ({"X": 3}, r"unknown dim 'X'. The model's dims are: H, W"),
    ({"H": 2, "W": 9}, r"conv2d \(Conv2D\): the closed form needs H >= 3, which these values break. "
                       r"Current values: H=2, W=9"),
])
def test_bad_substitutions_are_refused(values, message):
    H, W = sc.dims("H W")
    count = Sequential([Input((H, W, 1)), Conv2D(4, 3)]).count()
    with pytest.raises(SubstitutionError, match=message):
        count.subs(**values)


def test_conditions_keep_the_strongest_bound_per_dim():
    H, W = sc.dims("H W")
    model = Sequential([Input((H, W, 3)), Conv2D(8, 3), MaxPooling2D(2), Conv2D(8, 3)])
    conditions = {str(c): c.needed_by for c in model.count().conditions}
    # by hand: H - 2 >= 1, floor((H - 2)/2) >= 1, floor((H - 2)/2) - 2 >= 1  →  H >= 8
    assert conditions == {"H >= 8": ("conv2d_1",), "W >= 8": ("conv2d_1",)}


def test_grouped_conv_with_symbolic_channels_records_divisibility():
    (C,) = sc.dims("C")
    count = Sequential([Input((8, 8, C)), Conv2D(8, 3, groups=4)]).count()
    assert [str(c) for c in count.conditions] == ["C % 4 == 0"]
    assert int(count.subs(C=8).total) == 3 * 3 * 2 * 8 + 8
    with pytest.raises(SubstitutionError, match=r"C % 4 == 0"):
        count.subs(C=6)


def test_layer_errors_name_model_layer_position_and_input():
    with pytest.raises(ShapeError, match=r"m › conv2d \(Conv2D, layer 1\): expected an input of rank 4"):
        Sequential([Input((10, 3)), Conv2D(4, 3)], name="m").count()
    with pytest.raises(ShapeError, match=r"max_pooling2d \(MaxPooling2D, layer 2\): Computed output size would be "
                                         r"zero or negative.*input shape=\(None, 2, 2, 4\)"):
        Sequential([Input((4, 4, 1)), Conv2D(4, 3), MaxPooling2D(3)], name="m").count()
    with pytest.raises(ShapeError, match=r"number of input channels must be evenly divisible by the number of groups \(2\)"):
        Sequential([Input((4, 4, 3)), Conv2D(4, 1, groups=2)]).count()


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(0), "Dense units must be positive"),
    (lambda: Dense(2.5), "Dense units must be a positive integer or an expression in dims"),
    (lambda: Conv2D(4, 3, padding="full"), "`padding` must be 'valid' or 'same'"),
    (lambda: Conv2D(4, 3, strides=2, dilation_rate=2), "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: Conv2D(6, 3, groups=4), "filters must be evenly divisible by the number of groups"),
    (lambda: Conv2D(4, (3, 3, 3)), "kernel_size must be an integer or a tuple of 2 integers"),
    (lambda: Dense(3, activation="rleu"), "unknown activation"),
])
def test_bad_arguments_fail_at_construction(make, message):
    with pytest.raises(ArgumentError, match=message):
        make()


def test_shared_layer_counts_once_like_keras():
    shared = Dense(4, name="shared")
    count = Sequential([Input((4,)), shared, shared]).count()
    assert int(count.total) == 4 * 4 + 4
    assert [r.counted for r in count.layers] == [True, False]


def test_duplicate_names_are_refused():
    with pytest.raises(ArgumentError, match="unique names.*'d'"):
        Sequential([Input((4,)), Dense(4, name="d"), Dense(4, name="d")]).count()


def test_lambdify_evaluates_the_closed_form():
    H, W, classes = sc.dims("H W classes")
    count = Sequential([Input((H, W, 3)), Conv2D(8, 3, strides=2), Flatten(), Dense(classes)]).count()
    f = count.lambdify()
    for h, w in [(7, 9), (32, 32), (101, 64)]:
        assert f(h, w, 10) == int(count.subs(H=h, W=w, classes=10).total)


def test_importing_symcount_loads_no_framework():
    code = "import sys, symcount, symcount.keras, symcount.spec, symcount.cli; " \
           "print(sorted(m for m in ('torch', 'keras', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
