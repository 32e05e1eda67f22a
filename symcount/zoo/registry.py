"""The zoo's registry: reference architectures by name (``keras:ResNet50``).

An entry is a builder function that composes symcount layers into a model, given
its *dims* (sizes that may stay symbolic: ``classes``, ``H``, ``n_layer`` …, each
with the default of the well-known configuration) and its *options* (structural
choices that must be concrete: ``include_top``, ``pooling``, ``alpha`` …). The
argument names are the frameworks' own. The builder receives every dim as a dim
symbol, so the model is built once, symbolically, and numbers come from ``subs``.

    @register("keras:VGG16", dims={"H": 224, "W": 224, "classes": 1000},
              options={"include_top": True, "pooling": None},
              source="keras.applications.VGG16(weights=None)")
    def vgg16(H, W, classes, include_top, pooling):
        return Model(...)
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from ..dims import dim
from ..errors import ArgumentError

#: the framework prefixes, each a subpackage of ``symcount.zoo`` whose modules register entries
FAMILIES = ("keras", "torchvision", "transformers", "megatron")


@dataclass(frozen=True)
class Entry:
    """One reference architecture: its builder, dims with defaults, options with defaults."""

    name: str
    builder: Callable
    dims: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    #: what the entry reproduces, e.g. ``keras.applications.ResNet50(weights=None)``
    source: str = ""

    @property
    def arguments(self) -> dict:
        return {**self.dims, **self.options}

    def describe(self) -> str:
        text = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"{self.name}({text})"


_ENTRIES: dict[str, Entry] = {}


def register(name: str, dims: dict | None = None, options: dict | None = None, source: str = ""):
    """Decorator: register ``builder`` under ``name`` (``family:Name``)."""
    family, colon, _ = name.partition(":")
    if not colon or family not in FAMILIES:
        raise ArgumentError(f"zoo entry {name!r}: the name must start with one of {', '.join(FAMILIES)} and ':'")

    def decorate(builder: Callable) -> Callable:
        _ENTRIES[name] = Entry(name, builder, dict(dims or {}), dict(options or {}), source)
        return builder

    return decorate


@functools.cache
def _load(family: str) -> None:
    package = importlib.import_module(f"{__package__}.{family}")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")


def entries() -> list[Entry]:
    """Every registered entry, in family then name order."""
    for family in FAMILIES:
        _load(family)
    return sorted(_ENTRIES.values(), key=lambda e: (FAMILIES.index(e.name.split(":")[0]), e.name.lower()))


def entry(name: str) -> Entry:
    """The entry called ``name``; an unknown name lists the known ones."""
    if not isinstance(name, str):
        raise ArgumentError(f"a zoo entry is named by a string ('transformers:GPT2Model'). Received: {name!r}")
    family = name.partition(":")[0]
    if family in FAMILIES:
        _load(family)
    if name not in _ENTRIES:
        known = [e.name for e in entries()]
        close = [k for k in known if k.lower() == name.lower() or k.split(":")[-1].lower() == name.lower()]
        if not close:
            import difflib

            close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
        hint = f" Did you mean {close[0]}?" if close else f" Known entries: {', '.join(known)}"
        raise ArgumentError(f"unknown zoo entry {name!r}.{hint}")
    return _ENTRIES[name]


def _split(e: Entry, arguments: dict) -> tuple[dict, dict]:
    unknown = [k for k in arguments if k not in e.arguments]
    if unknown:
        raise ArgumentError(f"{e.name}: unknown argument {unknown[0]!r}. "
                            f"Arguments: {', '.join(e.arguments) or '(none)'}")
    options = {k: arguments.get(k, v) for k, v in e.options.items()}
    for k in e.options:
        if k in arguments:
            _check_option(e.name, k, arguments[k])
    values = {k: arguments[k] for k in e.dims if k in arguments}
    return options, values


def _check_option(entry_name: str, name: str, value) -> None:
    """An option is a plain value: None, a bool, an int, a finite float or a string."""
    import math

    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int) and abs(value) < 10 ** 40:
        return
    if isinstance(value, float) and math.isfinite(value):
        return
    raise ArgumentError(f"{entry_name}: option {name}={value!r}: expected None, a bool, an integer below 10^40, "
                        "a finite number or a string")


@functools.lru_cache(maxsize=64)
def _symbolic(name: str, options: tuple):
    """Cached per entry and options; the key carries each option's type, so that
    ``True``, ``1`` and ``1.0`` (equal in Python) are not taken for one another."""
    e = _ENTRIES[name]
    model = e.builder(**{k: dim(k) for k in e.dims}, **{k: v for k, _, v in options})
    return model.count()


def _key(options: dict) -> tuple:
    return tuple((k, type(v).__name__, v) for k, v in options.items())


def model(name: str, **options):
    """The entry's symcount model (every dim symbolic), for composing or inspecting."""
    e = entry(name)
    opts, values = _split(e, options)
    if values:
        raise ArgumentError(f"{name}: model() takes options only ({', '.join(e.options) or 'none'}); "
                            f"give dims values with get() or Count.subs()")
    return e.builder(**{k: dim(k) for k in e.dims}, **opts)


def symbolic(name: str, **options):
    """The entry's :class:`~symcount.count.Count` with every dim symbolic."""
    e = entry(name)
    opts, values = _split(e, options)
    if values:
        raise ArgumentError(f"{name}: symbolic() takes options only ({', '.join(e.options) or 'none'})")
    return _symbolic(name, _key(opts))


def get(name: str, **arguments):
    """The entry's count at its default configuration, with ``arguments`` overriding.

    A dim given ``None`` stays symbolic; every other dim takes its value (default or
    given). Options (``include_top`` …) select the architecture. The returned count's
    ``symbolic`` attribute holds the closed form: ``get("transformers:GPT2Model").symbolic.total``.
    """
    e = entry(name)
    opts, given = _split(e, arguments)
    count = _symbolic(name, _key(opts))
    values = {k: given.get(k, v) for k, v in e.dims.items()}
    values = {k: v for k, v in values.items() if v is not None and k in {d.name for d in count.dims}}
    return count.subs(values) if values else count
