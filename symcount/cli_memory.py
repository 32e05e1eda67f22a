"""``symcount memory``: will it fit, and on how many GPUs?

    symcount memory TARGET [--set NAME=VALUE]... [--dtype bf16] [--optimizer adam]
        [--batch-size 8] [--seq-len 4096] [--tp 8] [--sp] [--pp 4] [--microbatches 16]
        [--dp 16] [--zero 1] [--recompute selective] [--device cuda] [--attention eager]
        [--inference] [--no-master-weights] [--json | --format csv | --latex]

prints the bytes one device holds: weights, gradients, optimizer states, activations,
the KV cache and the total, each as its formula in the model's dims and its value (bytes
and GiB), from :meth:`symcount.count.Count.memory`. ``--inference`` serves the model
with a KV cache of ``--seq-len`` tokens. An impossible split (tp not dividing the heads,
pp not dividing the layers) is a one-line error.
"""

from __future__ import annotations

import json

import sympy

from .errors import ArgumentError

#: the rows printed, with their Memory attribute
ROWS = (("weights", "weights"), ("gradients", "gradients"), ("optimizer", "optimizer"),
        ("activations", "activations"), ("KV cache", "kv_cache"), ("total", "total"))
#: the dim a --seq-len sets, in the order looked for
SEQUENCE_DIMS = ("seq_len", "seq_length", "sequence_length")
GIB = 2 ** 30


def register(commands) -> None:
    sub = commands.add_parser(
        "memory", help="bytes per device for training or serving: weights, gradients, optimizer, activations, "
                       "KV cache (e.g. symcount memory examples/hf/llama-2-7b --dtype bf16 --tp 8)")
    sub.add_argument("target", metavar="TARGET", help="architecture file, model file, config.json or zoo entry")
    sub.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                     help="give a dim a value (overrides the default); repeatable")
    sub.add_argument("--dtype", default="float32", help="compute dtype: float32, bf16, fp16, … (default float32)")
    sub.add_argument("--optimizer", default="adam", help="adam, adamw, sgd, momentum, adafactor, adam8bit")
    sub.add_argument("--batch-size", default="1", metavar="N", help="examples per step (per micro-batch with "
                                                                    "--pp or --microbatches)")
    sub.add_argument("--seq-len", metavar="N", help="tokens per sequence (sets the model's seq_len dim; with "
                                                    "--inference, the tokens in the KV cache)")
    for flag, what in (("--tp", "tensor-parallel devices"), ("--pp", "pipeline stages (1F1B)"),
                       ("--dp", "data-parallel devices"), ("--microbatches", "micro-batches per step")):
        sub.add_argument(flag, metavar="N", help=what)
    sub.add_argument("--sp", action="store_true", help="sequence parallelism (with --tp)")
    sub.add_argument("--zero", default="0", choices=("0", "1", "2", "3"), help="ZeRO stage over --dp devices")
    sub.add_argument("--recompute", default="none", choices=("none", "selective", "full"),
                     help="activation recomputation (Korthikanti et al. 2022)")
    sub.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    sub.add_argument("--attention", default="eager", choices=("eager", "flash"))
    sub.add_argument("--no-master-weights", dest="master_weights", action="store_false", default=None,
                     help="16-bit training without an fp32 master copy")
    sub.add_argument("--inference", action="store_true", help="serving: weights and a KV cache of --seq-len tokens")
    sub.add_argument("--json", action="store_true", help="one JSON object: formula and value of each row")
    sub.add_argument("--format", choices=("text", "csv"), default="text", help="text or csv (row,formula,bytes)")
    sub.add_argument("--latex", action="store_true", help="the derivation as a LaTeX align* block")
    sub.set_defaults(handler=run)


def _positive(text, flag: str) -> int | None:
    if text is None:
        return None
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) <= 0:
        raise ArgumentError(f"memory {flag}: expected a positive integer (at most 12 digits). Received: {text!r}")
    return int(text)


def options(args) -> dict:
    """``Count.memory``'s keyword arguments from the flags."""
    training = not args.inference
    return dict(dtype=args.dtype, optimizer=args.optimizer, batch_size=_positive(args.batch_size, "--batch-size"),
                training=training, master_weights=args.master_weights, recompute=args.recompute,
                tp=_positive(args.tp, "--tp") or 1, sp=args.sp, pp=_positive(args.pp, "--pp") or 1,
                dp=_positive(args.dp, "--dp") or 1, zero=int(args.zero),
                microbatches=_positive(args.microbatches, "--microbatches"), kv_cache=args.inference,
                device=args.device, attention=args.attention)


def run(args) -> int:
    from .targets import load_target

    seq_len = _positive(args.seq_len, "--seq-len")
    kwargs = options(args)  # every flag checked before the model is loaded
    from .report.progress import status

    with status(f"loading {args.target}"):  # on a terminal's stderr only: an import takes seconds
        count = load_target(args.target, list(args.sets), kv_cache=args.inference)
    names = {d.name for d in count.dims}
    sequence = next((n for n in SEQUENCE_DIMS if n in names), None)
    if seq_len is not None:
        if sequence is not None:  # the model's own dim: the formulas keep its name
            count = count.subs({sequence: seq_len})
        elif not args.inference:
            raise ArgumentError(f"memory --seq-len: {count.name} has no sequence-length dim "
                                f"({', '.join(SEQUENCE_DIMS)}); its dims are: {', '.join(sorted(names)) or 'none'}")
        else:
            kwargs["seq_len"] = seq_len
    symbolic = (count.symbolic or count).memory(**kwargs)
    bound = count.memory(**kwargs)
    rows = [(title, getattr(symbolic, attribute), getattr(bound, attribute)) for title, attribute in ROWS]
    if args.json:
        print(json.dumps(to_json(count, bound, rows, kwargs), indent=2))
    elif args.latex:
        print(latex(count, rows))
    elif args.format == "csv":
        print(csv_text(rows), end="")
    else:
        print(text(count, bound, rows, kwargs))
    return 0


def _value(expr) -> int | str:
    expr = sympy.nsimplify(expr) if isinstance(expr, sympy.Float) else expr
    if expr.is_Integer:
        return int(expr)
    if expr.is_Rational:  # a share of a byte per device: round up to whole bytes
        return int(sympy.ceiling(expr))
    return str(expr)


def _gib(value) -> str:
    return f"{value / GIB:,.2f} GiB" if isinstance(value, int) else ""


def _setting(kwargs) -> str:
    from .saved import dtype_name

    shown = [dtype_name(kwargs["dtype"]) or kwargs["dtype"], "training" if kwargs["training"] else "inference"]
    if kwargs["training"]:
        shown.append(kwargs["optimizer"])
    shown.append(f"batch {kwargs['batch_size']}")
    for key in ("tp", "pp", "dp"):
        if kwargs[key] != 1:
            shown.append(f"{key}={kwargs[key]}")
    if kwargs["sp"]:
        shown.append("sp")
    if kwargs["zero"]:
        shown.append(f"ZeRO-{kwargs['zero']}")
    if kwargs["recompute"] != "none":
        shown.append(f"recompute={kwargs['recompute']}")
    shown.append(kwargs["device"])
    return ", ".join(shown)


#: the symbol standing for the parameter count in the rows' formulas
P = sympy.Symbol("P", positive=True, integer=True)


def in_parameters(formula, params):
    """``formula`` as ``a·P + rest`` when it is a multiple of the parameter count ``params``
    plus terms without it (``12·P + 1164``: Adam's states and its step scalars), else as
    it is. Decided exactly: ``a`` is read off at two points, then ``formula − a·params −
    rest`` must expand to zero."""
    symbols = sorted(params.free_symbols | formula.free_symbols, key=str)
    if params == 0 or not formula.free_symbols <= params.free_symbols | {s for s in symbols}:
        return formula
    if not symbols:
        return formula
    points = [{s: sympy.Integer(v) for s, v in zip(symbols, primes)} for primes in
              ((1009, 1013, 1019, 1021, 1031, 1033, 1039, 1049, 1051, 1061, 1063, 1069, 1087, 1091, 1093, 1097),
               (2003, 2011, 2017, 2027, 2029, 2039, 2053, 2063, 2069, 2081, 2083, 2087, 2089, 2099, 2111, 2113))]
    if len(symbols) > 16:
        return formula
    try:
        f = [formula.xreplace(pt) for pt in points]
        q = [params.xreplace(pt) for pt in points]
        if not all(v.is_number for v in f + q) or q[0] == q[1]:
            return formula
        a = sympy.nsimplify((f[0] - f[1]) / (q[0] - q[1]))
        if not a.is_Rational or a == 0:
            return formula
        rest = sympy.expand(formula - a * params)
        if len(str(rest)) > 40:
            return formula
    except (TypeError, ValueError, ZeroDivisionError):  # pragma: no cover - exotic formulas stay as they are
        return formula
    return a * P + rest


def text(count, bound, rows, kwargs) -> str:
    """The table: each row's formula = bytes (GiB), wrapped to the terminal's width; a
    row that is a multiple of the parameter count is written with ``P``."""
    from .report.layout import columns, elide
    from .report.totals import expression_lines, text_lines

    width = columns()
    lines = text_lines("", f"{count.name}: memory per device ({_setting(kwargs)})", width)
    params = (count.symbolic or count).total
    lines += expression_lines(f"  {'P:':<14}", params, count.total, width, _no_unit)
    for title, formula, value in rows:
        number = _value(value)
        shown = sympy.Integer(number) if isinstance(number, int) else value
        lines += expression_lines(f"  {title + ':':<14}", in_parameters(formula, params), shown, width, _readable)
    if bound.conditions:
        lines.append("  needs:         " + ", ".join(str(c) for c in bound.conditions))
    if bound.undeclared:
        lines.append(elide("  not counted:   activations of " + ", ".join(bound.undeclared), width))
    return "\n".join(lines)


def _no_unit(value) -> str:
    return " parameters" if getattr(value, "is_Integer", False) else ""


def _readable(value) -> str:
    return f" bytes ({int(value) / GIB:,.2f} GiB)" if getattr(value, "is_Integer", False) else ""


def to_json(count, bound, rows, kwargs) -> dict:
    return {"model": count.name, "options": {k: v for k, v in kwargs.items()},
            "per_device": {title: {"formula": str(formula), "bytes": _value(value)} for title, formula, value in rows},
            "conditions": [str(c) for c in bound.conditions], "not_counted": list(bound.undeclared)}


def csv_text(rows) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "formula", "bytes"])
    for title, formula, value in rows:
        writer.writerow([title, str(formula), _value(value)])
    return out.getvalue()


def latex(count, rows) -> str:
    """The rows as an ``align*`` block: ``M_{\\mathrm{weights}} &= formula = value``."""
    from . import printing

    lines = []
    for title, formula, value in rows:
        number = _value(value)
        right = printing.latex_number(number) if isinstance(number, int) else printing.latex(value)
        name = printing.tex_escape(title)
        lines.append(f"M_{{\\mathrm{{{name}}}}} &= {printing.latex(formula)} = {right}")
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"
