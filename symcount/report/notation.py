"""The table of notation of a report: each of the model's dims that prints as a symbol
(:func:`symcount.printing.notation`, or a zoo family's conventional symbols), with its
own name and its value. Two dims of one model that would print alike are refused, since
the report could not be read. Only selection happens here."""

from __future__ import annotations

from .. import printing
from ..errors import ArgumentError


@printing.for_count
def entries(count) -> list[tuple[str, str, object]]:
    """``[(dim name, symbol, value or None), …]`` in the model's dim order, for the dims
    that print as a symbol; raises :class:`ArgumentError` when two dims print alike."""
    seen: dict[str, str] = {}
    for d in count.dims:
        printed = printing.latex_name(d.name)
        if printed in seen:
            raise ArgumentError(f"{count.name}: the dims {seen[printed]} and {d.name} would both print as "
                                f"{printed}; give them different symbols (sc.notation, --notation)")
        seen[printed] = d.name
    return [(d.name, printing.symbol(d.name), count.values.get(d.name))
            for d in count.dims if printing.symbol(d.name)]


def check_names(count, names) -> None:
    """Each of ``names`` (given symbols by ``--notation``) is a dim of the model; else an
    :class:`ArgumentError` naming it, the closest dims and all of them."""
    import difflib

    known = [d.name for d in count.dims]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise ArgumentError(f"--notation: {count.name} has no dim {name!r}.{hint} "
                                f"The model's dims are: {', '.join(known) or 'none'}")
