"""Every public layer class of symcount.torch and symcount.keras declares the tensors its
backward saves (overrides ``Layer.saved``, whose ``None`` means "not declared"), so that a
new layer cannot be added without its memory rule. The composers (Block, Repeat) and the
inputs are not layers that run."""

from __future__ import annotations

import inspect

import pytest

import symcount.keras as K
import symcount.torch as T
from symcount.graph import Block, Repeat
from symcount.layer import InputLayer, Layer

NOT_RUN = (Block, Repeat, InputLayer)


def _public_layers(module):
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) and issubclass(value, Layer) and not issubclass(value, NOT_RUN):
            yield name, value


@pytest.mark.parametrize("module", [T, K], ids=["torch", "keras"])
def test_every_public_layer_declares_saved(module):
    layers = dict(_public_layers(module))
    assert len(layers) > 30
    undeclared = sorted(name for name, cls in layers.items() if cls.saved is Layer.saved)
    assert undeclared == []
