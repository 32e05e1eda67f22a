"""The zoo's VGG, ResNet and MobileNet entries against keras.applications (Keras 3, torch backend).

For each entry at its default configuration and at others (classes, include_top with
each pooling, input sizes of both parities, alpha, depth_multiplier), the symbolic
closed form substituted (``symcount.zoo.get``) must equal what Keras builds: the total,
trainable and non-trainable counts, the output shape, and layer by layer the name,
parameter count, output shape and named weights; for some configurations, the forward
FLOPs torch's FlopCounterMode counts when Keras's model runs. Keras is the independent
source: ``keras.applications.X(weights=None, …)`` built on the ``meta`` device (shapes
only, no random initialization) and read through its own API.
"""

from __future__ import annotations

import pytest

import symcount.zoo as zoo
from symcount.errors import ArgumentError, SubstitutionError

from .keras_applications import case_id, keras_application, keras_case, symcount_facts

pytestmark = pytest.mark.oracle

# (entry, arguments); each entry at its default configuration and at least two others
CASES = [
    ("VGG16", {}),
    ("VGG16", {"classes": 10, "H": 48, "W": 80}),
    ("VGG16", {"include_top": False, "pooling": "max", "H": 64, "W": 45}),
    ("VGG19", {}),
    ("VGG19", {"include_top": False, "H": 32, "W": 32}),
    ("VGG19", {"classes": 7, "H": 64, "W": 64}),
    ("ResNet50", {}),
    ("ResNet50", {"classes": 10, "H": 160, "W": 160}),
    ("ResNet50", {"include_top": False, "pooling": "avg", "H": 97, "W": 75}),
    ("ResNet101", {}),
    ("ResNet101", {"include_top": False, "pooling": "max", "H": 32, "W": 32}),
    ("ResNet101", {"classes": 3, "H": 65, "W": 128}),
    ("ResNet152", {}),
    ("ResNet152", {"include_top": False, "H": 64, "W": 33}),
    ("ResNet152", {"classes": 21, "H": 99, "W": 99}),
    ("ResNet50V2", {}),
    ("ResNet50V2", {"classes": 10, "H": 160, "W": 160}),
    ("ResNet50V2", {"include_top": False, "pooling": "avg", "H": 97, "W": 75}),
    ("ResNet101V2", {}),
    ("ResNet101V2", {"include_top": False, "pooling": "max", "H": 33, "W": 40}),
    ("ResNet101V2", {"classes": 5, "H": 50, "W": 51}),
    ("ResNet152V2", {}),
    ("ResNet152V2", {"include_top": False, "H": 64, "W": 47}),
    ("ResNet152V2", {"classes": 21, "H": 99, "W": 99}),
    ("MobileNet", {}),
    ("MobileNet", {"alpha": 0.5, "classes": 10, "H": 128, "W": 128}),
    ("MobileNet", {"alpha": 0.75, "depth_multiplier": 2, "include_top": False, "pooling": "avg", "H": 97, "W": 62}),
    ("MobileNet", {"alpha": 0.25, "include_top": False, "H": 35, "W": 32}),
    ("MobileNetV2", {}),
    ("MobileNetV2", {"alpha": 0.35, "include_top": False, "pooling": "max", "H": 96, "W": 96}),
    ("MobileNetV2", {"alpha": 1.3, "classes": 10, "H": 160, "W": 160}),
    ("MobileNetV2", {"alpha": 1.4, "include_top": False, "H": 101, "W": 66}),
    ("MobileNetV2", {"alpha": 0.75, "classes": 17, "H": 33, "W": 50}),
]


#: configurations whose forward FLOPs are also compared (a forward pass costs about a build)
FLOP_CASES = [
    ("VGG16", {"classes": 10, "H": 48, "W": 80}),
    ("ResNet50", {"include_top": False, "pooling": "avg", "H": 97, "W": 75}),
    ("ResNet50V2", {"classes": 10, "H": 160, "W": 160}),
    ("MobileNet", {"alpha": 0.75, "depth_multiplier": 2, "include_top": False, "pooling": "avg", "H": 97, "W": 62}),
    ("MobileNetV2", {"alpha": 1.4, "include_top": False, "H": 101, "W": 66}),
]


@pytest.fixture(scope="module", params=CASES, ids=[case_id(c) for c in CASES])
def case(request):
    """(symcount layers, symcount totals, Keras layers, Keras totals) for one configuration."""
    name, arguments = request.param
    ours = symcount_facts(zoo.get(f"keras:{name}", **arguments))
    return (*ours, *keras_case(name, tuple(arguments.items()), (name, arguments) in FLOP_CASES))


def test_totals_equal_keras_count_params(case):
    _, ours, _, theirs = case
    assert {k: ours[k] for k in ("total", "trainable", "non_trainable")} == \
        {k: theirs[k] for k in ("total", "trainable", "non_trainable")}


def test_output_shape_equals_keras(case):
    _, ours, _, theirs = case
    assert ours["output_shape"] == theirs["output_shape"]


@pytest.mark.parametrize("name, arguments", FLOP_CASES, ids=[case_id(c) for c in FLOP_CASES])
def test_forward_flops_equal_torch_flop_counter_on_keras(name, arguments):
    """Twice the closed form's multiply-accumulates is what FlopCounterMode counts when
    Keras's own model runs (torch backend): convolutions, depthwise ones, dense layers."""
    _, ours = symcount_facts(zoo.get(f"keras:{name}", **arguments))
    assert ours["flops"] == keras_case(name, tuple(arguments.items()), (name, arguments) in FLOP_CASES)[1]["flops"]


def test_every_keras_layer_by_name(case):
    """Names, parameters, output shapes and named weights of every layer, a repeated
    block standing for each of Keras's copies."""
    ours, _, theirs, _ = case
    assert sorted(ours) == sorted(theirs)
    assert ours == theirs


# ---------------------------------------------------------------------------
# Blocks, the closed form and its conditions
# ---------------------------------------------------------------------------


def test_resnet50_stage_totals_equal_keras_layers_by_prefix():
    """Blocks ``conv2`` … ``conv5`` total what Keras's layers named ``conv2_…`` hold."""
    blocks = zoo.get("keras:ResNet50").blocks(depth=1)
    layers, _ = keras_case("ResNet50", ())
    for stage in ("conv2", "conv3", "conv4", "conv5"):
        expected = sum(facts["params"] for name, facts in layers.items() if name.startswith(stage + "_"))
        assert blocks[(stage,)]["params"] == expected


@pytest.mark.parametrize("name", ["ResNet101", "MobileNetV2", "VGG19"])
def test_smallest_input_is_keras_min_size(name):
    """The closed form holds for H, W >= 32: Keras rejects 31 (and builds 32, in CASES)."""
    count = zoo.symbolic(f"keras:{name}", include_top=False)
    assert sorted(str(c) for c in count.conditions) == ["H >= 32", "W >= 32"]
    with pytest.raises(ValueError, match="at least 32x32"):
        keras_application(name, {"include_top": False, "H": 31, "W": 32})
    with pytest.raises(SubstitutionError, match="H >= 32"):
        zoo.get(f"keras:{name}", include_top=False, H=31, W=32)
    with pytest.raises(ValueError, match="at least 32x32"):
        keras_application(name, {"include_top": False, "H": 32, "W": 31})
    with pytest.raises(SubstitutionError, match="W >= 32"):
        zoo.get(f"keras:{name}", include_top=False, H=32, W=31)


@pytest.mark.parametrize("H", [32, 35])
def test_mobilenet_v2_correct_pad_follows_parity(H):
    """Keras pads a strided depthwise convolution by ``size % 2`` before and 1 after: the
    padded and convolved sizes agree with Keras for both parities (W has the other one)."""
    arguments = {"include_top": False, "alpha": 0.35, "H": H, "W": H + 1}
    ours, _ = symcount_facts(zoo.get("keras:MobileNetV2", **arguments))
    theirs, _ = keras_case("MobileNetV2", tuple(arguments.items()))
    strided = [name for name in theirs if name.endswith("_pad")]
    assert len(strided) == 4
    for name in strided:
        depthwise = name.replace("_pad", "_depthwise")
        assert ours[name]["output_shape"] == theirs[name]["output_shape"]
        assert ours[depthwise]["output_shape"] == theirs[depthwise]["output_shape"]


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["VGG19", "ResNet101V2", "MobileNet"])
def test_unknown_pooling_is_an_error(name):
    """Keras silently ignores an unknown pooling; symcount names it."""
    with pytest.raises(ArgumentError, match="pooling must be None, 'avg' or 'max'. Received: pooling='mean'"):
        zoo.get(f"keras:{name}", include_top=False, pooling="mean")


def test_alpha_must_be_positive():
    with pytest.raises(ArgumentError, match="alpha .* must be a positive number. Received: alpha=0"):
        zoo.get("keras:MobileNetV2", alpha=0)


def test_classes_is_no_dim_without_the_top():
    count = zoo.symbolic("keras:ResNet50", include_top=False, pooling="avg")
    assert sorted(d.name for d in count.dims) == ["H", "W"]
