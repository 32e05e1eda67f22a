"""Architecture files: YAML, JSON or TOML, one schema.

.. code-block:: yaml

    name: seed_cnn
    framework: keras            # the layer vocabulary: keras (the default) or torch
    dims: {H: 256, W: 256, classes: null}   # a value is the default; null keeps it symbolic
    input: [H, W, 3]
    layers:
      - Conv2D: {filters: 32, kernel_size: 3, padding: same, activation: relu}
      - MaxPooling2D: {pool_size: [3, 3]}
      - Flatten: {}
      - Dense: {units: classes}

A layer entry is ``{Type: {arg: value, …}}``, ``{Type: [positional, …]}``, ``{Type: null}``
or just ``Type``. An argument string is an expression over the declared dims
(:mod:`symcount.expression`, never ``eval``) unless it is a bare word that is not a
dim (``same``, ``relu``), which is passed to the layer as a string. Every error names
the file and the entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sympy

from .dims import dim
from .errors import SpecError, SymcountError
from .expression import is_identifier, parse_expression
from .graph import Sequential

TOP_LEVEL_KEYS = {"name", "framework", "dims", "input", "layers"}


@dataclass(frozen=True)
class Spec:
    """A parsed architecture file: the model (symbolic in every dim) and the defaults."""

    source: str
    name: str
    model: Sequential
    dims: dict  # name -> symbol
    defaults: dict  # name -> int or None


def vocabulary(framework: str, source: str) -> dict:
    """The layer classes a file may name, by framework."""
    from .layer import InputLayer, Layer

    if framework == "keras":
        from . import keras as front_end
    elif framework == "torch":
        from . import torch as front_end
    else:
        raise SpecError(f"{source}: unknown framework {framework!r}. Expected: keras or torch")
    return {n: c for n in front_end.__all__ if isinstance(c := getattr(front_end, n), type) and issubclass(c, Layer)
            and c.n_inputs == 1 and not issubclass(c, InputLayer) and n not in {"Block", "Repeat"}}


def is_keras_json(data) -> bool:
    """Whether parsed JSON is a Keras model (``{"class_name": "Sequential", "config": …}``)."""
    return isinstance(data, dict) and "class_name" in data and "config" in data


#: the largest architecture file read (bytes)
FILE_LIMIT = 4 * 1024 * 1024
#: the most YAML aliases (``*name``) one file may use, and the deepest nesting of any file
ALIAS_LIMIT = 100
DEPTH_LIMIT = 64
#: the most values (mappings, lists, scalars) a file may hold, its aliases expanded
VALUES_LIMIT = 200_000
#: the most layers one file (an architecture file, a Keras model or one of its nested
#: models) may list: graph building is linear, 20,000 layers take seconds
LAYER_LIMIT = 50_000
#: the largest Keras model JSON read: a ``.json`` file, or the ``config.json`` unpacked
#: from a ``.keras`` archive (bytes; a 20,000-layer model is about 12 MB)
KERAS_LIMIT = 16 * 1024 * 1024


def read_data(path: str | Path, *, allow_links: bool = False, limit: int | None = None):
    """Read a YAML, JSON or TOML file into plain data (safe loaders only), strictly: at
    most :data:`FILE_LIMIT` bytes, :data:`ALIAS_LIMIT` YAML aliases (no "billion laughs")
    and :data:`DEPTH_LIMIT` levels of nesting, :data:`VALUES_LIMIT` values with its aliases
    expanded, and a key given twice in one mapping is an error, not a silent overwrite.
    ``limit`` replaces :data:`FILE_LIMIT` (a Keras model's JSON may be as large as a
    ``.keras`` archive's ``config.json``)."""
    if not isinstance(path, (str, Path)):
        raise SpecError(f"an architecture file is named by a path. Received: {path!r} ({type(path).__name__})")
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as exc:  # a name too long for the file system
        raise SpecError(f"{str(path)[:80]}: not a readable architecture file ({exc.strerror or exc})") from None
    if not found:
        raise SpecError(f"{path}: no such architecture file")
    if path.is_symlink() and not allow_links:
        target = path.resolve()
        if path.parent.resolve() not in target.parents:
            raise SpecError(f"{path}: a link to {target}, outside the link's folder; refused (a spec links only "
                            f"within its folder)")
    try:
        limit = FILE_LIMIT if limit is None else limit
        size = path.stat().st_size
        if size > limit:
            raise SpecError(f"{path}: {size:,} bytes; an architecture file is at most {limit:,}")
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)  # never more than the limit, whatever the size said
        if len(raw) > limit:
            raise SpecError(f"{path}: more than {limit:,} bytes; an architecture file is at most {limit:,}")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the file ({exc})") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = _strict_yaml(text)
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=unique_keys)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)  # TOML itself forbids duplicate keys
        else:
            raise SpecError(f"{path}: unknown file type {suffix!r}. Expected .yaml, .yml, .json or .toml")
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}" if not str(exc).startswith(str(path)) else str(exc)) from None
    except RecursionError:
        raise SpecError(f"{path}: nested more than {DEPTH_LIMIT} levels deep") from None
    except Exception as exc:  # the parsers' own syntax errors, reported as the file's
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(f"{path}: not valid {suffix[1:].upper()}: {first}") from None
    check_nesting(data, path, values=suffix in (".yaml", ".yml"))  # only YAML's aliases expand a file
    return data


def unique_keys(pairs):
    """A ``json.loads`` ``object_pairs_hook``: a key given twice in one object is an error."""
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise SpecError(f"the key {key!r} is given twice in one object")
        seen[key] = value
    return seen


def check_nesting(data, path, values: bool = True) -> None:
    """The data's nesting (:data:`DEPTH_LIMIT`) and, with ``values``, its size as read
    (aliases expanded, :data:`VALUES_LIMIT`) within the limits, counted without recursion
    and stopping at the first value over the limit."""
    budget = VALUES_LIMIT if values else float("inf")
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > DEPTH_LIMIT:
            raise SpecError(f"{path}: nested more than {DEPTH_LIMIT} levels deep")
        budget -= 1
        if budget < 0:
            raise SpecError(f"{path}: holds more than {VALUES_LIMIT:,} values once its aliases are expanded")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _strict_yaml(text: str):
    """``yaml.safe_load``, strictly and within the limits: the events (libyaml's parser when
    installed, iterative: no deep recursion) are composed into nodes here, counting
    aliases (:data:`ALIAS_LIMIT`), nesting (:data:`DEPTH_LIMIT`) and nodes
    (:data:`VALUES_LIMIT`) as they come, so a hostile file stops at the first value over a
    limit; an alias inside its own anchor (a cycle), a second document and a key given
    twice are errors. The nodes are then built by PyYAML's safe constructor."""
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    try:
        from yaml._yaml import CParser as _Parser
        events = _Parser(text)
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        events = yaml.SafeLoader(text)

    class Constructor(yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        def construct_mapping(self, node, deep=False):
            keys = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # <<: *defaults, expanded by flatten_mapping
                    continue
                if not isinstance(key_node, ScalarNode):
                    raise SpecError(f"line {key_node.start_mark.line + 1}: a key must be a name, not a "
                                    f"{'list' if isinstance(key_node, SequenceNode) else 'mapping'}")
                key = self.construct_object(key_node, deep=deep)
                if key in keys:
                    raise SpecError(f"line {key_node.start_mark.line + 1}: the key {key!r} is given twice "
                                    f"in one mapping")
                keys.add(key)
            self.flatten_mapping(node)  # merged keys first, the mapping's own keys override them
            return super().construct_mapping(node, deep=deep)

    builder = Constructor()
    anchors: dict = {}
    stack: list = []  # open collections: [node, the key waiting for its value]
    root, documents, nodes, aliases = None, 0, 0, 0

    def attach(node):
        nonlocal root, nodes
        nodes += 1
        if nodes > VALUES_LIMIT:
            raise SpecError(f"holds more than {VALUES_LIMIT:,} values")
        if not stack:
            root = node
        elif isinstance(stack[-1][0], SequenceNode):
            stack[-1][0].value.append(node)
        elif stack[-1][1] is None:
            stack[-1][1] = node
        else:
            stack[-1][0].value.append((stack[-1][1], node))
            stack[-1][1] = None

    def anchored(event, node):
        if event.anchor is not None:
            anchors[event.anchor] = node

    while True:
        event = events.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            break
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise SpecError(f"line {event.start_mark.line + 1}: a second YAML document; a file holds one")
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > ALIAS_LIMIT:
                raise SpecError(f"more than {ALIAS_LIMIT} YAML aliases (*name): refused, as an alias bomb would be")
            node = anchors.get(event.anchor)
            if node is None:
                raise SpecError(f"line {event.start_mark.line + 1}: the alias *{event.anchor} names no anchor")
            if any(node is open_[0] for open_ in stack):
                raise SpecError(f"line {event.start_mark.line + 1}: the alias *{event.anchor} is inside its own "
                                f"anchor (a value that contains itself)")
            attach(node)
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = builder.resolve(ScalarNode, event.value, event.implicit)
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            anchored(event, node)
            attach(node)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            kind = SequenceNode if isinstance(event, yaml.SequenceStartEvent) else MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = builder.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            anchored(event, node)
            attach(node)
            stack.append([node, None])
            if len(stack) > DEPTH_LIMIT:
                raise SpecError(f"nested more than {DEPTH_LIMIT} levels deep")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()[0].end_mark = event.end_mark
    if root is None:
        return None
    return builder.construct_document(root)


def load(path: str | Path) -> Spec:
    """Read an architecture file and build its model."""
    return from_data(read_data(path), str(path))


def _dims(data, source) -> tuple[dict, dict]:
    if data is None:
        return {}, {}
    if isinstance(data, list):  # [H, W]: dims without defaults
        for name in data:
            if not isinstance(name, str) or not is_identifier(name):
                raise SpecError(f"{source}: dims: a dim name must be an identifier. Received: {name!r}")
        seen: set = set()
        for name in data:
            if name in seen:
                raise SpecError(f"{source}: dims: the dim {name!r} is declared twice")
            seen.add(name)
        data = {name: None for name in data}
    if not isinstance(data, dict):
        raise SpecError(f"{source}: dims must be a mapping of name to default value (or null). Received: {data!r}")
    symbols, defaults = {}, {}
    for name, value in data.items():
        if not isinstance(name, str) or not is_identifier(name):
            raise SpecError(f"{source}: dims: a dim name must be an identifier. Received: {name!r}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise SpecError(
                f"{source}: dims: the default of {name} must be a positive integer or null. Received: {value!r}"
            )
        symbols[name], defaults[name] = dim(name), value
    return symbols, defaults


def convert(value, dims: dict, where: str):
    """A file value as a layer argument: numbers as they are, expressions parsed."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if is_identifier(value) and value not in dims:
            return value  # an option such as "same" or "relu": the layer validates it
        try:
            return parse_expression(value, dims)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
    if isinstance(value, list):
        return [convert(v, dims, where) for v in value]
    raise SpecError(f"{where}: expected a number, a string or a list. Received: {value!r}")


def _entry(entry, index, source):
    where = f"{source}: layers[{index}]"
    if isinstance(entry, str):
        return entry, [], {}
    if isinstance(entry, dict) and len(entry) == 1:
        (kind, args), = entry.items()
        if args is None:
            return kind, [], {}
        if isinstance(args, dict):
            return kind, [], args
        if isinstance(args, list):
            return kind, args, {}
        raise SpecError(f"{where} ({kind}): arguments must be a mapping or a list. Received: {args!r}")
    raise SpecError(f"{where}: expected `LayerType: {{argument: value}}`. Received: {entry!r}")


def from_data(data, source: str = "<spec>") -> Spec:
    """Build a :class:`Spec` from already-parsed file data."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping with keys name, framework, dims, input, layers")
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise SpecError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}. "
                        f"Expected: {', '.join(sorted(TOP_LEVEL_KEYS))}")
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str):
        raise SpecError(f"{source}: name must be a string. Received: {name!r}")
    framework = data.get("framework", "keras")
    layers_by_name = vocabulary(framework, source)
    symbols, defaults = _dims(data.get("dims"), source)
    shape = data.get("input")
    if not isinstance(shape, list) or not shape:
        raise SpecError(f"{source}: input must be a list of sizes, e.g. [H, W, 3]. Received: {shape!r}")
    entries = data.get("layers")
    if not isinstance(entries, list) or not entries:
        raise SpecError(f"{source}: layers must be a non-empty list of layer entries")
    if len(entries) > LAYER_LIMIT:
        raise SpecError(f"{source}: {len(entries):,} layers; a file lists at most {LAYER_LIMIT:,} "
                        f"(symcount.spec.LAYER_LIMIT)")

    from .keras import Input

    shape = [convert(s, symbols, f"{source}: input") for s in shape]
    if any(isinstance(s, str) for s in shape):
        bad = next(s for s in shape if isinstance(s, str))
        raise SpecError(f"{source}: input: {bad!r} is not a declared dim (declared dims: {', '.join(symbols) or 'none'})")
    try:
        layers = [Input(shape)]
    except SymcountError as exc:
        raise SpecError(f"{source}: input: {exc}") from None
    for index, entry in enumerate(entries):
        kind, args, kwargs = _entry(entry, index, source)
        where = f"{source}: layers[{index}] ({kind})"
        if kind not in layers_by_name:
            raise SpecError(f"{source}: layers[{index}]: unknown layer type {kind!r} for framework {framework}. "
                            f"Known: {', '.join(sorted(layers_by_name))}")
        args = [convert(v, symbols, where) for v in args]
        kwargs = {str(k): convert(v, symbols, f"{where} {k}") for k, v in kwargs.items()}
        try:
            layers.append(layers_by_name[kind](*args, **kwargs))
        except SymcountError as exc:
            words = [v for v in [*args, *kwargs.values()] if isinstance(v, str) and repr(v) in str(exc)]
            hint = f" (a name in an argument must be a declared dim: {', '.join(symbols) or 'none declared'})" if words else ""
            raise SpecError(f"{where}: {exc}{hint}") from None
    return Spec(source, name, Sequential(layers, name=name), symbols, defaults)


def default_values(spec: Spec) -> dict:
    return {k: v for k, v in spec.defaults.items() if v is not None}


def symbol(spec: Spec, name: str) -> sympy.Symbol:
    return spec.dims[name]
