"""Keras layers symcount has no rule for (a user's custom layer, registered with
``register_keras_serializable``) are kept opaque with their own weights: read from a live
model, or from the ``model.weights.h5`` of a ``.keras`` file (with ``h5py``, in a process
that never imports Keras), each named in a warning and listed in ``count.uncounted``.
Without ``h5py``, such a file is a one-line error naming it; a file of known layers still
imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import symcount as sc
from symcount.importers import SymcountImportWarning

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.oracle

ROOT = Path(__file__).resolve().parents[2]


@keras.saving.register_keras_serializable(package="symcount_tests")
class Bilinear(keras.layers.Layer):
    """``x @ kernel + offset``: a trainable kernel and a non-trainable offset."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, shape):
        self.kernel = self.add_weight(shape=(shape[-1], self.units), name="kernel")
        self.offset = self.add_weight(shape=(self.units,), name="offset", trainable=False)

    def call(self, x):
        return x @ self.kernel + self.offset

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def custom_model(n_in=7):
    inputs = keras.Input((n_in,))
    x = keras.layers.Dense(5, name="d1")(inputs)
    x = Bilinear(3, name="mine")(x)
    inner = keras.Sequential([keras.layers.Dense(2, name="inner_d"), Bilinear(6, name="inner_mine")], name="inner")
    return keras.Model(inputs, inner(x), name="with_custom")


def known_model():
    return keras.Sequential([keras.Input((9,)), keras.layers.Dense(4), keras.layers.Dense(3)], name="known")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras_custom")
    custom_model().save(folder / "custom.keras")
    known_model().save(folder / "known.keras")
    return folder


def test_a_live_custom_layer_counts_its_weights_and_is_named():
    model = custom_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imported = sc.from_keras(model, dims={"n_in": 7})
    named = [str(w.message) for w in caught if issubclass(w.category, SymcountImportWarning)]
    assert len(named) == 2 and "mine (Bilinear" in named[0] and "inner_mine (Bilinear" in named[1]
    count = imported.count()
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert (int(count.subs(n_in=7).total), int(count.subs(n_in=7).trainable)) == (model.count_params(), trainable)
    # the formula holds where Keras builds the model again
    assert int(count.subs(n_in=11).total) == custom_model(11).count_params()
    assert count.output_shape == (None, 6)
    assert [(u.op, u.path) for u in count.uncounted] == [("Bilinear", "mine"), ("Bilinear", "inner_mine")]
    assert count.exact == {"params": True, "shapes": True, "flops": False, "training_flops": False}


FILE_SCRIPT = r"""
import json, sys, warnings
import symcount as sc
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    count = sc.from_keras(sys.argv[1]).count()
print(json.dumps({"total": int(count.total), "uncounted": [u.op + " " + u.path for u in count.uncounted],
                  "warnings": [str(w.message) for w in caught], "keras": "keras" in sys.modules}))
"""


def run(code, *args, block_h5py=False):
    prefix = "import sys; sys.modules['h5py'] = None\n" if block_h5py else ""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", prefix + code, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def test_a_custom_layer_in_a_file_counts_the_stored_weights_without_keras(saved):
    done = run(FILE_SCRIPT, saved / "custom.keras")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["total"] == custom_model().count_params() and not out["keras"]
    assert out["uncounted"] == ["Bilinear mine", "Bilinear inner_mine"]
    assert len(out["warnings"]) == 2 and all("read from the file" in w for w in out["warnings"])


def test_without_h5py_a_custom_layer_is_one_line_naming_it(saved):
    code = ("from symcount.cli import main\n"
            "raise SystemExit(main(['count', sys.argv[1]]))\n")
    done = run("import sys\n" + code, saved / "custom.keras", block_h5py=True)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1 and "h5py" in lines[0] and "pip install h5py" in lines[0], done.stderr
    known = run(FILE_SCRIPT, saved / "known.keras", block_h5py=True)
    assert known.returncode == 0, known.stderr
    assert json.loads(known.stdout)["total"] == known_model().count_params()


def test_a_json_cannot_count_a_layer_without_a_rule(tmp_path):
    path = tmp_path / "custom.json"
    path.write_text(custom_model().to_json(), encoding="utf-8")
    with pytest.raises(sc.SymcountError, match="unknown class_name 'Bilinear'.*import the .keras file or the live"):
        sc.from_keras(path)
