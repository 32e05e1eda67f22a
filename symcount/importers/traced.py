"""A model imported from the operators it runs, its formula placed by probing and checked.

:func:`trace` records the model at the base configuration, then once per dim with that
dim alone changed (×2, else ½, ×3, ×4 — the first configuration the model accepts and
that runs the same operators), fits every size (:mod:`.attributor`), adds probes where a
size is a sum (three points along each dim it moves with, pairs of such dims together),
and checks the fitted sizes at a configuration that changes every placed dim at once and
was not used to fit them. A dim whose probe runs other operators, whose sizes no probe
explains, or that the check contradicts is *not placed*: it keeps its value, the formula
holds for the others, and one :class:`~._common.SymcountImportWarning` names it. Never
a formula that was not checked.

The sizes of what autograd saved and of a decoder's key/value cache are fitted the same
way, apart (:func:`_fit_extra`): from the probes whose saved tensors (cache layers) have
the base's structure, checked at the same fresh configuration; a size that cannot be
placed leaves its layer's saved tensors (the model's cache) undeclared, never guessed,
and never costs a dim its place in the formula. Which saved tensors are kept once per
step rather than per example is seen by recording the base with two and three examples
(:func:`_per_batch`). The cache costs forward passes of its own at each configuration it
is measured at: it is measured when its fit first reads a probe, at the base and the
first probe along each dim, and at the others only when those do not explain it
(:func:`_fit_cache`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations

import sympy

from ..dims import dim
from ._common import warn
from .attributor import (INFERENCE, FitError, Probe, depends_on, display_slots, fit, index_free, measured_cache,
                         template)
from .builder import Builder, PerBatch, called_paths
from .recorder import record

#: factors tried for a dim's probe, in order
_FACTORS = (Fraction(2), Fraction(1, 2), Fraction(3), Fraction(4))
#: rounds of further probes asked for by slots the probes so far cannot explain
_ROUNDS = 3
#: more points along a dim whose sizes are sums
_MORE = (Fraction(4), Fraction(1, 2), Fraction(8), Fraction(3), Fraction(1, 4))


@dataclass
class Traced:
    """The outcome of :func:`trace`: the model, the dims placed and not placed (name → why),
    the uncounted operators."""

    model: object
    placed: tuple
    unplaced: dict = field(default_factory=dict)
    uncounted: list = field(default_factory=list)
    #: the configuration the formula was checked at (not used to fit it)
    checked_at: dict | None = None
    #: the configuration probed around (dims not placed keep their values here)
    base: dict = field(default_factory=dict)


def _scaled(values: dict, changes: dict) -> dict | None:
    out = dict(values)
    for d, f in changes.items():
        v = Fraction(values[d]) * f
        if v.denominator != 1 or v < 1:
            return None
        out[d] = int(v)
    return out


class _Session:
    def __init__(self, run, base: dict, probe: list):
        self.run = run  # values → (template, called paths, recording)
        self.base = dict(base)
        self.probe = list(probe)
        self.templates, self.probes, self.single = [], [], {}
        self.unplaced: dict = {}
        #: sizes_of → {dim: the dim it was tied to, or the value it was held at} (:func:`_ties`)
        self.tied: dict = {}
        #: sizes_of → the configuration and template the extra sizes were checked at
        self.saved_check: dict = {}

    def add(self, values, changed=()):
        t, _, _ = self.run(values)
        if t.key != self.templates[0].key:
            return None
        self.templates.append(t)
        self.probes.append(Probe(values, tuple(changed)))
        return len(self.templates) - 1

    def try_add(self, values, changed=()):
        try:
            return self.add(values, changed)
        except Exception:  # noqa: BLE001 - a configuration the model rejects is no probe
            return None

    def shifted(self, d) -> list:
        """Recordings at ``d + 1`` and ``d + 3`` (an input axis: floors of strided layers
        show), not yet among the probes: ``(values, factor, template)``."""
        out = []
        for shift in (1, 3):
            v = self.base[d] + shift
            values = dict(self.base)
            values[d] = v
            try:
                t, _, _ = self.run(values)
            except Exception:  # noqa: BLE001 - a configuration the model rejects is no probe
                continue
            if t.key == self.templates[0].key:
                out.append((values, Fraction(v, self.base[d]), t))
        return out

    def admit(self, d, values, factor, t):
        self.templates.append(t)
        self.probes.append(Probe(values, ((d, factor),)))
        self.single[d].append((len(self.templates) - 1, factor))

    def start(self):
        t, called, rec = self.run(self.base)
        self.templates.append(t)
        self.probes.append(Probe(self.base))
        self.called, self.recording = called, rec
        for d in self.probe:
            for f in _FACTORS:
                values = _scaled(self.base, {d: f})
                if values is None:
                    continue
                k = self.try_add(values, ((d, f),))
                if k is not None:
                    self.single[d] = [(k, f)]
                    break
            else:
                self.unplaced[d] = "no configuration with another value of it runs the same operators"

    def more_along(self, d, count=2):
        have = {f for _, f in self.single[d]}
        for f in _MORE:
            if count <= 0:
                break
            if f in have:
                continue
            values = _scaled(self.base, {d: f})
            if values is None:
                continue
            k = self.try_add(values, ((d, f),))
            if k is not None:
                self.single[d].append((k, f))
                count -= 1

    def jointly(self, dims):
        changes = {d: self.single[d][0][1] for d in dims}
        values = _scaled(self.base, changes)
        if values is not None:
            self.try_add(values, tuple(changes.items()))


def _verification(session, placed) -> dict | None:  # noqa: C901
    """A configuration changing every placed dim at once, by factors that differ between
    neighbouring dims where the model accepts it."""
    patterns = []
    for a, b in ((Fraction(2), Fraction(4)), (Fraction(4), Fraction(2)), (Fraction(2), Fraction(2)),
                 (Fraction(3), Fraction(2)), (Fraction(2), Fraction(3)), (Fraction(6), Fraction(6)),
                 (Fraction(5), Fraction(5)), (Fraction(8), Fraction(8))):
        patterns.append({d: (a if i % 2 == 0 else b) for i, d in enumerate(placed)})
    used = [p.values for p in session.probes]
    for changes in patterns:
        values = _scaled(session.base, changes)
        if values is None or values in used:
            continue  # a configuration the fit used checks nothing
        try:
            t, _, _ = session.run(values)
        except Exception:  # noqa: BLE001
            continue
        if t.key == session.templates[0].key:
            return values, t
    return None


def _leave_one_out(session, exprs, failed):
    """Drop one probe that no formula explains where the others agree: a configuration at
    which the model degenerates (a rotary width ``int(head_dim / 4)`` of 1, which
    transformers widens to 2). A probe is dropped only if every slot that failed is then
    explained and no other slot fails; the check at a fresh configuration follows."""
    moving = {d for i in failed for d in depends_on(tuple(t.values[i] for t in session.templates), 0,
                                                    session.single)}
    for d in sorted(moving):
        if len(session.single[d]) < 2:
            continue
        for k, _ in list(session.single[d]):
            templates = [t for j, t in enumerate(session.templates) if j != k]
            probes = [p for j, p in enumerate(session.probes) if j != k]
            single = {e: [(j - (j > k), f) for j, f in ks if j != k] for e, ks in session.single.items()}
            if any(not ks for ks in single.values()):
                continue
            trial, trial_failed = fit(templates, probes, 0, single, last=True)
            if not trial_failed:
                session.templates, session.probes, session.single = templates, probes, single
                return trial, trial_failed
    return exprs, failed


def _outside(exprs, failed, values, t):
    """A slot whose fitted size is a whole number at ``values`` but not the size the model
    ran (``d_model + 1`` that the model truncates to whole heads): a configuration outside
    the formula's conditions, which says nothing about it. None when every slot either
    agrees or is fractional there (a strided layer's ``n/2`` at odd ``n``: the floor the
    shifted probe is for)."""
    for i, expr in enumerate(exprs):
        if i in failed:
            continue
        v = _value(expr, values)
        if v is not None and v.denominator == 1 and v != t.values[i]:
            return i
    return None


def _value(expr, values: dict) -> Fraction:
    number = expr.xreplace({s: sympy.Integer(values[s.name]) for s in expr.free_symbols if s.name in values})
    if not number.is_Rational:
        return None
    return Fraction(int(number.p), int(number.q))


def trace(run, base: dict, probe: list, name: str, *, axes=()) -> Traced:
    """Import by probing. ``run(values)`` records the model at ``values`` (dim name →
    int) and returns ``(template, called paths, recording)``; ``probe`` lists the dims
    that can be changed (config fields of a rebuildable model, input axes)."""
    session = _Session(run, base, probe)
    session.start()
    pending = [(d, *shift) for d in axes if d in session.single for shift in session.shifted(d)]
    if pending:
        exprs, failed = fit(session.templates, session.probes, 0, session.single)
        for d, values, factor, t in pending:
            if _outside(exprs, failed, values, t) is None:
                session.admit(d, values, factor, t)
    exprs, failed = fit(session.templates, session.probes, 0, session.single)
    asked: set = set()
    for _ in range(_ROUNDS):
        needs = {(d,) for exc in failed.values() for d in exc.needs}
        needs |= {tuple(sorted(exc.needs)) for exc in failed.values() if len(exc.needs) > 1}
        needs -= asked
        if not needs:
            break
        asked |= needs
        for group in sorted(needs, key=len):
            if len(group) == 1:
                session.more_along(group[0])
                continue
            for a, b in combinations(group, 2):
                session.jointly((a, b))
            if len(group) > 2:
                session.jointly(group)
        exprs, failed = fit(session.templates, session.probes, 0, session.single)
    if failed:
        exprs, failed = fit(session.templates, session.probes, 0, session.single, last=True)
    if failed:
        exprs, failed = _leave_one_out(session, exprs, failed)
    placed = [d for d in session.single]
    bad = set()
    shown = display_slots(session.templates[0])
    unknown = {i for i in failed if i in shown}  # a module's shape only: left unknown
    for i, exc in failed.items():
        if i in unknown:
            continue
        values = tuple(t.values[i] for t in session.templates)
        bad.update(depends_on(values, 0, session.single))
        for d in depends_on(values, 0, session.single):
            session.unplaced.setdefault(d, f"{_where(session, i)} is not explained ({exc})")
    candidates = [d for d in placed if d not in bad]
    check = _verification(session, candidates)
    while check is None and len(candidates) > 1:
        # no configuration changing all of them runs the same operators (MobileViT's
        # output_stride turns convolutions dilated): leave out the one dim whose change
        # breaks it, as long as one dim does
        for d in candidates:
            rest = [e for e in candidates if e != d]
            check = _verification(session, rest)
            if check is not None:
                session.unplaced.setdefault(d, "no configuration changing it with the other dims runs the same "
                                               "operators, so its formula could not be checked")
                bad.add(d)
                candidates = rest
                break
        else:
            break
    checked_at = None
    if check is not None:
        values, t = check
        checked_at = values
        for i, expr in enumerate(exprs):
            if i in failed:
                continue
            if _value(expr, values) != t.values[i]:
                if i in shown:
                    unknown.add(i)
                    continue
                moving = depends_on(tuple(tt.values[i] for tt in session.templates), 0, session.single)
                bad.update(moving)
                for d in moving:
                    session.unplaced.setdefault(d, f"the formula of {_where(session, i)} gives {_value(expr, values)} "
                                                   f"where the model has {t.values[i]} at {_text(values, moving)}")
    else:
        for d in placed:
            if d not in bad:
                session.unplaced.setdefault(d, "no configuration changing the dims together could check the formula")
                bad.add(d)
    keep = [d for d in placed if d not in bad]
    fixed = {sympy.Symbol(d, integer=True, positive=True): sympy.Integer(session.base[d]) for d in bad}
    base_t = session.templates[0]
    final = []
    for i, expr in enumerate(exprs):
        if i in unknown:
            final.append(None)
        elif i in failed:
            final.append(sympy.Integer(base_t.values[i]))
        else:
            final.append(_as_dims(expr.xreplace(fixed) if fixed else expr))
    saved = _fit_extra(session, check, fixed, _saved_sizes)
    if saved:
        # the tensors are told apart by their shapes: at the base (the smallest model
        # recorded, the cheapest to record again) unless two of one module's tensors have
        # one shape there and not at the check's configuration, where dims differ more (a
        # query's (heads, seq, head_dim) is not the scores' (heads, seq, seq) when seq ≠ head_dim)
        witness = (session.base, session.templates[0], session.recording)
        other = session.saved_check.get(_saved_sizes, check)  # the check the saved sizes were checked at
        if other is not None and other[1].saved_key == session.templates[0].saved_key \
                and _merged(session.templates[0], other[1]):
            witness = (other[0], other[1], session.run(other[0])[2])
        saved = _per_batch(session, saved, witness)
        _fp32_kinds(session, witness)
    cache = _fit_cache(session, check, fixed)
    tied = {b: a for b, a in session.tied.get(_saved_sizes, {}).items() if b not in bad and a not in bad}
    model = Builder(base_t, final, name, session.called, saved,
                    None if cache is None else (cache_groups(base_t)[0], cache, axes[0] if axes else None)).build()
    _tie_saved(model, tied)
    return Traced(model, tuple(keep), dict(session.unplaced), list(base_t.uncounted), checked_at, dict(base))


def _tie_saved(model, tied: dict) -> None:
    """The layers with saved tensors declare the relations their sizes were fitted under
    (``saved_conditions``): ``Eq(b, a)`` for dims probed together (:func:`_ties`),
    ``Eq(d, value)`` for a dim no usable probe moved (kept at its base value). Memory
    states them, and counts a layer whose relations the values break as not counted."""
    if not tied:
        return
    relations = tuple(sympy.Eq(dim(b), dim(a) if isinstance(a, str) else sympy.Integer(a))
                      for b, a in sorted(tied.items()))
    names = {*tied, *(a for a in tied.values() if isinstance(a, str))}
    held = any(not isinstance(a, str) for a in tied.values())
    for call in getattr(model, "calls", ()):
        sizes = [entry[1] for entry in getattr(call.layer, "saves", None) or ()]
        # a held dim may move sizes that no longer show it: every layer that saves holds it
        if sizes and (held or any(s.name in names for size in sizes for s in size.free_symbols)):
            call.layer.saved_conditions = relations


def _needs(session, usable, sizes_of) -> set:
    """The dims more probes along which may explain the extra sizes the probes so far do not."""
    index = {k: j for j, k in enumerate(usable)}
    single = {d: [(index[k], f) for k, f in ks if k in index] for d, ks in session.single.items()}
    single = {d: ks for d, ks in single.items() if ks}
    templates = [_Sizes(session.templates[k], sizes_of(session.templates[k])[1]) for k in usable]
    probes = [session.probes[k] for k in usable]
    offset = len(session.templates[0].values)
    _, failed = fit(templates, probes, 0, single)
    return {d for i, exc in failed.items() if i >= offset for d in exc.needs}


def _per_batch(session, saved: list, witness) -> list:
    """The saved sizes with the tensors kept once per step rather than per example
    (position ids, rotary tables, batch norm's statistics) as :class:`PerBatch`: the
    base recorded again with two and with three examples, a tensor saved by the same
    module with the same kind and shape in both is per step. (Which storages a forward
    saves may change with the batch — at one example more reshapes are views — but not
    the bytes per example; one example is no witness, two and three are.)"""
    values, at, _ = witness
    at_batch = getattr(session.run, "at_batch", None)
    try:
        two, three = (at_batch(values, b) if at_batch is not None else None for b in (2, 3))
    except Exception:  # noqa: BLE001 - the model takes one example only: every size per example
        return saved
    if two is None or three is None:
        return saved
    steady = _saved_records(two) & _saved_records(three)
    left = {1: steady.copy(), -1: steady.copy()}  # a member saving less than the first: the same tensors
    out = list(saved)

    def visit(node):
        for what, kind, (elements, shape), sign, _ in node.saved:
            key = (what, kind, tuple(at.saved_values[s] for s in shape))
            if left[sign][key] > 0:
                left[sign][key] -= 1
                out[elements] = PerBatch(out[elements])
        for item, _, _ in node.items:
            if hasattr(item, "saved"):
                visit(item)

    visit(session.templates[0].root)
    return out


def _fp32_kinds(session, witness) -> None:
    """Mark the saved tensors that stay in fp32 whatever the model's dtype (LayerNorm's
    and BatchNorm's statistics, an RMS norm's upcast): the base recorded again in
    bfloat16, a tensor saved there in fp32 by the same module with the same shape is
    ``float32`` (as many of the base's as the bf16 recording has)."""
    import torch

    values, at, recording = witness
    at_dtype = getattr(session.run, "at_dtype", None)
    try:
        other = at_dtype(values, torch.bfloat16) if at_dtype is not None else None
    except Exception:  # noqa: BLE001 - the model does not run in bf16 on meta: its kinds as recorded
        return
    if other is None:
        return
    records = _saved_records(other)
    fp32 = Counter({(path, shape): n for (path, kind, shape), n in records.items() if kind == "float32"})
    left = {1: fp32.copy(), -1: fp32.copy()}
    # storages only 16-bit makes: a float32 tensor's cast to the compute dtype (Llama's
    # eager softmax in float32, then .to(dtype)), which in float32 is the tensor itself
    extra = Counter()
    for (path, _, shape), n in records.items():
        extra[(path, shape)] += n
    for (path, kind, shape), n in _saved_records(recording).items():
        extra[(path, shape)] -= n
    casts = {1: +extra, -1: +extra}

    def visit(node):
        for k, (what, kind, slots, sign, times) in enumerate(list(node.saved)):
            key = (what, tuple(at.saved_values[s] for s in slots[1]))
            if kind == "activation" and left[sign][key] > 0:
                left[sign][key] -= 1
                node.saved[k] = (what, "float32", slots, sign, times)
            if casts[sign][key] > 0:  # as large as this tensor, a cast of its own in 16-bit
                casts[sign][key] -= 1
                node.casts.append((what, slots, sign, times, k in node.selective, k in node.split))
        for item, _, _ in node.items:
            if hasattr(item, "saved"):
                visit(item)

    visit(session.templates[0].root)


def _merged(base, other) -> bool:
    """Whether the base's saved tensors share a (module, shape) where ``other``'s (a
    template of the same saved structure) do not: then the shapes at the base do not tell
    apart tensors that ``other``'s do."""
    groups: dict = {}

    def visit(a, b):
        for (what, _, slots, _, _), (_, _, other_slots, _, _) in zip(a.saved, b.saved):
            key = (what, tuple(base.saved_values[s] for s in slots[1]))
            groups.setdefault(key, set()).add((what, tuple(other.saved_values[s] for s in other_slots[1])))
        for (item, _, _), (twin, _, _) in zip(a.items, b.items):
            if hasattr(item, "saved"):
                visit(item, twin)

    visit(base.root, other.root)
    return any(len(v) > 1 for v in groups.values())


def _saved_records(recording):
    """``Counter`` of (module path, kind, shape) of what a recording saved."""
    found: Counter = Counter()

    def visit(node):
        for r in node.saved:
            found[(node.path or "(the model)", r.kind, r.shape)] += 1
        for c in node.children:
            if hasattr(c, "saved"):
                visit(c)

    visit(recording.root)
    return found


def elements_slots(template) -> list:
    """The saved-size slots that are a tensor's elements (not its axes, not a count)."""
    found = []

    def visit(node):
        for entry in node.saved:
            found.append(entry[2][0])
        for item, _, _ in node.items:
            if hasattr(item, "saved"):
                visit(item)

    visit(template.root)
    return found


class _Sizes:
    """A template's sizes followed by other sizes of it (its saved tensors', its cache's),
    as the values :func:`.attributor.fit` reads (composed from the others' floors: a
    ViT's ``⌊image/patch⌋² + 1`` tokens)."""

    def __init__(self, template, extra):
        self.values = list(template.values) + list(extra)


def _saved_sizes(template):
    """``(key, sizes)`` of a template's saved tensors, or None (recorded in inference mode)."""
    if template.saved_key == INFERENCE:
        return None
    return template.saved_key, template.saved_values


def _cache_sizes(template):
    """``(key, sizes)`` of a template's key/value cache (per group: layers, elements per
    token, the tokens kept when fewer than all), or None."""
    groups = cache_groups(template)
    if groups is None:
        return None
    key, values = groups
    return key, [v for group in values for v in group]


def cache_groups(template):
    """The cache layers of a template grouped by owner (its path without list indices)
    and whether they keep fewer tokens than they were given: ``(keys, [(layers,
    elements per token, tokens kept or 0)])``; None without a cache, or when one group's
    layers differ."""
    records = measured_cache(template)
    if not records:
        return None
    groups: dict = {}
    for r in records:
        capped = r.kept < r.long
        key = (index_free(r.owner), capped)
        seen = groups.get(key)
        value = (r.per_token, r.kept if capped else 0)
        if seen is not None and seen[1:] != value:
            return None
        groups[key] = (1 + (seen[0] if seen else 0), *value)
    return tuple(groups), list(groups.values())


def _fit_cache(session, check, fixed) -> list | None:
    """The key/value cache's sizes (:func:`_fit_extra`), measured first at the base and
    the first probe along each dim only (each configuration measured costs forward
    passes of its own), then, where a size is not explained there or the check
    contradicts it, at every probe."""
    firsts = {0} | {ks[0][0] for ks in session.single.values() if ks}
    cache = _fit_extra(session, check, fixed, _cache_sizes, among=firsts)
    if cache is not None and any(size is None for size in cache):
        cache = _fit_extra(session, check, fixed, _cache_sizes)
    return cache


def _fit_extra(session, check, fixed, sizes_of, among=None) -> list | None:
    """Sizes beside the template's own (the saved tensors', the cache's) as expressions
    (None where the probes do not explain a size or the check contradicts it: what needs
    it is then undeclared, never guessed). Fitted as every other size, from the probes
    whose extra sizes have the base's structure (``among`` these probes' indices and
    those added here, when given), and checked at the configuration the formula was
    checked at; dims not placed keep their values (``fixed``). None when the base has
    no such sizes."""
    base = sizes_of(session.templates[0])
    if base is None:
        return None
    key, base_values = base
    if not base_values:
        return []
    start = len(session.templates)

    def usable_now():
        return [k for k, t in enumerate(session.templates)
                if (among is None or k in among or k >= start) and (sizes_of(t) or (None,))[0] == key]

    usable = usable_now()
    needs = _needs(session, usable, sizes_of)
    for d in sorted(needs):  # a sum (sliding_window − 1): more points along its dims, as for any size
        if d in session.single:
            if among is not None:  # the points along it recorded already, then more
                among = among | {k for k, _ in session.single[d]}
            session.more_along(d)
    if needs:
        usable = usable_now()
    index = {k: j for j, k in enumerate(usable)}
    single = {d: [(index[k], f) for k, f in ks if k in index] for d, ks in session.single.items()}
    single = {d: ks for d, ks in single.items() if ks}
    missing = set(session.single) - set(single)  # dims no usable probe changed: their sizes cannot be told
    ties = _ties(session, missing, key, sizes_of)
    if ties:
        usable = usable_now()
        index = {k: j for j, k in enumerate(usable)}
        for a, (k, f) in ties.values():
            single[a] = [(index[k], f)]
        missing -= {*ties, *(a for a, _ in ties.values())}
    templates = [_Sizes(session.templates[k], sizes_of(session.templates[k])[1]) for k in usable]
    probes = [session.probes[k] for k in usable]
    exprs, failed = fit(templates, probes, 0, single, last=True)
    offset = len(session.templates[0].values)
    exprs = exprs[offset:]
    failed = {i - offset for i in failed if i >= offset}
    if ties and check is not None:  # checked where the tied dims are equal, as they were fitted
        check = _tied_check(session, check, ties)
    at_check = sizes_of(check[1]) if check is not None else None
    checked = at_check is not None and at_check[0] == key
    held = {}  # dims no usable probe moves, kept at their base values for these sizes
    if missing and check is not None and not checked:
        # the check changed a dim that changes what is saved (the experts a token is routed
        # to): checked again with those dims at their base values, for which alone the
        # sizes are then claimed
        kept = _held_check(session, check, missing)
        if kept is not None and (sizes_of(kept[1]) or (None,))[0] == key:
            check, at_check, checked = kept, sizes_of(kept[1]), True
            held = {d: session.base[d] for d in missing}
            missing = set()
    out = []
    for i, expr in enumerate(exprs):
        kept = expr.xreplace(fixed) if fixed else expr
        if check is None:  # every dim keeps its value: the size at the base, as recorded
            good = i not in failed
        elif checked:
            good = i not in failed and _value(expr, check[0]) == at_check[1][i]
        else:  # the check ran another structure: only a size that moves with nothing stands
            good = i not in failed and not kept.free_symbols and not missing
        out.append(_as_dims(kept) if good else None)
    if ties or held:
        session.tied[sizes_of] = {**{b: a for b, (a, _) in ties.items()}, **held}
    if checked:
        session.saved_check[sizes_of] = check
    return out


def _held_check(session, check, dims):
    """The check's configuration with ``dims`` at their base values, recorded (None when
    that is the check itself, or the model rejects it)."""
    return _recorded(session, {**check[0], **{d: session.base[d] for d in dims}}, check[0])


def _recorded(session, values, checked):
    """``(values, template)`` recorded, or None when ``values`` are the configuration
    ``checked`` already, the model rejects them or runs other operators there."""
    if values == checked:
        return None
    try:
        t, _, _ = session.run(values)
    except Exception:  # noqa: BLE001 - a configuration the model rejects checks nothing
        return None
    return (values, t) if t.key == session.templates[0].key else None


def _ties(session, missing, key, sizes_of) -> dict:
    """Dims no usable probe changes, equal at the base, whose joint change keeps the
    extra sizes' structure: a model that runs other operators unless they are equal
    (transformers' ``repeat_kv`` is a no-op when the key/value heads are the query
    heads, so changing either alone saves other tensors). ``{b: (a, (probe index,
    factor))}``: the probe changing ``a`` and ``b`` together stands for ``a``'s, and the
    sizes fitted from it hold where ``b = a``."""
    ties: dict = {}
    left = sorted(d for d in missing if d in session.single)
    for i, a in enumerate(left):
        if a in ties:
            continue
        for b in left[i + 1:]:
            if b in ties or session.base[a] != session.base[b]:
                continue
            for f in _FACTORS:
                values = _scaled(session.base, {a: f, b: f})
                if values is None:
                    continue
                k = session.try_add(values, ((a, f), (b, f)))
                if k is not None and (sizes_of(session.templates[k]) or (None,))[0] == key:
                    ties[b] = (a, (k, f))
                    break
            if b in ties:
                break
    return ties


def _tied_check(session, check, ties):
    """The check's configuration with each tied dim set to its partner's value, recorded
    (the check itself when that is what it was, or the model rejects it)."""
    values = dict(check[0])
    for b, (a, _) in ties.items():
        values[b] = values[a]
    return _recorded(session, values, check[0]) or check


def numbers(run, values: dict, name: str) -> Traced:
    """The model at ``values`` with every size a number (no formula)."""
    t, called, _ = run(values)
    # numbers at one configuration: the saved tensors as recorded (each per example); no
    # cache is declared (its tokens would have no sequence length to follow)
    saved = None if t.saved_key == INFERENCE else [sympy.Integer(v) for v in t.saved_values]
    model = Builder(t, [sympy.Integer(v) for v in t.values], name, called, saved).build()
    return Traced(model, (), {}, list(t.uncounted), None)


def finish(traced: Traced, values: dict):
    """The traced model with its values (the placed dims'), uncounted operators, which
    quantities are exact, and the active parameters of a mixture of experts."""
    model = traced.model
    present = {d.name for d in model.count().free_dims}
    _bind_absent(model, {d: values[d] for d in traced.placed if d in values and d not in present})
    present = {d.name for d in model.count().free_dims}
    model.values = {d: values[d] for d in traced.placed if d in values and d in present}
    model.uncounted = tuple(traced.uncounted)
    inexact = {"flops": False, "training_flops": False} if traced.uncounted else {}
    model.exactness = tuple(inexact.items())
    inactive = getattr(model, "inactive", None)
    if inactive is not None:
        model.active = None
        model.active = sympy.expand(model.count().total - inactive)
    model.placed = traced.placed
    model.unplaced = dict(traced.unplaced)
    model.checked_at = traced.checked_at
    model.notes = []
    return model


def _bind_absent(model, values: dict) -> None:
    """Dims that only the saved tensors' sizes or the cache read (a sliding window) keep
    their values there: a count's dims are those of its weights, products and shapes."""
    if not values:
        return
    mapping = {dim(name): sympy.Integer(v) for name, v in values.items()}
    for call in getattr(model, "calls", ()):
        layer = call.layer
        saves = getattr(layer, "saves", None)
        if saves:
            layer.saves = tuple((n, sympy.expand(size.xreplace(mapping)), *rest) for n, size, *rest in saves)
        rule = layer.__dict__.get("cache_elements")
        if rule is not None:
            rule.bind(mapping)


def _as_dims(expr):
    """Fitted symbols as symcount dims (positive-integer symbols with their LaTeX names)."""
    if not expr.free_symbols:
        return expr
    return expr.xreplace({s: dim(s.name) for s in expr.free_symbols})


def _where(session, i) -> str:
    where = session.templates[0].where
    return where[i] if i < len(where) else f"size {i}"


def _text(values, names) -> str:
    return ", ".join(f"{n}={values[n]}" for n in names)


def report(traced: Traced, name: str) -> None:
    """One warning for what the import could not do: dims not placed, operators not counted."""
    parts = []
    if traced.unplaced:
        parts.append("the formula keeps these dims at their values (they could not be placed: "
                     + "; ".join(f"{d}: {why}" for d, why in traced.unplaced.items()) + ")")
    if traced.uncounted:
        parts.append("these operators were not counted: " + "; ".join(str(u) for u in traced.uncounted))
    if parts:
        warn(f"{name}: " + " and ".join(parts))
