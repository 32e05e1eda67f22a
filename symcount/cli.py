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

from .errors import SymcountError


from .targets import load_target


def _count_text(count, depth=None) -> str:
    from .report.layout import columns
    from .report.totals import count_text

    return count_text(count, columns(), depth)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (``error: symcount count: …``, status 2), not a
    usage block over several lines; ``-h`` still prints the whole usage. Its subcommands'
    parsers are of this class too (argparse builds them with ``type(parser)``)."""

    def error(self, message):
        hint = self._did_you_mean(message)
        print(f"error: {self.prog}: {message}{hint} (see `{self.prog} -h`)", file=sys.stderr)
        raise SystemExit(2)

    def _did_you_mean(self, message: str) -> str:
        """`` Did you mean --depth?`` for a mistyped flag (difflib, over the flags of this
        parser and of its commands)."""
        import difflib

        if not message.startswith("unrecognized arguments:"):
            return ""
        flags = set(self._option_string_actions)
        for action in self._actions:
            for sub in (getattr(action, "choices", None) or {}).values():
                if isinstance(sub, argparse.ArgumentParser):
                    flags |= set(sub._option_string_actions)
        for word in message.split(":", 1)[1].split():
            if word.startswith("--"):
                close = difflib.get_close_matches(word.split("=")[0], sorted(flags), n=1, cutoff=0.7)
                if close:
                    return f". Did you mean {close[0]}?"
        return ""


DESCRIPTION = ("Parameter counts, output shapes and costs of neural networks as exact formulas.\n"
               "TARGET is an architecture file (.yaml, .json, .toml), a Keras model file or a zoo entry.")

#: each command, what it is for, and an example (tests/test_output_help.py runs every one)
EXAMPLES = """\
commands, what each is for, and an example:
  count    totals (parameters, MACs, FLOPs) as formula = value
             symcount count examples/seed_cnn.yaml --set classes=9
  summary  the layer table (formula and number columns), fitted to COLUMNS
             symcount summary torchvision:resnet18 --depth 1
  latex    a paper's totals, table and derivations, for pdflatex
             symcount latex examples/seed_cnn.yaml --set classes=9 --standalone -o seed.tex
  zoo      the reference architectures, their dims and defaults
             symcount zoo transformers
  scale    the leading terms as dims grow together
             symcount scale transformers:GPT2Model --grow n_embd,n_layer
  solve    the dim value that meets a parameter or FLOP budget
             symcount solve transformers:LlamaForCausalLM --params 6.74e9 --for hidden_size --multiple-of 128
  sweep    exact values over a grid of dims (CSV, plots)
             symcount sweep transformers:GPT2Model --range n_embd=256:1024:256 --range n_head=4,12 --csv
  shares   each block's or layer type's share of the total
             symcount shares transformers:GPT2Model --by type --grow n_embd,n_layer
  memory   bytes per device for training or serving
             symcount memory transformers:LlamaForCausalLM --dtype bf16 --inference --seq-len 4096

`symcount COMMAND -h` gives a command's options."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="symcount", description=DESCRIPTION, epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"symcount {__version__}")
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
            sub.add_argument("--json", action="store_true", help="print one JSON object (as --format json)")
        _output_flags(sub, name)
        if name == "latex":
            sub.add_argument("--standalone", action="store_true",
                             help="a complete document for pdflatex, not a fragment to paste")
            sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of printing")
    zoo = commands.add_parser("zoo", help="list the zoo's entries, their arguments and defaults")
    zoo.add_argument("prefix", nargs="?", default="", help="only entries starting with this (keras:, resnet …)")
    zoo.set_defaults(handler=_zoo)
    from .cli_scaling import register

    register(commands)
    from . import cli_memory

    cli_memory.register(commands)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "handler"):
        return args.handler(args)
    symbols = {}
    if getattr(args, "notation", None):
        from .printing import notation, parse_notation

        symbols = notation(parse_notation(",".join(args.notation)))
    from .report.progress import status

    with status(f"loading {args.target}"):  # on a terminal's stderr only: a large model takes seconds
        count = load_target(args.target, args.sets, args.symbolic, args.dims)
    if symbols:
        from .report.notation import check_names

        check_names(count, symbols)
    if args.command in ("count", "summary") and args.format == "csv":
        from .report import csvout

        print((csvout.totals if args.command == "count" else csvout.summary)(count, args.depth), end="")
    elif args.command == "count" and (args.json or args.format == "json"):
        print(json.dumps(count.to_json(), indent=2))
    elif args.command == "count":
        print(_count_text(count, args.depth))
    elif args.command == "latex":
        from .report import latex

        text = (latex.document(count, args.expanded) if args.standalone
                else latex.fragment(count, args.expanded) + "\n")
        _emit(text, args.output, inputs=[args.target])
    elif args.format == "markdown":
        from .report.markdown import markdown

        print(markdown(count, args.depth), end="")
    else:
        from .report.text import summary

        print(summary(count, depth=args.depth))
    return 0


def _output_flags(sub, name: str) -> None:
    """``--format`` and ``--depth`` of ``count`` and ``summary``."""
    if name == "count":
        sub.add_argument("--format", choices=("text", "csv", "json"), default="text",
                         help="text (formula = value, fitted to COLUMNS), csv (quantity,formula,value) or json")
    if name == "summary":
        sub.add_argument("--format", choices=("text", "markdown", "csv"), default="text",
                         help="text (the terminal table, fitted to COLUMNS), markdown (table and derivations) "
                              "or csv (one row per layer, formula and value columns)")
    if name in ("count", "summary"):
        sub.add_argument("--depth", type=int, metavar="N",
                         help="fold blocks nested deeper than N into one row with their totals (count: "
                              "list each block's parameters)")
    if name in ("summary", "latex"):
        sub.add_argument("--notation", action="append", default=[], metavar="SYMBOL=DIM,...",
                         help="print dims as symbols in math (LaTeX, markdown), with a table of notation: "
                              "--notation h=hidden_size,L=num_hidden_layers")
    if name == "latex":
        sub.add_argument("--expanded", action="store_true",
                         help="totals multiplied out, not grouped behind the layer count (L(…) + …)")


def _zoo(args) -> int:
    from . import zoo

    prefix = args.prefix.lower()
    shown = [e for e in zoo.entries()
             if e.name.lower().startswith(prefix) or e.name.split(":")[1].lower().startswith(prefix)]
    if not shown:
        raise SymcountError(f"no zoo entry starts with {args.prefix!r}; `symcount zoo` lists them all")
    from .report.layout import columns
    from .report.totals import text_lines

    width = columns()
    for e in shown:  # each line wrapped to COLUMNS
        dims = ", ".join(f"{k}={v}" for k, v in e.dims.items())
        options = ", ".join(f"{k}={v!r}" for k, v in e.options.items())
        lines = [e.name, *text_lines("    dims:    ", dims or "-", width)]
        if options:
            lines += text_lines("    options: ", options, width)
        if e.source:
            lines += text_lines("    as:      ", e.source, width)
        print("\n".join(lines))
    return 0


def _emit(text: str, path: str | None, inputs=()) -> None:
    """Print ``text``, or write it to ``path`` atomically (never over one of ``inputs``;
    a failed write leaves the previous file as it was)."""
    if path is None:
        print(text, end="")
        return
    from .files import refuse_input, write_text

    refuse_input(path, inputs)
    write_text(path, text)


def main(argv: list[str] | None = None) -> int:
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # a count of more than 4,300 digits is printed, not a traceback
    try:
        return run(argv)
    except SymcountError as exc:
        print("error: " + " ".join(str(exc).splitlines()), file=sys.stderr)  # one line, whatever a value held
        return 2
    except RecursionError:
        print("error: the input is nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (``| head``) stopped early: not an error
        sys.stderr.close()
        return 0
    finally:
        sys.set_int_max_str_digits(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
