"""Symbolization: the numbers of an imported model replaced by the user's dims.

``dims`` names sizes — ``{"d_model": 768, "d_ff": 3072}``, a Hugging Face config
object (its integer fields become dims: ``n_embd``, ``n_layer`` …) or a list of
these — and every size argument of an imported layer equal to a dim's value becomes
that dim. Where two dims share a value, provenance decides:

- a known module says which config field it was built from (``GPT2Attention``'s
  ``num_heads`` is ``num_attention_heads``, through the config's ``attribute_map``:
  ``n_head``);
- a dim naming an input axis (``seq_len``) is a shape, not a constructor argument:
  an argument matching it and a config field is the field;
- a repetition count (``len(ModuleList)``) prefers a dim named like a depth
  (``n_layer``, ``num_hidden_layers``, ``depth``);
- in an input shape, a value that several dims share and that occurs once per dim
  takes them in the order they were given (``H=224, W=224``: ``(H, W, 3)``).

What stays ambiguous is reported (one warning per value) and kept as the number, so
the count is right and the formula says less. Expressions a config implies
(``n_inner=None`` → ``4·n_embd``) are *derived* candidates, used when no dim matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy

from ..dims import dim
from ..errors import ArgumentError
from ._common import warn

#: config fields that are not sizes (token ids, flags that happen to be integers)
_NOT_SIZES = re.compile(r"(_id|_ids|_token|_index|_idx|_seed|_version|_steps|_length|_size_feed_forward)$")
#: names of a repetition count
DEPTH = re.compile(r"(layer|depth|block|stack)", re.IGNORECASE)


def is_config(value) -> bool:
    """A Hugging Face config (or an object like it): ``to_dict()`` and no mapping."""
    return not isinstance(value, Mapping) and callable(getattr(value, "to_dict", None))


def config_values(config) -> tuple[dict, dict]:
    """A config's integer size fields (name → value) and its aliases (``hidden_size`` → ``n_embd``)."""
    values = {}
    for name, value in config.to_dict().items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or name.startswith("_"):
            continue
        if _NOT_SIZES.search(name):
            continue
        values[name] = value
    aliases = dict(getattr(config, "attribute_map", None) or {})
    return values, aliases


class Symbols:
    """The dims of one import: values by name, aliases, derived expressions, input axes."""

    def __init__(self, values: dict | None = None, aliases: dict | None = None, source: str = "dims"):
        self.values: dict[str, int] = dict(values or {})
        self.aliases: dict[str, str] = dict(aliases or {})
        self.derived: list[tuple[int, sympy.Expr]] = []
        self.axes: set[str] = set()
        self.configs: list = []
        self.config_fields: set[str] = set()
        self.source = source
        self._warned: set = set()

    # -- construction ------------------------------------------------------------------

    @classmethod
    def parse(cls, dims, resolve=None, source: str = "dims") -> "Symbols":
        """``dims`` as given by the user: None, a mapping (name → int, or name → an
        attribute path that ``resolve`` turns into an int), a config, or a list of these
        (later entries win)."""
        symbols = cls(source=source)
        items = dims if isinstance(dims, (list, tuple)) else [dims]
        for item in items:
            if item is None:
                continue
            if is_config(item):
                values, aliases = config_values(item)
                symbols.values.update(values)
                symbols.config_fields.update(values)
                symbols.aliases.update(aliases)
                symbols.configs.append(item)
                continue
            if not isinstance(item, Mapping):
                raise ArgumentError(f"{source}: expected a mapping of dim name to value, or a config object. "
                                    f"Received: {item!r} ({type(item).__name__})")
            for name, value in item.items():
                dim(name)  # checks the name
                if isinstance(value, str) and resolve is not None:
                    value = resolve(name, value)
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ArgumentError(f"{source}: the value of {name} must be a positive integer"
                                        f"{' or an attribute path' if resolve else ''}. Received: {name}={value!r}")
                symbols.values[name] = value
                symbols.config_fields.discard(name)
        return symbols

    def symbol(self, name: str) -> sympy.Symbol:
        return dim(name)

    def field(self, hint: str) -> str | None:
        """The dim a config field (or one of its aliases) is called by, if the user has it."""
        name = self.aliases.get(hint, hint)
        return name if name in self.values else hint if hint in self.values else None

    def derive(self, value: int, expr) -> None:
        """A candidate expression for ``value`` (``4·n_embd`` for GPT-2's inner size)."""
        self.derived.append((int(value), expr))

    def axis(self, name: str, value: int | None = None) -> sympy.Symbol:
        """A dim naming an input axis (its value from ``dims``, or ``value``)."""
        if value is not None:
            self.values.setdefault(name, int(value))
        self.axes.add(name)
        return self.symbol(name)

    # -- matching --------------------------------------------------------------------------

    def candidates(self, value: int) -> list[str]:
        """The dims with this value. A config field of value 1 (``pretraining_tp``) is a
        dim only by provenance: 1 is every unit axis."""
        return [n for n, v in self.values.items() if v == value and not (v == 1 and n in self.config_fields)]

    def size(self, value, where: str = "", hint: str | None = None, quiet: bool = False):
        """``value`` as a dim (or derived expression) when exactly one matches, else as it
        is (``quiet``: an ambiguous value is not reported — a recorded shape's size)."""
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        if hint is not None:
            name = self.field(hint)
            if name is not None and self.values[name] == value:
                return self.symbol(name)
        names = self.candidates(value)
        if len(names) > 1:
            fields = [n for n in names if n not in self.axes]
            names = fields if len(fields) == 1 else names
        if len(names) == 1:
            return self.symbol(names[0])
        if len(names) > 1:
            if not quiet:
                self._ambiguous(value, names, where)
            return value
        derived = {expr for v, expr in self.derived if v == value}
        if len(derived) == 1:
            return derived.pop()
        return value

    def sizes(self, values, where: str = "", hint=None):
        """A tuple of sizes (``normalized_shape``), each symbolized."""
        if isinstance(values, (list, tuple)):
            return tuple(self.size(v, where, hint) for v in values)
        return self.size(values, where, hint)

    def shape(self, values, where: str = "") -> list:
        """The sizes of an input shape. A value that several dims share and that occurs as
        many times as there are such dims takes them in the order the dims were given
        (``H=224, W=224`` on ``(224, 224, 3)``: ``(H, W, 3)``); otherwise as :meth:`size`."""
        taken: dict = {}
        out = []
        for value in values:
            names = self.candidates(value) if isinstance(value, int) and not isinstance(value, bool) else []
            if len(names) > 1 and sum(1 for v in values if v == value) == len(names):
                k = taken[value] = taken.get(value, -1) + 1
                out.append(self.symbol(names[k]))
            else:
                out.append(self.size(value, where))
        return out

    def repeat(self, n: int, where: str = ""):
        """A repetition count as a dim, preferring depth-like names; None when no dim has it."""
        names = [name for name in self.candidates(n) if name not in self.axes]
        if len(names) > 1:
            depth = [name for name in names if DEPTH.search(name)]
            names = depth if len(depth) == 1 else names
        if len(names) == 1:
            return self.symbol(names[0])
        if len(names) > 1:
            self._ambiguous(n, names, where)
        return None

    def _ambiguous(self, value, names, where) -> None:
        key = (value, tuple(names))
        if key in self._warned:
            return
        self._warned.add(key)
        warn(f"symcount: {value} ({where}) is the value of several dims: {', '.join(names)}; it is kept as "
             f"the number. Give the dims distinct values or leave one out to make it a dim.")
