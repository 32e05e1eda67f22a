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




def from_hf(config, *, seq_len="seq_len", task=None, name=None, kv_cache=True):
    from .hf import from_hf as _from_hf

    return _from_hf(config, seq_len=seq_len, task=task, name=name, kv_cache=kv_cache)


def from_keras(model_or_path, dims=None, *, name=None):
    from ._keras import from_keras as _from_keras

    return _from_keras(model_or_path, dims, name=name)



def _documented() -> None:
    """Each public function carries the docstring of the function it calls (the modules
    are read, not the frameworks imported: torch and Keras stay unimported)."""
    from ._keras import from_keras as keras_importer
    from ._torch import from_torch as torch_importer
    from .hf import from_hf as hf_importer

    from_torch.__doc__ = torch_importer.__doc__
    from_keras.__doc__ = keras_importer.__doc__
    from_hf.__doc__ = hf_importer.__doc__


_documented()

__all__ = ["Frozen", "Opaque", "Recorded", "SymcountImportWarning", "from_hf", "from_keras", "from_torch"]
