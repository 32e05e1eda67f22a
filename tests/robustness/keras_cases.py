"""Keras model files, mutated: real configs written by Keras 3 (``keras_sequential.json``:
``Sequential([Input((4,)), Dense(3, name="d1"), Dense(2, name="d2")])``;
``keras_functional.json``: the same as ``Model(x, d2(d1(x)))``), each mutation with its
exact outcome. By hand: Dense(3) on 4 features (4 + 1)·3 = 15, Dense(2) on 3 (3 + 1)·2 = 8:
23 parameters, 12 + 6 = 18 MACs.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

from .batch import Case

HERE = Path(__file__).resolve().parent
SEQUENTIAL = json.loads((HERE / "keras_sequential.json").read_text())
FUNCTIONAL = json.loads((HERE / "keras_functional.json").read_text())
D = "{dir}"
DELETE = object()


def mutate(data, path: str, value):
    """``data`` with the value at ``path`` (``config.layers.1.config.units``) replaced (or deleted)."""
    data = copy.deepcopy(data)
    *parents, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")] if path else [None]
    if last is None:
        return value
    node = data
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


def history(layer: str, node=0, tensor=0) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"shape": [None, 3], "keras_history": [layer, node, tensor]}}


D1 = "config.layers.1"
D2 = "config.layers.2"
SEQ = [  # (id, path, value, expected: dict of values or tuple of error phrases)
    ("units-5", f"{D1}.config.units", 5, {"total": 25 + 12, "macs": 20 + 10}),
    ("no-bias", f"{D1}.config.use_bias", False, {"total": 12 + 8, "macs": 18}),
    ("frozen", f"{D1}.config.trainable", False, {"total": 23, "trainable": 8, "non_trainable": 15}),
    ("input-7", "config.layers.0.config.batch_shape", [None, 7], {"total": 24 + 8, "macs": 21 + 6}),
    ("units-0", f"{D1}.config.units", 0, ("d1", "units must be positive. Received: 0")),
    ("units-neg", f"{D1}.config.units", -1, ("d1", "units must be positive. Received: -1")),
    ("units-float", f"{D1}.config.units", 2.5, ("d1", "units must be a positive integer", "2.5")),
    ("units-str", f"{D1}.config.units", "3", ("d1", "units must be a positive integer", "'3'")),
    ("units-null", f"{D1}.config.units", None, ("d1", "units")),
    ("units-bool", f"{D1}.config.units", True, ("d1", "units must be a positive integer", "True")),
    ("units-list", f"{D1}.config.units", [3], ("d1", "units must be a positive integer", "Received: (3,)")),
    ("units-map", f"{D1}.config.units", {"a": 1}, ("d1", "units")),
    ("units-inf", f"{D1}.config.units", float("inf"), ("d1", "units must be a positive integer", "inf")),
    ("units-huge", f"{D1}.config.units", 10 ** 50, {"total": 5 * 10 ** 50 + (10 ** 50 + 1) * 2,
                                                    "macs": 4 * 10 ** 50 + 10 ** 50 * 2}),
    ("no-units", f"{D1}.config.units", DELETE, ("d1", "units")),
    ("no-config", f"{D1}.config", DELETE, ("layers[1]",)),
    ("config-list", f"{D1}.config", [], ("layers[1]",)),
    ("class-unknown", f"{D1}.class_name", "NoSuchLayer", ("NoSuchLayer",)),
    ("class-int", f"{D1}.class_name", 3, ("s › layers[1]: a layer must be an object with class_name and config",)),
    ("layer-str", D1, "Dense", ("layers[1]",)),
    ("layers-str", "config.layers", "x", ("layers",)),
    ("layers-map", "config.layers", {}, ("layers",)),
    ("layers-null", "config.layers", None, ("layers",)),
    ("layers-empty", "config.layers", [], {"total": 0, "macs": 0}),  # its build_input_shape stays: no layers
    ("shape-zero", "config.layers.0.config.batch_shape", [None, 0], ("batch_shape",)),
    ("shape-neg", "config.layers.0.config.batch_shape", [None, -1], ("batch_shape",)),
    ("shape-str", "config.layers.0.config.batch_shape", [None, "a"], ("batch_shape",)),
    ("shape-null", "config.layers.0.config.batch_shape", None, ("input",)),
    ("shape-empty", "config.layers.0.config.batch_shape", [], ("batch_shape",)),
    ("shape-int", "config.layers.0.config.batch_shape", 4, ("batch_shape",)),
    ("config-null", "config", None, ("expected a Keras model",)),
    ("class-model", "class_name", "Nope", ("expected a Keras model", "'Nope'")),
    ("top-list", "", [1, 2], ("expected a mapping with keys name, framework, dims, input, layers",)),
    ("name-int", f"{D1}.config.name", 3, ("layers[1]",)),
    ("activation-bad", f"{D1}.config.activation", "no_such_activation", ("no_such_activation",)),
    ("activation-int", f"{D1}.config.activation", 3, ("activation",)),
    # found by fuzzing (tests/robustness/test_fuzz.py), kept: each was a TypeError or AttributeError
    ("activation-object", f"{D1}.config.activation", {"class_name": "ReLU"},
     ("s › layers[1] (d1): activation 'ReLU' is a custom object; symcount takes activations by name",)),
    ("activation-list", f"{D1}.config.activation", ["relu"], ("d1", "unknown activation", "Received: activation=('relu',)")),
    ("input-name-list", "config.layers.0.config.name", ["in"],
     ("s › layers[0]: an InputLayer's name must be a string. Received: ['in']",)),
    ("layer-name-list", f"{D1}.config.name", ["d1"], ("s › layers[1]: layer Dense: its name must be a string",)),
    ("model-name-list", "config.name", ["s"], ("the model's name must be a string. Received: ['s']",)),
]

FUN_D1 = "config.layers.1"
FUN_D2 = "config.layers.2"
FUN = [
    ("ok", "config.name", "f", {"total": 23, "macs": 18}),
    ("reversed", "config.layers", list(reversed(FUNCTIONAL["config"]["layers"])), {"total": 23, "macs": 18}),
    ("shuffled", "config.layers", [FUNCTIONAL["config"]["layers"][i] for i in (2, 0, 1)], {"total": 23, "macs": 18}),
    ("unknown-source", f"{FUN_D2}.inbound_nodes.0.args.0", history("nope"),
     ("d2", "its input ['nope', 0, 0] is not produced by any layer")),
    ("history-str-index", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", ["d1", "0", 0],
     ("d2", "an input must be [layer name, node index, tensor index]. Received: ['d1', '0', 0]")),
    ("history-list-name", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", [["d1"], 0, 0],
     ("d2", "an input must be [layer name, node index, tensor index]")),
    ("history-short", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", ["d1", 0],
     ("d2", "an inbound node without input tensors")),
    ("history-neg", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", ["d1", -1, 0],
     ("d2", "an input must be [layer name, node index, tensor index]")),
    ("history-bool", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", ["d1", True, 0],
     ("d2", "an input must be [layer name, node index, tensor index]")),
    ("history-null", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", None,
     ("d2", "an inbound node without input tensors")),
    ("second-tensor", f"{FUN_D2}.inbound_nodes.0.args.0.config.keras_history", ["d1", 0, 1],
     ("d2", "its input ['d1', 0, 1] is not produced by any layer")),
    ("inbound-str", f"{FUN_D2}.inbound_nodes", "x", ("d2", "inbound_nodes must be a list")),
    ("inbound-map", f"{FUN_D2}.inbound_nodes", {}, ("d2", "inbound_nodes must be a list")),
    ("inbound-null", f"{FUN_D2}.inbound_nodes", None, ("d2", "inbound_nodes must be a list")),
    ("inbound-int-node", f"{FUN_D2}.inbound_nodes", [3], ("d2", "an inbound node without input tensors")),
    ("args-empty", f"{FUN_D2}.inbound_nodes.0.args", [], ("d2", "an inbound node without input tensors")),
    ("two-inputs", f"{FUN_D2}.inbound_nodes.0.args", [history("d1"), history("x")],
     ("d2", "takes one input tensor; the file gives it 2")),
    ("cycle", f"{FUN_D1}.inbound_nodes.0.args.0", history("d2"), ("f › d1: its input ['d2', 0, 0] is not produced by any layer of the model (or only in a cycle)",)),
    ("self-loop", f"{FUN_D1}.inbound_nodes.0.args.0", history("d1"), ("d1", "or only in a cycle")),
    ("input-layers-unknown", "config.input_layers", [["nope", 0, 0]],
     ("input_layers names 'nope', which is not an InputLayer of the model",)),
    ("input-layers-str", "config.input_layers", "x", ("input_layers must be [name, node, tensor]",)),
    ("input-layers-empty", "config.input_layers", [], ("input_layers must be [name, node, tensor]",)),
    ("output-layers-unknown", "config.output_layers", [["nope", 0, 0]],
     ("output_layers names ['nope', 0, 0], which no layer produces",)),
    ("output-layers-null", "config.output_layers", None, ("output_layers must be [name, node, tensor]",)),
    ("twice-named", "config.layers", [*FUNCTIONAL["config"]["layers"], FUNCTIONAL["config"]["layers"][2]],
     ("two layers are named 'd2'",)),
    ("layer-no-name", f"{FUN_D2}.name", DELETE, None),  # the config's name still names it
    ("layer-names-none", f"{FUN_D2}", {"class_name": "Dense", "config": {"units": 2}}, ("a layer of a Functional model "
                                                                                      "needs a name",)),
    ("layer-int", FUN_D2, 3, ("a layer must be an object. Received: 3",)),
    # found by fuzzing (tests/robustness/test_fuzz.py), kept: each was a TypeError or AttributeError
    ("kwargs-list", f"{FUN_D2}.inbound_nodes.0.kwargs", [1],
     ("f › d2: an inbound node's kwargs must be an object. Received: [1]",)),
    ("tensor-config-str", f"{FUN_D2}.inbound_nodes.0.args.0.config", "x", ("f › d2: an inbound node without input",)),
    ("inbound-int", f"{FUN_D1}.inbound_nodes", 3, ("f › d1: inbound_nodes must be a list. Received: 3",)),
    ("output-ref-list-name", "config.output_layers", [[["d2"], 0, 0]], ("f: output_layers must be [name, node, tensor]",)),
    ("output-ref-str-index", "config.output_layers", [["d2", "0", 0]], ("f: output_layers must be [name, node, tensor]",)),
    ("layer-config-bool", f"{FUN_D2}.config", True, ("layer Dense: config must be an object. Received: True",)),
    ("class-name-bool", f"{FUN_D2}.class_name", True, ("a layer must be an object with class_name and config",)),
]


def _keras_json_cases() -> list[Case]:
    cases = []
    for family, base, table in (("seq", SEQUENTIAL, SEQ), ("fun", FUNCTIONAL, FUN)):
        for key, path, value, expected in table:
            name = f"keras-{family}-{key}.json"
            data = mutate(base, path, value)
            text = json.dumps(data)
            argv = ["count", f"{D}/{name}", "--json"]
            if expected is None:
                expected = {"total": 23, "macs": 18}
            if isinstance(expected, dict):
                cases.append(Case(name[:-5], argv, values=expected, files={name: text}))
            else:
                cases.append(Case(name[:-5], argv[:2], error=(f"{D}/{name}", *expected), files={name: text}))
    return cases


def _archive(members: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _keras_archive_cases() -> list[Case]:
    good = json.dumps(SEQUENTIAL)
    meta = json.dumps({"keras_version": "3.0.0"})
    whole = _archive({"config.json": good, "metadata.json": meta})
    archives = [
        ("good", whole, {"total": 23, "macs": 18}),
        ("stored", _archive({"config.json": good}, zipfile.ZIP_STORED), {"total": 23, "macs": 18}),
        ("no-config", _archive({"metadata.json": meta}), ("the archive has no config.json",)),
        ("config-not-json", _archive({"config.json": "{nope"}), ("config.json", "not valid JSON")),
        ("config-twice-key", _archive({"config.json": '{"class_name": 1, "class_name": 2}'}),
         ("the key 'class_name' is given twice",)),
        ("config-deep", _archive({"config.json": "[" * 5000 + "]" * 5000}), ("nested more than 64 levels deep",)),
        ("config-list", _archive({"config.json": "[]"}), ("expected a Keras model",)),
        ("truncated", whole[: len(whole) // 2], ("not a readable .keras file",)),
        ("not-zip", b"PK\x03\x04 not really a zip", ("not a readable .keras file",)),
        ("empty", b"", ("not a readable .keras file",)),
        ("text", b"hello", ("not a readable .keras file",)),
        ("bomb", _archive({"config.json": " " * (17 * 1024 * 1024) + good}),
         ("its config.json is 17,827,876 bytes unpacked; at most 16,777,216 are read",)),
        ("config-latin1", _archive({"config.json": '{"name": "caf\xe9"}'.encode("latin-1")}), ("config.json",)),
    ]
    cases = []
    for key, data, expected in archives:
        name = f"archive-{key}.keras"
        if isinstance(expected, dict):
            cases.append(Case(name[:-6], ["count", f"{D}/{name}", "--json"], values=expected, files={name: data}))
        else:
            cases.append(Case(name[:-6], ["count", f"{D}/{name}"], error=(f"{D}/{name}", *expected),
                              files={name: data}))
    return cases


def _chain(n: int, reverse: bool) -> str:
    """A Functional chain of n Dense(4) layers on 4 features (each (4 + 1)·4 = 20 parameters)."""
    tensor = lambda name: {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "keras_history": [name, 0, 0]}}  # noqa: E731
    layers = [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [None, 4]}}]
    for i in range(n):
        layers.append({"class_name": "Dense", "name": f"d{i}", "config": {"name": f"d{i}", "units": 4},
                       "inbound_nodes": [{"args": [tensor(f"d{i - 1}" if i else "x")]}]})
    if reverse:
        layers.reverse()
    return json.dumps({"class_name": "Functional", "config": {"name": "chain", "input_layers": [["x", 0, 0]],
                                                            "output_layers": [[f"d{n - 1}", 0, 0]], "layers": layers}})


def keras_cases() -> list[Case]:
    n = 20_000
    return _keras_json_cases() + _keras_archive_cases() + [
        # a 20,000-layer graph listed in reverse order: linear topological order (was worse than quadratic)
        Case("keras-layer-limit", ["count", f"{D}/many.json"],
             error=(f"{D}/many.json: s: 50,001 layers; a model lists at most 50,000 (symcount.spec.LAYER_LIMIT)",),
             files={"many.json": json.dumps({"class_name": "Sequential", "config": {
                 "name": "s", "layers": [{"class_name": "Flatten", "config": {}}] * 50_001}})}),
        Case("keras-chain-20000-reversed", ["count", f"{D}/chain.json"], out=(f"total: {20 * n:,}", f"MACs: {16 * n:,}"),
             timeout=90, files={"chain.json": _chain(n, True)}),
    ]
