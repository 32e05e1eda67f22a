"""A live Keras model's formula, checked before it is returned.

The model is rebuilt by Keras itself (``from_config`` of its ``get_config()``) at a second
configuration — every place a dim was put (its input axes, the layer arguments) changed
to the dim's new value (×2, else ×3) — and the formula must give the rebuilt model's
``count_params()``. Where it does not, or no second configuration builds, the import
gives the numbers at the model's own values, with one warning naming the dims.
"""

from __future__ import annotations

import copy

from ._common import warn


def _layer_configs(config) -> dict:
    """Layer configs by name, nested models' too (the outer name wins)."""
    found = {}

    def visit(c):
        for entry in c.get("layers") or [] if isinstance(c, dict) else []:
            if not isinstance(entry, dict):
                continue
            inner = entry.get("config")
            if isinstance(inner, dict):
                found.setdefault(inner.get("name") or entry.get("name"), inner)
                if entry.get("class_name") in ("Sequential", "Functional", "Model"):
                    visit(inner)

    visit(config)
    return found


def _unbuilt(config) -> None:
    """Drop the shapes each layer was built at (``build_config``): the rebuilt model builds
    its layers on the shapes of the new configuration."""
    for entry in config.get("layers") or [] if isinstance(config, dict) else []:
        if isinstance(entry, dict):
            entry.pop("build_config", None)
            inner = entry.get("config")
            if entry.get("class_name") == "Sequential" and isinstance(inner, dict):
                # a nested Sequential is built on what it is called with, not on its recorded input
                inner["layers"] = [e for e in inner.get("layers") or []
                                   if not (isinstance(e, dict) and e.get("class_name") == "InputLayer")]
                inner.pop("build_input_shape", None)
            if entry.get("class_name") in ("Sequential", "Functional", "Model"):
                _unbuilt(inner)


def _first_input(config):
    for entry in config.get("layers") or []:
        if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
            inner = entry.get("config") or {}
            key = "batch_shape" if "batch_shape" in inner else "batch_input_shape"
            return inner, key
    if isinstance(config.get("build_input_shape"), list):
        return config, "build_input_shape"
    return None, None


def with_values(config: dict, placed: dict, values: dict) -> dict:
    """``config`` (a model's ``get_config()``) with every place of each dim set to its value."""
    config = copy.deepcopy(config)
    _unbuilt(config)
    layers = _layer_configs(config)
    for name, places in placed.items():
        if name not in values:
            continue
        for place in places:
            if place[0] == "input":
                holder, key = _first_input(config)
                shape = list(holder[key])
                shape[place[1] + 1] = values[name]
                holder[key] = shape
                continue
            layer, argument, index = place
            target = layers[layer]
            if index is None:
                target[argument] = values[name]
            else:
                sizes = list(target[argument])
                sizes[index] = values[name]
                target[argument] = sizes
    return config


def checked(model, live, roles, source: str, numbers):
    """``model`` if its formula gives Keras's own count at a second configuration; else
    ``numbers()`` (the import without dims), with a warning."""
    dims = dict(model.values)
    config = live.get_config()
    tried = []
    for factor in (2, 3):
        second = {n: v * factor for n, v in dims.items()}
        try:
            rebuilt = type(live).from_config(with_values(config, roles.placed, second))
            theirs = int(rebuilt.count_params())
        except Exception as exc:  # noqa: BLE001 - Keras refuses the configuration: try another
            tried.append(f"{second}: {type(exc).__name__}")
            continue
        ours = model.count().subs(second).total
        if ours.is_Integer and int(ours) == theirs:
            model.checked_at = second
            return model
        why = (f"at {', '.join(f'{k}={v}' for k, v in second.items())} it gives {ours} parameters where Keras "
               f"builds {theirs:,}")
        break
    else:
        why = "Keras rebuilt the model at no second configuration (" + "; ".join(tried) + ")"
    warn(f"from_keras: {source}: the formula in {', '.join(dims)} does not hold ({why}): the numbers at "
         f"{', '.join(f'{k}={v}' for k, v in dims.items())} instead")
    fallback = numbers()
    fallback.unplaced = {d: why for d in dims}
    return fallback
