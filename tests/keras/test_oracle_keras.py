"""symcount's Keras-semantics layers against real Keras 3 (torch backend), layer by layer.

For the example architectures and for random stacks, every layer's name, output
shape, parameter count and named weights (shape and trainable flag), and the model's
totals, must equal what Keras builds. Keras is the independent source: the models are
built by Keras itself (untrained, uncompiled) and read through its own API.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import keras  # tests/conftest.py has set KERAS_BACKEND=torch before this import
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcount as sc
import symcount.keras as sk
from symcount.errors import ArgumentError, SubstitutionError, SymcountError
from symcount.spec import default_values, load

from .keras_builders import keras_sequential

pytestmark = pytest.mark.oracle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# ---------------------------------------------------------------------------
# Reading both sides into the same plain form
# ---------------------------------------------------------------------------


def keras_layers(model) -> list[dict]:
    """Per layer, what Keras reports: name, output shape, params, named weights."""
    return [
        {
            "name": layer.name,
            "output_shape": tuple(layer.output.shape),
            "params": layer.count_params(),
            # "conv2d/kernel": the end of the weight's path, the layer's name and the weight's
            "weights": {"/".join(w.path.split("/")[-2:]): (tuple(w.shape), w.trainable)
                        for w in layer.weights},
        }
        for layer in model.layers
    ]


def keras_totals(model) -> dict:
    return {
        "total": model.count_params(),
        "trainable": sum(math.prod(w.shape) for w in model.trainable_weights),
        "non_trainable": sum(math.prod(w.shape) for w in model.non_trainable_weights),
    }


def _int(size):
    return None if size is None else int(size)


def symcount_layers(count) -> list[dict]:
    """The same facts from a fully substituted symcount ``Count``."""
    return [
        {
            "name": record.name,
            "output_shape": tuple(_int(s) for s in record.output_shape),
            "params": int(record.params),
            "weights": {f"{record.name}/{w.name}": (tuple(int(s) for s in w.shape), w.trainable)
                        for w in record.weights if w.counts},
        }
        for record in count.layers
    ]


def symcount_totals(count) -> dict:
    return {"total": int(count.total), "trainable": int(count.trainable),
            "non_trainable": int(count.non_trainable)}


def fresh_keras_sequential(model, values):
    """Keras model from a symcount one, in a fresh Keras session so that Keras's
    automatic layer names start again at ``conv2d``, ``conv2d_1``, …"""
    keras.backend.clear_session(free_memory=False)
    return keras_sequential(model, values)


# ---------------------------------------------------------------------------
# The example architecture files
# ---------------------------------------------------------------------------

EXAMPLE_CASES = {
    "seed_cnn-256": ("seed_cnn.yaml", {"classes": 9}),
    "seed_cnn-97x61": ("seed_cnn.yaml", {"H": 97, "W": 61, "classes": 3}),
    "mlp": ("mlp.yaml", {}),
    "small_cnn": ("small_cnn.yaml", {}),
    "small_cnn-13x9": ("small_cnn.yaml", {"H": 13, "W": 9, "classes": 4}),
    "vgg16-224": ("vgg16.yaml", {}),
}


@pytest.fixture(scope="module", params=list(EXAMPLE_CASES), ids=list(EXAMPLE_CASES))
def example(request):
    """(symcount layers, symcount totals, Keras layers, Keras totals) for one example;
    the Keras model is built once per case (VGG16 allocates ~0.5 GB) and dropped after."""
    filename, extra = EXAMPLE_CASES[request.param]
    spec = load(EXAMPLES / filename)
    values = {**default_values(spec), **extra}
    count = spec.model.count().subs(**values)
    model = fresh_keras_sequential(spec.model, values)
    facts = (symcount_layers(count), symcount_totals(count), keras_layers(model), keras_totals(model))
    del model
    return facts


def test_example_has_one_record_per_keras_layer(example):
    ours, _, theirs, _ = example
    assert [r["name"] for r in ours] == [k["name"] for k in theirs]


def test_example_output_shapes_equal_keras(example):
    ours, _, theirs, _ = example
    assert [(r["name"], r["output_shape"]) for r in ours] == [(k["name"], k["output_shape"]) for k in theirs]


def test_example_layer_params_equal_keras_count_params(example):
    ours, _, theirs, _ = example
    assert [(r["name"], r["params"]) for r in ours] == [(k["name"], k["params"]) for k in theirs]


def test_example_weight_names_shapes_and_trainable_flags_equal_keras(example):
    ours, _, theirs, _ = example
    assert [(r["name"], r["weights"]) for r in ours] == [(k["name"], k["weights"]) for k in theirs]


def test_example_totals_equal_keras(example):
    _, ours, _, theirs = example
    assert ours == theirs


def seed_cnn(h, w, classes):
    """The 256×256×3 CNN of the seed article, written in Python with symcount.keras."""
    layers = [sk.Input((h, w, 3))]
    for pool in (3, 2, 2):
        layers += [sk.Conv2D(32, 3, padding="same", activation="relu"),
                   sk.Conv2D(32, (3, 3), padding="valid", activation="relu"),
                   sk.MaxPooling2D((pool, pool)), sk.Dropout(0.25)]
    layers += [sk.Flatten(), sk.Dense(512, activation="relu"), sk.Dropout(0.5),
               sk.Dense(128, activation="relu"), sk.Dropout(0.5), sk.Dense(classes, activation="softmax")]
    return sk.Sequential(layers, name="seed_cnn")


@pytest.mark.parametrize("symbolic", [False, True], ids=["ints", "dims"])
def test_seed_cnn_in_python_equals_keras(symbolic):
    values = {"H": 256, "W": 256, "classes": 9}
    if symbolic:
        H, W, classes = sc.dims("H W classes")
        count = seed_cnn(H, W, classes).count().subs(**values)
    else:
        count = seed_cnn(256, 256, 9).count()
    model = fresh_keras_sequential(seed_cnn(256, 256, 9), {})
    assert symcount_layers(count) == keras_layers(model)
    assert symcount_totals(count) == keras_totals(model)


# ---------------------------------------------------------------------------
# Random stacks
# ---------------------------------------------------------------------------

ACTIVATIONS = [None, "relu", "sigmoid", "tanh", "softmax", "gelu"]
SPATIAL_KINDS = ["Conv2D"] * 4 + ["MaxPooling2D", "AveragePooling2D"] * 2 + [
    "BatchNormalization", "Dropout", "Activation", "Flatten", "Dense"]
FLAT_KINDS = ["Dense"] * 3 + ["BatchNormalization", "Dropout", "Activation", "Flatten", "Conv2D",
                              "MaxPooling2D"]  # the last two: rank errors, rejected by both


def size_or_pair(low, high):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


@st.composite
def conv2d_args(draw, channels):
    # the simplest draw (0) is the valid choice: Hypothesis tries simple draws often
    if draw(st.integers(0, 5)) < 5:  # mostly groups dividing the channels, sometimes not
        groups = draw(st.sampled_from([g for g in range(1, min(channels, 8) + 1) if channels % g == 0]))
    else:
        groups = draw(st.integers(2, 4))
    if draw(st.integers(0, 5)) < 5:  # mostly filters a multiple of groups, sometimes any
        filters = groups * draw(st.integers(1, max(1, 8 // groups)))
    else:
        filters = draw(st.integers(1, 8))
    dilated = draw(st.integers(0, 4)) == 4  # with strides > 1 both frameworks reject it
    return {
        "filters": filters,
        "kernel_size": draw(size_or_pair(1, 4)),
        "strides": draw(size_or_pair(1, 3)),
        "padding": draw(st.sampled_from(["valid", "same"])),
        "dilation_rate": draw(size_or_pair(1, 2)) if dilated else 1,
        "groups": groups,
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "use_bias": draw(st.booleans()),
    }


@st.composite
def stacks(draw):
    """(H, W, C, [(Keras class name, constructor arguments), …]): a random channels-last stack."""
    h, w, c = draw(st.integers(1, 20)), draw(st.integers(1, 20)), draw(st.integers(1, 6))
    rank, channels, layers = 4, c, []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(SPATIAL_KINDS if rank == 4 else FLAT_KINDS))
        if kind == "Conv2D":
            args = draw(conv2d_args(channels))
            channels = args["filters"]
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            args = {"pool_size": draw(size_or_pair(1, 3)),
                    "strides": draw(st.one_of(st.none(), st.integers(1, 3))),
                    "padding": draw(st.sampled_from(["valid", "same"]))}
        elif kind == "BatchNormalization":
            # axis 0 (batch) and axes past the rank are rejected by both
            args = {"axis": draw(st.sampled_from([-1, 1, 2, 3, 0, 4])),
                    "center": draw(st.booleans()), "scale": draw(st.booleans())}
        elif kind == "Dropout":
            args = {"rate": draw(st.sampled_from([0.0, 0.25, 0.5]))}
        elif kind == "Activation":
            args = {"activation": draw(st.sampled_from(ACTIVATIONS[1:]))}
        elif kind == "Flatten":
            args, rank, channels = {}, 2, 1
        else:  # Dense
            args = {"units": draw(st.integers(1, 8)), "use_bias": draw(st.booleans())}
            channels = args["units"]
        layers.append((kind, args))
    return h, w, c, layers


def keras_build(h, w, c, layers):
    """Keras's layers and totals for the stack, or None when Keras rejects it."""
    keras.backend.clear_session(free_memory=False)
    try:
        model = keras.Sequential([keras.Input((h, w, c))]
                                 + [getattr(keras.layers, kind)(**args) for kind, args in layers])
    # IndexError: BatchNormalization's axis past the rank; TypeError: a missing argument
    except (ValueError, IndexError, TypeError):
        return None
    return keras_layers(model), keras_totals(model)


def symcount_count(shape, layers):
    """symcount's count of the stack on an input of ``shape``, or None when symcount rejects it."""
    try:
        return sk.Sequential([sk.Input(shape)] + [getattr(sk, kind)(**args) for kind, args in layers]).count()
    except SymcountError:
        return None


def symcount_build(shape, layers, values=None):
    """symcount's layers and totals for the stack (substituting ``values``), or None
    when symcount rejects it, at the latest when substituting."""
    count = symcount_count(shape, layers)
    if count is None:
        return None
    if values:
        try:
            count = count.subs(**values)
        except SubstitutionError:
            return None
    return symcount_layers(count), symcount_totals(count)


#: an input size at which the random stacks' convolutions and pools fit (almost) always
LARGE = 256


STACK_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])


@STACK_SETTINGS
@given(stacks())
def test_random_stack_equals_keras_layer_by_layer(stack):
    h, w, c, layers = stack
    theirs = keras_build(h, w, c, layers)
    ours = symcount_build((h, w, c), layers)
    assert ours == theirs, (h, w, c, layers)


@STACK_SETTINGS
@given(stacks())
def test_random_stack_with_symbolic_sizes_then_substituted_equals_keras(stack):
    """Symbolic H, W, then ``subs``: the same numbers as Keras, and a rejection exactly
    when Keras rejects: at ``count()`` only for stacks Keras rejects whatever the size,
    otherwise a SubstitutionError for the sizes Keras rejects."""
    h, w, c, layers = stack
    H, W = sc.dims("H W")
    theirs = keras_build(h, w, c, layers)
    if symcount_count((H, W, c), layers) is None:
        # rejected before any size is known: Keras must reject the stack at a large size too
        assert theirs is None and keras_build(LARGE, LARGE, c, layers) is None, (h, w, c, layers)
        return
    ours = symcount_build((H, W, c), layers, {"H": h, "W": w})
    assert ours == theirs, (h, w, c, layers)


EDGE_STACKS = {
    "groups-not-dividing-input-channels": (8, 8, 3, [("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2})]),
    "groups-not-dividing-filters": (8, 8, 4, [("Conv2D", {"filters": 3, "kernel_size": 3, "groups": 2})]),
    "grouped-conv": (8, 8, 4, [("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2})]),
    "depthwise-like-conv": (5, 7, 6, [("Conv2D", {"filters": 6, "kernel_size": (1, 3), "groups": 6})]),
    "same-kernel-larger-than-input": (2, 3, 1, [("Conv2D", {"filters": 2, "kernel_size": 5, "strides": 2,
                                                            "padding": "same"})]),
    "valid-kernel-larger-than-input": (2, 3, 1, [("Conv2D", {"filters": 2, "kernel_size": 3})]),
    "dilated-kernel-just-fits": (5, 5, 1, [("Conv2D", {"filters": 1, "kernel_size": 3, "dilation_rate": 2})]),
    "dilated-kernel-too-wide": (5, 4, 1, [("Conv2D", {"filters": 1, "kernel_size": 3, "dilation_rate": 2})]),
    "valid-pool-floors": (7, 9, 2, [("MaxPooling2D", {"pool_size": 3, "strides": 2})]),
    "valid-pool-larger-than-input": (2, 5, 2, [("AveragePooling2D", {"pool_size": 3})]),
    "same-pool-larger-than-input": (2, 2, 1, [("MaxPooling2D", {"pool_size": 3, "padding": "same"})]),
    "strided-chain-then-dense": (31, 17, 3, [("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2}),
                                             ("MaxPooling2D", {"pool_size": 2, "strides": 3}),
                                             ("Conv2D", {"filters": 2, "kernel_size": 2, "strides": 2,
                                                         "padding": "same"}),
                                             ("Flatten", {}), ("Dense", {"units": 3})]),
    "dense-on-image-acts-on-channels": (3, 4, 2, [("Dense", {"units": 5}), ("Flatten", {})]),
    "conv-after-flatten": (4, 4, 1, [("Flatten", {}), ("Conv2D", {"filters": 1, "kernel_size": 1})]),
    "pool-after-flatten": (4, 4, 1, [("Flatten", {}), ("MaxPooling2D", {})]),
    "conv-padding-in-any-case": (7, 7, 2, [("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "SAME"})]),
    "max-pool-padding-exact-case": (7, 7, 2, [("MaxPooling2D", {"padding": "SAME"})]),
    "average-pool-padding-exact-case": (7, 7, 2, [("AveragePooling2D", {"pool_size": 2, "padding": "Valid"})]),
    "max-pool-default-pool-size": (7, 5, 2, [("MaxPooling2D", {})]),
    "average-pool-needs-pool-size": (7, 5, 2, [("AveragePooling2D", {})]),
    "batchnorm-on-flat-input": (4, 4, 2, [("Flatten", {}), ("BatchNormalization", {})]),
    "batchnorm-on-height-axis": (6, 4, 2, [("BatchNormalization", {"axis": 1, "center": False})]),
    "batchnorm-on-batch-axis": (6, 4, 2, [("BatchNormalization", {"axis": 0})]),
}


@pytest.mark.parametrize("symbolic", [False, True], ids=["ints", "dims"])
@pytest.mark.parametrize("case", list(EDGE_STACKS))
def test_edge_stack_equals_keras(case, symbolic):
    h, w, c, layers = EDGE_STACKS[case]
    theirs = keras_build(h, w, c, layers)
    if symbolic:
        ours = symcount_build((*sc.dims("H W"), c), layers, {"H": h, "W": w})
    else:
        ours = symcount_build((h, w, c), layers)
    assert ours == theirs


@pytest.mark.parametrize("strides, dilation_rate", [(2, 2), ((1, 2), (2, 1)), (3, (1, 2))])
def test_strided_dilated_conv_is_rejected_like_keras(strides, dilation_rate):
    with pytest.raises(ValueError):
        keras.layers.Conv2D(4, 3, strides=strides, dilation_rate=dilation_rate)
    with pytest.raises(ArgumentError):
        sk.Conv2D(4, 3, strides=strides, dilation_rate=dilation_rate)


ORACLE_LAYERS = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization", "Dropout", "Activation",
                 "Flatten", "Dense"]


@pytest.mark.parametrize("kind", ORACLE_LAYERS)
def test_constructor_arguments_and_defaults_equal_keras(kind):
    """Each argument exists in Keras, is required exactly when Keras requires it, and
    has Keras's default (an int default standing for Keras's tuple of equal ints)."""
    ours = inspect.signature(getattr(sk, kind)).parameters
    theirs = inspect.signature(getattr(keras.layers, kind).__init__).parameters
    for name, parameter in ours.items():
        if name == "name":  # Keras takes it through **kwargs
            continue
        assert name in theirs, name
        default, keras_default = parameter.default, theirs[name].default
        if isinstance(keras_default, tuple) and isinstance(default, int):
            default = (default,) * len(keras_default)
        assert default == keras_default, name
    required = {n for n, p in theirs.items() if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD}
    assert {n for n, p in ours.items() if p.default is p.empty} == required - {"self"}


def test_activation_names_are_keras_public_activations():
    from symcount.keras.activations import KERAS_ACTIVATIONS

    public = {n for n in dir(keras.activations) if not n.startswith("_")} - {"get", "serialize", "deserialize"}
    assert KERAS_ACTIVATIONS == public
