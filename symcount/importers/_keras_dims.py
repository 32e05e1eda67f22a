"""Dims of a Keras model by role, not by value.

``dims`` name sizes of the model a user brings:

- an *input axis*: a dim whose value is a size of the model's (first) input takes that
  axis — every axis of that value when it is the only such dim (``H=224`` on
  ``(224, 224, 3)``: ``(H, H, 3)``), else the axes in the order given (``H=224, W=224``:
  ``(H, W, 3)``);
- ``classes``: the ``units`` of the model's last ``Dense`` layer (its value must be
  them);
- a *path* ``"layer.argument"`` (``{"width": "fc1.units"}``): that argument of that layer,
  its value read from the model;
- any other name: every size argument (``units``, ``filters`` …) of that value, as
  before. A dim with a role (an input axis, ``classes``, a path) is *only* that: a
  convolution of 10 filters stays 10 when ``classes=10`` (EfficientNet's squeeze-and-excite
  convolutions).

Every place a dim was put is kept (:attr:`KerasDims.placed`), so that a live model can be
rebuilt with those places changed (:mod:`._keras_check`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..dims import dim
from ..errors import ArgumentError
from ._symbols import Symbols


def layer_entries(data) -> list:
    """Every layer entry of a model's JSON, nested models' too, in order."""
    out = []

    def visit(config):
        if not isinstance(config, dict):
            return
        layers = config.get("layers")
        for entry in layers if isinstance(layers, list) else []:
            if isinstance(entry, dict):
                out.append(entry)
                if entry.get("class_name") in ("Sequential", "Functional", "Model"):
                    visit(entry.get("config"))

    visit(data.get("config") if isinstance(data, dict) else None)
    return out


def _name(entry) -> str | None:
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    name = config.get("name") or entry.get("name")
    return name if isinstance(name, str) else None


def first_input_shape(data) -> list | None:
    """The sizes (batch axis dropped) of the model's first input."""
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return None
    layers = config.get("layers") if isinstance(config.get("layers"), list) else []
    for entry in layers:
        if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
            inner = entry.get("config") if isinstance(entry.get("config"), dict) else {}
            shape = inner.get("batch_shape") or inner.get("batch_input_shape")
            return list(shape[1:]) if isinstance(shape, list) and shape else None
    shape = config.get("build_input_shape")
    if isinstance(shape, list) and shape:
        return list(shape[1:])
    build = (layers[0].get("build_config") or {}) if layers and isinstance(layers[0], dict) else {}
    shape = build.get("input_shape") if isinstance(build, dict) else None
    return list(shape[1:]) if isinstance(shape, list) and shape else None


class KerasDims:
    """The dims of one Keras import, each with its role."""

    def __init__(self, dims, data, source: str):
        self.source = source
        self.values: dict[str, int] = {}
        self.paths: dict[tuple, str] = {}  # (layer name, argument, index or None) → dim
        self.axes: dict[int, str] = {}  # position in the first input (batch dropped) → dim
        self.placed: dict[str, list] = {}  # dim → [("input", position) | (layer name, argument, index)]
        if dims is None:
            dims = {}
        if not isinstance(dims, Mapping):
            raise ArgumentError(f"{source}: dims must be a mapping of dim name to a value or to a "
                                f"'layer.argument' path. Received: {dims!r} ({type(dims).__name__})")
        entries = {_name(e): e for e in layer_entries(data) if _name(e)}
        shape = first_input_shape(data) or []
        taken: set = set()
        free = {}
        sharing = {}  # input size → the int dims of that value, in order
        for name, value in dims.items():
            if isinstance(value, int) and not isinstance(value, bool) and name != "classes" and value in shape:
                sharing.setdefault(value, []).append(name)
        for name, value in dims.items():
            dim(name)  # checks the name
            if isinstance(value, str):
                self._path(name, value, entries)
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ArgumentError(f"{source}: dims: the value of {name} must be a positive integer or a "
                                    f"'layer.argument' path. Received: {name}={value!r}")
            self.values[name] = value
            if name == "classes":
                self._classes(value, data)
                continue
            positions = [i for i, s in enumerate(shape) if s == value and i not in taken]
            if positions:
                # one dim of this value takes every axis of it (H on a square image); several
                # take them in the order given (H=224, W=224)
                for position in positions if len(sharing[value]) == 1 else positions[:1]:
                    taken.add(position)
                    self.axes[position] = name
                continue
            free[name] = value
        #: the dims without a role, matched by value wherever a size argument has it
        self.symbols = Symbols(free, source=f"{source}: dims")

    def _path(self, name, path, entries):
        layer, _, argument = path.rpartition(".")
        if not layer or layer not in entries:
            known = ", ".join(sorted(entries)[:12])
            raise ArgumentError(f"{self.source}: dims: {name}={path!r}: no layer named {layer!r} in the model "
                                f"(a path is 'layer_name.argument'; layers: {known}{' …' if len(entries) > 12 else ''})")
        config = entries[layer].get("config") or {}
        value = config.get(argument)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ArgumentError(f"{self.source}: dims: {name}={path!r}: {argument} of layer {layer} is "
                                f"{value!r}, not a positive integer size")
        self.values[name] = value
        self.paths[(layer, argument, None)] = name

    def _classes(self, value, data):
        """``classes``: the units of the model's last Dense layer — or, in a model whose
        classifier is a 1×1 convolution (MobileNet), the filters of its last convolution —
        and the sizes of that value in the layers after it (the ``Reshape((classes,))``
        that follows such a convolution)."""
        config = data.get("config") if isinstance(data, dict) else None
        layers = (config or {}).get("layers")
        entries = [e for e in layers if isinstance(e, dict)] if isinstance(layers, list) else []
        dense = [i for i, e in enumerate(entries) if e.get("class_name") == "Dense"]
        convs = [i for i, e in enumerate(entries) if "filters" in (e.get("config") or {})]
        if dense:
            i, argument = dense[-1], "units"
        elif convs:
            i, argument = convs[-1], "filters"
        else:
            raise ArgumentError(f"{self.source}: dims: classes names the units of the model's last Dense layer, and "
                                f"the model has none; name the size by path instead ({{'classes': 'layer.units'}})")
        last = entries[i]
        size = (last.get("config") or {}).get(argument)
        if size != value:
            raise ArgumentError(f"{self.source}: dims: classes={value}, but the model's last "
                                f"{'Dense' if argument == 'units' else 'convolution'} layer ({_name(last)}) has "
                                f"{argument}={size!r}; classes names that layer's {argument}")
        self.paths[(_name(last), argument, None)] = "classes"
        for entry in entries[i + 1:]:
            shape = (entry.get("config") or {}).get("target_shape")
            if isinstance(shape, list):
                for k, s in enumerate(shape):
                    if s == value:
                        self.paths[(_name(entry), "target_shape", k)] = "classes"

    # -- while building ------------------------------------------------------------------

    def input_size(self, position: int, value, where: str):
        """The first input's size at ``position``."""
        name = self.axes.get(position)
        if name is not None:
            self.placed.setdefault(name, []).append(("input", position))
            return dim(name)
        return value

    def argument(self, layer: str | None, argument: str, value, where: str, index=None):
        """A size argument of a layer: its path dim, else a free dim of that value, else the number."""
        name = self.paths.get((layer, argument, index))
        if name is not None:
            self.placed.setdefault(name, []).append((layer, argument, index))
            return dim(name)
        sized = self.symbols.size(value, where)
        if sized is not value and getattr(sized, "is_Symbol", False):
            self.placed.setdefault(sized.name, []).append((layer, argument, index))
        return sized
