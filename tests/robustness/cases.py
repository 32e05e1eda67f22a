"""The hostile-input corpus (issue 18): command lines with their exact expected outcome.

Answers are derived by hand (a ``Dense(u)`` on ``n`` features has ``(n + 1)·u``
parameters and ``n·u`` MACs; a ``Conv2D(f, k)`` on ``c`` channels ``(k·k·c + 1)·f``);
errors must name the culprit (file, layer, argument) and what was wrong.
"""

from __future__ import annotations

import json

from .batch import ROOT, Case

D = "{dir}"


def spec(name: str, layers: list[str], dims: str = "{n: 3}", input_: str = "[n]", extra: str = "",
         suffix: str = "yaml") -> dict:
    text = f"name: {name}\n{extra}dims: {dims}\ninput: {input_}\nlayers:\n" + "".join(f"  - {l}\n" for l in layers)
    return {f"{name}.{suffix}": text}


def dense_total(n: int, u: int) -> dict:
    return {"total": (n + 1) * u, "macs": n * u}


# ---------------------------------------------------------------------------
# 1. size expressions: the right answer, or an error naming file, layer and argument
# ---------------------------------------------------------------------------

EXPRESSIONS = {  # text -> its value as a function of n (by hand)
    "n": lambda n: n, "2*n": lambda n: 2 * n, "n+1": lambda n: n + 1, "(n+1)*2": lambda n: (n + 1) * 2,
    "n**2": lambda n: n ** 2, "n^2": lambda n: n ** 2, "3*n - 2": lambda n: 3 * n - 2,
    "n // 2 + 1": lambda n: n // 2 + 1, "(n + 3) // 4": lambda n: (n + 3) // 4, "- -n": lambda n: n,
    "+n": lambda n: n, "2**3*n": lambda n: 8 * n, "n*n*n": lambda n: n ** 3, "((n))": lambda n: n,
    "n - n + 1": lambda n: 1, "  n  ": lambda n: n, "n**1": lambda n: n, "(2*n)//2": lambda n: n,
    "4 * n // 3 + 1": lambda n: 4 * n // 3 + 1, "n ^ 2 - n + 1": lambda n: n * n - n + 1,
}
VALUES_OF_N = (1, 5, 12, 999)


def expression_cases() -> list[Case]:
    cases = []
    for i, (text, value) in enumerate(EXPRESSIONS.items()):
        files = spec(f"expr{i}", [f'Dense: {{units: "{text}"}}'])
        for n in VALUES_OF_N:
            cases.append(Case(f"expr-{i}-n{n}", ["count", f"{D}/expr{i}.yaml", "--set", f"n={n}", "--json"],
                              values=dense_total(n, value(n)), files=files))
    return cases


HOSTILE_UNITS = [  # (value as written in YAML, phrases the error must hold)
    ("0", ["layers[0] (Dense)", "units must be positive. Received: 0"]),
    ("-3", ["layers[0] (Dense)", "units must be positive. Received: -3"]),
    ("2.5", ["layers[0] (Dense)", "units must be a positive integer", "2.5"]),
    (".nan", ["layers[0] (Dense)", "units must be a positive integer", "nan"]),
    (".inf", ["layers[0] (Dense)", "units must be a positive integer", "inf"]),
    ("true", ["layers[0] (Dense)", "units must be a positive integer", "True"]),
    ("null", ["layers[0] (Dense)", "units"]),
    ("[1, 2]", ["layers[0] (Dense)", "units must be a positive integer", "[1, 2]"]),
    ("{a: 1}", ["layers[0] (Dense) units", "expected a number, a string or a list"]),
    ('"n/0"', ["layers[0] (Dense) units", "division by zero in expression 'n/0'"]),
    ('"n//(n-n)"', ["layers[0] (Dense) units", "division by zero"]),
    ('"n%2"', ["layers[0] (Dense) units", "unexpected character '%'"]),
    ('"n.real"', ["layers[0] (Dense) units", "unexpected character '.'"]),
    ('"__import__(\'os\')"', ["layers[0] (Dense) units", "unexpected character"]),
    ('"1e400"', ["layers[0] (Dense) units", "unexpected 'e400'"]),
    ('"n**n"', ["layers[0] (Dense) units", "the exponent n holds a dim"]),
    ('"2**n"', ["layers[0] (Dense) units", "the exponent n holds a dim"]),
    ('"n**65"', ["layers[0] (Dense) units", "exponent 65 is too large for a size"]),
    ('"n**-65"', ["layers[0] (Dense) units", "exponent -65 is too large for a size"]),
    ('"(n**64)**64"', ["layers[0] (Dense) units", "exponent 4096 is too large for a size (at most 64)"]),
    ('"n**64*n**64"', ["layers[0] (Dense) units", "exponent 128 is too large for a size (at most 64)"]),
    ('"(9**64)**64"', ["layers[0] (Dense) units", "9**64 has more than 30 digits"]),
    ('"((((9**64)**64)**64)**64)"', ["layers[0] (Dense) units", "9**64 has more than 30 digits"]),
    ('"2**(1/2)"', ["layers[0] (Dense) units", "the exponent 1/2 is not a whole number"]),
    ('"' + "9" * 31 + '"', ["layers[0] (Dense) units", "integer literal of 31 digits is too long for a size"]),
    ('"' + "9" * 20 + "*" + "9" * 20 + '"', ["layers[0] (Dense) units", "a number of more than 30 digits"]),
    ('"' + "(" * 51 + "n" + ")" * 51 + '"', ["layers[0] (Dense) units", "parentheses nested more than 50 deep"]),
    ('"' + "n+" * 5001 + 'n"', ["layers[0] (Dense) units", "an expression of 10,003 characters: at most 10,000"]),
    ('"(n"', ["layers[0] (Dense) units", "missing ')'"]),
    ('"n)"', ["layers[0] (Dense) units", "unexpected ')'"]),
    ('"n +"', ["layers[0] (Dense) units", "unexpected end"]),
    ('""', ["layers[0] (Dense) units", "empty expression"]),
    ('"m"', ["layers[0] (Dense)", "'m'", "a name in an argument must be a declared dim: n"]),
    ('"m + 1"', ["layers[0] (Dense) units", "unknown name 'm' (declared dims: n)"]),
    ('"n - 5"', ["dense (Dense): the closed form needs n >= 6, which these values break. Current values: n=3"]),
    ('"n / 2"', ["dense (Dense): the closed form needs n % 2 == 0, which these values break"]),
    ('"n - 3"', ["dense (Dense): the closed form needs n >= 4, which these values break"]),
    ('"１２"', ["layers[0] (Dense) units", "unexpected character '１'"]),
    ('"²"', ["layers[0] (Dense) units", "unexpected character '²'"]),
    ('"n\u00a0+ 1"', ["layers[0] (Dense) units", "unexpected character"]),
]


def hostile_unit_cases() -> list[Case]:
    cases = []
    for i, (value, phrases) in enumerate(HOSTILE_UNITS):
        name = f"units{i}"
        cases.append(Case(f"units-{i}", ["count", f"{D}/{name}.yaml"], error=(f"{D}/{name}.yaml", *phrases)
                          if "closed form" not in phrases[0] else tuple(phrases),
                          files=spec(name, [f"Dense: {{units: {value}}}"])))
    return cases


# ---------------------------------------------------------------------------
# 2. the file itself: syntax, structure, limits, in YAML, JSON and TOML
# ---------------------------------------------------------------------------

GOOD = {"name": "good", "dims": {"n": 3}, "input": ["n"], "layers": [{"Dense": {"units": 2}}]}
STRUCTURE = [  # (id, change to GOOD or None to delete the key, phrases)
    ("no-layers", ("layers", None), ["layers must be a non-empty list of layer entries"]),
    ("empty-layers", ("layers", []), ["layers must be a non-empty list of layer entries"]),
    ("layers-map", ("layers", {"a": 1}), ["layers must be a non-empty list of layer entries"]),
    ("layers-str", ("layers", "Dense"), ["layers must be a non-empty list of layer entries"]),
    ("no-input", ("input", None), ["input must be a list of sizes"]),
    ("input-empty", ("input", []), ["input must be a list of sizes"]),
    ("input-str", ("input", "n"), ["input must be a list of sizes"]),
    ("input-zero", ("input", [0]), ["input: Input shape[0] must be positive. Received: 0"]),
    ("input-neg", ("input", [-1]), ["input: Input shape[0] must be positive. Received: -1"]),
    ("input-float", ("input", [2.5]), ["input: Input shape[0] must be a positive integer", "2.5"]),
    ("input-nested", ("input", [["n"]]), ["input: Input shape[0] must be a positive integer", "[n] (list)"]),
    ("input-unknown", ("input", ["m"]), ["input: 'm' is not a declared dim (declared dims: n)"]),
    ("input-bool", ("input", [True]), ["input: Input shape[0] must be a positive integer", "True"]),
    ("dims-str", ("dims", "n"), ["dims must be a mapping of name to default value"]),
    ("dims-int", ("dims", 3), ["dims must be a mapping of name to default value"]),
    ("dims-nested-list", ("dims", [[1]]), ["dims: a dim name must be an identifier. Received: [1]"]),
    ("dims-list-map", ("dims", [{"a": 1}]), ["dims: a dim name must be an identifier. Received: {'a': 1}"]),
    ("dims-list-null", ("dims", [None]), ["dims: a dim name must be an identifier. Received: None"]),
    ("dims-list-twice", ("dims", ["n", "n"]), ["dims: the dim 'n' is declared twice"]),
    ("dims-bad-name", ("dims", {"1x": 3}), ["dims: a dim name must be an identifier. Received: '1x'"]),
    ("dims-neg", ("dims", {"n": -3}), ["dims: the default of n must be a positive integer or null. Received: -3"]),
    ("dims-zero", ("dims", {"n": 0}), ["dims: the default of n must be a positive integer or null. Received: 0"]),
    ("dims-float", ("dims", {"n": 3.5}), ["the default of n must be a positive integer or null. Received: 3.5"]),
    ("dims-str-value", ("dims", {"n": "3"}), ["the default of n must be a positive integer or null. Received: '3'"]),
    ("dims-bool", ("dims", {"n": True}), ["the default of n must be a positive integer or null. Received: True"]),
    ("dims-list-value", ("dims", {"n": [3]}), ["the default of n must be a positive integer or null"]),
    ("name-int", ("name", 3), ["name must be a string. Received: 3"]),
    ("name-list", ("name", ["a"]), ["name must be a string. Received: ['a']"]),
    ("framework-jax", ("framework", "jax"), ["unknown framework 'jax'. Expected: keras or torch"]),
    ("framework-list", ("framework", [1]), ["unknown framework [1]. Expected: keras or torch"]),
    ("unknown-key", ("bogus", 1), ["unknown key(s) bogus. Expected: dims, framework, input, layers, name"]),
    ("unknown-keys", ("Layers", []), ["unknown key(s) Layers"]),
    ("layer-unknown", ("layers", [{"Densse": {"units": 2}}]), ["layers[0]: unknown layer type 'Densse'"]),
    ("layer-two-keys", ("layers", [{"Dense": 2, "Flatten": None}]), ["layers[0]: expected `LayerType:"]),
    ("layer-int", ("layers", [3]), ["layers[0]: expected `LayerType: {argument: value}`. Received: 3"]),
    ("layer-list", ("layers", [[1]]), ["layers[0]: expected `LayerType: {argument: value}`. Received: [1]"]),
    ("layer-args-int", ("layers", [{"Dense": 2}]), ["layers[0] (Dense): arguments must be a mapping or a list"]),
    ("layer-bad-kw", ("layers", [{"Dense": {"units": 2, "wat": 1}}]),
     ["layers[0] (Dense)", "unexpected keyword argument 'wat'"]),
    ("layer-too-many", ("layers", [{"Dense": list(range(1, 13))}]),
     ["layers[0] (Dense)", "too many positional arguments"]),
    ("layer-missing-arg", ("layers", [{"Dense": {}}]), ["layers[0] (Dense)", "units"]),
    ("layer-input-type", ("layers", [{"Input": {"shape": [3]}}]), ["layers[0]: unknown layer type 'Input'"]),
    ("layer-activation", ("layers", [{"Dense": {"units": 2, "activation": "nope"}}]),
     ["layers[0] (Dense)", "nope"]),
    ("conv-on-1d", ("layers", [{"Conv2D": {"filters": 2, "kernel_size": 3}}]),
     ["good › conv2d (Conv2D, layer 1): expected an input of rank 4"]),
    ("top-list", None, ["expected a mapping with keys name, framework, dims, input, layers"]),
]


def _dump(data, suffix: str) -> str:
    if suffix == "json":
        return json.dumps(data)
    if suffix == "yaml":
        import yaml

        return yaml.safe_dump(data)
    raise AssertionError(suffix)


def structure_cases() -> list[Case]:
    cases = []
    for key, change, phrases in STRUCTURE:
        if change is None:
            data = [GOOD]
        else:
            data = dict(GOOD)
            if change[1] is None and change[0] in data:
                del data[change[0]]
            else:
                data[change[0]] = change[1]
        for suffix in ("yaml", "json"):
            name = f"struct-{key}.{suffix}"
            cases.append(Case(f"struct-{key}-{suffix}", ["count", f"{D}/{name}"], error=(f"{D}/{name}", *phrases),
                              files={name: _dump(data, suffix)}))
    return cases


TOML_GOOD = 'name = "t"\ninput = ["n"]\nlayers = [{Dense = {units = 2}}]\n[dims]\nn = 3\n'

FILES = [  # (file name, content, phrases); the name is part of every error
    ("empty.yaml", "", ["expected a mapping with keys name, framework, dims, input, layers"]),
    ("null.yaml", "null\n", ["expected a mapping with keys"]),
    ("scalar.yaml", "3\n", ["expected a mapping with keys"]),
    ("list.yaml", "- 1\n- 2\n", ["expected a mapping with keys"]),
    ("tabs.yaml", "name: a\n\tdims: {}\n", ["not valid YAML"]),
    ("unclosed.yaml", "name: [a\n", ["not valid YAML"]),
    ("badindent.yaml", "a:\n  b: 1\n c: 2\n", ["not valid YAML"]),
    ("python-tag.yaml", "a: !!python/object/apply:os.system ['true']\n", ["not valid YAML"]),
    ("custom-tag.yaml", "a: !foo 1\n", ["not valid YAML"]),
    ("key-list.yaml", "? [a, b]\n: 1\n", ["line 1: a key must be a name, not a list"]),
    ("key-map.yaml", "? {a: 1}\n: 1\n", ["line 1: a key must be a name, not a mapping"]),
    ("twice-nested.yaml", "name: a\ndims: {n: 1, n: 2}\n", ["line 2: the key 'n' is given twice"]),
    ("twice-layer.yaml", "input: [3]\nlayers:\n  - Dense: {units: 2, units: 3}\n", ["the key 'units' is given twice"]),
    ("merge.yaml", "a: &a {x: 1}\nb: {<<: *a, x: 2}\n", ["unknown key(s) a, b"]),
    ("aliases.yaml", "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n", ["more than 100 YAML aliases"]),
    ("deep.yaml", "x: " + "[" * 70 + "]" * 70 + "\n", ["nested more than 64 levels deep"]),
    ("deep-map.yaml", "x: " + "{a: " * 70 + "1" + "}" * 70 + "\n", ["nested more than 64 levels deep"]),
    ("many.yaml", "x: [" + ", ".join(["1"] * 200_001) + "]\n", ["holds more than 200,000 values"]),
    ("latin1.yaml", "name: caf\xe9\n".encode("latin-1"), ["cannot read the file"]),
    ("binary.yaml", bytes(range(256)) * 4, ["cannot read the file"]),
    ("bom.yaml", "\ufeffname: bom\ndims: {n: 3}\ninput: [n]\nlayers:\n  - Dense: {units: 2}\n", None),
    ("big.yaml", "# " + "x" * (4 * 1024 * 1024) + "\n", ["an architecture file is at most 4,194,304"]),
    ("syntax.json", '{"name": ', ["not valid JSON"]),
    ("trailing.json", '{"name": "a",}', ["not valid JSON"]),
    ("nan.json", '{"name": NaN}', ["name must be a string. Received: nan"]),
    ("twice.json", '{"input": [3], "input": [4]}', ["the key 'input' is given twice"]),
    ("deep.json", "[" * 3000 + "]" * 3000, ["nested more than 64 levels deep"]),
    ("scalar.json", "3", ["expected a mapping with keys"]),
    ("good.toml", TOML_GOOD, None),
    ("syntax.toml", "name = \n", ["not valid TOML"]),
    ("twice.toml", 'name = "a"\nname = "b"\n', ["not valid TOML"]),
    ("deep.toml", "x = " + "[" * 70 + "]" * 70 + "\n", ["nested more than 64 levels deep"]),
    ("unknown.toml", TOML_GOOD + "[extra]\na = 1\n", ["unknown key(s) extra"]),
    ("spec.txt", "name: a\n", ["unknown file type '.txt'"]),
    ("noext", "name: a\n", ["unknown file type ''"]),
]


def file_cases() -> list[Case]:
    cases = []
    for name, content, phrases in FILES:
        if phrases is None:  # a good file: Dense(2) on 3 features
            cases.append(Case(f"file-{name}", ["count", f"{D}/{name}", "--json"], values=dense_total(3, 2),
                              files={name: content}))
        else:
            cases.append(Case(f"file-{name}", ["count", f"{D}/{name}"], error=(f"{D}/{name}", *phrases),
                              files={name: content}))
    # a YAML merge key: the mapping's own key overrides the merged one (Dense(5) then Dense(2) on 3 features)
    merged = "name: m\ndims: {n: 3}\ninput: [n]\nlayers:\n  - Dense: &d {units: 5}\n  - Dense: {<<: *d, units: 2}\n"
    cases.append(Case("file-merge-key", ["count", f"{D}/merged.yaml", "--json"], values={"total": 20 + 12, "macs": 25},
                      files={"merged.yaml": merged}))
    many = "name: many\ninput: [3]\nlayers:\n" + "  - Flatten\n" * 50_001
    cases.append(Case("file-layer-limit", ["count", f"{D}/many-layers.yaml"],
                      error=(f"{D}/many-layers.yaml: 50,001 layers; a file lists at most 50,000",),
                      files={"many-layers.yaml": many}))
    cases.append(Case("file-missing", ["count", f"{D}/nope.yaml"],
                      error=(f"{D}/nope.yaml: no such architecture file or zoo entry",)))
    cases.append(Case("file-dir", ["count", D], error=(D,)))
    return cases


# ---------------------------------------------------------------------------
# 3. --set: values that are not positive integers, names that are not dims
# ---------------------------------------------------------------------------

SET_VALUES = [  # (value, phrases)
    ("0", ["n must be a positive integer"]),
    ("-5", ["must be a positive integer. Received: '-5'"]),
    ("2.5", ["must be a positive integer. Received: '2.5'"]),
    ("1e3", ["must be a positive integer. Received: '1e3'"]),
    ("abc", ["must be a positive integer. Received: 'abc'"]),
    ("²", ["must be a positive integer. Received: '²' (digits 0-9 only)"]),
    ("１２", ["Received: '１２' (digits 0-9 only)"]),
    ("٣", ["Received: '٣' (digits 0-9 only)"]),
    ("0x10", ["Received: '0x10'"]),
    ("1_000", ["Received: '1_000'"]),
    ("nan", ["Received: 'nan'"]),
    ("inf", ["Received: 'inf'"]),
    ("1/2", ["Received: '1/2'"]),
    ("9" * 41, ["41 characters; a value has at most 40 digits"]),
    ("9" * 5000, ["5,000 characters; a value has at most 40 digits"]),
    ("", ["missing value for n"]),
    ("n", ["Received: 'n'"]),
    ("3 4", ["Received: '3 4'"]),
    ("+3", ["Received: '+3'"]),
]


def set_cases() -> list[Case]:
    cases = []
    files = spec("setdense", ["Dense: {units: 2}"])
    for i, (value, phrases) in enumerate(SET_VALUES):
        cases.append(Case(f"set-{i}", ["count", f"{D}/setdense.yaml", "--set", f"n={value}"],
                          error=("--set", *phrases), files=files))
    for i, (value, phrases) in enumerate(SET_VALUES[:14]):
        cases.append(Case(f"set-zoo-{i}", ["count", "transformers:GPT2Model", "--set", f"n_layer={value}"],
                          error=("--set", *[p.replace("n must", "n_layer must") for p in phrases])))
    cases += [
        Case("set-no-eq", ["count", f"{D}/setdense.yaml", "--set", "n"], error=("--set 'n': expected NAME=VALUE",),
             files=files),
        Case("set-no-name", ["count", f"{D}/setdense.yaml", "--set", "=3"], error=("--set '=3': expected NAME=VALUE",),
             files=files),
        Case("set-unknown", ["count", f"{D}/setdense.yaml", "--set", "m=3"],
             error=("unknown dim 'm'. The model's dims are: n",), files=files),
        Case("set-unknown-zoo", ["count", "transformers:GPT2Model", "--set", "n_emb=3"],
             error=("unknown dim 'n_emb'",)),
        Case("set-40-digits", ["count", f"{D}/setdense.yaml", "--set", "n=" + "9" * 40, "--json"],
             values=dense_total(10 ** 40 - 1, 2), files=files),
        Case("set-symbolic-unknown", ["count", f"{D}/setdense.yaml", "--symbolic", "m"],
             error=("unknown dim 'm'",), files=files),
        Case("dims-on-spec", ["count", f"{D}/setdense.yaml", "--dims", "n=3"],
             error=("--dims names the sizes of a Keras model file",), files=files),
        Case("set-twice-last-wins", ["count", f"{D}/setdense.yaml", "--set", "n=4", "--set", "n=7", "--json"],
             values=dense_total(7, 2), files=files),
    ]
    return cases


OPTION_VALUES = [  # GPT-2's n_inner (an optional size), MobileNet's alpha (a float)
    ("transformers:GPT2Model", "n_inner=-5", ["--set n_inner=-5", "n_inner must be a positive integer"]),
    ("transformers:GPT2Model", "n_inner=0", ["--set n_inner=0", "n_inner must be a positive integer"]),
    ("transformers:GPT2Model", "n_inner=2.5", ["--set n_inner=2.5", "n_inner must be a positive integer"]),
    ("transformers:GPT2Model", "n_inner=²", ["--set n_inner=²", "expected true, false, none, a number or a word"]),
    ("transformers:GPT2Model", "n_inner=1e999999999", ["--set n_inner=1e999999999", "must be a number from 0"]),
    ("transformers:GPT2Model", "n_inner=" + "9" * 5000, ["5,000 characters; a value has at most 40 digits"]),
    ("transformers:GPT2Model", "n_inner=nan", ["--set n_inner=nan", "expected a finite number"]),
    ("transformers:GPT2Model", "n_inner=inf", ["--set n_inner=inf", "expected a finite number"]),
    ("transformers:GPT2Model", "n_inner=a b", ["--set n_inner=a b", "expected true, false, none, a number"]),
    ("keras:MobileNet", "alpha=1e999999", ["--set alpha=1e999999", "alpha must be a number from 0 to 10^40"]),
    ("keras:MobileNet", "alpha=-1", ["--set alpha=-1", "alpha must be a number from 0 to 10^40"]),
    ("keras:MobileNet", "alpha=1e-30", ["keras:MobileNet with --set alpha=1e-30", "Conv2D filters must be positive"]),
    ("keras:MobileNet", "include_top=maybe", ["--set include_top=maybe", "include_top is true or false"]),
    ("keras:MobileNet", "depth_multiplier=1.5", ["--set depth_multiplier=1.5", "must be a positive integer"]),
    # found by fuzzing: a value holding a line break (\x1e splits lines) still gives one line
    ("transformers:GPT2Model", "n_inner=\x1e", ["--set n_inner=", "expected true, false, none, a number"]),
    ("transformers:GPT2Model", "n_inner=a\nb", ["--set n_inner=a b", "expected true, false, none, a number"]),
]


def option_cases() -> list[Case]:
    cases = [Case(f"option-{i}", ["count", target, "--set", item], error=tuple(phrases))
             for i, (target, item, phrases) in enumerate(OPTION_VALUES)]
    # GPT-2 by hand: per block 2·2d (two LayerNorms) + (d·3d + 3d) + (d·d + d) + (d·i + i) + (i·d + d);
    # embeddings (vocab + positions)·d; final LayerNorm 2d
    d, layers, vocab, positions, inner = 768, 12, 50257, 1024, 1000
    block = 4 * d + d * 3 * d + 3 * d + d * d + d + d * inner + inner + inner * d + d
    cases.append(Case("option-n-inner", ["count", "transformers:GPT2Model", "--set", f"n_inner={inner}", "--json"],
                      values={"total": layers * block + (vocab + positions) * d + 2 * d}))
    return cases


# ---------------------------------------------------------------------------
# 4. the scaling commands' flags
# ---------------------------------------------------------------------------

GPT = "transformers:GPT2Model"
MLP = str(ROOT / "examples" / "mlp.yaml")
FLAGS = [  # (argv, phrases)
    (["solve", GPT, "--params", "1", "--for", "n_embd"],
     ["solve: unreachable: no valid value has a total at most 1; the smallest, n_embd=12, gives 638,004"]),
    (["solve", GPT, "--params", "0", "--for", "n_embd"], ["solve: the budget must be positive. Received: 0"]),
    (["solve", GPT, "--params", "-1", "--for", "n_embd"], ["--params: cannot read '-1' as a number"]),
    (["solve", GPT, "--params", "abc", "--for", "n_embd"], ["--params: cannot read 'abc' as a number"]),
    (["solve", GPT, "--params", "nan", "--for", "n_embd"], ["--params: cannot read 'nan' as a number"]),
    (["solve", GPT, "--params", "inf", "--for", "n_embd"], ["--params: cannot read 'inf' as a number"]),
    (["solve", GPT, "--params", "1e99999999", "--for", "n_embd"], ["--params: the exponent of '1e99999999' is out"]),
    (["solve", GPT, "--params", "9" * 5000, "--for", "n_embd"], ["--params: a number of 5,000 characters; at most 100"]),
    (["solve", GPT, "--params", "１２", "--for", "n_embd"], ["--params: cannot read '１２' as a number"]),
    (["solve", GPT, "--params", "1e9", "--for", "nope"], ["nope"]),
    (["solve", GPT, "--params", "1e9", "--for", ","], ["--for: expected dim names separated by commas"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd", "--set", "n_embd=64"],
     ["--for n_embd: a solved dim cannot also be given with --set"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd", "--multiple-of", "1e300"],
     ["--multiple-of: at most 40 digits. Received: '1e300'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd", "--multiple-of", "0"],
     ["--multiple-of: expected a positive integer. Received: '0'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd", "--multiple-of", "2.5"],
     ["--multiple-of: expected a positive integer. Received: '2.5'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd,n_layer", "--ratio", "1/0"],
     ["--ratio: division by zero. Received: '1/0'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd,n_layer", "--ratio", "0"],
     ["--ratio: expected a positive number. Received: '0'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd,n_layer", "--ratio", "0/5"],
     ["--ratio: expected a positive number. Received: '0/5'"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd,n_layer", "--ratio", "nan"],
     ["--ratio: cannot read 'nan' as a number"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd,n_layer", "--ratio", "1/x"],
     ["--ratio: cannot read 'x' as a number"]),
    (["solve", GPT, "--params", "1e9", "--for", "n_embd", "--nearest", "up"],
     ["argument --nearest: invalid choice: 'up'", "symcount solve"]),
    (["solve", GPT, "--params", "1e9"], ["symcount solve: the following arguments are required: --for"]),
    (["solve", GPT, "--for", "n_embd"], ["symcount solve: one of the arguments --params --flops"]),
    (["solve", GPT, "--params", "1e9", "--flops", "1e9", "--for", "n_embd"],
     ["argument --flops: not allowed with argument --params"]),
    (["solve", GPT, "--compute", "1e20", "--for", "n_embd", "--tokens-per-param", "x"],
     ["--tokens-per-param: cannot read 'x' as a number"]),
    (["sweep", GPT, "--range", "n_embd=1:100000000:1"], ["n_embd: 100,000,000 points is more than the 1,000,000"]),
    (["sweep", GPT, "--range", "n_embd=16:100000:1.0000001x"], ["points is more than the 1,000,000"]),
    (["sweep", GPT, "--range", "n_embd=" + "9" * 5000], ["n_embd: a number of 5,000 characters; at most 100"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--max-points", "0"], ["--max-points must be at least 1"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--max-points", "x"],
     ["argument --max-points: invalid int value: 'x'"]),
    (["sweep", GPT, "--range", "n_embd"], ["--range 'n_embd': expected DIM=SPEC"]),
    (["sweep", GPT, "--range", "=1:2:1"], ["--range '=1:2:1': expected DIM=SPEC"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--what", "bogus"], ["--what 'bogus': expected one of"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--set", "n_embd=64"],
     ["--range n_embd: a swept dim cannot also be given with --set"]),
    (["sweep", GPT], ["the following arguments are required: --range"]),
    (["shares", GPT, "--grow", "nope"], ["--grow nope: not a dim of GPT2Model"]),
    (["shares", GPT, "--grow", "n_emb"], ["--grow n_emb: not a dim of GPT2Model. Did you mean n_embd?"]),
    (["shares", GPT, "--by", "nope"], ["argument --by: invalid choice: 'nope'"]),
    (["shares", GPT, "--depth", "0"], ["--depth must be at least 1. Received: 0"]),
    (["shares", GPT, "--depth", "x"], ["argument --depth: invalid int value: 'x'"]),
    (["scale", GPT, "--grow", "nope"], ["--grow nope: not a dim of GPT2Model"]),
    (["scale", GPT, "--grow", ""], ["--grow: expected dim names separated by commas"]),
    (["scale", GPT], ["the following arguments are required: --grow"]),
    (["scale", GPT, "--grow", "n_embd", "--what", "nope"], ["argument --what: invalid choice: 'nope'"]),
    (["count"], ["symcount count: the following arguments are required: TARGET"]),
    (["bogus"], ["symcount: argument command: invalid choice: 'bogus'"]),
    ([], ["symcount: the following arguments are required: command"]),
    (["count", GPT, "--nope"], ["unrecognized arguments: --nope"]),
    (["count", GPT, "--set"], ["argument --set: expected one argument"]),
    (["summary", GPT, "--format", "xml"], ["argument --format: invalid choice: 'xml'"]),
    (["zoo", "nothing-like-this"], ["no zoo entry starts with 'nothing-like-this'"]),
    (["count", "keras:NoSuchNet"], ["unknown zoo entry 'keras:NoSuchNet'. Known entries: keras:DenseNet121"]),
    (["count", "resnet"], ["resnet: no such architecture file or zoo entry. Did you mean"]),
    (["count", "a" * 5000 + ".yaml"], ["no architecture file, Keras file or zoo entry can have this name (File name "
                                        "too long)"]),
    (["count", "keras:" + "a" * 5000], ["no architecture file, Keras file or zoo entry can have this name"]),
    (["count", "a" * 5000 + ".json"], ["no architecture file, Keras file or zoo entry can have this name"]),
    (["count", "a" * 5000 + ".keras"], ["no architecture file, Keras file or zoo entry can have this name"]),
    (["solve", "a" * 5000, "--params", "1", "--for", "n"], ["no architecture file, Keras file or zoo entry can have"]),
    (["count", "a\x00b"], ["no such architecture file or zoo entry"]),
    (["latex", MLP, "-o", D], ["cannot write {dir}: Is a directory"]),
    (["latex", MLP, "-o", "/nonexistent/dir/out.tex"], ["cannot write /nonexistent/dir/out.tex: No such file or "
                                                       "directory"]),
    (["latex", MLP, "-o", MLP], [f"{MLP}: it is the input {MLP}; write the output to another file"]),
    (["latex", MLP, "-o", D + "/" + "a" * 300 + ".tex"], ["cannot write {dir}/aaa", "too long"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--plot", D + "/x.txt"],
     ["plot: cannot tell the format of '{dir}/x.txt'; end the file name in .png, .svg, .pdf"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--plot", "/nonexistent/x.png"],
     ["plot: cannot write '/nonexistent/x.png': no such folder '/nonexistent'"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--plot", D + "/folder.png"],
     ["plot: cannot write '{dir}/folder.png': it is a folder"]),
    (["sweep", GPT, "--range", "n_embd=64:128:64", "--range", "n_layer=1:2:1", "--range", "n_head=1:2:1", "--plot",
      D + "/x.png"], ["--plot draws one range (a line) or two (contours)"]),
]


def flag_cases() -> list[Case]:
    cases = [Case(f"flag-{i}", argv, error=tuple(phrases)) for i, (argv, phrases) in enumerate(FLAGS)]
    cases[-2].files = {"folder.png/inside": ""}  # a folder named like an image
    return cases


# ---------------------------------------------------------------------------
# 5. validity conditions: every broken one reported together; zero divisors
# ---------------------------------------------------------------------------


def condition_cases() -> list[Case]:
    conv = spec("conds", ["Conv2D: {filters: 2, kernel_size: 5}"], dims="{H: 20, W: 20}", input_="[H, W, 1]")
    third = spec("third", ['Dense: {units: "H/3"}'], dims="{H: 22}", input_="[H]")
    zero = spec("zerodiv", ['Dense: {units: "16 // (H-8)"}'], dims="{H: 8}", input_="[H]")
    cases = [
        Case("cond-both", ["count", f"{D}/conds.yaml", "--set", "H=2", "--set", "W=3"],
             error=("conds: these values break 2 conditions: conv2d (Conv2D): the closed form needs H >= 5; "
                    "conv2d (Conv2D): the closed form needs W >= 5. Current values: H=2, W=3",), files=conv),
        Case("cond-one", ["count", f"{D}/conds.yaml", "--set", "H=2"],
             error=("conds › conv2d (Conv2D): the closed form needs H >= 5, which these values break",), files=conv),
        # by hand: a 5×5 valid convolution on H×W×1: (25 + 1)·2 = 52 parameters, MACs 25·2·(H-4)(W-4)
        Case("cond-ok", ["count", f"{D}/conds.yaml", "--set", "H=5", "--set", "W=9", "--json"],
             values={"total": 52, "macs": 50 * 1 * 5}, files=conv),
        Case("third-22", ["count", f"{D}/third.yaml"], error=("needs H % 3 == 0, which these values break",),
             files=third),
        Case("third-21", ["count", f"{D}/third.yaml", "--set", "H=21", "--json"], values=dense_total(21, 7),
             files=third),
        Case("zero-divisor", ["count", f"{D}/zerodiv.yaml"],
             error=("zerodiv › dense (Dense): the closed form needs floor(16/(H - 8)) >= 1, which these values break",),
             files=zero),
        Case("zero-divisor-9", ["count", f"{D}/zerodiv.yaml", "--set", "H=9", "--json"], values=dense_total(9, 16),
             files=zero),
        Case("zero-divisor-24", ["count", f"{D}/zerodiv.yaml", "--set", "H=24", "--json"], values=dense_total(24, 1),
             files=zero),
        Case("zero-divisor-25", ["count", f"{D}/zerodiv.yaml", "--set", "H=25"],
             error=("needs floor(16/(H - 8)) >= 1, which these values break",), files=zero),
        Case("gpt2-heads", ["count", GPT, "--set", "n_embd=13"],
             error=("GPT2Model › h.*.attn (GPT2Attention): the closed form needs n_embd % n_head == 0",)),
        Case("gpt2-big", ["count", GPT, "--set", "n_layer=" + "9" * 40, "--json"],
             values={"total": (10 ** 40 - 1) * (12 * 768 ** 2 + 13 * 768) + (50257 + 1024) * 768 + 2 * 768}),
    ]
    # integers of more than 4,300 digits in every renderer: Dense(n**64) on n**64 features
    big = spec("huge", ['Dense: {units: "n**64"}'], input_='["n**64"]')
    n = 10 ** 40 - 1
    cases += [
        Case("huge-json", ["count", f"{D}/huge.yaml", "--set", f"n={n}", "--json"],
             values={"total": (n ** 64 + 1) * n ** 64}, files=big),
        Case("huge-text", ["count", f"{D}/huge.yaml", "--set", f"n={n}"], out=(_grouped((n ** 64 + 1) * n ** 64),),
             files=big),
        Case("huge-summary", ["summary", f"{D}/huge.yaml", "--set", f"n={n}"], out=("huge",), files=big),
        Case("huge-markdown", ["summary", f"{D}/huge.yaml", "--set", f"n={n}", "--format", "markdown"],
             out=("huge",), files=big),
        Case("huge-latex", ["latex", f"{D}/huge.yaml", "--set", f"n={n}"], out=("{,}",), files=big),
    ]
    return cases


def _grouped(value: int) -> str:
    """``value`` with digits grouped by commas, however many digits it has."""
    import sys

    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return f"{value:,}"
    finally:
        sys.set_int_max_str_digits(previous)


def all_cases() -> list[Case]:
    from .keras_cases import keras_cases

    return (keras_cases() + expression_cases() + hostile_unit_cases() + structure_cases() + file_cases() + set_cases()
            + option_cases() + flag_cases() + condition_cases())
