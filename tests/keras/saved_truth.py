"""What autograd saves in a Keras layer or model on Keras's torch backend (training), by
``torch.autograd.graph.saved_tensors_hooks``: unique storages, the Keras variables'
storages excluded."""

from __future__ import annotations

import torch


def keras_saved_bytes(layer, shapes, integer=None, seed=0) -> int:
    """Bytes autograd saves when ``layer`` (a Keras layer or model) runs in training on
    random inputs of ``shapes`` (one shape, or a list for a layer of several inputs)."""
    several = isinstance(shapes, list)
    torch.manual_seed(seed)
    if integer is not None:
        tensors = [torch.randint(0, integer, s) for s in (shapes if several else [shapes])]
    else:
        tensors = [torch.randn(*s, requires_grad=True) for s in (shapes if several else [shapes])]
    arg = tensors if several else tensors[0]
    if not layer.built:
        layer.build([tuple(t.shape) for t in tensors] if several else tuple(tensors[0].shape))
    params = {w.value.untyped_storage().data_ptr() for w in layer.weights}
    seen, keep = {}, []

    def pack(t):
        keep.append(t)
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = layer(arg, training=True)
    keep.append(out)
    return sum(seen.values())


def per_example_and_batch(layer_factory, shape_of, integer=None) -> tuple[int, int]:
    """(bytes per example, bytes once per batch) of a fresh layer, from batches of 2 and 3:
    Keras also saves tensors whose size does not depend on the batch (a kernel's copy,
    per-channel statistics), which a per-example formula cannot hold."""
    two = keras_saved_bytes(layer_factory(), shape_of(2), integer)
    three = keras_saved_bytes(layer_factory(), shape_of(3), integer)
    return three - two, two - 2 * (three - two)
