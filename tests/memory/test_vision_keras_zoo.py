"""The zoo's ``keras:`` entries against ``keras.applications`` (torch backend, training,
``weights=None``) under ``saved_tensors_hooks``: ``memory(device="cpu").activations`` of
the symbolic count substituted at the model's input size equals the bytes autograd saves.

Keras's torch backend copies a channels-last input to channels-first before each
convolution and pooling unless the copy would be a no-op (one channel, or one spatial
position); symcount decides that where the sizes are numbers and takes a symbolic size
as the common case, a copy: the sizes here keep the last stage at 2×2 or more."""

from __future__ import annotations

import keras
import pytest

import symcount.zoo as zoo
from tests.keras.saved_truth import keras_saved_bytes

BATCH = 2
pytestmark = pytest.mark.oracle


def check(name, constructor, h, w):
    count = zoo.symbolic(f"keras:{name}")
    values = {k: v for k, v in {"H": h, "W": w, "classes": 10}.items() if k in {d.name for d in count.dims}}
    memory = count.subs(**values).memory(device="cpu", batch_size=BATCH)
    assert memory.undeclared == ()
    model = constructor(input_shape=(h, w, 3), weights=None, classes=10)
    truth = keras_saved_bytes(model, (BATCH, h, w, 3))
    assert int(memory.activations) == truth, (name, h, w)


def test_mobilenet_v2():
    check("MobileNetV2", keras.applications.MobileNetV2, 64, 72)
