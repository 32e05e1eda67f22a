"""``from_keras``: a Keras model — live, as the JSON ``model.to_json()`` writes, or a
``.keras`` file — as a symcount model of :mod:`symcount.keras` layers.

Files are read with :mod:`json` and :mod:`zipfile` only: Keras is not imported and
nothing in a file is run. A layer's ``class_name`` and ``config`` become the symcount
layer of the same name with the same arguments (initializers, regularizers and other
settings that change no shape or count are left out); ``Sequential`` and ``Functional``
models are rebuilt with their graphs (``inbound_nodes``), a nested model is a block,
a layer or model called twice is shared, ``trainable: false`` makes its weights
non-trainable. A ``Lambda`` layer is opaque: no weights, its code never run, its output
shape the one Keras recorded for its consumer. A layer symcount has no rule for (a
user's custom layer) is opaque with its own weights, read from the live model or from
the file's ``model.weights.h5`` (:mod:`._keras_weights`), named in a warning and listed
in ``count.uncounted``. Dims are placed by role (:mod:`._keras_dims`), and a live model's
formula is checked by Keras rebuilding it at a second configuration (:mod:`._keras_check`).
"""

from __future__ import annotations

import inspect
import json
import zipfile
from pathlib import Path

from .. import spec
from ..errors import SpecError, SymcountError
from ..graph import Block, Model, Sequential, as_tensor
from ..layer import Layer
from ._common import Frozen, Opaque, Uncounted, warn
from ._keras_dims import KerasDims
from ._keras_weights import Container, FileWeights, LiveWeights, NoWeights

#: model classes (a nested model is one of these as a layer)
MODELS = ("Sequential", "Functional", "Model")
#: arguments that are sizes: a dim's value there becomes the dim
SIZES = {"units", "filters", "input_dim", "output_dim", "num_heads", "key_dim", "value_dim", "target_shape", "n",
         "output_shape", "depth_multiplier", "projection_dim"}
#: config keys that change no shape and no count
IGNORED = {"trainable", "dtype", "synchronized", "renorm_clipping", "renorm_momentum", "zero_output_for_mask",
           "batch_input_shape", "input_shape", "autocast", "build_config", "compile_config"}
#: config keys symcount models only at this value (else the count would differ)
ONLY = {"quantization_config": None, "renorm": False, "lora_rank": None, "lora_enabled": False}


def from_keras(model_or_path, dims=None, *, name: str | None = None):
    """The symcount model of a Keras model: a live ``keras.Model``, a path to a ``.keras``
    file or to the JSON of ``model.to_json()``, that JSON as a string, or its parsed dict.

    ``dims`` (``{"H": 224, "W": 224, "classes": 10}``) names sizes by role: the input's
    axes (by their values, in order), ``classes`` (the units of the last ``Dense`` layer,
    or the filters of a convolutional classifier), a ``"layer.argument"`` path
    (``{"width": "fc1.units"}``); any other name takes the size arguments (``units``,
    ``filters`` …) of its value. The model's ``values`` are those values
    (``model.count().subs(model.values)``). A live model's formula is checked by Keras
    rebuilding the model at a second configuration; where it does not hold, the numbers
    come back with a warning.

        model = sc.from_keras("cnn.keras", dims={"classes": 10})
        model.count().total          # … + 129*classes
    """
    source, data = _read(model_or_path)
    roles = KerasDims(dims, data, source)
    live = model_or_path if _is_live(model_or_path) else None
    if live is not None:
        weights = LiveWeights(live)
    elif isinstance(model_or_path, (str, Path)) and zipfile.is_zipfile(model_or_path):
        weights = FileWeights(model_or_path)
    else:
        weights = NoWeights(source)
    builder = _Builder(source, roles, weights)
    model = builder.model(data, name)
    model.uncounted = tuple(builder.uncounted)
    model.values = {d.name: roles.values[d.name] for d in model.count().dims if d.name in roles.values}
    model.exact = "graph"
    model.notes = []
    if live is not None and model.values:
        from ._keras_check import checked

        model = checked(model, live, roles, source, numbers=lambda: from_keras(live, name=name))
    return model


def _is_live(value) -> bool:
    return callable(getattr(value, "to_json", None)) and callable(getattr(value, "get_config", None))


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _read(value) -> tuple[str, dict]:
    """``(source, data)``: where the architecture comes from (for errors) and its JSON data."""
    if isinstance(value, dict):
        return "<Keras config>", value
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):  # JSON text, not a path
        return "<Keras JSON>", _json(value, "<Keras JSON>")
    if isinstance(value, (str, Path)):
        return str(value), read_file(value)
    if callable(getattr(value, "to_json", None)) and callable(getattr(value, "get_config", None)):
        label = f"<Keras model {getattr(value, 'name', '')!s}>"
        return label, _json(value.to_json(), label)
    raise SpecError(f"from_keras: expected a Keras model, a path to a .keras or .json file, or the model's JSON. "
                    f"Received: {value!r} ({type(value).__name__})")


def read_file(path) -> dict:
    """The architecture JSON of a ``.keras`` file (its ``config.json``) or a JSON file."""
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as exc:  # a name too long for the file system
        raise SpecError(f"{str(path)[:80]}: not a readable Keras file ({exc.strerror or exc})") from None
    if not found:
        raise SpecError(f"{path}: no such Keras file")
    if path.suffix.lower() == ".keras" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "config.json" not in names:
                    raise SpecError(f"{path}: not a Keras model file: the archive has no config.json "
                                    f"(it holds {', '.join(names[:5]) or 'nothing'})")
                size = archive.getinfo("config.json").file_size
                limit = spec.KERAS_LIMIT
                if size > limit:
                    raise SpecError(f"{path}: its config.json is {size:,} bytes unpacked; at most {limit:,} "
                                    f"are read")
                with archive.open("config.json") as member:
                    text = member.read(limit + 1)  # the header may lie: never more than the limit
                if len(text) > limit:
                    raise SpecError(f"{path}: its config.json is more than {limit:,} bytes unpacked")
        except SpecError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise SpecError(f"{path}: not a readable .keras file (a zip archive holding config.json): {exc}") from None
        except Exception as exc:  # noqa: BLE001 - zlib errors of a truncated member
            raise SpecError(f"{path}: the .keras archive is damaged: {type(exc).__name__}: {exc}") from None
        return _json(text, f"{path} (config.json)")
    limit = spec.KERAS_LIMIT
    try:
        with open(path, "rb") as handle:
            text = handle.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if len(text) > limit:
        raise SpecError(f"{path}: more than {limit:,} bytes; a Keras model's JSON is at most {limit:,} "
                        f"(symcount.spec.KERAS_LIMIT)")
    return _json(text, str(path))


def _json(text, source: str) -> dict:
    """Parsed JSON, strictly: a key given twice is an error, nesting within
    :data:`symcount.spec.DEPTH_LIMIT` levels."""
    try:
        data = json.loads(text, object_pairs_hook=spec.unique_keys)
    except RecursionError:
        raise SpecError(f"{source}: nested more than {spec.DEPTH_LIMIT} levels deep") from None
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpecError(f"{source}: not valid JSON: {exc}") from None
    spec.check_nesting(data, source, values=False)
    return data


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------


def _vocabulary() -> dict:
    from .. import keras as K
    from ..graph import Repeat

    return {n: c for n in K.__all__ if isinstance(c := getattr(K, n), type) and issubclass(c, Layer)
            and c not in (Block, Repeat) and n not in ("Input", "InputLayer")}


class _Builder:
    def __init__(self, source: str, roles: KerasDims, weights=None):
        self.source = source
        self.roles = roles
        self.symbols = roles.symbols
        self.weights = weights or NoWeights(source)
        self.layers = _vocabulary()
        self.names: set[str] = set()
        self.uncounted: list = []
        self.first_input = True

    def error(self, where: str, what: str) -> SpecError:
        return SpecError(f"{self.source}: {where}: {what}" if where else f"{self.source}: {what}")

    # -- models -------------------------------------------------------------------------

    def model(self, data, name=None):
        if not isinstance(data, dict):
            raise self.error("", f"expected a Keras model: a JSON object with class_name and config. "
                                 f"Received: {type(data).__name__}")
        kind, config = data.get("class_name"), data.get("config")
        if kind not in MODELS or not isinstance(config, dict):
            got = f"class_name {kind!r}" if "class_name" in data else f"keys {', '.join(map(str, data)) or 'none'}"
            raise self.error("", f"expected a Keras model (class_name Sequential or Functional with a config). "
                                 f"Received: {got}")
        model_name = name or config.get("name") or kind.lower()
        if not isinstance(model_name, str):
            raise self.error("", f"the model's name must be a string. Received: {model_name!r}")
        frozen = config.get("trainable") is False
        if kind == "Sequential":
            first, layers = self._sequential(config, model_name, frozen, container=Container(""))
            return Sequential([first, *layers], name=model_name)
        graph = _Graph(self, config, model_name, frozen, Container(""))
        inputs = [as_tensor(graph.input_layer(n)) for n in graph.input_names]
        outputs = graph.apply(None)
        try:
            return Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=model_name)
        except SymcountError as exc:
            raise self.error(model_name, str(exc)) from None

    def _sequential(self, config, scope, frozen, with_input=True, container=None):
        """A Sequential's Input (None inside a block) and layers."""
        container = container or Container("")
        entries = config.get("layers")
        if not isinstance(entries, list):
            raise self.error(scope, f"a Sequential model needs a list of layers. Received: {entries!r}")
        _check_layer_count(entries, self, scope)
        first = None
        layers = []
        for i, entry in enumerate(entries):
            where = f"{scope} › layers[{i}]"
            stored = container.child(str(entry.get("class_name", ""))) if isinstance(entry, dict) else ""
            if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
                if i != 0:
                    raise self.error(where, "an InputLayer may only come first")
                first = self.input_layer(entry, where)
                continue
            following = entries[i + 1] if i + 1 < len(entries) else None
            layers.append(self.layer(entry, where, frozen, seen_output=_build_input(following), stored=stored))
        if first is None and with_input:
            shape = config.get("build_input_shape") or _build_input(entries[0] if entries else None)
            if not isinstance(shape, list) or len(shape) < 2:
                raise self.error(scope, "the Sequential model has no InputLayer and no build_input_shape: "
                                        "its input shape is unknown")
            first = self._input(shape, None, scope)
        return first, layers

    # -- layers -------------------------------------------------------------------------

    def input_layer(self, entry, where):
        config = entry.get("config") if isinstance(entry, dict) else None
        if not isinstance(config, dict):
            raise self.error(where, "an InputLayer needs a config")
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        name = config.get("name")
        if name is not None and not isinstance(name, str):
            raise self.error(where, f"an InputLayer's name must be a string. Received: {name!r}")
        return self._input(shape, name, where)

    def _input(self, shape, name, where):
        from ..keras import Input

        if not isinstance(shape, list) or len(shape) < 2:
            raise self.error(where, f"an input needs batch_shape [batch, sizes…]. Received: {shape!r}")
        if any(s is None for s in shape[1:]):
            raise self.error(where, f"an input size is unknown (None): symcount needs every size but the batch. "
                                    f"Received: batch_shape={shape!r}")
        for s in shape[1:]:
            if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
                raise self.error(where, f"an input size must be a positive integer. Received: batch_shape={shape!r}")
        if self.first_input:  # the model's input: its axes take the dims that name them
            self.first_input = False
            sizes = [self.roles.input_size(i, v, f"{where} input shape") for i, v in enumerate(shape[1:])]
            sizes = [self.symbols.size(v, f"{where} input shape") if isinstance(v, int) else v for v in sizes]
        else:
            sizes = self.symbols.shape(shape[1:], f"{where} input shape")
        try:
            return Input(tuple(sizes), name=self._name(name, None) if name else None)
        except SymcountError as exc:
            raise self.error(where, str(exc)) from None

    def _size(self, value, where):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(where, f"a size must be a positive integer. Received: {value!r}")
        return self.symbols.size(value, where)

    def _name(self, name, scope):
        """A unique layer name: a nested model's layer that repeats an outer name gets its scope."""
        if name is None:
            return None
        if name in self.names and scope:
            name = f"{scope}/{name}"
        self.names.add(name)
        return name

    def layer(self, entry, where, frozen=False, seen_output=None, scope=None, stored=""):
        """The symcount layer of one layer entry (a nested model: a block); ``stored`` is
        where a ``.keras`` file keeps its variables."""
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise self.error(where, f"a layer must be an object with class_name and config. Received: {entry!r}")
        kind, config = entry["class_name"], entry.get("config")
        if not isinstance(config, dict):
            raise self.error(where, f"layer {kind}: config must be an object. Received: {config!r}")
        layer_name = config.get("name") or entry.get("name")
        if layer_name is not None and not isinstance(layer_name, str):
            raise self.error(where, f"layer {kind}: its name must be a string. Received: {layer_name!r}")
        where = f"{where} ({layer_name or kind})"
        frozen = frozen or config.get("trainable") is False
        if kind in MODELS:
            return self._nested(kind, config, where, frozen, stored)
        if kind == "Lambda":
            warn(f"from_keras: {self.source}: {layer_name} (Lambda) is kept opaque: its code is never run, it has no "
                 f"weights and its cost is not counted")
            output = None if seen_output is None else tuple(
                None if s is None else self._size(s, f"{where} output shape") for s in seen_output)
            return Opaque("Lambda", (), output=output, name=self._name(layer_name, scope))
        if kind not in self.layers:
            return self._opaque(entry, kind, layer_name, where, frozen, seen_output, scope, stored)
        cls = self.layers[kind]
        kwargs = self._arguments(cls, config, where, layer_name)
        kwargs["name"] = self._name(layer_name, scope)
        try:
            layer = cls(**kwargs)
        except SymcountError as exc:
            raise self.error(where, str(exc)) from None
        return Frozen(layer) if frozen and not isinstance(layer, Frozen) else layer

    def _opaque(self, entry, kind, layer_name, where, frozen, seen_output, scope, stored):
        """A layer symcount has no rule for: its weights as they are (from the live model or
        the file), its output shape as Keras recorded it, its FLOPs uncounted."""
        module = entry.get("registered_name") or entry.get("module") or "?"
        if isinstance(self.weights, NoWeights):
            raise self.error(where, f"unknown class_name {kind!r} (module {module}): symcount has no rule for it and "
                                    f"a JSON holds no weights; import the .keras file or the live model to count it "
                                    f"from its weights")
        weights = self.weights.weights(layer_name, stored, not frozen)
        if weights is None:
            raise self.error(where, f"layer {layer_name} ({kind}) is not in the live model")
        shapes = self.weights.shapes(layer_name)
        seen_input = _build_input(entry)
        if shapes is not None:
            seen_input, seen_output = shapes
        output = None
        unseen = seen_output is None
        if seen_output is not None and list(seen_output) != list(seen_input or []):
            output = tuple(None if s is None else self._size(s, f"{where} output shape") for s in seen_output)
        nodes = entry.get("inbound_nodes") or []
        first = nodes[0] if nodes and isinstance(nodes[0], dict) else {}
        inputs = len(_tensors_in(first.get("args", []))) or 1
        total = sum(_numel(shape) for _, shape, _ in weights)
        warn(f"from_keras: {self.source}: {layer_name} ({kind}, {module}) has no rule in symcount: kept opaque with "
             f"its {len(weights)} weights ({total:,} parameters, read from "
             f"{'the model' if isinstance(self.weights, LiveWeights) else 'the file'}); its FLOPs are not counted"
             + ("; no layer reads its output, so its output shape is not recorded: its input's is assumed"
                if unseen else ""))
        self.uncounted.append(Uncounted(kind, layer_name or "", 1, "a layer symcount has no rule for: its FLOPs "
                                                                   "are not counted"))
        layer = Opaque(kind, weights, output=output, inputs=1 if inputs == 1 else inputs,
                       name=self._name(layer_name, scope))
        return layer

    def _arguments(self, cls, config, where, layer_name=None) -> dict:
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "name"}
        kwargs = {}
        for key, value in config.items():
            if key == "name":
                continue
            if key in ONLY:
                if value != ONLY[key]:
                    raise self.error(where, f"{key}={value!r} is not modelled by symcount (it changes the weights)")
                continue
            if key in accepted:
                kwargs[key] = self._argument(key, value, where, layer_name)
            elif key in IGNORED or key.endswith(("_initializer", "_regularizer", "_constraint")):
                continue
            elif value not in (None, False):
                warn(f"from_keras: {self.source}: {where}: argument {key}={value!r} is not modelled; ignored")
        return kwargs

    def _argument(self, key, value, where, layer_name=None):
        if isinstance(value, dict) and "class_name" in value:
            if key in ("layer", "backward_layer"):
                return self.layer(value, f"{where} {key}")
            if key == "activation":
                raise self.error(where, f"activation {value.get('class_name')!r} is a custom object; symcount "
                                        f"takes activations by name")
            return value
        if key in SIZES:
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return self.roles.argument(layer_name, key, value, f"{where} {key}")
            if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                               for v in value):
                return tuple(self.roles.argument(layer_name, key, v, f"{where} {key}", index=i)
                             for i, v in enumerate(value))
            return self._sizes(value, f"{where} {key}")
        if isinstance(value, list):
            return tuple(_tuples(v) for v in value)
        return value

    def _sizes(self, value, where):
        if isinstance(value, list):
            return tuple(self._sizes(v, where) for v in value)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return self.symbols.size(value, where)
        return value

    def _nested(self, kind, config, where, frozen, stored=""):
        scope = config.get("name") or kind.lower()
        block_name = self._name(scope, None)
        container = Container(f"{stored}/" if stored else "")
        if kind == "Sequential":
            _, layers = self._sequential(config, scope, frozen, with_input=False, container=container)
            return Block(block_name, layers) if layers else Block(block_name, [Opaque("Identity")])
        graph = _Graph(self, config, scope, frozen, container)
        if len(graph.input_names) != 1:
            raise self.error(where, "a nested model with several inputs is not supported")

        def body(x, graph=graph):
            outputs = graph.apply([x])
            if len(outputs) != 1:
                raise self.error(where, "a nested model with several outputs is not supported")
            return outputs[0]

        return Block(block_name, body)


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _build_input(entry):
    if isinstance(entry, dict):
        build = entry.get("build_config")
        if isinstance(build, dict) and isinstance(build.get("input_shape"), list):
            return build["input_shape"]
    return None


# ---------------------------------------------------------------------------
# Functional graphs
# ---------------------------------------------------------------------------


def _check_layer_count(entries, builder, scope) -> None:
    """At most :data:`symcount.spec.LAYER_LIMIT` layers in one model, checked before any is built."""
    if len(entries) > spec.LAYER_LIMIT:
        raise builder.error(scope, f"{len(entries):,} layers; a model lists at most {spec.LAYER_LIMIT:,} "
                                   f"(symcount.spec.LAYER_LIMIT)")


def _history(value):
    """``(layer, node, tensor)`` of a serialized tensor (Keras 3 dict or Keras 2 list), or None."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        config = value.get("config")
        history = config.get("keras_history") if isinstance(config, dict) else None
        if isinstance(history, list) and len(history) == 3:
            return tuple(history)
    return None


def _tensors_in(value) -> list:
    """Every serialized tensor in ``value`` (nested lists), in order."""
    if _history(value) is not None:
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _tensors_in(v)]
    return []


class _Graph:
    """A Functional model's layers (created once) and the wiring of its nodes."""

    def __init__(self, builder: _Builder, config, scope, frozen, container=None):
        self.builder, self.scope = builder, scope
        entries = config.get("layers")
        if not isinstance(entries, list):
            raise builder.error(scope, f"a Functional model needs a list of layers. Received: {entries!r}")
        _check_layer_count(entries, builder, scope)
        self.entries, self.layers, self.inputs = {}, {}, {}
        consumers = self._consumers(entries)
        container = container or Container("")
        for i, entry in enumerate(entries):
            where = f"{scope} › layers[{i}]"
            if not isinstance(entry, dict):
                raise builder.error(where, f"a layer must be an object. Received: {entry!r}")
            stored = container.child(str(entry.get("class_name", "")))
            settings = entry.get("config")
            name = entry.get("name") or (settings.get("name") if isinstance(settings, dict) else None)
            if not isinstance(name, str):
                raise builder.error(where, "a layer of a Functional model needs a name")
            if name in self.entries:
                raise builder.error(where, f"two layers are named {name!r}: a Functional model's layer names are "
                                           f"unique (the second would silently replace the first)")
            self.entries[name] = entry
            if entry.get("class_name") == "InputLayer":
                self.inputs[name] = builder.input_layer(entry, where)
            else:
                self.layers[name] = builder.layer(entry, where, frozen, seen_output=consumers.get(name), scope=scope,
                                                  stored=stored)
        self.input_names = [h[0] for h in self._refs(config.get("input_layers"), "input_layers")]
        self.output_refs = self._refs(config.get("output_layers"), "output_layers")
        for name in self.input_names:
            if name not in self.inputs:
                raise builder.error(scope, f"input_layers names {name!r}, which is not an InputLayer of the model")

    def _consumers(self, entries) -> dict:
        """The shape Keras recorded for each layer's first output (where another layer reads it)."""
        shapes = {}
        for entry in entries:
            nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
            for node in nodes if isinstance(nodes, list) else []:  # a wrong type is reported when wired
                if isinstance(node, dict):
                    kwargs = node.get("kwargs")
                    for t in _tensors_in(node.get("args", [])) + _tensors_in(
                            list(kwargs.values()) if isinstance(kwargs, dict) else []):
                        history = _history(t)
                        shape = t["config"].get("shape")
                        if isinstance(history[0], str) and history[1:] == (0, 0) and isinstance(shape, list):
                            shapes.setdefault(history[0], shape)
        return shapes

    def _refs(self, value, what):
        def ref(v):
            return (isinstance(v, list) and len(v) == 3 and isinstance(v[0], str)
                    and all(isinstance(i, int) and not isinstance(i, bool) for i in v[1:]))

        if ref(value):
            return [tuple(value)]
        if isinstance(value, list) and value and all(ref(v) for v in value):
            return [tuple(v) for v in value]
        raise self.builder.error(self.scope, f"{what} must be [name, node, tensor] or a list of them. "
                                             f"Received: {value!r}")

    def input_layer(self, name):
        return self.inputs[name]

    def apply(self, inputs):
        """Wire the nodes; ``inputs`` replace the model's inputs (a nested call). Returns the outputs."""
        builder = self.builder
        tensors = {}
        for i, name in enumerate(self.input_names):
            tensors[(name, 0, 0)] = as_tensor(self.inputs[name]) if inputs is None else inputs[i]
        # Kahn's topological order, linear in the nodes: each node waits for the tensors it
        # reads; a node whose inputs are all made is called, lowest file position first (a
        # file already in order, as Keras writes it, is called in its own order)
        import heapq

        nodes, waiting, missing_count, ready = [], {}, [], []
        for name, entry in self.entries.items():
            if name in self.layers:
                inbound = entry.get("inbound_nodes")
                if not isinstance(inbound, list):
                    raise builder.error(f"{self.scope} › {name}",
                                        f"inbound_nodes must be a list. Received: {inbound!r}")
                for index, node in enumerate(inbound):
                    refs = self._node_refs(name, node)
                    position = len(nodes)
                    nodes.append((name, index, refs))
                    missing = {r for r in refs if r not in tensors}
                    missing_count.append(len(missing))
                    for ref in missing:
                        waiting.setdefault(ref, []).append(position)
                    if not missing:
                        ready.append(position)
        heapq.heapify(ready)
        while ready:
            position = heapq.heappop(ready)
            name, index, refs = nodes[position]
            made = (name, index, 0)
            tensors[made] = self._call(name, [tensors[r] for r in refs])
            for later in waiting.pop(made, ()):
                missing_count[later] -= 1
                if missing_count[later] == 0:
                    heapq.heappush(ready, later)
        left = [position for position, count in enumerate(missing_count) if count]
        if left:
            name, _, refs = nodes[left[0]]
            missing = [r for r in refs if r not in tensors]
            raise builder.error(f"{self.scope} › {name}", f"its input {list(missing[0])} is not produced by "
                                                          f"any layer of the model (or only in a cycle)")
        outputs = []
        for ref in self.output_refs:
            if ref not in tensors:
                raise builder.error(self.scope, f"output_layers names {list(ref)}, which no layer produces")
            outputs.append(tensors[ref])
        return outputs

    def _node_refs(self, name, node):
        if isinstance(node, dict):
            args, kwargs = node.get("args", []), node.get("kwargs") or {}
            if not isinstance(kwargs, dict):
                raise self.builder.error(f"{self.scope} › {name}", f"an inbound node's kwargs must be an object. "
                                                                   f"Received: {kwargs!r}")
            found = _tensors_in(args)
            for key in ("query", "value", "key"):
                found += _tensors_in(kwargs.get(key))
            refs = [_history(t) for t in found]
        elif isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], …]
            refs = [tuple(r[:3]) for r in node if isinstance(r, list) and len(r) >= 3]
        else:
            refs = []
        if not refs:
            raise self.builder.error(f"{self.scope} › {name}", f"an inbound node without input tensors: {node!r}")
        for r in refs:
            if not (isinstance(r[0], str) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                                  for i in r[1:3])):
                raise self.builder.error(f"{self.scope} › {name}", f"an input must be [layer name, node index, "
                                                                   f"tensor index]. Received: {list(r[:3])!r}")
        return [(r[0], r[1], r[2]) for r in refs]

    def _call(self, name, tensors):
        layer = self.layers[name]
        try:
            if layer.n_inputs == 1:
                if len(tensors) != 1:
                    raise SpecError(f"takes one input tensor; the file gives it {len(tensors)}")
                return layer(tensors[0])
            return layer(tensors)
        except SymcountError as exc:
            raise self.builder.error(f"{self.scope} › {name}", str(exc)) from None
