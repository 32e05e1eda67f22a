"""Whole Keras models (torch backend, training) against ``saved_tensors_hooks``, at two
sizes through the formula: ``memory(device="cpu", batch_size=B).activations`` of the
substituted count is exactly the bytes autograd saves, including what Keras saves once
per batch whatever its size (each 2-D convolution's kernel permuted into a copy,
BatchNormalization's three per-channel statistics), which is also checked against the
models' own kernels and channels."""

from __future__ import annotations

import keras
import pytest

import symcount as sc
import symcount.keras as K
from tests.keras.keras_builders import keras_sequential
from tests.keras.saved_truth import keras_saved_bytes

L = keras.layers


def per_batch(model) -> int:
    """Bytes Keras's torch backend saves once per batch: kernel copies of the 2-D
    convolutions, 3 fp32 statistics per BatchNormalization channel."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            total += 4 * int(layer.kernel.shape[0] * layer.kernel.shape[1] * layer.kernel.shape[2] *
                             layer.kernel.shape[3])
        if isinstance(layer, L.BatchNormalization):
            total += 3 * 4 * int(layer.gamma.shape[0])
    return total


def check(model, values, input_shape, batch):
    count = model.count().subs(**values)
    memory = count.memory(device="cpu", batch_size=batch)
    assert memory.undeclared == ()
    theirs = keras_sequential(model, values)
    truth = keras_saved_bytes(theirs, (batch, *input_shape))
    assert int(memory.activations) == truth, (values, batch)
    once = count.memory(device="cpu", batch_size=batch + 1).activations - memory.activations
    assert memory.activations - batch * once == per_batch(theirs)
    return int(memory.activations), truth


@pytest.mark.parametrize("rate", [0.0, 0.4])
def test_mlp(rate):
    n, hidden = sc.dims("n hidden")
    model = K.Sequential([K.Input((n,)), K.Dense(hidden, activation="relu"), K.Dropout(rate),
                          K.Dense(hidden, activation="gelu"), K.Dropout(rate), K.Dense(10, activation="softmax")])
    for values in ({"n": 12, "hidden": 20}, {"n": 7, "hidden": 33}):
        ours, truth = check(model, values, (values["n"],), 4)
        assert ours == truth


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_cnn(rate):
    H, W = sc.dims("H W")
    model = K.Sequential([
        K.Input((H, W, 3)), K.Conv2D(8, 3, activation="relu"), K.BatchNormalization(), K.MaxPooling2D(),
        K.Conv2D(16, 3, padding="same", activation="relu"), K.MaxPooling2D(padding="same"), K.Dropout(rate),
        K.Flatten(), K.Dense(10, activation="softmax"),
    ])
    for h, w in ((18, 21), (27, 15)):
        check(model, {"H": h, "W": w}, (h, w, 3), 3)
