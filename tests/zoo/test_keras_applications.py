"""The zoo's Keras entries against keras.applications (Keras 3, torch backend).

For each entry — VGG, ResNet and ResNetV2, MobileNet and MobileNetV2, DenseNet,
InceptionV3, Xception, EfficientNetB0…B7 — at its default configuration and at others
(classes, include_top with each pooling, input sizes of both parities and non-square,
alpha, depth_multiplier), the symbolic closed form substituted (``symcount.zoo.get``) must
equal what Keras builds: the total, trainable and non-trainable counts, the output shape,
and layer by layer the name, parameter count, output shape and named weights; for some
configurations, the forward FLOPs torch's FlopCounterMode counts when Keras's model runs.
Keras is the independent source (tests/zoo/keras_applications.py).
"""

from __future__ import annotations

import math

import pytest
import sympy

import symcount.zoo as zoo
from symcount.errors import ArgumentError, SubstitutionError

from .keras_applications import DIMS, case_id, keras_application, keras_case, symcount_facts

pytestmark = pytest.mark.oracle

# (entry, arguments): each entry at its default configuration and at least two others;
# the include_top=True configurations of an entry share one symbolic build
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
    ("DenseNet121", {}),
    ("DenseNet121", {"classes": 10, "H": 97, "W": 61}),
    ("DenseNet121", {"include_top": False, "pooling": "avg", "H": 64, "W": 80}),
    ("DenseNet169", {}),
    ("DenseNet169", {"classes": 5, "H": 32, "W": 48}),
    ("DenseNet169", {"include_top": False, "pooling": "max", "H": 33, "W": 33}),
    ("DenseNet201", {}),
    ("DenseNet201", {"classes": 3, "H": 130, "W": 130}),
    ("DenseNet201", {"include_top": False, "H": 45, "W": 57}),
    ("InceptionV3", {}),
    ("InceptionV3", {"classes": 10, "H": 75, "W": 75}),
    ("InceptionV3", {"include_top": False, "pooling": "avg", "H": 139, "W": 100}),
    ("Xception", {}),
    ("Xception", {"classes": 7, "H": 71, "W": 100}),
    ("Xception", {"include_top": False, "pooling": "max", "H": 150, "W": 151}),
    ("EfficientNetB0", {}),
    ("EfficientNetB0", {"classes": 10, "H": 33, "W": 47}),
    ("EfficientNetB0", {"include_top": False, "pooling": "avg", "H": 64, "W": 97}),
    ("EfficientNetB1", {}),
    ("EfficientNetB1", {"classes": 2, "H": 32, "W": 65}),
    ("EfficientNetB1", {"include_top": False, "pooling": "max", "H": 95, "W": 40}),
    ("EfficientNetB2", {}),
    ("EfficientNetB2", {"classes": 100, "H": 63, "W": 63}),
    ("EfficientNetB2", {"include_top": False, "H": 50, "W": 77}),
    ("EfficientNetB3", {}),
    ("EfficientNetB3", {"classes": 10, "H": 41, "W": 32}),
    ("EfficientNetB3", {"include_top": False, "pooling": "avg", "H": 99, "W": 99}),
    ("EfficientNetB4", {}),
    ("EfficientNetB4", {"classes": 10, "H": 57, "W": 33}),
    ("EfficientNetB4", {"include_top": False, "pooling": "max", "H": 32, "W": 32}),
    ("EfficientNetB5", {}),
    ("EfficientNetB5", {"classes": 10, "H": 64, "W": 35}),
    ("EfficientNetB5", {"include_top": False, "H": 33, "W": 47}),
    ("EfficientNetB6", {}),
    ("EfficientNetB6", {"classes": 10, "H": 49, "W": 64}),
    ("EfficientNetB6", {"include_top": False, "pooling": "avg", "H": 37, "W": 32}),
    ("EfficientNetB7", {}),
    ("EfficientNetB7", {"classes": 10, "H": 32, "W": 33}),
    ("EfficientNetB7", {"include_top": False, "pooling": "max", "H": 45, "W": 64}),
]

#: configurations whose forward FLOPs are also compared (a forward pass costs about a build)
FLOP_CASES = [
    ("VGG16", {"classes": 10, "H": 48, "W": 80}),
    ("ResNet50", {"include_top": False, "pooling": "avg", "H": 97, "W": 75}),
    ("ResNet50V2", {"classes": 10, "H": 160, "W": 160}),
    ("MobileNet", {"alpha": 0.75, "depth_multiplier": 2, "include_top": False, "pooling": "avg", "H": 97, "W": 62}),
    ("MobileNetV2", {"alpha": 1.4, "include_top": False, "H": 101, "W": 66}),
    ("DenseNet121", {"classes": 10, "H": 97, "W": 61}),
    ("InceptionV3", {"include_top": False, "pooling": "avg", "H": 139, "W": 100}),
    ("Xception", {"classes": 7, "H": 71, "W": 100}),
    ("EfficientNetB0", {"classes": 10, "H": 33, "W": 47}),
    ("EfficientNetB3", {"include_top": False, "pooling": "avg", "H": 99, "W": 99}),
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
def test_smallest_input_is_32_for_both_axes(name):
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


@pytest.mark.parametrize("name", ["VGG19", "ResNet101V2", "MobileNet", "DenseNet121", "InceptionV3",
                                  "EfficientNetB0"])
def test_unknown_pooling_is_an_error(name):
    """Keras silently ignores an unknown pooling; symcount names it."""
    with pytest.raises(ArgumentError, match="pooling must be None, 'avg' or 'max'. Received: pooling='mean'"):
        zoo.get(f"keras:{name}", include_top=False, pooling="mean")


def test_alpha_must_be_positive():
    with pytest.raises(ArgumentError, match="alpha .* must be a positive number. Received: alpha=0"):
        zoo.get("keras:MobileNetV2", alpha=0)


@pytest.mark.parametrize("name", ["ResNet50", "Xception"])
def test_classes_is_no_dim_without_the_top(name):
    count = zoo.symbolic(f"keras:{name}", include_top=False, pooling="avg")
    assert sorted(d.name for d in count.dims) == ["H", "W"]


# ---------------------------------------------------------------------------
# Closed forms, by hand
# ---------------------------------------------------------------------------


def test_densenet_closed_forms_are_linear_in_classes_with_the_final_channels():
    """The classifier reads 1024 (121), 1664 (169) and 1920 (201) channels: 64 + 32 · blocks,
    halved by each transition (Huang et al., Table 1)."""
    for name, channels in (("DenseNet121", 1024), ("DenseNet169", 1664), ("DenseNet201", 1920)):
        total = zoo.symbolic(f"keras:{name}").total
        classes = next(s for s in total.free_symbols if s.name == "classes")
        assert sympy.Poly(total, classes).coeffs()[0] == channels + 1


@pytest.mark.parametrize("name, stem_filters, top_filters", [("EfficientNetB0", 32, 1280), ("EfficientNetB7", 64, 2560)])
def test_efficientnet_final_size_is_ceiling_of_a_32nd(name, stem_filters, top_filters):
    """Five strided stages, each ``correct_pad`` then a ``valid`` 3×3 or 5×5 convolution with
    stride 2, map ``n`` to ``ceil(n/2)``: the feature map is ``ceil(H/32) × ceil(W/32)``.
    The stem has ``round_filters(32)`` channels, the top ``round_filters(1280)``."""
    count = zoo.symbolic(f"keras:{name}", include_top=False)
    shape = count.layers[-1].output_shape
    H, W = (next(s for s in count.dims if s.name == n) for n in DIMS)
    assert shape[-1] == top_filters
    stem = next(r for r in count.layers if r.name == "stem_conv")
    assert stem.output_shape[-1] == stem_filters
    for h in range(1, 130):
        assert shape[1].subs(H, h) == math.ceil(h / 32)
        assert shape[2].subs(W, h) == math.ceil(h / 32)


def test_efficientnet_non_trainable_total_is_odd():
    """The Normalization layer's count is one scalar: 2 · 3 + 1 non-trainable weights beside
    the batch normalizations' moving statistics (4 · C each, even)."""
    count = zoo.get("keras:EfficientNetB0")
    normalization = next(r for r in count.layers if r.type == "Normalization")
    assert int(normalization.non_trainable) == 7
    assert int(count.non_trainable) % 2 == 1


@pytest.mark.parametrize("name, min_size", [("DenseNet121", 32), ("InceptionV3", 75), ("Xception", 71),
                                            ("EfficientNetB0", 32)])
def test_smallest_input_is_keras_min_size(name, min_size):
    """The closed form holds for H, W >= Keras's ``min_size`` (``obtain_input_shape``); one
    pixel less, both reject (the smallest sizes themselves are among the cases above)."""
    count = zoo.symbolic(f"keras:{name}", include_top=False)
    assert sorted(str(c) for c in count.conditions) == [f"H >= {min_size}", f"W >= {min_size}"]
    with pytest.raises(ValueError, match=f"at least {min_size}x{min_size}"):
        keras_application(name, {"include_top": False, "W": min_size - 1})
    with pytest.raises(SubstitutionError, match=f"W >= {min_size}"):
        zoo.get(f"keras:{name}", include_top=False, W=min_size - 1)
