"""keras.applications and the zoo's Keras entries in the same plain form, for the
oracle tests of tests/zoo/test_keras_*.py: per layer name its parameter count, output
shape and named weights; the totals, the output shape and the forward FLOPs.

Keras is the independent source: ``keras.applications.X(weights=None, …)`` built on the
``meta`` device (shapes only, no random initialization) and read through its own API.
"""

from __future__ import annotations

import functools
import math
import re

import keras  # tests/conftest.py has set KERAS_BACKEND=torch before this import

import symcount.zoo as zoo

DIMS = ("H", "W")


def case_id(case) -> str:
    name, arguments = case
    return name + "".join(f"-{k}={v}" for k, v in arguments.items())


def keras_application(name: str, arguments: dict):
    """``keras.applications.<name>(weights=None, …)`` in a fresh session (automatic
    names from ``conv2d`` again), on the meta device: weights have shapes only."""
    kwargs = {k: v for k, v in arguments.items() if k not in DIMS}
    if any(k in arguments for k in DIMS):
        default = zoo.entry(f"keras:{name}").dims
        kwargs["input_shape"] = (arguments.get("H", default["H"]), arguments.get("W", default["W"]), 3)
    keras.backend.clear_session(free_memory=False)
    with keras.device("meta"):
        return getattr(keras.applications, name)(weights=None, **kwargs)


def keras_flops(model) -> int:
    """FLOPs of one forward pass of one example, by torch's FlopCounterMode (2 per
    multiply-accumulate of convolutions and matrix products), on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with keras.device("meta"), FlopCounterMode(display=False) as counter:
        model(torch.empty((1, *model.input_shape[1:]), device="meta"))
    return counter.get_total_flops()


def keras_facts(model, flops: bool = False) -> tuple[dict, dict]:
    layers = {
        layer.name: {
            "params": layer.count_params(),
            "output_shape": tuple(layer.output.shape),
            "weights": sorted((w.path.split("/")[-1], tuple(w.shape), w.trainable) for w in layer.weights),
        }
        for layer in model.layers
    }
    totals = {
        "total": model.count_params(),
        "trainable": sum(math.prod(w.shape) for w in model.trainable_weights),
        "non_trainable": sum(math.prod(w.shape) for w in model.non_trainable_weights),
        "output_shape": tuple(model.output.shape),
    }
    if flops:
        totals["flops"] = keras_flops(model)
    return layers, totals


@functools.lru_cache(maxsize=None)
def keras_case(name: str, arguments: tuple, flops: bool = False) -> tuple[dict, dict]:
    """Keras's facts for one configuration, built once per test session (the models
    themselves are dropped)."""
    return keras_facts(keras_application(name, dict(arguments)), flops=flops)


RUN = re.compile(r"^(.*?)(\d+)-(\d+)(.*)$")


def keras_names(record) -> list[str]:
    """The Keras layers a record stands for: ``conv4_block2-6_1_conv`` (repeated 5 times)
    is ``conv4_block2_1_conv`` … ``conv4_block6_1_conv``."""
    match = RUN.match(record.name)
    if not match:
        assert record.repeat == 1, record.name
        return [record.name]
    prefix, first, last, suffix = match.groups()
    names = [f"{prefix}{i}{suffix}" for i in range(int(first), int(last) + 1)]
    assert len(names) == record.repeat, record.name
    return names


def _int(size):
    return None if size is None else int(size)


def symcount_facts(count) -> tuple[dict, dict]:
    layers = {}
    for record in count.layers:
        facts = {
            "params": int(record.params),
            "output_shape": tuple(_int(s) for s in record.output_shape),
            "weights": sorted((w.name, tuple(int(s) for s in w.shape), w.trainable)
                              for w in record.weights if w.counts),
        }
        for name in keras_names(record):
            layers[name] = facts
    totals = {
        "total": int(count.total),
        "trainable": int(count.trainable),
        "non_trainable": int(count.non_trainable),
        "output_shape": tuple(_int(s) for s in count.output_shape),
        "flops": int(count.flops),
    }
    return layers, totals
