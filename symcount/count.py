"""Count: the per-layer records of a model and everything totalled from them.

``Count`` holds records (built by the composer) and derives totals, the model's
dims and its validity conditions. ``subs`` binds dims to values by *name* and
returns another ``Count``; it checks the values first (positive integers, known
dims, every validity condition). Rendering lives in :mod:`symcount.report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy
from sympy import Expr

from .dims import Condition, condition_text, decided
from .errors import ArgumentError, SubstitutionError
from .layer import InputLayer, LayerRecord, Substitution, subs_value


def _flatten(relation):
    return relation.args if isinstance(relation, sympy.And) else (relation,)


def strongest(records, mapping) -> tuple[Condition, ...]:
    """Merge the records' conditions: decided ones dropped, one entry per relation,
    per dim only the largest lower bound ``dim >= k``, and of ``x % m == 0`` only the
    moduli no other modulus of the same ``x`` is a multiple of."""
    first: dict = {}
    for record in records:
        for cond in record.conditions:
            relation = cond.relation.xreplace(mapping) if mapping else cond.relation
            for part in _flatten(relation):
                if decided(part) is not True:
                    first.setdefault(part, cond.needed_by)
    bounds: dict = {}
    for rel in first:
        if isinstance(rel, sympy.GreaterThan) and rel.lhs.is_Symbol and rel.rhs.is_Integer:
            if rel.lhs not in bounds or rel.rhs > bounds[rel.lhs].rhs:
                bounds[rel.lhs] = rel
    moduli: dict = {}  # x -> the integer moduli m of the conditions x % m == 0
    for rel in first:
        if _is_divisibility(rel):
            moduli.setdefault(rel.lhs.args[0], []).append(rel.lhs.args[1])
    kept = []
    for rel, needed_by in first.items():
        if isinstance(rel, sympy.GreaterThan) and rel.lhs in bounds and bounds[rel.lhs] is not rel:
            continue
        if _is_divisibility(rel) and any(m != rel.lhs.args[1] and m % rel.lhs.args[1] == 0
                                         for m in moduli[rel.lhs.args[0]]):
            continue  # implied: C % 4 == 0 makes C % 2 == 0 redundant
        kept.append(Condition(rel, needed_by))
    return tuple(kept)


def _is_divisibility(rel) -> bool:
    """``Eq(Mod(x, m), 0)`` with an integer modulus ``m``."""
    return (isinstance(rel, sympy.Eq) and isinstance(rel.lhs, sympy.Mod) and rel.rhs == 0
            and rel.lhs.args[1].is_Integer)


def _sum(values) -> Expr:
    return sympy.Add(*values)


@dataclass(frozen=True)
class Count:
    """Parameter counts, shapes and costs of a model, as SymPy expressions.

    ``layers`` are :class:`~symcount.layer.LayerRecord` s in model order.
    ``values`` are the dims bound so far (by name); ``symbolic`` is the count before
    any binding (reports show the formula beside the number).
    """

    name: str
    layers: tuple[LayerRecord, ...]
    dims: tuple[sympy.Symbol, ...]
    values: dict = field(default_factory=dict)
    symbolic: "Count | None" = None
    #: operators an imported model ran that symcount could not count
    #: (:class:`symcount.importers._common.Uncounted`: operator or layer, path, calls)
    uncounted: tuple = ()
    #: which quantities are exact: ``{"params": True, "flops": True, …}``; a model written
    #: with symcount's layers is exact in all
    exactness: tuple = ()
    #: parameters one token uses (a mixture of experts' top-k experts), when not all
    active: Expr | None = None
    #: the model's tensors: ``(key, occurrences)`` pairs; records name them in
    #: ``input_keys``/``output_key`` (what a saved input or output is, for memory)
    tensors: tuple = ()
    #: repeated blocks' tensors between occurrences (see :func:`symcount.memory.saved_keys`)
    boundaries: tuple = ()

    # -- totals ------------------------------------------------------------------

    def _cached(self, key, compute):
        """A total computed once per count (counts are immutable; reports ask for the
        same totals many times, and a sum over a deep model's records is not free)."""
        cache = self.__dict__.setdefault("_totals", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def _total(self, attribute: str) -> Expr:
        return self._cached(attribute, lambda: _sum(getattr(r, attribute) * r.repeat
                                                    for r in self.layers if r.counted))

    @property
    def total(self) -> Expr:
        """All parameters: Keras's ``count_params()``; torch's ``sum(p.numel())``."""
        return self._total("params")

    @property
    def active_params(self) -> Expr:
        """Parameters one example's token uses: the shared weights, the router and the
        top-k experts of a mixture of experts (``total`` for a dense model)."""
        return self.total if self.active is None else self.active

    @property
    def exact(self) -> dict:
        """Which quantities are exact (``params``, ``shapes``, ``flops``, ``training_flops``):
        all, unless an import could not count an operator (see :attr:`uncounted`)."""
        known = dict(self.exactness)
        return {q: known.get(q, True) for q in ("params", "shapes", "flops", "training_flops")}

    @property
    def trainable(self) -> Expr:
        return self._total("trainable")

    @property
    def non_trainable(self) -> Expr:
        return self._total("non_trainable")

    @property
    def buffers(self) -> Expr:
        """torch buffers (running statistics): reported, never parameters."""
        return self._total("buffers")

    @property
    def macs(self) -> Expr:
        """Multiply-accumulates of one forward pass of one example (every call of a
        shared layer counts: its weights count once, its cost once per call)."""
        return self._cached("macs", lambda: _sum(r.macs * r.repeat for r in self.layers))

    @property
    def flops(self) -> Expr:
        """Forward FLOPs per example, FlopCounterMode's convention: 2 per
        multiply-accumulate of matrix products and convolutions, nothing else."""
        return 2 * self.macs

    @property
    def training_flops(self) -> Expr:
        """Forward + backward FLOPs per example, as FlopCounterMode counts a training
        step's ``loss.backward()``: each weight product again for the input's gradient
        (when the input needs one) and for the weight's; products between activations
        twice more."""
        return self.cost(training=True)

    def cost(self, training: bool = False, causal: bool = False, batch_size=1) -> Expr:
        """FLOPs of a forward pass (``training``: forward + backward) of ``batch_size``
        examples (an int or a dim); ``causal=True`` leaves out the masked half of causal
        attention's score and value products (what is computed is still the full square)."""
        per_example = self._cached(("cost", bool(training), bool(causal)),
                                   lambda: _sum(r.total_cost(training, causal) for r in self.layers))
        return batch_size * per_example

    @property
    def activations(self) -> Expr:
        """Bytes autograd saves for the backward pass of one example, training in float32
        on a GPU, each saved tensor once (``memory().activations`` at batch 1; see
        :meth:`memory` for other dtypes, devices and parallelism)."""
        return self._cached("activations", lambda: self.memory().activations)

    def memory(self, dtype: str = "float32", optimizer: str = "adam", batch_size=1, training: bool = True, *,
               master_weights=None, recompute: str = "none", tp=1, sp: bool = False, pp=1, dp=1, zero: int = 0,
               microbatches=None, kv_cache: bool = False, seq_len=None, device: str = "cuda",
               attention: str = "eager"):
        """Bytes per device for weights, gradients, optimizer states, activations and the
        KV cache (:class:`symcount.memory.Memory`; the rules and their sources are in
        :mod:`symcount.memory`).

        - ``dtype``: the compute dtype (``float32``, ``bfloat16``/``bf16``, ``float16``…);
          16-bit training keeps an fp32 master copy unless ``master_weights=False``.
        - ``optimizer``: ``adam``, ``adamw``, ``sgd``, ``momentum``, ``adafactor``, ``adam8bit``.
        - ``batch_size``: examples per step (the micro-batch with ``pp``/``microbatches``);
          an int or a dim, as are ``tp``, ``pp``, ``dp``, ``microbatches`` and ``seq_len``.
        - ``recompute``: ``none``, ``selective`` (attention's softmax part) or ``full``.
        - ``tp``/``sp``/``pp``/``dp``/``zero``: Megatron-LM's tensor, sequence and pipeline
          parallelism, data parallelism with ZeRO stage 0–3.
        - ``kv_cache``/``seq_len``: inference (``training=False``) with a key/value cache of
          ``seq_len`` tokens (default: the model's sequence length).
        - ``device``: ``cuda`` or ``cpu`` (a dropout mask is 1 byte on CUDA, the activation's
          dtype on the CPU); ``attention``: ``eager`` or ``flash`` kernels.
        """
        from .memory import memory

        return memory(self, dtype, optimizer, batch_size, training, master_weights=master_weights,
                      recompute=recompute, tp=tp, sp=sp, pp=pp, dp=dp, zero=zero, microbatches=microbatches,
                      kv_cache=kv_cache, seq_len=seq_len, device=device, attention=attention)

    def blocks(self, depth: int = 1) -> dict[tuple[str, ...], dict[str, Expr]]:
        """Totals per block, like torchinfo's ``depth``: ``{path: {"params", "trainable",
        "non_trainable", "macs", "flops"}}`` for block paths up to ``depth`` levels; layers outside
        any block are grouped under ``()``. Repeated blocks count ``n`` times."""
        groups: dict = {}
        for record in self.layers:
            key = record.path[:depth]
            group = groups.setdefault(key, {"params": [], "trainable": [], "non_trainable": [], "macs": []})
            if record.counted:
                for attribute in ("params", "trainable", "non_trainable"):
                    group[attribute].append(getattr(record, attribute) * record.repeat)
            group["macs"].append(record.macs * record.repeat)
        totals = {key: {k: _sum(v) for k, v in group.items()} for key, group in groups.items()}
        for group in totals.values():
            group["flops"] = 2 * group["macs"]
        return totals

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.layers else ()

    @property
    def free_dims(self) -> tuple[sympy.Symbol, ...]:
        """The dims not yet bound to a value."""
        return tuple(d for d in self.dims if d.name not in self.values)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The validity conditions of the closed form still undecided at the bound values.

        Each relation appears once, with the first layer that imposed it; for a dim
        with several lower bounds (``H >= 3``, ``H >= 32``) only the strongest is kept.
        """
        return strongest(self.layers, self._mapping())

    # -- substitution ---------------------------------------------------------------

    def _mapping(self) -> dict:
        by_name = {d.name: d for d in self.dims}
        return {by_name[n]: sympy.Integer(v) for n, v in self.values.items() if n in by_name}

    def subs(self, values: dict | None = None, **kwargs) -> "Count":
        """Bind dims to positive integers, by name: ``count.subs(H=256, classes=9)``.

        Raises :class:`SubstitutionError` for an unknown dim, a value that is not a
        positive integer, or values that break a validity condition of the closed form
        (naming the condition, the layers that need it and the values).
        """
        import numbers

        given = {**(values or {}), **kwargs}
        known = {d.name: d for d in self.dims}
        for name, value in given.items():
            key = name.name if isinstance(name, sympy.Symbol) else name
            if key not in known:
                listed = ", ".join(known) or "none"
                raise SubstitutionError(f"{self.name}: unknown dim {key!r}. The model's dims are: {listed}")
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:  # numpy's too
                raise SubstitutionError(
                    f"{self.name}: {key} must be a positive integer. Received: {key}={value!r}"
                )
            if int(value).bit_length() > 13_300:  # 4,000 digits: past any model, and past printing
                raise SubstitutionError(f"{self.name}: {key} is a number of more than 4,000 digits; a value has "
                                        f"at most 4,000")
        given = {(k.name if isinstance(k, sympy.Symbol) else k): int(v) for k, v in given.items()}
        all_values = {**self.values, **given}
        base = self.symbolic or self
        mapping = Substitution({known[n]: sympy.Integer(v) for n, v in all_values.items()})
        current = ", ".join(f"{n}={v}" for n, v in all_values.items())
        broken: dict[str, list[str]] = {}  # every condition these values break → the layers needing it
        for record in base.layers:
            for cond in record.conditions:
                parts = cond.relation.args if isinstance(cond.relation, sympy.And) else (cond.relation,)
                for part in parts:  # (H >= 32) & (W >= 32): only the half these values break
                    try:
                        held = decided(subs_value(part, mapping))
                    except (TypeError, ZeroDivisionError):  # a size divided by zero (16 // (H - 8) at H=8)
                        held = False
                    if held is False:
                        broken.setdefault(condition_text(part), []).append(f"{record.name} ({record.type})")
        if len(broken) == 1:
            (text, layers), = broken.items()
            more = layers[1:4] + ([f"{len(layers) - 4} more"] if len(layers) > 4 else [])
            also = f" (also needed by {', '.join(more)})" if more else ""
            raise SubstitutionError(f"{self.name} › {layers[0]}: the closed form needs {text}, which these values "
                                    f"break{also}. Current values: {current}")
        if broken:
            needs = "; ".join(f"{layers[0]}: the closed form needs {text}" for text, layers in broken.items())
            raise SubstitutionError(f"{self.name}: these values break {len(broken)} conditions: {needs}. "
                                    f"Current values: {current}")
        layers = tuple(r.subs(mapping) for r in base.layers)
        for record in layers:  # a size divided by zero that no condition caught
            if any(isinstance(v, sympy.Basic) and v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
                   for v in (record.params, record.macs, *record.output_shape[1:])):
                raise SubstitutionError(f"{self.name} › {record.name} ({record.type}): these values divide a "
                                        f"size by zero. Current values: {current}")
        active = None if base.active is None else subs_value(base.active, mapping)
        tensors = tuple((key, subs_value(n, mapping)) for key, n in base.tensors)
        boundaries = tuple((*b[:6], subs_value(b[6], mapping)) for b in base.boundaries)
        return Count(self.name, layers, base.dims, all_values, base, base.uncounted, base.exactness, active,
                     tensors, boundaries)

    def evaluate(self, what: str = "total") -> int | Expr:
        """A total as a Python int when every dim is bound, else the expression."""
        expr = getattr(self, what)
        return int(expr) if expr.is_Integer else expr

    def lambdify(self, what: str = "total", modules: str | Sequence = "math"):
        """A fast function of the free dims (in ``free_dims`` order) for ``what``
        (``total``, ``trainable``, ``non_trainable``, ``macs``, ``flops``, ``training_flops``,
        ``activations``)."""
        return sympy.lambdify(self.free_dims, getattr(self, what), modules=modules)

    # -- rendering (delegated) ----------------------------------------------------------

    def summary(self) -> str:
        """The Keras-style table with a formula column and a number column."""
        from .report.text import summary

        return summary(self)

    def to_json(self) -> dict:
        """The ``symcount count --json`` object."""
        from .report.jsonout import to_json

        return to_json(self)

    def latex(self, standalone: bool = False) -> str:
        """The derivations as an ``align*`` block; ``standalone=True``: a whole document."""
        from .report import latex

        return latex.document(self) if standalone else latex.derivations(self)

    def latex_table(self) -> str:
        """The Keras-style table as a ``booktabs`` table, formula and number columns."""
        from .report.latex import table

        return table(self)

    def markdown(self) -> str:
        """The table, totals and derivations in Markdown with inline math (MathJax)."""
        from .report.markdown import markdown

        return markdown(self)

    def __repr__(self) -> str:
        """One line: ``<Count seed_cnn: 6,029,097 parameters>``, or the formula (shortened)
        and its free dims: ``<Count seed_cnn: 129*classes + … parameters; free dims H, W, classes>``."""
        total = self.total
        if total.is_Integer:
            text = f"{int(total):,}"
        else:
            text = str(total)
            text = text if len(text) <= 60 else text[:57] + "…"
        free = self.free_dims
        dims = f"; free dims {', '.join(d.name for d in free)}" if free else ""
        return f"<Count {self.name}: {text} parameters{dims}>"

    def _repr_html_(self) -> str:
        """A notebook's table: each layer's name, type, output shape and parameters, then
        the totals."""
        from html import escape

        def cell(value) -> str:
            return escape(f"{int(value):,}" if getattr(value, "is_Integer", False) else str(value))

        rows = []
        for r in self.layers:
            shape = "(" + ", ".join("None" if s is None else str(s) for s in r.output_shape) + ")"
            times = f" ×{r.repeat}" if r.repeat != 1 else ""
            rows.append(f"<tr><td>{escape(r.name)}{escape(times)}</td><td>{escape(r.type)}</td>"
                        f"<td>{escape(shape)}</td><td style='text-align:right'>{cell(r.params)}</td></tr>")
        totals = "".join(f"<tr><th colspan='3' style='text-align:left'>{label}</th>"
                         f"<td style='text-align:right'>{cell(getattr(self, attribute))}</td></tr>"
                         for label, attribute in (("Total params", "total"), ("Trainable params", "trainable"),
                                                  ("Non-trainable params", "non_trainable"), ("FLOPs", "flops")))
        return (f"<table><caption>{escape(self.name)}</caption><thead><tr><th>Layer</th><th>Type</th>"
                f"<th>Output shape</th><th>Param #</th></tr></thead><tbody>{''.join(rows)}</tbody>"
                f"<tfoot>{totals}</tfoot></table>")

    def _repr_latex_(self) -> str:
        from .report.latex import repr_latex

        return repr_latex(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()
