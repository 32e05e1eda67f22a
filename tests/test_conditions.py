"""Validity conditions: the closed form states where it holds, and Keras agrees."""

import pytest

import symcount as sc
from symcount.errors import SubstitutionError
from symcount.spec import load


def keras_accepts(spec_model, h, w):
    """Whether Keras can build the same stack of layers at input (h, w, 3): Keras's own
    shape rules (compute_output_shape raises for a window that does not fit)."""
    import keras

    shape = (None, h, w, 3)
    try:
        for layer in spec_model.layers[1:]:
            config = {k: v for k, v in layer.config.items() if k != "name"}
            config = {k: (tuple(int(x) for x in v) if isinstance(v, tuple) else
                          int(v) if hasattr(v, "is_Integer") and v.is_Integer else v) for k, v in config.items()}
            if layer.type_name == "Dense":
                config["units"] = int(config["units"]) if not hasattr(config["units"], "free_symbols") else 3
            keras_layer = getattr(keras.layers, layer.type_name)(**config)
            shape = keras_layer.compute_output_shape(shape)
            if any(s is not None and s <= 0 for s in shape):
                return False
    except ValueError:
        return False
    return True


@pytest.mark.oracle
def test_vgg16_conditions_are_the_smallest_input_keras_accepts(examples):
    spec = load(examples / "vgg16.yaml")
    count = spec.model.count()
    bounds = {str(c.relation.lhs): int(c.relation.rhs) for c in count.conditions}
    assert set(bounds) == {"H", "W"}
    smallest = next(h for h in range(1, 80) if keras_accepts(spec.model, h, 64))
    assert bounds["H"] == smallest == 32
    assert not keras_accepts(spec.model, 64, bounds["W"] - 1) and keras_accepts(spec.model, 64, bounds["W"])
    with pytest.raises(SubstitutionError, match=r"needs H >= 32"):
        count.subs(H=31, W=224, classes=2)


@pytest.mark.oracle
def test_seed_cnn_conditions_match_keras_at_every_size(examples):
    spec = load(examples / "seed_cnn.yaml")
    count = spec.model.count()
    (condition_h,) = [c for c in count.conditions if str(c.relation.lhs) == "H"]
    for h in range(1, 60):
        ours = bool(condition_h.relation.subs(condition_h.relation.lhs, h))
        assert ours == keras_accepts(spec.model, h, 64), h


def test_conditions_name_the_layer_that_imposes_them(examples):
    count = load(examples / "seed_cnn.yaml").model.count()
    assert {str(c): c.needed_by for c in count.conditions} == {
        "H >= 32": ("max_pooling2d_2",), "W >= 32": ("max_pooling2d_2",)}
