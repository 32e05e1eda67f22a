"""The ``symcount`` command: thin over the library.

    symcount count TARGET [--set NAME=VALUE]... [--dims NAME=VALUE,...] [--symbolic NAMES] [--json]
    symcount summary TARGET [--set NAME=VALUE]... [--format {text,markdown}]
    symcount latex TARGET [--set NAME=VALUE]... [--standalone] [-o FILE]
    symcount zoo [PREFIX]

TARGET is an architecture file (.yaml, .json, .toml), a Keras model file (``.keras``, or
the ``.json`` of ``model.to_json()``) or a zoo entry (``keras:ResNet50``,
``transformers:GPT2Model``). ``--set`` gives a dim a value or an entry an option
(``--set include_top=false``); ``--symbolic`` keeps dims without a value; ``--dims
classes=10,H=224`` names the sizes of a Keras file (a size equal to the value becomes the dim).

A user mistake prints one line ``error: …`` on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .errors import SubstitutionError, SymcountError


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
        if not text.isdigit() or int(text) <= 0:
            raise SubstitutionError(f"--set {item!r}: the value of {name} must be a positive integer. Received: {text!r}")
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
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text.strip()
    if not number.is_finite():
        raise SubstitutionError(f"--set {name}={text}: expected a finite number")
    if number == number.to_integral_value() and not isinstance(default, float):
        return int(number)
    return float(number)


def parse_dims(items: list[str] | None) -> dict[str, int]:
    """``--dims classes=10,H=224`` (repeatable) → ``{"classes": 10, "H": 224}``."""
    pairs = [p for item in items or [] for p in item.split(",") if p.strip()]
    try:
        return parse_set(pairs)
    except SubstitutionError as exc:
        raise SubstitutionError(str(exc).replace("--set", "--dims", 2)) from None


def load_target(target: str, sets: list[str], symbolic: list[str] | None = None, dims: list[str] | None = None):
    """The target's count: dims at their defaults (a file's ``dims``, a Keras file's
    ``--dims`` or a zoo entry's configuration), overridden by ``--set``, except those
    named in ``symbolic``."""
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
            model = from_hf(target)
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
        count = zoo.symbolic(target, **options)
        defaults = {k: v for k, v in entry.dims.items() if v is not None}
        # an argument the chosen options leave unused (classes without the top) is
        # accepted and ignored, as the framework does
        arguments = set(entry.dims)
    else:
        from .spec import default_values, load

        dim_sets = sets
        spec = load(target)
        count = spec.model.count()
        defaults = default_values(spec)
        arguments = set()
    overrides = parse_set(dim_sets)
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
    from .importers._keras import is_keras_json
    from .spec import read_data

    return is_keras_json(read_data(path))


def load_count(target: str, sets: list[str]):
    """The target's count with its defaults, overridden by ``--set``, substituted."""
    return load_target(target, sets)


def _count_text(count) -> str:
    symbolic = count.symbolic or count
    lines = [count.name]
    for title, attribute in (("total", "total"), ("trainable", "trainable"), ("non-trainable", "non_trainable"),
                             ("MACs", "macs"), ("FLOPs", "flops"), ("training FLOPs", "training_flops")):
        expr, value = getattr(symbolic, attribute), getattr(count, attribute)
        text = str(expr) if expr == value else f"{expr} = {value}"
        if value.is_Integer:
            text = f"{expr} = {int(value):,}" if expr != value else f"{int(value):,}"
        lines.append(f"  {title + ':':<16}{text}")
    if count.active is not None:  # a mixture of experts: what one token uses
        expr, value = symbolic.active_params, count.active_params
        text = f"{expr} = {int(value):,}" if value.is_Integer and expr != value else str(expr)
        lines.insert(2, f"  {'active:':<16}{text}")
    if count.uncounted:
        lines.append("  not counted:    " + "; ".join(str(u) for u in count.uncounted))
    if count.values:
        lines.append("  values:         " + ", ".join(f"{k}={v}" for k, v in count.values.items()))
    if count.conditions:
        lines.append("  valid for:      " + ", ".join(str(c) for c in count.conditions))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symcount", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("count", "parameter totals as formulas and numbers"),
                            ("summary", "the Keras-style table, formula and number columns"),
                            ("latex", "LaTeX: totals, the booktabs table and the derivations")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("target", metavar="TARGET",
                         help="architecture file (.yaml, .json, .toml), Keras model file (.keras, its .json) "
                              "or zoo entry (keras:ResNet50)")
        sub.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                         help="give a dim a value or an entry an option (overrides the default); repeatable")
        sub.add_argument("--symbolic", action="append", default=[], metavar="NAMES",
                         help="keep these dims (comma-separated, or 'all') without a value")
        sub.add_argument("--dims", action="append", default=[], metavar="NAME=VALUE,...",
                         help="a Keras model file's sizes to name: a size equal to VALUE becomes the dim NAME")
        if name == "count":
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "summary":
            sub.add_argument("--format", choices=("text", "markdown"), default="text",
                             help="text (the terminal table) or markdown (table and derivations)")
        if name == "latex":
            sub.add_argument("--standalone", action="store_true",
                             help="a complete document for pdflatex, not a fragment to paste")
            sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of printing")
    zoo = commands.add_parser("zoo", help="list the zoo's entries, their arguments and defaults")
    zoo.add_argument("prefix", nargs="?", default="", help="only entries starting with this (keras:, resnet …)")
    zoo.set_defaults(handler=_zoo)
    from .cli_scaling import register

    register(commands)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)
    count = load_target(args.target, args.sets, args.symbolic, args.dims)
    if args.command == "count" and args.json:
        print(json.dumps(count.to_json(), indent=2))
    elif args.command == "count":
        print(_count_text(count))
    elif args.command == "latex":
        from .report import latex

        _emit(latex.document(count) if args.standalone else latex.fragment(count) + "\n", args.output)
    elif args.format == "markdown":
        print(count.markdown(), end="")
    else:
        print(count.summary())
    return 0


def _zoo(args) -> int:
    from . import zoo

    prefix = args.prefix.lower()
    shown = [e for e in zoo.entries()
             if e.name.lower().startswith(prefix) or e.name.split(":")[1].lower().startswith(prefix)]
    if not shown:
        raise SymcountError(f"no zoo entry starts with {args.prefix!r}; `symcount zoo` lists them all")
    for e in shown:
        dims = ", ".join(f"{k}={v}" for k, v in e.dims.items())
        options = ", ".join(f"{k}={v!r}" for k, v in e.options.items())
        print(e.name)
        print(f"    dims:    {dims or '-'}")
        if options:
            print(f"    options: {options}")
        if e.source:
            print(f"    as:      {e.source}")
    return 0


def _emit(text: str, path: str | None) -> None:
    """Print ``text``, or write it to ``path`` (a failure to write is the user's error)."""
    if path is None:
        print(text, end="")
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise SymcountError(f"cannot write {path}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except SymcountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("error: the input is nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (``| head``) stopped early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
