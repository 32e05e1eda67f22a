"""The weights of Keras layers symcount has no rule for (a user's custom layer, a
registered serializable, ``TFSMLayer``), read without running anything:

- from a live model: each weight's shape and trainability (``layer.weights``), and the
  shapes the layer was called on and produced;
- from a ``.keras`` file: the shapes stored in its ``model.weights.h5`` (read with
  ``h5py``, an optional dependency named in the error when missing). Keras stores a
  layer's variables under ``layers/<name>/vars/<i>``, ``<name>`` the snake-case class name
  numbered in order within its container (``layer_scale``, ``layer_scale_1`` …), a nested
  model's under its own ``layers/``; a file does not say which are trainable, so they
  follow the layer's ``trainable``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import SpecError

def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Container:
    """Names of one container's layers in ``model.weights.h5``, given in order."""

    def __init__(self, path: str):
        self.path = path
        self.used: dict[str, int] = {}

    def child(self, class_name: str) -> str:
        name = snake_case(class_name)
        if name in self.used:
            self.used[name] += 1
            name = f"{name}_{self.used[name]}"
        else:
            self.used[name] = 0
        return f"{self.path}layers/{name}"


class LiveWeights:
    """A live Keras model's layers by name (nested models' too)."""

    def __init__(self, model):
        self.layers = {}

        def visit(m):
            for layer in getattr(m, "layers", ()):
                self.layers.setdefault(layer.name, layer)
                if hasattr(layer, "layers"):
                    visit(layer)

        visit(model)

    def weights(self, name: str, path: str, trainable: bool):
        layer = self.layers.get(name)
        if layer is None:
            return None
        return [(getattr(w, "path", None) or w.name, tuple(int(s) for s in w.shape), bool(w.trainable))
                for w in layer.weights]

    def shapes(self, name: str):
        """``(input shape, output shape)`` the layer was called with (batch axis None), or None."""
        layer = self.layers.get(name)
        try:
            inputs, outputs = layer.input, layer.output
        except Exception:  # noqa: BLE001 - a layer called several times, or never
            return None
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)):
            return None
        return tuple(inputs.shape), tuple(outputs.shape)


class FileWeights:
    """The variables' shapes in a ``.keras`` archive's ``model.weights.h5``."""

    def __init__(self, path):
        self.path = Path(path)
        self._file = None

    def _open(self):
        if self._file is None:
            try:
                import h5py
            except ImportError:
                raise SpecError(f"{self.path}: reading the weights of a layer symcount has no rule for needs h5py "
                                f"(pip install h5py); layers symcount knows import without it") from None
            archive = zipfile.ZipFile(self.path)
            if "model.weights.h5" not in archive.namelist():
                raise SpecError(f"{self.path}: the archive has no model.weights.h5 to read the weights of a "
                                f"layer symcount has no rule for")
            # opened in place (only the HDF5 index is read, not the weights' data)
            self._file = h5py.File(archive.open("model.weights.h5"), "r")
        return self._file

    def weights(self, name: str, path: str, trainable: bool):
        handle = self._open()
        import h5py

        if path not in handle:
            return []
        found = []

        def visit(key, obj):
            if isinstance(obj, h5py.Dataset):
                found.append((f"{path}/{key}", tuple(int(s) for s in obj.shape), trainable))

        handle[path].visititems(visit)
        return found

    def shapes(self, name: str):
        return None


class NoWeights:
    """A model given as JSON: no weights to read."""

    def __init__(self, source: str):
        self.source = source

    def weights(self, name: str, path: str, trainable: bool):
        raise SpecError(f"{self.source}: {name}: symcount has no rule for this layer and a JSON holds no weights; "
                        f"import the .keras file or the live model to count it from its weights")

    def shapes(self, name: str):
        return None
