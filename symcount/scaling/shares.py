"""Shares: the fraction of a model's parameters or costs in each block or layer type.

    >>> s = shares(count, by="type")             # Embedding, Linear, LayerNorm, …
    >>> s.parts["Linear"]                        # an expression
    >>> s.at(n_embd=768, n_layer=12, …)          # exact fractions that add up to 1
    >>> s.limit(grow=["n_embd", "n_layer"])      # the fractions as the dims grow together

Parts are sums over the count's records (each ``× repeat``; a shared layer's
parameters once): ``part / total`` is a part's share, and its limit is the ratio of
the leading terms when the part grows as fast as the total, else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Expr, Integer

from ..count import Count
from ..errors import ArgumentError
from .common import QUANTITIES, as_int, bind, percent, record_quantities
from .asymptotics import leading

#: how records are grouped: by block path, by layer type, or one part per layer
GROUPINGS = ("block", "type", "layer")


def _label(record, by, depth: int) -> str:
    if callable(by):
        return str(by(record))
    if by == "type":
        return record.type
    if by == "layer":
        return "/".join((*record.path, record.name))
    return "/".join(record.path[:depth]) if record.path else record.name


@dataclass(frozen=True)
class Shares:
    """Parts of a quantity (``what``) of a count, by label; ``total`` is their sum."""

    what: str
    by: str
    parts: dict[str, Expr]

    @property
    def total(self) -> Expr:
        return sympy.Add(*self.parts.values())

    @property
    def fractions(self) -> dict[str, Expr]:
        """Each part over the total, as expressions."""
        total = self.total
        return {k: v / total for k, v in self.parts.items()}

    def values(self, values: dict | None = None, **kwargs) -> dict[str, int]:
        """Each part as an exact integer at a configuration."""
        return {k: as_int(v) for k, v in self._at(values, kwargs).items()}

    def at(self, values: dict | None = None, **kwargs) -> dict:
        """Each part's share at a configuration, as exact fractions adding up to 1."""
        numbers = self._at(values, kwargs)
        total = sympy.Add(*numbers.values())
        if total == 0:
            raise ArgumentError(f"shares: the total {self.what} is 0 at these values")
        return {k: as_int(v / total) for k, v in numbers.items()}

    def _at(self, values, kwargs) -> dict:
        symbols = {s.name: s for s in self.total.free_symbols}
        mapping = bind(symbols, {**(values or {}), **kwargs}, "shares: ", strict=False)
        numbers = {k: v.xreplace(mapping) for k, v in self.parts.items()}
        missing = sorted({s.name for v in numbers.values() for s in v.free_symbols})
        if missing:
            raise ArgumentError(f"shares: give every dim a value; missing: {', '.join(missing)}")
        return numbers

    def limit(self, grow) -> dict[str, Expr]:
        """Each share's limit as the dims in ``grow`` grow together: the ratio of the
        part's leading term to the total's when their degrees agree, 0 when the part
        grows more slowly (GPT-2's embeddings as ``n_embd`` and ``n_layer`` grow)."""
        whole = leading(self.total, grow)
        result = {}
        for k, v in self.parts.items():
            if v.is_number or not any(g in v.free_symbols for g in whole.grow):
                result[k] = Integer(0) if whole.degree > 0 else sympy.cancel(v / whole.term)
                continue
            part = leading(v, [g.name for g in whole.grow if g in v.free_symbols])
            if part.degree < whole.degree:
                result[k] = Integer(0)
            elif part.degree > whole.degree:
                result[k] = sympy.oo
            else:
                result[k] = sympy.factor_terms(sympy.cancel(part.term / whole.term))
        return result

    def table(self, values: dict | None = None, **kwargs) -> str:
        """A text table: label, part, share (at a configuration when given)."""
        if values or kwargs:
            numbers, fractions = self.values(values, **kwargs), self.at(values, **kwargs)
            rows = [(k, f"{numbers[k]:,}", percent(fractions[k])) for k in self.parts]
        else:
            rows = [(k, str(v), "") for k, v in self.parts.items()]
        width = max([len(self.by)] + [len(r[0]) for r in rows])
        value_width = max([len(self.what)] + [len(r[1]) for r in rows])
        lines = [f"{self.by:<{width}}  {self.what:>{value_width}}  share"]
        lines += [f"{a:<{width}}  {b:>{value_width}}  {c}".rstrip() for a, b, c in rows]
        return "\n".join(lines)


def shares(count: Count, by: str | Callable = "block", what: str = "total", depth: int = 1,
           causal: bool = False) -> Shares:
    """The parts of ``what`` (``total``, ``trainable``, ``macs``, ``flops``,
    ``training_flops``) of ``count``, grouped ``by``:

    - ``"block"``: block path up to ``depth`` levels (``h`` for GPT-2's repeated
      block; a layer outside any block is a part of its own, ``wte``);
    - ``"type"``: layer type (``Embedding``, ``Linear``, ``LayerNorm``, …);
    - ``"layer"``: each layer;
    - a function of a :class:`~symcount.layer.LayerRecord` returning a label.

    Parts that are zero are left out; the parts add up to the count's ``what``.
    """
    if not isinstance(count, Count):
        raise ArgumentError(f"shares: expected a Count (records to group). Received: {type(count).__name__}")
    if not callable(by) and by not in GROUPINGS:
        raise ArgumentError(f"shares: by must be one of {', '.join(GROUPINGS)} or a function. Received: {by!r}")
    if what not in QUANTITIES:
        raise ArgumentError(f"shares: unknown quantity what={what!r}. Expected one of: {', '.join(QUANTITIES)}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ArgumentError(f"shares: depth must be a positive integer. Received: {depth!r}")
    parts: dict[str, list] = {}
    for record, value in zip(count.layers, record_quantities(count, what, causal)):
        if value != 0:
            parts.setdefault(_label(record, by, depth), []).append(value)
    label = getattr(by, "__name__", "part") if callable(by) else by
    return Shares(what, label, {k: sympy.Add(*v) for k, v in parts.items()})
