"""symcount: parameter counts, output shapes and costs of neural networks as exact
SymPy expressions, with derivations.

    import symcount as sc
    from symcount.keras import Input, Sequential, Conv2D, Flatten, Dense

    H, W, classes = sc.dims("H W classes")
    model = Sequential([Input((H, W, 3)), Conv2D(32, 3), Flatten(), Dense(classes)])
    c = model.count()          # c.total is a SymPy expression in H, W, classes
    c.subs(H=32, W=32, classes=10).total
"""

from .count import Count
from .dims import dim, dims
from .errors import ArgumentError, ShapeError, SpecError, SubstitutionError, SymcountError
from .graph import Block, Model, Repeat, Sequential
from .layer import InputLayer, Layer, Weight
from .printing import notation
from . import zoo  # noqa: E402 — the registry only; entries load on first use


def Input(shape=None, batch_size=None, name=None) -> InputLayer:
    """A model input of ``shape`` (without the batch axis): ``Input((H, W, 3))``."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name)


def count(model, **values) -> Count:
    """``model.count()``, then the given dims substituted: ``sc.count(model, H=224)``."""
    result = model.count()
    return result.subs(**values) if values else result

def __getattr__(name):
    """``sc.scaling`` is imported on first use (it brings NumPy for sweeps);
    ``sc.from_torch`` and ``sc.from_keras`` (``sc.importers``) too: torch is imported
    only when a torch module is imported."""
    import importlib

    if name == "scaling" or name == "importers":
        return importlib.import_module(f".{name}", __name__)
    if name in ("from_torch", "from_keras", "from_hf"):
        return getattr(importlib.import_module(".importers", __name__), name)
    raise AttributeError(f"module 'symcount' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "Block",
    "Count",
    "Input",
    "Model",
    "Repeat",
    "count",
    "notation",
    "Layer",
    "Sequential",
    "ShapeError",
    "SpecError",
    "SubstitutionError",
    "SymcountError",
    "Weight",
    "dim",
    "dims",
    "from_keras",
    "from_torch",
    "from_hf",
    "zoo",
]
