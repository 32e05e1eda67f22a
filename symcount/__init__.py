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
from .graph import Sequential
from .layer import Layer, Weight

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "Count",
    "Layer",
    "Sequential",
    "ShapeError",
    "SpecError",
    "SubstitutionError",
    "SymcountError",
    "Weight",
    "dim",
    "dims",
]
