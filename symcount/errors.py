"""The one exception family of symcount.

Every message names where the problem is (a layer by name and position, or a file
entry), what was received and what was needed, so a user sees their own mistake
without reading symcount's code. Each subclass also derives from the built-in
exception a Python user would try to catch (``ValueError``, ``TypeError``).
"""

from __future__ import annotations


class SymcountError(Exception):
    """Base of every error symcount raises for a user mistake."""


class ShapeError(SymcountError, ValueError):
    """A layer cannot take the shape it received (rank, size, divisibility)."""


class ArgumentError(SymcountError, ValueError):
    """A layer argument has the wrong type or value."""


class SpecError(SymcountError, ValueError):
    """An architecture file is malformed: unknown layer, argument, name or syntax."""


class SubstitutionError(SymcountError, ValueError):
    """Values given for dims are not positive integers, are missing, or break a
    validity condition of the closed form."""
