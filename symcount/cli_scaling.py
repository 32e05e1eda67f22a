"""The scaling commands of ``symcount``: ``scale``, ``solve``, ``sweep``, ``shares``.

    symcount scale TARGET --grow n_embd,n_layer [--set NAME=VALUE]...
    symcount solve TARGET --params 7e9 --for hidden_size [--multiple-of 128] [--set NAME=VALUE]...
    symcount sweep TARGET --range n_embd=256:8192:2x [--plot out.png] [--set NAME=VALUE]...
    symcount shares TARGET [--by block|type|layer] [--grow n_embd,n_layer] [--set NAME=VALUE]...

TARGET is an architecture file or a zoo entry (``transformers:GPT2Model``). Dims take
the target's defaults, overridden by ``--set``. Budgets and ranges are read exactly
(``7e9`` is the integer 7·10⁹; no float on the way). Thin over :mod:`symcount.scaling`:
:func:`register` adds the subcommands to the ``symcount`` parser; each sets
``handler``, which ``symcount.cli.run`` calls.
"""

from __future__ import annotations

import sys

from .errors import ArgumentError

WHATS = ("total", "trainable", "non_trainable", "macs", "flops", "training_flops", "activations", "memory")


def register(commands) -> None:
    """Add the scaling subcommands to ``commands`` (argparse's subparsers)."""
    scale = _command(commands, "scale", "leading terms as dims grow together", _scale)
    scale.add_argument("--grow", required=True, metavar="DIM,DIM", help="the dims that grow together")
    _what(scale)

    solve = _command(commands, "solve", "the dim value that meets a parameter or FLOP budget", _solve)
    budget = solve.add_mutually_exclusive_group(required=True)
    budget.add_argument("--params", metavar="N", help="a parameter budget (7e9, 6.74e9, 7B)")
    budget.add_argument("--flops", metavar="N", help="a budget of forward FLOPs per example")
    budget.add_argument("--training-flops", metavar="N", help="a budget of forward + backward FLOPs per example")
    budget.add_argument("--compute", metavar="C",
                        help="a training compute budget C = FLOPs per token × tokens, tokens = "
                             "--tokens-per-param × parameters")
    solve.add_argument("--for", dest="for_", required=True, metavar="DIM[,DIM]",
                       help="the dim to solve for (two with --ratio)")
    solve.add_argument("--ratio", metavar="R", help="first/second dim ratio when solving for two (64, 128/3)")
    solve.add_argument("--multiple-of", metavar="M", default="1", help="round the (first) dim to multiples of M")
    solve.add_argument("--nearest", choices=("closest", "below", "above"), default="closest",
                       help="closest (default), the largest value below the budget, or the smallest above")
    solve.add_argument("--seq", metavar="DIM", default="seq_len",
                       help="with --compute: the sequence length dim (default seq_len)")
    solve.add_argument("--tokens-per-param", metavar="R", default="20", help="with --compute (default 20)")
    solve.add_argument("--causal", action="store_true",
                       help="leave out causal attention's masked half (FLOP and compute budgets)")

    sweep = _command(commands, "sweep", "exact values over a grid of dims (and plots)", _sweep)
    sweep.add_argument("--range", dest="ranges", action="append", required=True, metavar="DIM=SPEC",
                       help="START:STOP:STEP, START:STOP:FACTORx, a list 1,2,4 or one value; repeatable")
    sweep.add_argument("--what", default="total", metavar="Q[,Q]",
                       help=f"quantities, comma-separated: {', '.join(WHATS)}")
    sweep.add_argument("--causal", action="store_true", help="leave out causal attention's masked half")
    sweep.add_argument("--valid-only", action="store_true", help="leave out points that break a condition")
    sweep.add_argument("--csv", action="store_true", help="comma-separated output")
    sweep.add_argument("--max-points", type=int, default=None, metavar="N",
                       help="compute at most N points (default 1,000,000), counted before any is built")
    sweep.add_argument("--plot", metavar="FILE", help="also draw it (.png/.svg/.pdf): one range a log-log line, "
                                                     "two ranges budget contours")
    sweep.add_argument("--budget", action="append", default=[], metavar="N",
                       help="with two ranges and --plot: a contour line at N; repeatable")

    shares = _command(commands, "shares", "the share of each block or layer type", _shares)
    shares.add_argument("--by", choices=("block", "type", "layer"), default="block")
    shares.add_argument("--depth", type=int, default=1, help="block levels (with --by block)")
    shares.add_argument("--grow", metavar="DIM,DIM", help="also the shares' limits as these dims grow together")
    _what(shares)


def _command(commands, name, help_text, handler):
    sub = commands.add_parser(name, help=help_text)
    sub.add_argument("target", metavar="TARGET", help="architecture file or zoo entry (transformers:GPT2Model)")
    sub.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                     help="give a dim a value (overrides the default); repeatable")
    sub.set_defaults(handler=handler)
    return sub


def _what(sub) -> None:
    sub.add_argument("--what", choices=WHATS, default="total", help="the quantity (default: total parameters)")
    sub.add_argument("--causal", action="store_true", help="leave out causal attention's masked half")


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


def load(target: str, sets: list[str]):
    """``(symbolic count, values)``: the closed form (a zoo entry's options from
    ``--set`` applied), and the target's default dim values overridden by ``--set``
    — not substituted, so that a solved or swept dim's default is simply dropped."""
    from .targets import is_zoo_target, load_target

    from .report.progress import status

    with status(f"loading {target}"):  # on a terminal's stderr only: an import takes seconds
        given = load_target(target, sets, symbolic=["all"])  # only the --set dims bound
    symbolic = given.symbolic or given
    if is_zoo_target(target):
        from . import zoo

        defaults = zoo.entry(target).dims
    else:
        from .spec import default_values, load as load_spec

        defaults = default_values(load_spec(target))
    known = {d.name for d in symbolic.dims}
    defaults = {k: v for k, v in defaults.items() if k in known and v is not None}
    return symbolic, {**defaults, **given.values}


def _names(text: str, option: str, count=None) -> list[str]:
    """Dim names from ``a,b``; with ``count``, each must be one of its dims."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ArgumentError(f"{option}: expected dim names separated by commas. Received: {text!r}")
    if count is not None:
        known = sorted({d.name for d in count.dims})
        for name in names:
            if name not in known:
                import difflib

                close = difflib.get_close_matches(name, known, n=1)
                hint = f" Did you mean {close[0]}?" if close else f" The model's dims are: {', '.join(known)}"
                raise ArgumentError(f"{option} {name}: not a dim of {count.name}.{hint}")
    return names


def _number(text: str, option: str):
    from .scaling.common import parse_number

    return parse_number(text, option)


def _positive_int(text: str, option: str) -> int:
    value = _number(text, option)
    if not value.is_Integer or value <= 0:
        raise ArgumentError(f"{option}: expected a positive integer. Received: {text!r}")
    from .targets import DIGITS_LIMIT

    if value >= 10**DIGITS_LIMIT:  # a dim's value has at most DIGITS_LIMIT digits, so its step too
        raise ArgumentError(f"{option}: at most {DIGITS_LIMIT} digits. Received: {text!r}")
    return int(value)


def _ratio(text: str | None):
    if text is None:
        return None
    numer, slash, denom = text.partition("/")
    below = _number(denom, "--ratio") if slash else 1
    if below == 0:
        raise ArgumentError(f"--ratio: division by zero. Received: {text!r}")
    value = _number(numer, "--ratio") / below
    if value <= 0:
        raise ArgumentError(f"--ratio: expected a positive number. Received: {text!r}")
    return value


def _config(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


def _scale(args) -> int:
    from .scaling import leading
    from .scaling.common import percent

    count, values = load(args.target, args.sets)
    grow = _names(args.grow, "--grow", count)
    lead = leading(count, grow, what=args.what, causal=args.causal)
    print(f"{count.name}: {args.what} as {', '.join(grow)} grow together")
    print(f"  leading term:  {lead.term}  (degree {lead.degree})")
    for degree, term in lead.orders[1:]:
        print(f"  degree {degree}:{' ' * max(1, 7 - len(str(degree)))}{term}")
    used = {s.name for s in lead.expr.free_symbols}
    if values and used <= set(values):
        at = {k: v for k, v in values.items() if k in used}
        total = lead.expr.xreplace({s: values[s.name] for s in lead.expr.free_symbols})
        term = lead.term.xreplace({s: values[s.name] for s in lead.term.free_symbols})
        print(f"  at {_config(at)}: {args.what} = {int(total):,}, leading term = {_plain(term)}, "
              f"dropped {percent(lead.dropped(values))}")
    return 0


def _plain(value) -> str:
    return f"{int(value):,}" if value.is_Integer else str(value)


def _solve(args) -> int:
    from .scaling import compute_optimal, solve

    count, values = load(args.target, args.sets)
    solved = _names(args.for_, "--for")
    set_names = set(_set_names(args.sets))
    clash = [n for n in solved if n in set_names]
    if clash:
        raise ArgumentError(f"--for {clash[0]}: a solved dim cannot also be given with --set")
    given = {k: v for k, v in values.items() if k not in solved}
    for_ = solved[0] if len(solved) == 1 else solved
    multiple = _positive_int(args.multiple_of, "--multiple-of")
    ratio = _ratio(args.ratio)
    if args.compute is not None:
        result = compute_optimal(count, _number(args.compute, "--compute"), for_, args.seq, given,
                                 tokens_per_param=_number(args.tokens_per_param, "--tokens-per-param"),
                                 causal=args.causal, multiple_of=multiple, nearest=args.nearest, ratio=ratio)
        print(f"{count.name}: compute-optimal {', '.join(solved)} for C = {args.compute} FLOPs, "
              f"{args.tokens_per_param} tokens per parameter")
        print(f"  {result}")
        print(f"  with {_config(result.solution.given)}")
        return 0
    what, text = next((w, getattr(args, w)) for w in ("params", "flops", "training_flops") if getattr(args, w))
    answer = solve(count, _number(text, f"--{what.replace('_', '-')}"), for_, given,
                   what="total" if what == "params" else what, multiple_of=multiple, nearest=args.nearest,
                   causal=args.causal, ratio=ratio)
    print(f"{count.name}: {', '.join(solved)} for {what.replace('_', ' ')} = {text} ({args.nearest})")
    for line in str(answer).splitlines():
        print(f"  {line}")
    if answer.given:
        print(f"  with {_config(answer.given)}")
    return 0


def _set_names(sets: list[str]) -> list[str]:
    return [item.partition("=")[0].strip() for item in sets]


def _sweep(args) -> int:
    from .scaling import plot_contours, plot_scaling, sweep

    count, values = load(args.target, args.sets)
    ranges = {}
    for item in args.ranges:
        name, eq, spec = item.partition("=")
        if not eq or not name.strip() or not spec.strip():
            raise ArgumentError(f"--range {item!r}: expected DIM=SPEC, e.g. --range n_embd=256:8192:2x")
        ranges[name.strip()] = spec.strip()
    whats = _names(args.what, "--what")
    bad = [w for w in whats if w not in WHATS]
    if bad:
        raise ArgumentError(f"--what {bad[0]!r}: expected one of {', '.join(WHATS)}")
    explicit = set(_set_names(args.sets))
    clash = [n for n in ranges if n in explicit]
    if clash:
        raise ArgumentError(f"--range {clash[0]}: a swept dim cannot also be given with --set")
    if args.plot:
        from .files import refuse_input
        from .scaling.plot import check_path

        check_path(args.plot)
        refuse_input(args.plot, [args.target])
        if len(ranges) > 2:
            raise ArgumentError("--plot draws one range (a line) or two (contours)")
    given = {k: v for k, v in values.items() if k not in ranges}
    from .scaling.grid import MAX_POINTS

    max_points = MAX_POINTS if args.max_points is None else args.max_points
    if max_points < 1:
        raise ArgumentError(f"--max-points must be at least 1. Received: {max_points}")
    from .report.progress import status

    with status(f"sweeping {args.target}"):  # on a terminal's stderr only
        result = sweep(count, ranges, given=given, what=whats, causal=args.causal, max_points=max_points)
    print(result.table(valid_only=args.valid_only, separator="," if args.csv else "  "))
    if not result.valid.all():
        print(f"note: {int((~result.valid).sum())} point(s) break a validity condition: "
              f"{'; '.join(result.conditions)}", file=sys.stderr)
    if args.plot:
        if len(ranges) == 1:
            (name, spec), = ranges.items()
            path = plot_scaling(count, name, spec, args.plot, what=whats, given=given, causal=args.causal)
        else:
            path = plot_contours(count, *ranges.items(), path=args.plot, what=whats[0], given=given,
                                 budgets=[_number(b, "--budget") for b in args.budget], causal=args.causal)
        print(f"wrote {path}")
    return 0


def _shares(args) -> int:
    from .scaling import shares
    from .scaling.common import percent

    count, values = load(args.target, args.sets)
    if args.depth < 1:
        raise ArgumentError(f"--depth must be at least 1. Received: {args.depth}")
    grow = _names(args.grow, "--grow", count) if args.grow else None  # checked before anything is printed
    parts = shares(count, by=args.by, what=args.what, depth=args.depth, causal=args.causal)
    used = {s.name for s in parts.total.free_symbols}
    print(f"{count.name}: {args.what} by {args.by}")
    if used <= set(values):
        print(parts.table(values))
    else:
        for label, expr in parts.parts.items():
            print(f"  {label}: {expr}")
    if grow:
        print(f"as {', '.join(grow)} grow together:")
        for label, limit in parts.limit(grow).items():
            number = f"  ({percent(limit)})" if limit.is_number and limit.is_finite else ""
            print(f"  {label}: {limit}{number}")
    return 0
