"""Importers: a user's own model as a symcount model, its formula without re-describing it.

- :func:`from_torch` — a live ``torch.nn.Module`` (torch imported only here);
- :func:`from_keras` — a live Keras model, its architecture JSON (``model.to_json()``)
  or a ``.keras`` file, read with ``json`` and ``zipfile`` alone: Keras is not imported
  and nothing in the file is run.

What symcount cannot model is kept, never dropped: an unknown module or a Lambda layer
becomes an opaque layer of its own parameters, with a :class:`SymcountImportWarning`.
"""

from ._common import Frozen, Opaque, Recorded, SymcountImportWarning


def from_torch(module, input_shape=None, dims=None, *, dtype=None, name=None):
    from ._torch import from_torch as _from_torch

    return _from_torch(module, input_shape, dims, dtype=dtype, name=name)


from_torch.__doc__ = "See :func:`symcount.importers._torch.from_torch`."


def from_hf(config, *, seq_len="seq_len", task=None, name=None):
    from .hf import from_hf as _from_hf

    return _from_hf(config, seq_len=seq_len, task=task, name=name)


def from_keras(model_or_path, dims=None, *, name=None):
    from ._keras import from_keras as _from_keras

    return _from_keras(model_or_path, dims, name=name)


from_keras.__doc__ = "See :func:`symcount.importers._keras.from_keras`."

__all__ = ["Frozen", "Opaque", "Recorded", "SymcountImportWarning", "from_hf", "from_keras", "from_torch"]
