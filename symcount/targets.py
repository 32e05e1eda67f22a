"""What a command-line TARGET is, decided in one place below every command.

A TARGET is a zoo entry (``keras:ResNet50``, ``transformers:GPT2Model``), an
architecture file (``.yaml``, ``.json``, ``.toml``), a Keras model file (``.keras``, or
the ``.json`` of ``model.to_json()``) or a Hugging Face ``config.json`` (or the folder
holding one). :func:`load_target` returns its count with its default values, overridden
by ``--set``; the commands (:mod:`symcount.cli`, :mod:`symcount.cli_scaling`) only parse
flags and print.
"""

from __future__ import annotations

import re
import sys
import warnings

from .errors import SpecError, SubstitutionError, SymcountError

#: the most digits a ``--set`` value may have (10⁴⁰: far past any model, far below what
#: makes SymPy slow)
DIGITS_LIMIT = 40


def parse_set(items: list[str]) -> dict[str, int]:
    """``["H=256", "classes=9"]`` → ``{"H": 256, "classes": 9}``; values positive integers."""
    values = {}
    for item in items or []:
        name, eq, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not eq or not name:
            raise SubstitutionError(f"--set {item!r}: expected NAME=VALUE, e.g. --set H=256")
        if not text:
            raise SubstitutionError(f"--set {item!r}: missing value for {name}")
        if len(text) > DIGITS_LIMIT:
            raise SubstitutionError(f"--set {name}=…: {len(text):,} characters; a value has at most {DIGITS_LIMIT} "
                                    f"digits")
        if not (text.isascii() and text.isdigit()) or int(text) <= 0:
            raise SubstitutionError(f"--set {item!r}: the value of {name} must be a positive integer. "
                                    f"Received: {text!r} (digits 0-9 only)")
        values[name] = int(text)
    return values


def is_zoo_target(target: str) -> bool:
    """``family:Name`` naming a zoo entry rather than a file."""
    from pathlib import Path

    from .zoo.registry import FAMILIES

    family, colon, _ = target.partition(":")
    return bool(colon) and family in FAMILIES and not Path(target).exists()


def parse_option(entry, name: str, text: str):
    """A zoo option's value from ``--set``, typed by its default: ``true``/``false``,
    ``none``, an integer, a decimal (``alpha=0.75``) or a word (``pooling=avg``)."""
    from decimal import Decimal, InvalidOperation

    default = entry.options[name]
    low = text.strip().lower()
    if isinstance(default, bool) or low in ("true", "false"):
        if low not in ("true", "false"):
            raise SubstitutionError(f"--set {name}={text}: {entry.name}'s {name} is true or false")
        return low == "true"
    if low == "none":
        return None
    if len(text.strip()) > DIGITS_LIMIT:
        raise SubstitutionError(f"--set {name}=…: {len(text.strip()):,} characters; a value has at most "
                                f"{DIGITS_LIMIT} digits")
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text.strip()):
            raise SubstitutionError(f"--set {name}={text}: expected true, false, none, a number or a word "
                                    f"(pooling=avg)") from None
        return text.strip()
    if not number.is_finite() or not text.strip().isascii():
        raise SubstitutionError(f"--set {name}={text}: expected a finite number (digits 0-9)")
    whole = number == number.to_integral_value() and not isinstance(default, float)
    if (default is None or isinstance(default, int)) and (number <= 0 or not whole):  # n_inner, head_dim: sizes
        raise SubstitutionError(f"--set {name}={text}: {entry.name}'s {name} must be a positive integer")
    if number < 0 or (number and abs(number.adjusted()) > DIGITS_LIMIT):  # no option is negative or 1e300
        raise SubstitutionError(f"--set {name}={text}: {entry.name}'s {name} must be a number from 0 to "
                                f"10^{DIGITS_LIMIT}")
    return int(number) if whole else float(number)


def parse_dims(items: list[str] | None) -> dict[str, int]:
    """``--dims classes=10,H=224`` (repeatable) → ``{"classes": 10, "H": 224}``."""
    pairs = [p for item in items or [] for p in item.split(",") if p.strip()]
    try:
        return parse_set(pairs)
    except SubstitutionError as exc:
        raise SubstitutionError(str(exc).replace("--set", "--dims", 2)) from None


def load_target(target: str, sets: list[str], symbolic: list[str] | None = None, dims: list[str] | None = None,
                kv_cache: bool = False):
    """The target's count: dims at their defaults (a file's ``dims``, a Keras file's
    ``--dims`` or a zoo entry's configuration), overridden by ``--set``, except those
    named in ``symbolic``. A Hugging Face config's key/value cache is measured only
    when ``kv_cache`` (``memory --inference``)."""
    _readable_name(target)
    keep = {n.strip() for item in symbolic or [] for n in item.split(",") if n.strip()}
    named = parse_dims(dims)
    keras_file = not is_zoo_target(target) and _is_keras_file(target)
    if named and not keras_file:
        raise SubstitutionError(f"{target}: --dims names the sizes of a Keras model file (.keras or its JSON); "
                                f"give other targets' dims values with --set")
    hf_config = not keras_file and not is_zoo_target(target) and _is_hf_config(target)
    if hf_config:
        from .importers import from_hf

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = from_hf(target, kv_cache=kv_cache)
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
        dim_sets = sets
        count = model.count()
        defaults = dict(model.values)
        arguments = set()
    elif keras_file:
        from .importers import from_keras

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = from_keras(target, dims=named)
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
        dim_sets = sets
        count = model.count()
        defaults = dict(model.values)
        arguments = set(named)
    elif is_zoo_target(target):
        from . import zoo

        entry = zoo.entry(target)
        options, dim_sets = {}, []
        for item in sets or []:
            name, eq, text = item.partition("=")
            if name.strip() in entry.options:
                options[name.strip()] = parse_option(entry, name.strip(), text)
            else:
                dim_sets.append(item)
        try:
            count = zoo.symbolic(target, **options)
        except SymcountError as exc:  # blamed on the user's options, not a layer argument they never wrote
            if not options:
                raise
            given = ", ".join(f"{k}={v}" for k, v in options.items())
            raise SubstitutionError(f"{target} with --set {given}: these options build no valid model: "
                                    f"{exc}") from None
        defaults = {k: v for k, v in entry.dims.items() if v is not None}
        # an argument the chosen options leave unused (classes without the top) is
        # accepted and ignored, as the framework does
        arguments = set(entry.dims)
    else:
        from .spec import default_values, load

        _no_such_target(target)

        dim_sets = sets
        spec = load(target)
        try:
            count = spec.model.count()
        except SymcountError as exc:  # a layer that cannot take its input: named with the file
            raise SpecError(f"{target}: {exc}") from None
        defaults = default_values(spec)
        arguments = set()
    overrides = parse_set(dim_sets)
    # a sequence length left at its default follows the model's positions when those are
    # set (GPT-2's seq_len = n_positions, Llama's = max_position_embeddings)
    for positions in ("n_positions", "max_position_embeddings", "n_ctx"):
        if positions in overrides and "seq_len" not in overrides and defaults.get("seq_len") is not None \
                and defaults.get("seq_len") == defaults.get(positions):
            overrides["seq_len"] = overrides[positions]
    known = {d.name for d in count.dims}
    unknown = sorted((keep | set(overrides)) - known - arguments - ({"all"} & keep))
    if unknown:
        raise SubstitutionError(f"{target}: unknown dim {unknown[0]!r}. The model's dims are: "
                                f"{', '.join(sorted(known)) or 'none'}")
    values = {**defaults, **overrides}
    if "all" in keep:
        keep = known
    values = {k: v for k, v in values.items() if k not in keep or k in overrides}
    values = {k: v for k, v in values.items() if k in known}
    return count.subs(values) if values else count


def _readable_name(target: str) -> None:
    """A TARGET the file system can look up: not too long, no NUL byte (else an error now,
    not an OSError from the first ``stat``)."""
    from pathlib import Path

    short = target if len(target) <= 80 else target[:77] + "…"
    try:
        Path(target).exists()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError(f"{short!r}: no architecture file, Keras file or zoo entry can have this name "
                        f"({reason})") from None


def _is_hf_config(target: str) -> bool:
    """A Hugging Face ``config.json`` (a JSON object with ``model_type``) or a folder holding one."""
    from pathlib import Path

    path = Path(target)
    if path.is_dir():
        path = path / "config.json"
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    from .spec import read_data

    data = read_data(path)
    return isinstance(data, dict) and isinstance(data.get("model_type"), str)


def _is_keras_file(target: str) -> bool:
    """A ``.keras`` file, or a ``.json`` file holding a Keras model (``class_name`` and ``config``)."""
    from pathlib import Path

    path = Path(target)
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return True
    if suffix != ".json" or not path.is_file():
        return False
    from .spec import KERAS_LIMIT, is_keras_json, read_data

    return is_keras_json(read_data(path, limit=KERAS_LIMIT))


def load_count(target: str, sets: list[str]):
    """The target's count with its defaults, overridden by ``--set``, substituted."""
    return load_target(target, sets)


def _no_such_target(target: str) -> None:
    """A TARGET that is no file: the error suggests the zoo entries it may mean
    (``resnet18`` → ``torchvision:resnet18``)."""
    from pathlib import Path

    if Path(target).exists():
        return
    import difflib

    from .zoo import registry

    names = [e.name for e in registry.entries()]
    short: dict = {}
    for name in names:
        short.setdefault(name.split(":", 1)[-1].lower(), []).append(name)
    word = target.split(":")[-1].lower()
    keys = [word] if word in short else [k for k in short if k.startswith(word) and len(word) >= 3]
    if not keys:
        keys = difflib.get_close_matches(word, list(short), n=3, cutoff=0.75)
    close = [name for k in keys for name in short[k]]
    hint = f" Did you mean {' or '.join(close[:3])}?" if close else " See `symcount zoo` for the zoo's entries."
    raise SpecError(f"{target}: no such architecture file or zoo entry.{hint}")
