"""``sc.from_keras`` against Keras: models saved with ``model.save("x.keras")`` and
``model.to_json()`` are imported in a process where Keras is never imported, and give
Keras's own ``count_params()``, trainable count and output shapes. Malformed files are
errors naming the file; nothing in a file is run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sympy

import symcount as sc
from symcount.cli import main
from symcount.errors import SpecError
from symcount.importers import SymcountImportWarning

ROOT = Path(__file__).resolve().parents[2]


def seed_cnn(keras, H=64, classes=10):
    """The seed CNN's layers (examples/seed_cnn.yaml), smaller."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((H, H, 3)),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D((3, 3)), layers.Dropout(0.25),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D((2, 2)), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dropout(0.5), layers.Dense(classes, activation="softmax"),
    ], name="seed_cnn")


def residual_block(keras):
    """A Functional ResNet basic block with a classifier."""
    layers = keras.layers
    x = keras.Input((32, 32, 16))
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(16, 3, padding="same", use_bias=False)(y))
    z = layers.ReLU()(layers.Add()([x, y]))
    return keras.Model(x, layers.Dense(10)(layers.GlobalAveragePooling2D()(z)), name="resblock")


def nested(keras):
    """A model inside a model (called twice, shared), a Lambda, a frozen nested Sequential."""
    layers = keras.layers
    x = keras.Input((16, 16, 8))
    y = layers.Add()([x, layers.Conv2D(8, 3, padding="same")(x)])
    inner = keras.Model(x, layers.Lambda(lambda t: t * 2)(y), name="inner")
    a = keras.Input((16, 16, 8))
    features = layers.GlobalAveragePooling2D()(inner(inner(a)))
    head = keras.Sequential([keras.Input((3,)), layers.Dense(4)], name="head")
    head.trainable = False
    return keras.Model(a, head(layers.Dense(3)(features)), name="outer")


def two_inputs(keras):
    """Two inputs through one shared Dense (its weights count once), concatenated; two outputs."""
    layers = keras.layers
    a, b = keras.Input((12,), name="left"), keras.Input((12,), name="right")
    shared = layers.Dense(6, name="shared")
    joined = layers.Concatenate()([shared(a), shared(b)])
    return keras.Model([a, b], [layers.Dense(2)(joined), layers.Dense(1)(joined)], name="siamese")


def facts(model) -> dict:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    shape = model.output_shape[-1] if isinstance(model.output_shape, list) else model.output_shape
    return {"total": model.count_params(), "trainable": trainable, "output_shape": list(shape)}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The models saved both ways, with Keras's own numbers."""
    keras = pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("keras_models")
    numbers = {}
    for make in (seed_cnn, residual_block, nested, two_inputs):
        model = make(keras)
        model.save(folder / f"{model.name}.keras")
        (folder / f"{model.name}.json").write_text(model.to_json(), encoding="utf-8")
        numbers[model.name] = facts(model)
    numbers["seed_cnn_96_7"] = facts(seed_cnn(keras, H=96, classes=7))
    return folder, numbers


IMPORT_SCRIPT = r"""
import json, sys, warnings
import symcount as sc

folder = sys.argv[1]
out = {}
for name in ("seed_cnn", "resblock", "outer", "siamese"):
    for ext in ("keras", "json"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            count = sc.from_keras(f"{folder}/{name}.{ext}").count()
        out[f"{name}.{ext}"] = {
            "total": int(count.total), "trainable": int(count.trainable),
            "output_shape": [None if s is None else int(s) for s in count.output_shape],
            "warnings": [str(w.message) for w in caught],
        }
model = sc.from_keras(f"{folder}/seed_cnn.keras", dims={"classes": 10, "H": 64})
count = model.count()
out["dims"] = {"total": str(count.total), "output_shape": [str(s) for s in count.output_shape],
               "at_values": int(count.subs(model.values).total),
               "at_96_7": [int(count.subs(H=96, classes=7).total), int(count.subs(H=96, classes=7).trainable)]}
out["keras imported"] = "keras" in sys.modules
out["torch imported"] = "torch" in sys.modules
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def imported(saved):
    folder, _ = saved
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, str(folder)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


pytestmark = pytest.mark.oracle


def test_files_are_imported_without_keras(imported):
    assert imported["keras imported"] is False
    assert imported["torch imported"] is False  # nor its backend


@pytest.mark.parametrize("name", ["seed_cnn", "resblock", "outer", "siamese"])
@pytest.mark.parametrize("ext", ["keras", "json"])
def test_imported_counts_and_shapes_are_keras_own(saved, imported, name, ext):
    _, numbers = saved
    got = imported[f"{name}.{ext}"]
    assert {k: got[k] for k in ("total", "trainable", "output_shape")} == numbers[name]


def test_lambda_layer_is_reported_as_opaque(imported):
    assert any("Lambda" in w and "opaque" in w and "never run" in w for w in imported["outer.keras"]["warnings"])
    assert imported["seed_cnn.keras"]["warnings"] == []


def test_dims_make_the_file_a_formula(saved, imported):
    _, numbers = saved
    dims = imported["dims"]
    assert dims["output_shape"] == ["None", "classes"]
    assert "classes" in dims["total"] and "H" in dims["total"]
    assert dims["at_values"] == numbers["seed_cnn"]["total"]
    assert dims["at_96_7"] == [numbers["seed_cnn_96_7"]["total"], numbers["seed_cnn_96_7"]["trainable"]]


def test_a_live_model_and_its_json_string(saved):
    keras = pytest.importorskip("keras")
    _, numbers = saved
    model = residual_block(keras)
    assert sc.from_keras(model).count().total == numbers["resblock"]["total"]
    assert sc.from_keras(model.to_json()).count().total == numbers["resblock"]["total"]


def test_lambda_code_is_never_run(saved):
    folder, numbers = saved
    data = json.loads((folder / "outer.json").read_text(encoding="utf-8"))
    text = json.dumps(data)
    assert '"__lambda__"' in text
    poisoned = json.loads(text.replace('"__lambda__"', '"__not_code__"').replace('"code": "', '"code": "!!'))
    with pytest.warns(SymcountImportWarning, match="Lambda.*opaque"):
        assert sc.from_keras(poisoned).count().total == numbers["outer"]["total"]


# ---------------------------------------------------------------------------
# Malformed files: errors naming the file and what is wrong
# ---------------------------------------------------------------------------


def test_truncated_keras_file(saved, tmp_path):
    folder, _ = saved
    whole = (folder / "seed_cnn.keras").read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SpecError, match=re.escape(str(path)) + r": not a readable \.keras file"):
        sc.from_keras(path)


def test_keras_file_without_config(tmp_path):
    path = tmp_path / "empty.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(SpecError, match=re.escape(str(path)) + ": not a Keras model file: the archive has no "
                                                               "config.json"):
        sc.from_keras(path)


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "expected a Keras model: a JSON object with class_name and config. Received: list"),
    ('{"class_name": "Dense", "config": {}}', "expected a Keras model .class_name Sequential or Functional"),
    ('{"name": "x"}', "Received: keys name"),
    ('{"class_name": "Sequential", "config": {"layers": 3}}', "a Sequential model needs a list of layers"),
    ("{not json", "not valid JSON"),
])
def test_json_of_the_wrong_shape(tmp_path, content, message):
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(str(path)) + ": .*" + message):
        sc.from_keras(path)


def test_unknown_class_name(saved, tmp_path):
    folder, _ = saved
    data = json.loads((folder / "seed_cnn.json").read_text(encoding="utf-8"))
    data["config"]["layers"][3]["class_name"] = "FancyPooling"
    path = tmp_path / "fancy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(str(path)) + r": seed_cnn › layers\[3\] \(max_pooling2d\): "
                                        r"unknown class_name 'FancyPooling'"):
        sc.from_keras(path)


def test_functional_graph_naming_a_missing_layer(saved, tmp_path):
    folder, _ = saved
    text = (folder / "resblock.json").read_text(encoding="utf-8")
    path = tmp_path / "broken.json"
    path.write_text(text.replace('"keras_history": ["add"', '"keras_history": ["nowhere"'), encoding="utf-8")
    with pytest.raises(SpecError, match=re.escape(str(path)) + r": .*\['nowhere', 0, 0\] is not produced"):
        sc.from_keras(path)


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_counts_a_keras_file_with_dims(saved, capsys):
    folder, numbers = saved
    assert main(["count", str(folder / "seed_cnn.keras"), "--dims", "classes=10,H=64"]) == 0
    printed = capsys.readouterr().out
    assert "129*classes" in printed and f"{numbers['seed_cnn']['total']:,}" in printed
    assert main(["count", str(folder / "seed_cnn.keras"), "--dims", "classes=10", "--dims", "H=64",
                 "--set", "H=96", "--set", "classes=7"]) == 0
    assert f"{numbers['seed_cnn_96_7']['total']:,}" in capsys.readouterr().out


def test_cli_takes_keras_json_and_reports_lambda(saved, capsys):
    folder, numbers = saved
    assert main(["count", str(folder / "outer.json")]) == 0
    out, err = capsys.readouterr()
    assert f"{numbers['outer']['total']:,}" in out or str(numbers["outer"]["total"]) in out
    assert "warning: from_keras" in err and "Lambda" in err


def test_cli_errors_on_a_truncated_file(tmp_path, capsys):
    path = tmp_path / "cut.keras"
    path.write_bytes(b"PK\x03\x04 not really")
    assert main(["count", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: not a readable .keras file")


def test_cli_dims_only_for_keras_files(capsys):
    assert main(["count", "keras:VGG16", "--dims", "classes=10"]) == 2
    assert "--dims names the sizes of a Keras model file" in capsys.readouterr().err


def test_symbolic_dims_are_dims():
    # a formula's dims are symcount dims (positive integers), substitutable by name
    data = {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 5], "name": "input"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, "use_bias": True}}]}}
    model = sc.from_keras(data, dims={"n_in": 5, "units": 3})
    assert sympy.expand(model.count().total - (sc.dim("n_in") + 1) * sc.dim("units")) == 0
    assert model.values == {"n_in": 5, "units": 3}


def test_dims_sharing_a_value_take_the_input_axes_in_order(saved):
    folder, _ = saved
    count = sc.from_keras(folder / "seed_cnn.json", dims={"H": 64, "W": 64}).count()
    H, W = sc.dims("H W")
    assert count.layers[0].input_shape == (None, H, W, 3)
    assert count.layers[0].output_shape == (None, H, W, 32)
