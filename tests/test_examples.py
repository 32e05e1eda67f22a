"""The four models of the articles that started symcount: exact totals and per-layer
numbers, each written out by hand in the articles (independent of symcount)."""

import pytest
import sympy

import symcount as sc
from symcount.keras import (Activation, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D,
                            Sequential)
from symcount.spec import load


def seed_cnn(h, w, classes):
    """The 256×256×3 CNN, written as a user would in Python."""
    layers = [Input((h, w, 3))]
    for pool in (3, 2, 2):
        layers += [Conv2D(32, 3, padding="same", activation="relu"),
                   Conv2D(32, 3, padding="valid", activation="relu"),
                   MaxPooling2D((pool, pool)), Dropout(0.25)]
    layers += [Flatten(), Dense(512, activation="relu"), Dropout(0.5),
               Dense(128, activation="relu"), Dropout(0.5), Dense(classes, activation="softmax")]
    return Sequential(layers, name="seed_cnn")


def params_by_name(count):
    return {r.name: int(r.params) for r in count.layers if int(r.params)}


SEED_PARAMS = {"conv2d": 3 * 3 * 3 * 32 + 32, "conv2d_1": 3 * 3 * 32 * 32 + 32,
               "conv2d_2": 9248, "conv2d_3": 9248, "conv2d_4": 9248, "conv2d_5": 9248,
               "dense": 11552 * 512 + 512, "dense_1": 512 * 128 + 128, "dense_2": 128 * 9 + 9}


def test_seed_cnn_numeric_matches_article():
    count = seed_cnn(256, 256, 9).count()
    assert int(count.total) == 6_029_097
    assert params_by_name(count) == SEED_PARAMS
    shapes = {r.name: r.output_shape for r in count.layers}
    assert shapes["conv2d_1"] == (None, 254, 254, 32)
    assert shapes["max_pooling2d"] == (None, 84, 84, 32)
    assert shapes["flatten"] == (None, 19 * 19 * 32)


def test_seed_cnn_symbolic_then_substituted_matches_article():
    H, W, classes = sc.dims("H W classes")
    count = seed_cnn(H, W, classes).count()
    assert count.total.free_symbols == {H, W, classes}
    n = count.subs(H=256, W=256, classes=9)
    assert int(n.total) == 6_029_097
    assert params_by_name(n) == SEED_PARAMS
    assert int(n.trainable) == 6_029_097 and int(n.non_trainable) == 0


def test_seed_cnn_closed_form_is_compact():
    """Three strided stages collapse to one floor per axis: floor((H - 32)/12) + 1."""
    H, W, classes = sc.dims("H W classes")
    total = seed_cnn(H, W, classes).count().total
    hand = 129 * classes + 32 * 512 * (sympy.floor((H - 32) / 12) + 1) * (sympy.floor((W - 32) / 12) + 1) + (
        896 + 5 * 9248 + 512 + 512 * 128 + 128)
    assert (total - hand).expand() == 0


@pytest.mark.parametrize("file, values, total, layer_params", [
    ("seed_cnn.yaml", {"classes": 9}, 6_029_097, [896, 9248, 9248, 9248, 9248, 9248, 5_915_136, 65_664, 1161]),
    ("mlp.yaml", {}, 209, [(4 + 1) * 7, (7 + 1) * 13, (13 + 1) * 5]),
    ("small_cnn.yaml", {}, 63_210, [3 * 2 * 1 * 32 + 32, 2 * 3 * 32 * 64 + 64, 2 * 2 * 64 * 64 + 64,
                                    2 * 2 * 64 * 128 + 128, 128 * 10 + 10]),
    ("vgg16.yaml", {}, 134_268_738, None),
])
def test_example_files_give_article_totals(examples, file, values, total, layer_params):
    spec = load(examples / file)
    count = spec.model.count().subs({**{k: v for k, v in spec.defaults.items() if v}, **values})
    assert int(count.total) == total
    if layer_params is not None:
        assert [int(r.params) for r in count.layers if int(r.params)] == layer_params


def test_vgg16_closed_form_in_classes_gives_imagenet_total(examples):
    """138,357,544 is VGG16's published parameter count (1000 classes)."""
    count = load(examples / "vgg16.yaml").model.count()
    assert int(count.subs(H=224, W=224, classes=1000).total) == 138_357_544


def test_mlp_activation_layers_have_no_weights():
    count = Sequential([Input((4,)), Dense(7), Activation("relu"), Dense(13)]).count()
    assert [int(r.params) for r in count.layers] == [35, 0, 104]
