"""The ``symcount`` command: thin over the library.

    symcount count TARGET [--set NAME=VALUE]... [--json]
    symcount summary TARGET [--set NAME=VALUE]... [--format {text,markdown}]
    symcount latex TARGET [--set NAME=VALUE]... [--standalone] [-o FILE]

A user mistake prints one line ``error: …`` on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

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


def load_count(target: str, sets: list[str]):
    """The target's count with file defaults, overridden by ``--set``, substituted."""
    from .spec import default_values, load

    overrides = parse_set(sets)
    spec = load(target)
    count = spec.model.count()
    return count.subs({**default_values(spec), **overrides})


def _count_text(count) -> str:
    symbolic = count.symbolic or count
    lines = [count.name]
    for title, attribute in (("total", "total"), ("trainable", "trainable"), ("non-trainable", "non_trainable")):
        expr, value = getattr(symbolic, attribute), getattr(count, attribute)
        text = str(expr) if expr == value else f"{expr} = {value}"
        if value.is_Integer:
            text = f"{expr} = {int(value):,}" if expr != value else f"{int(value):,}"
        lines.append(f"  {title + ':':<15}{text}")
    if count.values:
        lines.append("  values:        " + ", ".join(f"{k}={v}" for k, v in count.values.items()))
    if count.conditions:
        lines.append("  valid for:     " + ", ".join(str(c) for c in count.conditions))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symcount", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("count", "parameter totals as formulas and numbers"),
                            ("summary", "the Keras-style table, formula and number columns"),
                            ("latex", "LaTeX: totals, the booktabs table and the derivations")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("target", metavar="TARGET", help="architecture file (.yaml, .json, .toml)")
        sub.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                         help="give a dim a value (overrides the file's default); repeatable")
        if name == "count":
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "summary":
            sub.add_argument("--format", choices=("text", "markdown"), default="text",
                             help="text (the terminal table) or markdown (table and derivations)")
        if name == "latex":
            sub.add_argument("--standalone", action="store_true",
                             help="a complete document for pdflatex, not a fragment to paste")
            sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of printing")
    from .cli_scaling import register

    register(commands)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)
    count = load_count(args.target, args.sets)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
