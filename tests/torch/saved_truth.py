"""Ground truth for activation memory: the bytes of the distinct storages autograd packs
(``torch.autograd.graph.saved_tensors_hooks``) during a real CPU forward pass in training
mode, parameters and buffers excluded (the model's own input counts when it is saved)."""

from __future__ import annotations

import contextlib

import torch


def saved_storages(module, *args, call=None) -> dict:
    """``{storage address: (bytes, dtype)}`` of what autograd saves in ``module(*args)``
    (or ``call()``); the packed tensors are kept alive so that no address is reused."""
    params = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    seen, keep = {}, []

    def pack(t):
        keep.append(t)
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = (storage.nbytes(), t.dtype)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = call() if call is not None else module(*args)
    keep.append(out)
    return seen


def saved_bytes(module, *args, call=None) -> int:
    """Bytes autograd saves for one training forward pass of ``module``."""
    return sum(n for n, _ in saved_storages(module, *args, call=call).values())


@contextlib.contextmanager
def native_kernels():
    """torch's native CPU kernels: oneDNN off (its LSTM keeps an opaque workspace)."""
    with torch.backends.mkldnn.flags(enabled=False):
        yield


def inputs(*shapes, grad=True, integer=None):
    """Random float inputs (``requires_grad`` as inside a model), or integer ids below ``integer``."""
    torch.manual_seed(0)
    if integer is not None:
        return [torch.randint(0, integer, s) for s in shapes]
    return [torch.randn(*s, requires_grad=grad) for s in shapes]
