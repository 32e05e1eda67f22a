"""Hypothesis fuzzing of every input symcount reads (issue 18): architecture files (YAML,
JSON, TOML: structure and values), size expressions, ``--set`` values, Keras JSON configs
(mutations of real configs written by Keras 3) and ``.keras`` archives.

The property: a correct answer or a :class:`SymcountError` — never another exception,
never a hang (each example runs under a timer). Where the answer is known by hand it is
checked: a generated expression's value against Python's own integer arithmetic, a chain
of Dense layers against (n + 1)·u per layer, an unmutated config against Keras's
``count_params()``. Failures found are kept below as explicit regression cases.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import signal
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import symcount as sc
from symcount.cli import main
from symcount.errors import SymcountError
from symcount.expression import parse_expression
from symcount.targets import parse_set

HERE = Path(__file__).resolve().parent
SEQUENTIAL = json.loads((HERE / "keras_sequential.json").read_text())
FUNCTIONAL = json.loads((HERE / "keras_functional.json").read_text())
CNN = json.loads((HERE / "keras_cnn.json").read_text())  # keras: count_params() 173, trainable 165
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                database=None)
SECONDS = 20


class Hang(Exception):
    pass


@contextlib.contextmanager
def timer(seconds: float = SECONDS):
    """Fail an example that runs longer than ``seconds`` (a hang)."""
    def ring(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cli(*argv) -> tuple[int, str, str]:
    """``symcount.cli.main`` in-process: (status, stdout, stderr); an exception other than
    argparse's exit escapes (the test fails)."""
    out, err = io.StringIO(), io.StringIO()
    with timer(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def one_error_line(status, out, err) -> None:
    assert status == 2 and out == "", (status, out[-500:], err[-500:])
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err[-2000:]


def answer_or_error(status, out, err) -> None:
    if status == 0:
        assert out
    else:
        one_error_line(status, out, err)


# ---------------------------------------------------------------------------
# values and files
# ---------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10, max_value=300), st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["n", "2*n", "n//2", "n/3", "n-5", "relu", "same", "valid", "", "n**n", "(n", "１２", "²",
                     "n" * 50, "__import__", "m", "-n", "n**64", "1e400"]),
    st.text(max_size=12),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=12)
LAYER_TYPES = ["Dense", "Conv1D", "Conv2D", "Flatten", "Dropout", "Embedding", "LayerNormalization", "Reshape",
               "MaxPooling1D", "BatchNormalization", "Activation", "Nope", "Linear", "Conv2d"]
ARGUMENTS = ["units", "filters", "kernel_size", "strides", "padding", "rate", "input_dim", "output_dim",
             "target_shape", "pool_size", "activation", "use_bias", "axis", "in_features", "out_features", "wat"]
LAYER = st.one_of(
    st.builds(lambda kind, args: {kind: args}, st.sampled_from(LAYER_TYPES),
              st.one_of(st.dictionaries(st.sampled_from(ARGUMENTS), VALUES, max_size=3),
                        st.lists(SCALARS, max_size=3), st.none())),
    st.sampled_from(LAYER_TYPES), VALUES,
)
SPEC = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=8), SCALARS),
        "framework": st.sampled_from(["keras", "torch", "jax", 3]),
        "dims": st.one_of(st.dictionaries(st.sampled_from(["n", "m", "H", "1x", "classes"]),
                                          st.one_of(st.none(), st.integers(min_value=-3, max_value=2000), SCALARS),
                                          max_size=3),
                          st.lists(VALUES, max_size=3), SCALARS),
        "input": st.one_of(st.lists(st.one_of(st.sampled_from(["n", "m", "H", "2*n"]), SCALARS), max_size=4),
                           SCALARS),
        "layers": st.one_of(st.lists(LAYER, max_size=4), VALUES),
        "extra": VALUES,
    },
)


def toml_value(value) -> str:
    """A TOML rendering of plain data (TOML has no null: None becomes a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return '"null"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"


def write(folder: Path, data, suffix: str) -> Path:
    path = folder / f"fuzz.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps(data), encoding="utf-8")
    elif suffix == "yaml":
        import yaml

        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text("".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in data.items()),
                        encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", ["yaml", "json", "toml"])
def test_fuzzed_spec_files_answer_or_give_one_line(tmp_path, suffix):
    @FUZZ
    @given(SPEC)
    def check(data):
        path = write(tmp_path, data, suffix)
        answer_or_error(*cli("count", path))

    check()


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["yaml", "json", "toml"]))
def test_fuzzed_bytes_as_a_spec_file_answer_or_give_one_line(tmp_path_factory, raw, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"raw.{suffix}"
    path.write_bytes(raw)
    answer_or_error(*cli("count", path))


@FUZZ
@given(st.lists(st.integers(min_value=1, max_value=10 ** 6), min_size=1, max_size=6),
       st.integers(min_value=1, max_value=10 ** 9), st.sampled_from(["yaml", "json", "toml"]))
def test_a_chain_of_dense_layers_has_the_hand_count(tmp_path_factory, units, n, suffix):
    data = {"name": "chain", "dims": {"n": n}, "input": ["n"], "layers": [{"Dense": {"units": u}} for u in units]}
    path = write(tmp_path_factory.mktemp("chain"), data, suffix)
    status, out, err = cli("count", path, "--json")
    assert status == 0, err
    widths = [n, *units]
    assert json.loads(out)["values"]["total"] == sum((a + 1) * b for a, b in zip(widths, widths[1:]))


# ---------------------------------------------------------------------------
# expressions
# ---------------------------------------------------------------------------

N = sc.dim("n")


@FUZZ
@given(st.text(alphabet="n0123456789+-*/()^ .%m_", max_size=60))
@example("n**n**n**n**n**n")
@example("((((((9**64)**64)**64)**64)**64)**64)")  # a tower of constant powers hung
@example("(n**64)**64")
@example("１２")
def test_any_expression_text_parses_or_is_refused(text):
    with timer():
        try:
            parse_expression(text, {"n": N})
        except SymcountError:
            pass


def expressions(depth: int = 3):
    """``(text, value)`` pairs at n = 7: the value computed by Python's exact arithmetic."""
    leaf = st.one_of(st.integers(min_value=0, max_value=10 ** 6).map(lambda i: (str(i), Fraction(i))),
                     st.just(("n", Fraction(7))))
    if depth == 0:
        return leaf

    def combine(pair):
        (a, x), op, (b, y) = pair
        if op == "+":
            return f"({a} + {b})", x + y
        if op == "-":
            return f"({a} - {b})", x - y
        if op == "*":
            return f"({a} * {b})", x * y
        if y == 0:
            return f"({a} + {b})", x + y
        if op == "/":
            return f"({a} / {b})", x / y
        return f"({a} // {b})", Fraction(math.floor(x / y))

    inner = expressions(depth - 1)
    return st.one_of(leaf, st.tuples(inner, st.sampled_from("+-*/d"), inner).map(combine),
                     st.tuples(inner, st.integers(min_value=0, max_value=3)).map(
                         lambda p: (f"({p[0][0]})**{p[1]}", p[0][1] ** p[1])))


@FUZZ
@given(expressions())
def test_an_expression_has_its_arithmetic_value(pair):
    text, value = pair
    with timer():
        try:
            expr = parse_expression(text, {"n": N})
        except SymcountError as exc:  # only a number too large for a size is refused
            assert "digits" in str(exc) or "too large" in str(exc), exc
            return
    assert Fraction(str(expr.subs(N, 7))) == value


# ---------------------------------------------------------------------------
# --set values
# ---------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=50))
@example("²")
@example("１２")
@example("9" * 5000)
def test_a_set_value_is_a_positive_integer_or_refused(text):
    try:
        values = parse_set([f"n={text}"])
    except SymcountError:
        digits = text.strip()
        assert not (digits.isascii() and digits.isdigit() and len(digits) <= 40 and int(digits) > 0)
        return
    assert values == {"n": int(text)} and text.strip().isascii() and text.strip().isdigit() and int(text) > 0


@FUZZ
@given(st.text(max_size=30))
def test_set_on_the_command_line_answers_or_gives_one_line(tmp_path_factory, text):
    assume("\x00" not in text)
    path = tmp_path_factory.mktemp("set") / "set.yaml"
    path.write_text("name: s\ndims: {n: 3}\ninput: [n]\nlayers:\n  - Dense: {units: 2}\n", encoding="utf-8")
    status, out, err = cli("count", path, "--set", f"n={text}", "--json")
    if status == 0:
        n = int(text)
        assert json.loads(out)["values"]["total"] == (n + 1) * 2
    else:
        one_error_line(status, out, err)


@FUZZ
@given(st.sampled_from(["n_inner", "n_layer", "n_embd", "seq_len"]), st.text(max_size=20))
def test_a_zoo_entry_with_any_set_value_answers_or_gives_one_line(name, text):
    answer_or_error(*cli("count", "transformers:GPT2Model", "--set", f"{name}={text}"))


WORDS = ["--params", "--flops", "--for", "--ratio", "--multiple-of", "--range", "--what", "--by", "--depth", "--grow",
         "--nearest", "--compute", "--seq", "--tokens-per-param", "--max-points", "--causal", "--valid-only", "--csv",
         "--set", "--budget", "--dtype", "--optimizer", "--batch-size", "--tp", "--zero", "--inference", "--json",
         "n_embd", "n_layer", "n_embd,n_layer", "1e9", "0", "-1", "x", "64", "1/0", "n_embd=64:256:64", "n_embd=1:9:2x",
         "n_layer=1,2,3", "total", "macs", "memory", "block", "type", "n_embd=64", "7B", "1e99", "", "3/2", "adam",
         "fp16", "9" * 50]


@settings(FUZZ, max_examples=100)
@given(st.sampled_from(["solve", "sweep", "shares", "scale", "memory", "count", "summary", "latex"]),
       st.lists(st.sampled_from(WORDS), max_size=8))
def test_fuzzed_command_lines_answer_or_give_one_line(command, words):
    answer_or_error(*cli(command, "transformers:GPT2Model", *words))


# ---------------------------------------------------------------------------
# Keras configs and archives
# ---------------------------------------------------------------------------


def paths(data, prefix=()):
    """Every path into ``data`` (keys and list indices)."""
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from paths(value, (*prefix, index))


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-5, max_value=100), st.integers(),
              st.floats(allow_nan=False), st.text(max_size=8),
              st.sampled_from(["Dense", "InputLayer", "__keras_tensor__", "d1", "x", "image", "c1"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


@st.composite
def mutated(draw, base):
    """``base`` with one to three of its values replaced, deleted or duplicated."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        every = [p for p in paths(data) if p]
        if not every:
            break
        path = draw(st.sampled_from(every))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = [parent[path[-1]], copy.deepcopy(parent[path[-1]])]
    return data


@pytest.mark.parametrize("base", [SEQUENTIAL, FUNCTIONAL, CNN], ids=["sequential", "functional", "cnn"])
def test_mutated_keras_configs_answer_or_raise_a_symcount_error(base):
    @settings(FUZZ, max_examples=120)
    @given(mutated(base))
    def check(data):
        with timer():
            try:
                sc.from_keras(data).count()
            except SymcountError:
                pass

    check()


def test_the_real_configs_have_keras_counts():
    """Unmutated: Keras's own ``count_params()`` (and trainable weights) for each config."""
    assert int(sc.from_keras(SEQUENTIAL).count().total) == 23
    assert int(sc.from_keras(FUNCTIONAL).count().total) == 23
    cnn = sc.from_keras(CNN).count()
    assert (int(cnn.total), int(cnn.trainable)) == (173, 165)


@FUZZ
@given(mutated(FUNCTIONAL), st.sampled_from(["whole", "truncated", "garbage"]), st.binary(max_size=64))
def test_fuzzed_keras_archives_answer_or_give_one_line(tmp_path_factory, data, damage, noise):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(data))
        archive.writestr("metadata.json", "{}")
    raw = buffer.getvalue()
    if damage == "truncated":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "garbage":
        raw = raw[:40] + noise + raw[40 + len(noise):]
    path = tmp_path_factory.mktemp("archive") / "fuzz.keras"
    path.write_bytes(raw)
    answer_or_error(*cli("count", path))


# ---------------------------------------------------------------------------
# regressions the fuzzing found, kept explicit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("data, says", [
    (lambda: {**SEQUENTIAL, "config": {**SEQUENTIAL["config"], "layers": [
        SEQUENTIAL["config"]["layers"][0], {**SEQUENTIAL["config"]["layers"][1], "class_name": 3}]}},
     "a layer must be an object with class_name and config"),
])
def test_fuzz_regressions(data, says):
    with pytest.raises(SymcountError, match=says):
        sc.from_keras(data()).count()
