"""The scaling commands of ``symcount``: ``scale``, ``solve``, ``sweep``, ``shares``.

    symcount scale TARGET --grow n_embd,n_layer [--set NAME=VALUE]...
    symcount solve TARGET --params 7e9 --for hidden_size [--multiple-of 128] [--set NAME=VALUE]...
    symcount sweep TARGET --range n_embd=256:8192:2x [--plot out.png] [--set NAME=VALUE]...

Thin over :mod:`symcount.scaling`. :func:`register` adds the subcommands to the
``symcount`` parser; each sets ``handler``, which ``symcount.cli.run`` calls.
"""

from __future__ import annotations

from .errors import SymcountError


def register(commands) -> None:
    """Add the scaling subcommands to ``commands`` (argparse's subparsers)."""
    for name, help_text in (("scale", "leading terms as dims grow together"),
                            ("solve", "the dim value that meets a parameter or FLOP budget"),
                            ("sweep", "exact values over a grid of dims (and plots)")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("target", metavar="TARGET", help="architecture file or zoo entry")
        sub.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                         help="give a dim a value (overrides the default); repeatable")
        sub.set_defaults(handler=_pending)


def _pending(args) -> int:
    raise SymcountError(f"symcount {args.command}: not available yet")
