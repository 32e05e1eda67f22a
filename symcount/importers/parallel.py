"""Megatron-LM's tensor-parallel roles of an imported model, read off the operators it ran.

Megatron-LM splits a transformer over ``tp`` devices in pairs (Shoeybi et al. 2019,
section 3): a ``ColumnParallelLinear`` (its output features split, ``gather_output=False``)
feeds, through operators without weights (attention's products and softmax, the MLP's
activation), a ``RowParallelLinear`` (its input features split, ``input_is_parallel=True``)
whose all-reduce makes the output whole again; the token embedding is a
``VocabParallelEmbedding`` and the language-model head is column-parallel over the
vocabulary (its logits stay split, for the parallel cross-entropy). Norms, positions and
everything outside the pairs are replicated.

:class:`Roles` follows the recorded dataflow, storage by storage (a view is its base's
storage), not module names:

- a product of an activation and a 2-D weight (``mm``/``addmm`` with a parameter, or one
  expert's slice of a stacked one) whose activation is whole is a *column* candidate: its
  output is split; one whose activation is split is the *row* layer that closes the
  candidates it was split by, provided it reads no more features than the widest of them
  writes (a query/key/value projection of ``3h`` closed by an ``h``-wide projection);
- ``embedding`` of the model's own token ids is the *vocab* embedding; its output is whole;
- any other operator's output is split when one of its inputs is;
- a candidate is spoiled (replicated) when an operator with a weight reads one of its
  split tensors across all the features it wrote (a LayerNorm over the hidden width: a
  norm over one head's width is per head and stays split), when a product reads its
  region wider than it was written (a router's scores reaching the next layer through
  the residual stream), or when its region reaches neither a row layer nor a model
  output that has the vocabulary's width (a classifier's logits stay whole);
- spoiled candidates are replicated and the dataflow followed again, until nothing
  changes;
- a product of two activations (``bmm``: attention's ``Q·Kᵀ`` and ``P·V``) on split
  tensors is split by heads: ``tp`` must divide its batch axis; and a column layer whose
  output is viewed as heads (``(…, kv_heads · d)`` → ``(…, kv_heads, d)``) gives each
  device whole heads: ``tp`` must divide those too (grouped-query attention's key/value
  heads).

What comes out: each parameter's role and the axis ``tp`` divides (``roles``), and the
storages that are split (``split``), which memory divides by ``tp``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._torch_tree import flatten

#: products of an activation and a weight that Megatron-LM splits
_LINEAR = {"mm", "addmm"}
#: reshapes that may split a projection's features into heads
_VIEWS = {"view", "_unsafe_view", "reshape"}
#: products of two activations whose batch axis is attention's heads
_PER_HEAD = {"bmm", "baddbmm"}


@dataclass(frozen=True)
class _Linear:
    param: tuple        # (module path, parameter name)
    in_features: int
    out_features: int
    in_axis: int        # the parameter's axis of the input features
    out_axis: int
    bias: tuple | None = None  # addmm's bias parameter: split with a column layer, whole with a row layer


class Roles:
    """The dataflow of one recorded forward pass, and the roles it implies (see the
    module's docstring). ``root(raw)`` resolves a storage to its base's;
    ``param_of(t)`` is ``(owner, parameter tensor)`` or None."""

    def __init__(self, root, raw, param_of):
        import torch

        self.torch = torch
        self.root, self.raw, self.param_of = root, raw, param_of
        self.events: list = []   # (kind, [(raw key, last dim)], [raw keys out], info)
        self.tokens: set = set()  # raw keys of the model's integer inputs

    def note_inputs(self, tensors) -> None:
        for t in tensors:
            if isinstance(t, self.torch.Tensor) and not t.is_floating_point():
                self.tokens.add(self.raw(t))

    def on_op(self, func, args, out, product=None) -> None:
        torch = self.torch
        name = func._overloadpacket.__name__
        tensors = [a for a in flatten(args) if isinstance(a, torch.Tensor)]
        outs = [o for o in flatten(out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, torch.Tensor)]
        owned = [(t, self.param_of(t)) for t in tensors]
        params = [(t, p) for t, p in owned if p is not None]
        inputs = [(self.raw(t), t.shape[-1] if t.dim() else 1) for t, p in owned if p is None]
        out_keys = [self.raw(o) for o in outs]
        kind, info = "op", None
        if product is not None and not params and name in _PER_HEAD:
            kind, info = "heads", product
        elif name in _VIEWS and outs and tensors and not params:
            kind, info = "view", (tuple(tensors[0].shape), tuple(outs[0].shape))
        if params:
            kind = "param"
            if name in _LINEAR and len(params) >= 1:
                info = self._linear(name, args, params)
                if info is not None:
                    kind = "linear"
            elif name == "embedding" and len(args) > 1 and isinstance(args[1], torch.Tensor):
                weight = params[0][1]
                if self.raw(args[1]) in self.tokens and weight[1].dim() == 2:
                    kind, info = "vocab", (weight[0], int(weight[1].shape[0]))
        self.events.append((kind, inputs, out_keys, info))

    def _linear(self, name, args, params):
        """``mm(x, W)`` / ``addmm(bias, x, W)`` with ``W`` a 2-D weight (or its transpose,
        or one slice of a stacked 3-D weight) and ``x`` an activation: a :class:`_Linear`."""
        x, w = (args[0], args[1]) if name == "mm" else (args[1], args[2])
        found = self.param_of(w)
        if found is None or self.param_of(x) is not None or x.dim() != 2 or w.dim() != 2:
            return None
        owner, param = found
        if param.dim() == 2:
            offset = 0
        elif param.dim() == 3 and tuple(w.shape) in (tuple(param.shape[1:]), tuple(param.shape[1:])[::-1]):
            offset = 1
        else:
            return None
        # the operand (in, out) is the parameter itself (a Conv1D's weight) or its transpose (a Linear's)
        as_stored = tuple(w.shape) == tuple(param.shape[offset:]) and w.stride() == param.stride()[offset:]
        in_axis, out_axis = (offset, offset + 1) if as_stored else (offset + 1, offset)
        bias = self.param_of(args[0]) if name == "addmm" else None
        bias = bias[0] if bias is not None and bias[1].dim() == 1 else None
        return _Linear(owner, int(w.shape[0]), int(w.shape[1]), in_axis, out_axis, bias)

    # -- solving --------------------------------------------------------------------

    def solve(self, outputs) -> tuple[dict, set, dict]:
        """``(roles, split, heads)``: parameter (path, name) → (role, axis tp divides),
        the root keys of the storages that are split, and parameter → the heads its
        column layer's output is viewed as (``(…, kv_heads · d)`` → ``(…, kv_heads, d)``:
        Megatron-LM gives each device whole heads, so tp must divide them)."""
        events = [(kind, [(self.root(k), d) for k, d in ins], [self.root(k) for k in outs], info)
                  for kind, ins, outs, info in self.events]
        vocab = {info[1] for kind, _, _, info in events if kind == "vocab"}
        out_keys = [self.root(self.raw(t)) for t in outputs]
        replicated: set = set()
        # each round replicates at least one candidate more: at most one round per candidate
        for _ in range(1 + sum(1 for kind, _, _, _ in events if kind == "linear")):
            origin, roles, bad, width = self._follow(events, replicated, vocab, out_keys)
            if not bad:
                break
            replicated |= bad
        else:  # no consistent pairing: every weight replicated, nothing split
            return {}, set(), {}
        found: dict = {}
        for i, role in roles.items():
            info = events[i][3]
            axis = info.out_axis if role == "column" else info.in_axis
            found.setdefault(info.param, set()).add((role, axis))
            if info.bias is not None and role == "column":  # Megatron-LM splits a column layer's bias
                found.setdefault(info.bias, set()).add(("column", 0))
        for kind, _, _, info in events:
            if kind == "vocab":
                found.setdefault(info[0], set()).add(("vocab", 0))
        result = {}
        for param, kinds in found.items():
            axes = {axis for _, axis in kinds}
            names = {role for role, _ in kinds}
            if len(axes) == 1 and not {"column", "row"} <= names:  # one axis: vocab and column agree
                role = "vocab" if "vocab" in names else names.pop()
                result[param] = (role, axes.pop())
        split = {k for k, o in origin.items() if o}
        heads: dict = {}
        for kind, ins, _, info in events:
            if kind == "heads":
                info.split = any(origin.get(k) for k, _ in ins)
            elif kind == "view" and ins:
                (before, after), found = info, origin.get(ins[0][0], frozenset())
                if len(found) == 1 and len(after) == len(before) + 1 and after[:-2] == before[:-1] \
                        and after[-2] * after[-1] == before[-1]:
                    c = next(iter(found))
                    if c in roles and roles[c] == "column" and before[-1] == width[c]:
                        heads.setdefault(events[c][3].param, after[-2])
        return result, split, {p: n for p, n in heads.items() if p in result}

    @staticmethod
    def _follow(events, replicated, vocab, out_keys):
        origin: dict = {}   # root key → candidates whose split region it is in
        roles: dict = {}    # event index → "column" | "row"
        width: dict = {}    # candidate → its output features
        closed, spoiled = set(), set()
        empty = frozenset()
        for i, (kind, ins, outs, info) in enumerate(events):
            source = empty.union(*(origin.get(k, empty) for k, _ in ins))
            result = source
            if kind == "linear":
                result = empty
                if source:
                    if info.in_features <= max(width[c] for c in source):
                        roles[i] = "row"
                        closed |= source
                    else:
                        spoiled |= source
                elif i not in replicated:
                    roles[i] = "column"
                    width[i] = info.out_features
                    result = frozenset((i,))
            elif kind == "vocab":
                result = empty
            elif kind == "param":
                spoiled |= {c for k, last in ins for c in origin.get(k, empty) if last == width[c]}
            in_keys = {k for k, _ in ins}
            for k in outs:
                origin[k] = (origin.get(k, empty) | result) if k in in_keys else result
        for k in out_keys:
            closed |= {c for c in origin.get(k, empty) if width[c] in vocab}
        bad = {c for c in width if c not in closed or c in spoiled}
        return origin, roles, bad, width
