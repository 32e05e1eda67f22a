"""The module tree of a torch model, as the module-mapping importer walks it: what the
importer (:mod:`._torch`), its torch.fx graph builder (:mod:`._torch_graph`) and its
recorded forward pass (:mod:`._torch_recorded`) share — entries to emit, runs of
identical children collapsed into a repetition, and a few small helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..layer import Layer, freeze


class Unsupported(Exception):
    """The graph cannot be rebuilt from symcount layers (the reason is the message)."""


def layer_key(layer: Layer):
    """A layer's identity without its name (two identical blocks have equal keys)."""
    return type(layer), freeze({k: v for k, v in layer.config.items() if k != "name"})


def own_args(layer: Layer, values: dict) -> dict:
    """Value → expression for the layer's symbolic size arguments (provenance for shapes)."""
    found = {}

    def visit(value):
        if isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, sympy.Expr) and value.free_symbols:
            number = value.xreplace({s: sympy.Integer(values[s.name]) for s in value.free_symbols
                                     if s.name in values})
            if number.is_Integer:
                found.setdefault(int(number), value)

    for k, v in layer.config.items():
        visit(v)
    return found


def path_of(display: str) -> tuple:
    parts = display.split(".")
    return tuple(parts[:-1])


def flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from flatten(v)
    else:
        yield value


# ---------------------------------------------------------------------------
# Runs of identical children: Repeat
# ---------------------------------------------------------------------------


@dataclass
class Entry:
    """A module's call (or, without a forward pass, the module itself) to emit."""

    module: object
    qual: str
    shape: object
    output: object
    grad: bool = True
    display: str = ""
    repeat: sympy.Expr = sympy.Integer(1)
    order: int = 0

    def __post_init__(self):
        self.display = self.display or self.qual


def collapse(importer, entries: list) -> list:
    """Runs of identical consecutive children of a list container, whose number is a
    dim, kept once with that multiplicity (the first child's entries, named ``list.*``,
    or ``list.1-5`` for part of the list). Outer lists first; a collapsed run's inner
    lists are collapsed in turn (their multiplicities multiply)."""
    lists = [(q, m) for q, m in importer.root.named_modules()
             if indexed_children(m) and not importer._inside_leaf(q)]
    for list_qual, container in sorted(lists, key=lambda x: x[0].count(".") if x[0] else -1):
        children = indexed_children(container)
        prefix = f"{list_qual}." if list_qual else ""
        starts = [f"{prefix}{index}" for index, _ in children]

        def positions(start):
            return [i for i, e in enumerate(entries) if e.qual == start or e.qual.startswith(start + ".")]

        groups = [positions(start) for start in starts]
        signatures = [signature(importer, entries, g, start) for g, start in zip(groups, starts)]
        drop, i = set(), 0
        while i < len(children):
            j = i + 1
            while j < len(children) and signatures[i] is not None and signatures[j] == signatures[i] \
                    and groups[j][0] == groups[j - 1][-1] + 1:
                j += 1
            run = j - i
            count = None
            if run > 1:
                count = importer.symbols.repeat(run, f"{list_qual or 'the model'}: {run} identical "
                                                     f"{type(children[i][1]).__name__}")
            if count is not None:
                index = children[i][0]
                label = "*" if run == len(children) else f"{index}-{children[j - 1][0]}"
                for k in groups[i]:
                    e = entries[k]
                    rel = e.qual[len(starts[i]):]
                    head = e.display[:len(e.display) - len(rel)] if rel else e.display
                    e.display = head[:len(head) - len(index)] + label + rel
                    e.repeat = e.repeat * count
                drop.update(k for g in groups[i + 1:j] for k in g)
            i = j
        entries = [e for k, e in enumerate(entries) if k not in drop]
    return entries


def indexed_children(m) -> list:
    """``[(index, child)]`` of a ModuleList/Sequential-like container (children named 0, 1, …)."""
    children = list(m.named_children())
    if len(children) < 2 or not all(n.isdigit() for n, _ in children):
        return []
    return children


def signature(importer, entries, positions, start):
    """What must agree for two children to be one repeated block: their entries in order
    (relative module names, layers without names, shapes, gradient flags), contiguous."""
    if not positions or positions != list(range(positions[0], positions[0] + len(positions))):
        return None
    sig = []
    for k in positions:
        e = entries[k]
        sig.append((e.qual[len(start):], importer.unnamed_key(e.module), e.shape, e.output, e.grad))
    return tuple(sig)
