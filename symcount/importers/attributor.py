"""The attributor: which dim each size of a recording is, found by probing.

A recording (:mod:`.recorder`) is first made a *template*: its call tree with runs of
identical sibling calls folded into one call and a multiplicity (``layers.0`` …
``layers.n`` → ``layers.*`` × n), a routed module's products merged (an MoE's experts,
called on data-dependent numbers of tokens, become one product over all routed tokens),
and every size — each operand's axes, each parameter's shape, each multiplicity — a
numbered *slot*. Two recordings of the same model at different configurations have the
same template and differ only in the slots' values; a template that changes with a dim
says that dim cannot be placed.

:func:`fit` then explains each slot's values across the probes as an expression in the
dims: a monomial ``c · ∏ dᵢ^eᵢ`` when doubling each dim scales the size by a power of
two (``3·hidden_size``, ``hidden_size/num_attention_heads``, ``seq_len²``), else a sum of
such monomials solved exactly from further probes (``(n_head + 2·n_kv)·head_dim``,
``(image_size/patch_size)² + 1``). Equal values never decide: a size that moves with a
dim is that dim's, whatever the numbers happened to be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product as cartesian

import sympy

from .recorder import CallNode, OpRecord, Recording

# ---------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------


@dataclass
class TOp:
    """A product in a template: sizes are slot numbers."""

    op: str
    shapes: tuple  # tuple of tuples of slots
    extra: dict  # conv: out (slots), transposed, groups (slot)
    grads: tuple
    params: tuple  # per operand: (path, name, stacked) or None
    routed: tuple | None = None  # (rows slot, tokens slot) of a merged routed product
    split: bool = False  # split by heads under tensor parallelism (:attr:`.recorder.OpRecord.split`)


@dataclass
class TNode:
    """A module call in a template."""

    path: str
    kind: str
    module_id: int
    items: list = field(default_factory=list)  # (TNode | TOp, multiplicity slot or None, shared)
    output_shape: tuple = ()
    input_shape: tuple = ()
    #: a routed list's experts merged into this call: (members, rows, tokens) slots — the
    #: list's length, the rows all its members received, the rows the router saw
    routed: tuple | None = None
    #: storages autograd saved that this call stands for: ``(name, kind, (elements slot,
    #: shape slots) in Template.saved_values, sign, slot of how many times or None)``
    saved: list = field(default_factory=list)
    #: saved storages only a 16-bit forward makes (casts to the compute dtype): entries of
    #: ``saved``'s form ``(name, size slots, sign, count slot)`` whose size they share
    casts: list = field(default_factory=list)
    #: indices of ``saved`` that selective recomputation drops (:attr:`.saves.SavedRecord.selective`)
    selective: set = field(default_factory=set)
    #: indices of ``saved`` that tensor parallelism splits (:attr:`.saves.SavedRecord.split`)
    split: set = field(default_factory=set)


@dataclass
class Template:
    """A recording as structure + slot values."""

    root: TNode
    params: dict  # path → [(name, shape slots, trainable)]
    outputs: tuple
    values: list
    key: tuple
    uncounted: list
    #: where each slot is (module path and what), for messages
    where: list = field(default_factory=list)
    #: the saved storages' sizes, kept apart from ``values``: a probe whose saved
    #: tensors differ in structure (``saved_key``) still serves every other size
    saved_values: list = field(default_factory=list)
    saved_key: tuple = ()
    #: the key/value cache measured at this configuration (:func:`.kv_cache.measure`), or None
    cache: list | None = None
    #: ``measure()`` → :attr:`cache`, run when the cache is first asked for (:func:`measured_cache`):
    #: only the configurations the cache's fit reads pay for its forward passes
    cache_measure: object = None
    #: tensor-parallel roles: (module path, parameter name) → (role, axis) (:mod:`.parallel`)
    roles: dict = field(default_factory=dict)
    #: (module path, parameter name) → the slot in ``saved_values`` of the heads its column
    #: layer's output is viewed as (fitted with the saved sizes: a size that cannot be placed
    #: leaves the condition out, never the formula)
    heads: dict = field(default_factory=dict)


def measured_cache(template: Template) -> list | None:
    """The template's key/value cache, measured now if it has not been yet."""
    if template.cache_measure is not None:
        measure, template.cache_measure = template.cache_measure, None
        template.cache = measure()
    return template.cache


#: the ``saved_key`` of a template recorded in inference mode: its saved tensors are not a training step's
INFERENCE = ("inference mode",)


class _Slots:
    def __init__(self):
        self.values: list[int] = []
        self.where: list[str] = []
        self.key: list = []

    def slot(self, value, where: str) -> int:
        self.values.append(int(value))
        self.where.append(where)
        return len(self.values) - 1

    def shape(self, shape, where: str) -> tuple:
        return tuple(self.slot(s, f"{where}, axis {i}") for i, s in enumerate(shape))


def _signature(item) -> tuple:
    """A call's structure and sizes, relative to its own path: equal for two identical siblings."""
    if isinstance(item, OpRecord):
        params = tuple(None if p is None else (p[1], p[2] is not None) for p in item.params)
        return ("op", item.op, item.shapes, tuple(sorted((k, v) for k, v in item.extra.items())), item.grads, params)
    return ("call", item.kind, item.input_shape, item.output_shape, tuple(_signature(c) for c in item.children))


def _param_signature(recording, node: CallNode, prefix: str) -> tuple:
    """The parameters under a call (relative names and shapes)."""
    out = []
    for path, params in recording.params.items():
        if path == node.path or path.startswith(prefix):
            out.append((path[len(node.path):], tuple(params)))
    return tuple(out)


def _merge_routed(children: list) -> list:
    """A module's direct matrix products that differ only in their number of rows and
    read slices of one stacked parameter (an MoE's experts) become one product over all
    the rows; ``routed`` keeps the row count for the active-parameter fraction."""
    merged, out = {}, []
    for child in children:
        if isinstance(child, OpRecord) and child.op in ("mm", "addmm") and any(
                p is not None and p[2] is not None for p in child.params):
            key = (child.op, child.shapes[0][1:], child.shapes[1:], child.grads,
                   tuple(None if p is None else p[:2] for p in child.params))
            if key in merged:
                first = merged[key]
                first.shapes = ((first.shapes[0][0] + child.shapes[0][0], *first.shapes[0][1:]), *first.shapes[1:])
                continue
            child = OpRecord(child.op, child.shapes, child.extra, child.grads,
                             tuple(None if p is None else (p[0], p[1], "stacked" if p[2] is not None else None)
                                   for p in child.params))
            merged[key] = child
        out.append(child)
    return out


def _list_member(path: str) -> tuple[str, str] | None:
    """``("experts", "3")`` for ``experts.3``; None for a path that is no list's member."""
    prefix, _, index = path.rpartition(".")
    return (prefix, index) if index.isdigit() else None


def _rows_free(item) -> tuple:
    """A call's signature without the rows its matrix products ran on: equal for the
    experts of one MoE list whatever tokens the router sent each."""
    if isinstance(item, OpRecord):
        shapes = item.shapes
        if item.op in ("mm", "addmm") and shapes and len(shapes[0]) == 2:
            shapes = ((None, shapes[0][1]), *shapes[1:])
        params = tuple(None if p is None else (p[1], p[2] is not None) for p in item.params)
        return ("op", item.op, shapes, tuple(sorted((k, v) for k, v in item.extra.items())), item.grads, params)
    return ("call", item.kind, item.input_shape, item.output_shape, tuple(_rows_free(c) for c in item.children))


def _merged_calls(nodes: list) -> CallNode:
    """The calls of a routed list's members as one call: each product over the rows of
    all of them (the first member's structure, paths and parameters)."""
    first = nodes[0]
    merged = CallNode(first.path, first.kind, first.module_id, input_shape=first.input_shape,
                      output_shape=first.output_shape, input_rows=sum(n.input_rows for n in nodes))
    for j, child in enumerate(first.children):
        if isinstance(child, OpRecord):
            shapes = child.shapes
            if child.op in ("mm", "addmm") and len(shapes[0]) == 2:
                shapes = ((sum(n.children[j].shapes[0][0] for n in nodes), shapes[0][1]), *shapes[1:])
            record = OpRecord(child.op, shapes, child.extra, child.grads, child.params, child.split)
            merged.children.append(record)
        else:
            merged.children.append(_merged_calls([n.children[j] for n in nodes]))
    return merged


def _routed_runs(children: list, calls: dict) -> dict:
    """Runs of one list's members (each called once, alike but for their rows) fed
    different numbers of rows: an MoE's experts in a ``ModuleList``, each given the tokens
    routed to it. Start index → (end index, list prefix)."""
    runs, i = {}, 0
    while i < len(children):
        c = children[i]
        member = _list_member(c.path) if isinstance(c, CallNode) else None
        if member is None or calls.get(c.module_id) != 1:
            i += 1
            continue
        j = i + 1
        while j < len(children) and isinstance(children[j], CallNode) and calls.get(children[j].module_id) == 1 \
                and (_list_member(children[j].path) or (None,))[0] == member[0] \
                and _rows_free(children[j]) == _rows_free(c):
            j += 1
        if len({m.input_rows for m in children[i:j]}) > 1:
            runs[i] = (j, member[0])
        i = j
    return runs


def template(recording: Recording) -> Template:
    """The recording's template (see the module's docstring)."""
    slots = _Slots()
    key: list = []
    saved_slots = _Slots()
    saved_key: list = []

    represented = set()

    def keep(t: TNode, records, sign=1, count=None):
        for what, record in records:
            what = what or "(the model)"
            size = saved_slots.slot(record.elements, f"the elements of a tensor {what} saved")
            slots_ = saved_slots.shape(record.shape, f"a tensor {what} saved")
            times = None if count is None else saved_slots.slot(count, f"the members of a run saving {what}")
            if record.selective:
                t.selective.add(len(t.saved))
            if record.split:
                t.split.add(len(t.saved))
            t.saved.append((what, record.kind, (size, slots_), sign, times))
            # (not whether tp splits it: roles follow widths, which a probe may make equal by chance;
            # they are read at the base)
            saved_key.append((_index_free(t.path), record.kind, len(record.shape), sign, count is None))

    def drop(t: TNode, what: str, record) -> bool:
        """Remove one entry of ``record`` saved by ``what`` from ``t``'s subtree."""
        for k, (name, kind, (_, shape), sign, times) in enumerate(t.saved):
            if name == what and kind == record.kind and sign == 1 and times is None \
                    and tuple(saved_slots.values[s] for s in shape) == record.shape \
                    and (k in t.selective) == record.selective and (k in t.split) == record.split:
                del t.saved[k]
                t.selective = {i - (i > k) for i in t.selective if i != k}
                t.split = {i - (i > k) for i in t.split if i != k}
                return True
        return any(drop(item, what, record) for item, _, _ in t.items if isinstance(item, TNode))

    def node(call: CallNode) -> TNode:
        represented.add(call.path)
        t = TNode(call.path, call.kind, call.module_id)
        t.input_shape = slots.shape(call.input_shape, f"the input of {call.path or '(root)'}")
        key.append(("in", len(call.input_shape)))
        keep(t, [(call.path, r) for r in call.saved])
        for c in call.children:
            if isinstance(c, CallNode) and not weighs(c):
                keep(t, _subtree_saved(c))  # a call that is no layer: its parent stands for it
        children = _merge_routed([c for c in call.children if isinstance(c, OpRecord) or weighs(c)])
        signatures = [_signature(c) if isinstance(c, OpRecord) else
                      (_signature(c), _param_signature(recording, c, c.path + ".")) for c in children]
        routed = _routed_runs(children, calls)
        i = 0
        while i < len(children):
            if i in routed:
                j, prefix = routed[i]
                merged = _merged_calls(children[i:j])
                for member in children[i:j]:  # what the experts save follows the routing: the caller's
                    keep(t, _subtree_saved(member))
                routed_lists[prefix] = merged.path
                key.append(("routed", merged.kind, _relative(prefix, call.path)))
                item = node(merged)
                members = len({p.split(".")[0] for p in _under(recording.params, prefix)})
                item.routed = (slots.slot(members, f"the number of experts in {prefix}"),
                               slots.slot(merged.input_rows, f"the tokens routed to {prefix}"),
                               slots.slot(call.input_rows, f"the tokens of {call.path or '(root)'}"))
                t.items.append((item, None, False))
                i = j
                continue
            j = i + 1
            while j < len(children) and signatures[j] == signatures[i] and isinstance(children[i], CallNode) \
                    and _joins(children[i], children[j], calls):
                j += 1
            child = children[i]
            ids = {c.module_id for c in children[i:j]} if isinstance(child, CallNode) else set()
            shared = isinstance(child, CallNode) and len(ids) == 1 and j - i > 1
            if isinstance(child, CallNode):
                mult = slots.slot(j - i, f"the number of calls of {child.path}")
                key.append(("run", child.kind, _relative(child.path, call.path), shared))
                item = node(child)
                _run_differences(t, children[i:j], keep, lambda what, r, item=item: drop(item, what, r))
            else:
                mult = None
                item = op(child, call)
            t.items.append((item, mult, shared))
            i = j
        t.output_shape = slots.shape(call.output_shape, f"the output of {call.path or '(root)'}")
        key.append(("out", len(call.output_shape), "end"))
        return t

    def op(record: OpRecord, call) -> TOp:
        at = f"{record.op} in {call.path or '(root)'}"
        shapes = tuple(slots.shape(s, f"operand {j} of {at}") for j, s in enumerate(record.shapes))
        extra = {}
        if "out" in record.extra:
            extra = {"out": slots.shape(record.extra["out"], f"the output of {at}"),
                     "transposed": record.extra["transposed"],
                     "groups": slots.slot(record.extra["groups"], f"the groups of {at}")}
        params = tuple(None if p is None else (p[0], p[1], p[2] == "stacked") for p in record.params)
        routed = None
        if any(p is not None and p[2] for p in params):
            routed = (shapes[0][0], slots.slot(call.input_rows, f"the tokens routed in {call.path}"))
        key.append(("op", record.op, tuple(len(s) for s in record.shapes), record.grads,
                    tuple(None if p is None else (_relative(p[0], call.path), p[1], p[2]) for p in params),
                    extra.get("transposed")))
        return TOp(record.op, shapes, extra, record.grads, params, routed, record.split)

    owners = tuple(recording.params)

    def weighs(call: CallNode) -> bool:
        """Whether a call runs a product or owns a parameter, itself or inside: a call that
        does neither (an activation, a dropout, a rotary embedding) costs nothing to count
        and has no place in the template (its number of calls may follow the data)."""
        if any(p == call.path or p.startswith(call.path + ".") for p in owners):
            return True
        return any(isinstance(c, OpRecord) or weighs(c) for c in call.children)

    calls: dict = {}
    _count_calls(recording.root, calls)
    routed_lists: dict = {}  # list prefix → the path of the member that stands for all
    root = node(recording.root)
    called = _called(recording.root)
    params = {}
    for path, plist in recording.params.items():
        if path in called and path not in represented:
            continue  # a member of a folded run: its representative stands for it
        if any(path.startswith(prefix + ".") and not (path == rep or path.startswith(rep + "."))
               for prefix, rep in routed_lists.items()):
            continue  # another expert of a routed list, called or not: the merged call stands for it
        params[path] = [(name, slots.shape(shape, f"{path}.{name}"), trainable) for name, shape, trainable in plist]
        key.append(("param", _index_free(path), tuple((n, len(s), t) for n, s, t in plist)))
    outputs = tuple(slots.shape(s, f"output {j} of the model") for j, s in enumerate(recording.outputs))
    key.append(("outputs", tuple(len(s) for s in recording.outputs)))
    heads = {}
    for (path, name), n in sorted(recording.heads.items()):
        if path in params:
            heads[(path, name)] = saved_slots.slot(n, f"the heads of {path}")
            saved_key.append(("heads", _index_free(path), name))
    return Template(root, params, outputs, slots.values, tuple(key), recording.uncounted, slots.where,
                    saved_slots.values, tuple(saved_key), roles=dict(recording.roles), heads=heads)


def _subtree_saved(call: CallNode) -> list:
    """``(path, record)`` of every storage saved first by ``call`` or a call inside it."""
    out = [(call.path, r) for r in call.saved]
    for c in call.children:
        if isinstance(c, CallNode):
            out += _subtree_saved(c)
    return out


def _run_differences(t: TNode, members: list, keep, drop) -> None:
    """A folded run stands for its members by its first; a member that saves other
    storages than the first (the first block of a stack saving the stem's output, which
    the others get from the block before) has the difference kept by the caller: the
    storages only that member saves (sign +1) and those only the first saves (sign −1),
    each kind of difference once with the number of members it occurs in, so that the
    run's total is exactly what its members saved.

    A storage the first member saves and no other does is one every member reads from
    outside the run (a rotary embedding's cos and sin, an encoder's output under
    cross-attention; each saved once, by the first to read it): it moves to the caller
    (``drop`` removes it from the first member), held once whatever part of the run a
    device holds or recomputes."""
    from collections import Counter

    saved_first = _subtree_saved(members[0])
    first = Counter(r for _, r in saved_first)
    differences: Counter = Counter()
    names: dict = {}
    if len(members) > 1:
        shared = first.copy()
        for member in members[1:]:
            shared &= first - Counter(r for _, r in _subtree_saved(member))
        for r, n in shared.items():
            path = next(p for p, q in saved_first if q == r)
            for _ in range(n):
                if drop(path, r):
                    keep(t, [(path, r)])
                    first[r] -= 1
    for member in members[1:]:
        records = _subtree_saved(member)
        mine = Counter(r for _, r in records)
        for r, n in (mine - first).items():
            differences[(r, 1)] += n
            names.setdefault((r, 1), next(p for p, q in records if q == r))
        for r, n in (first - mine).items():  # named by the call of the first member that saves it
            differences[(r, -1)] += n
            names.setdefault((r, -1), next(p for p, q in saved_first if q == r))
    for (r, sign), n in sorted(differences.items(), key=lambda item: -item[0][1]):  # stable: in the order saved
        keep(t, [(names[(r, sign)], r)], sign, count=n)


def display_slots(template: Template) -> set:
    """The slots that are only a module call's input or output shape: no product, parameter,
    multiplicity or model output reads them (a size there that cannot be placed only
    leaves that shape unknown)."""
    shown, used = set(), set()

    def visit(node: TNode):
        shown.update(node.input_shape)
        shown.update(node.output_shape)
        used.update(node.routed or ())
        for item, mult, _ in node.items:
            if mult is not None:
                used.add(mult)
            if isinstance(item, TOp):
                for shape in item.shapes:
                    used.update(shape)
                used.update(item.extra.get("out", ()))
                if "groups" in item.extra:
                    used.add(item.extra["groups"])
                used.update(item.routed or ())
            else:
                visit(item)

    visit(template.root)
    for params in template.params.values():
        for _, shape, _ in params:
            used.update(shape)
    for shape in template.outputs:
        used.update(shape)
    return shown - used


def _under(params: dict, prefix: str) -> list:
    """The parameter paths under ``prefix.``, relative to it."""
    return [p[len(prefix) + 1:] for p in params if p.startswith(prefix + ".")]


def _count_calls(node: CallNode, calls: dict) -> None:
    for c in node.children:
        if isinstance(c, CallNode):
            calls[c.module_id] = calls.get(c.module_id, 0) + 1
            _count_calls(c, calls)


def _joins(first: CallNode, other: CallNode, calls: dict) -> bool:
    """Whether ``other`` continues a run begun by ``first``: the same module called again
    (a shared layer), or another member of the same list (``layers.3`` after ``layers.2``),
    each called once. Two modules that only happen to be alike at these sizes (a
    cross-attention's query and key projections when both sequences are as long) are not
    a run."""
    if first.module_id == other.module_id:
        return True
    a, _, i = first.path.rpartition(".")
    b, _, j = other.path.rpartition(".")
    members = a == b and i.isdigit() and j.isdigit()
    return members and calls.get(first.module_id) == 1 and calls.get(other.module_id) == 1


def _called(root: CallNode) -> set:
    paths = set()

    def visit(node):
        paths.add(node.path)
        for c in node.children:
            if isinstance(c, CallNode):
                visit(c)

    visit(root)
    return paths


def _relative(path: str, parent: str) -> str:
    """``path`` from inside ``parent`` ("" for the parent itself)."""
    if parent and path == parent:
        return ""
    return path[len(parent) + 1:] if parent and path.startswith(parent + ".") else path


def _index_free(path: str) -> str:
    """``layers.3.mlp`` → ``layers.#.mlp``: parameters of a list's members have one key."""
    return ".".join("#" if p.isdigit() else p for p in path.split("."))


def index_free(path: str) -> str:
    """A module path with its list indices as ``#`` (``layers.#.mlp``)."""
    return _index_free(path)


def params_key(template: Template) -> tuple:
    return template.key


# ---------------------------------------------------------------------------
# Fitting a slot's values
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One configuration recorded: the dims' values, and which dims it changed from the
    base (with their factors)."""

    values: dict
    changed: tuple = ()


class FitError(Exception):
    """A slot the probes cannot explain; ``needs``: the dims more probes along which may help."""

    def __init__(self, message, needs=()):
        super().__init__(message)
        self.needs = tuple(needs)


def _power(ratio: Fraction, factor: Fraction) -> int | None:
    """``e`` with ``factor**e == ratio`` for e in -3..4, else None."""
    for e in range(-3, 5):
        if factor ** e == ratio:
            return e
    return None


def fit_slot(values: list, probes: list, base: int, single: dict, dims: list, last: bool = False):
    """The expression of one slot.

    ``values[k]`` is the slot at ``probes[k]``; ``probes[base]`` is the base
    configuration; ``single[d]`` lists the probes that change only dim ``d`` (with the
    factor). Returns a SymPy expression in ``dims`` (symbols by name) or raises
    :class:`FitError`. A truncated monomial (``floor(c·∏dᵢ^eᵢ)``) is tried only when no
    more probes can help (``last``, or the sum asks for none).
    """
    y0 = values[base]
    depends = [d for d, ks in single.items() if any(values[k] != y0 for k, _ in ks)]
    if not depends:
        return sympy.Integer(y0)
    exponents, non_monomial = {}, []
    for d in depends:
        k, factor = single[d][0]
        if y0 == 0:
            non_monomial.append(d)
            continue
        e = _power(Fraction(values[k], y0), factor)
        if e is None or any(values[k2] != Fraction(y0) * f2 ** e for k2, f2 in single[d][1:]):
            non_monomial.append(d)
        else:
            exponents[d] = e
    symbols = {d: sympy.Symbol(d, integer=True, positive=True) for d in depends}
    if non_monomial and len(depends) == 1:
        floor = _fit_floor(values, probes, base, single, depends[0], symbols[depends[0]])
        if floor is not None:
            return floor
    if not non_monomial:
        base_values = probes[base].values
        monomial = Fraction(1)
        for d, e in exponents.items():
            monomial *= Fraction(base_values[d]) ** e
        c = Fraction(y0) / monomial
        return sympy.Rational(c.numerator, c.denominator) * sympy.Mul(*(symbols[d] ** e for d, e in exponents.items()))
    try:
        return _fit_sum(values, probes, base, single, depends, exponents, non_monomial, symbols)
    except FitError as exc:
        if exc.needs and not last:
            raise  # more probes may show a sum: a floor is the last resort, not a shortcut
        truncated = _fit_truncated(values, probes, depends, symbols)
        if truncated is None:
            raise
        return truncated


def _fit_floor(values, probes, base, single, d, symbol):
    """``floor((d + B)/C) + D``: a size after strided convolutions and pools along one
    axis (a chain of torch's ``⌊(n + 2p − d(k−1) − 1)/s⌋ + 1`` is one such floor), from at
    least four points along ``d``."""
    points = [(probes[base].values[d], values[base])] + [(probes[k].values[d], values[k]) for k, _ in single[d]]
    if len(points) < 4:
        return None
    for c in range(2, 65):
        for b in range(c):
            offsets = {y - (x + b) // c for x, y in points}
            if len(offsets) == 1:
                return sympy.floor((symbol + b) / sympy.Integer(c)) + offsets.pop()
    return None


def _fit_truncated(values, probes, depends, symbols):
    """``floor(c · ∏ dᵢ^eᵢ)`` or ``ceil(…)``: a size computed as ``int(fraction × size)``
    (GPT-NeoX's ``rotary_ndims = int(head_size * rotary_pct)``), from every probe: the
    exponents in -1..2 and the simplest fraction ``c`` that every probe bounds."""
    points = [(p.values, Fraction(v)) for p, v in zip(probes, values) if all(d in p.values for d in depends)]
    if len(points) < 2 * len(depends) + 2 or any(y < 1 for _, y in points):
        return None
    for exps in cartesian(*([1, -1, 2, 0] for _ in depends)):
        if not any(exps):
            continue
        monomial = sympy.Mul(*(symbols[d] ** e for d, e in zip(depends, exps)))
        ms = [(_monomial_value(vals, depends, exps), y) for vals, y in points]
        # floor(c·m) = y  ⇔  y/m ≤ c < (y+1)/m
        c = _simplest_between(max(y / m for m, y in ms), min((y + 1) / m for m, y in ms))
        if c is not None:
            return sympy.floor(sympy.Rational(c.numerator, c.denominator) * monomial)
        # ceil(c·m) = y  ⇔  (y-1)/m < c ≤ y/m (Phi's and StableLM's rotary frequencies:
        # ``arange(0, int(head_dim · partial_rotary_factor), 2)``)
        c = _simplest_between(max((y - 1) / m for m, y in ms), min(y / m for m, y in ms), ceiling=True)
        if c is not None:
            return sympy.ceiling(sympy.Rational(c.numerator, c.denominator) * monomial)
    return None


def _simplest_between(low: Fraction, high: Fraction, limit: int = 64, ceiling: bool = False) -> Fraction | None:
    """The fraction with the smallest denominator (at most ``limit``) in ``[low, high)``
    (``ceiling``: in ``(low, high]``)."""
    if high <= low:
        return None
    for q in range(1, limit + 1):
        if ceiling:
            p = (low.numerator * q) // low.denominator + 1  # the least p/q above low
            if Fraction(p, q) <= high:
                return Fraction(p, q)
        else:
            p = -((-low.numerator * q) // low.denominator)  # ceil(low * q)
            if Fraction(p, q) < high:
                return Fraction(p, q)
    return None


def _supports(values, probes, base, single, d):
    """The exponents of ``d`` in a sum: from the probes along ``d`` alone (at least three
    points, one more than the exponents fitted), the smallest set of exponents in -1..2
    that explains them."""
    points = [(Fraction(1), Fraction(values[base]))] + [(f, Fraction(values[k])) for k, f in single[d]]
    if len(points) < 3:
        return None
    candidates = [-1, 0, 1, 2]
    for size in (2, 3, 4):
        for combo in _combinations(candidates, size):
            if len(points) < size + 1:
                continue  # a square system fits anything: one point more checks the exponents
            if _solve([[t ** e for e in combo] for t, _ in points], [y for _, y in points]) is not None:
                return combo
    return None


def _combinations(items, k):
    from itertools import combinations

    return combinations(items, k)


def _fit_sum(values, probes, base, single, depends, exponents, non_monomial, symbols):
    supports = {d: (exponents[d],) for d in exponents}
    for d in non_monomial:
        if len(single[d]) < 2:
            raise FitError(f"the size is not a power of {d}", needs=(d,))
        s = _supports(values, probes, base, single, d)
        if s is None:
            raise FitError(f"the size moves with {d} in a way not a sum of powers",
                           needs=(d,) if len(single[d]) < 4 else ())
        supports[d] = s
    order = list(depends)
    monomials = list(cartesian(*(supports[d] for d in order)))
    rows, rhs = [], []
    for k, probe in enumerate(probes):
        if any(d not in probe.values for d in order):
            continue
        rows.append([_monomial_value(probe.values, order, m) for m in monomials])
        rhs.append(Fraction(values[k]))
    solution = _solve(rows, rhs)
    if solution is None:
        raise FitError(f"the probes do not determine the size as a sum over {', '.join(order)}",
                       needs=tuple(order) if len(order) > 1 else ())
    expr = sympy.Integer(0)
    for c, m in zip(solution, monomials):
        if c != 0:
            expr += sympy.Rational(c.numerator, c.denominator) * sympy.Mul(*(symbols[d] ** e for d, e in zip(order, m)))
    return expr


def _monomial_value(values, order, exps) -> Fraction:
    v = Fraction(1)
    for d, e in zip(order, exps):
        v *= Fraction(values[d]) ** e
    return v


def _solve(rows, rhs):
    """The exact solution of an over-determined consistent system of full column rank, or None."""
    n = len(rows[0]) if rows else 0
    if len(rows) < n:
        return None
    m = [list(r) + [b] for r, b in zip(rows, rhs)]
    pivots, r = [], 0
    for c in range(n):
        p = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if p is None:
            return None  # not full column rank: the probes do not separate these terms
        m[r], m[p] = m[p], m[r]
        inv = 1 / m[r][c]
        m[r] = [x * inv for x in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
    if any(row[-1] != 0 for row in m[r:]):
        return None  # inconsistent
    return [m[i][-1] for i in range(n)]


def depends_on(values, base: int, single: dict) -> tuple:
    """The dims whose probes alone change a slot."""
    return tuple(d for d, ks in single.items() if any(values[k] != values[base] for k, _ in ks))


def fit(templates: list, probes: list, base: int, single: dict, last: bool = False):
    """Every slot's expression (a list parallel to the base template's values) and the
    slots that could not be explained (index → the :class:`FitError`)."""
    columns: dict = {}
    exprs, failed = [], {}
    for i in range(len(templates[base].values)):
        values = tuple(t.values[i] for t in templates)
        if values not in columns:
            try:
                columns[values] = fit_slot(list(values), probes, base, single, list(single), last)
            except FitError as exc:
                columns[values] = exc
    floors = [(values, expr) for values, expr in columns.items()
              if isinstance(expr, sympy.Basic) and expr.has(sympy.floor, sympy.ceiling)]
    for values, result in list(columns.items()):
        if isinstance(result, FitError) and floors:
            composed = _fit_composed(values, floors)
            if composed is not None:
                columns[values] = composed
    for i in range(len(templates[base].values)):
        values = tuple(t.values[i] for t in templates)
        result = columns[values]
        if isinstance(result, FitError):
            failed[i] = result
            exprs.append(sympy.Integer(templates[base].values[i]))
        else:
            exprs.append(result)
    return exprs, failed


def _fit_composed(values, floors):
    """``a·g² + b·g + c`` of a fitted floor ``g`` (a ViT's ``⌊image/patch⌋² + 1`` tokens),
    solved exactly from every probe, with one equation more than unknowns."""
    for g_values, g in floors:
        if len(set(g_values)) < 4:
            continue
        rows = [[Fraction(v) ** 2, Fraction(v), Fraction(1)] for v in g_values]
        solution = _solve(rows, [Fraction(y) for y in values])
        if solution is not None:
            a, b, c = (sympy.Rational(x.numerator, x.denominator) for x in solution)
            return a * g ** 2 + b * g + c
    return None
