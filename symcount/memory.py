"""Memory per device, in bytes, as SymPy expressions: what training or serving holds.

Memory is a sum of tensors, each with a size, a dtype and a reason to exist (DESIGN.md):

- **weights**: every parameter and buffer, in the compute ``dtype``.
- **gradients**: one per trainable parameter, in ``dtype``.
- **optimizer**: the optimizer's states per trainable parameter, and with mixed precision
  (a 16-bit ``dtype``, ``master_weights=True``) the fp32 master copy. Adam in mixed
  precision is the ZeRO paper's accounting (Rajbhandari et al. 2020, §3.1): 2Ψ weights,
  2Ψ gradients and K·Ψ = 12Ψ of fp32 master weights, momentum and variance.
- **activations**: the tensors autograd saves for backward, as the layers declare them
  (:mod:`symcount.saved`), each distinct tensor once, × ``batch_size``.
- **kv_cache**: in inference with ``kv_cache=True``, the keys and values each attention
  layer keeps (transformers' ``DynamicCache``).

Parallelism divides them as Megatron-LM and DeepSpeed do: ZeRO stage 1, 2, 3 shards the
optimizer states, then the gradients, then the weights over ``dp`` devices; tensor
parallelism ``tp`` splits the weights of column-, row- and vocabulary-parallel layers
(``Layer.tensor_parallel``) and the activations between a column-parallel layer and the
row-parallel one after it; sequence parallelism (``sp``) splits the rest of the
activations by ``tp`` too; pipeline parallelism ``pp`` (1F1B) keeps the first stage's
layers and the activations of the ``pp`` micro-batches in flight there (Korthikanti et al.
2022, §4.2). Recomputation: ``"selective"`` drops the entries marked ``selective``
(attention's softmax and dropout), ``"full"`` keeps only each repeated block's input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy
from sympy import Expr, Integer

from .dims import Condition, as_expr, condition_text, decided, product
from .errors import ArgumentError
from .saved import ATTENTIONS, DEVICES, FLOAT_BYTES, dtype_name, elements

#: optimizer states per trainable parameter, each kept in fp32 under mixed precision:
#: (number of full-size states, bytes per state element or None for the training dtype)
OPTIMIZERS = {
    "sgd": (0, None),
    "momentum": (1, None),     # torch.optim.SGD(momentum>0): momentum_buffer
    "adam": (2, None),         # exp_avg, exp_avg_sq
    "adamw": (2, None),
    "adafactor": (None, None),  # factored second moment (rows + columns), no first moment
    "adam8bit": (2, 1),        # bitsandbytes Adam8bit: both moments in 8 bits, fp32 absmax per block
}
#: optimizers whose torch implementation keeps a ``step`` tensor per parameter
STEPPED = ("adam", "adamw", "adafactor")
#: bitsandbytes' 8-bit optimizers: block size of the fp32 absmax statistics, and the
#: smallest tensor kept in 8 bits (``min_8bit_size``; smaller ones keep fp32 states)
BNB_BLOCK, BNB_MIN_8BIT = 256, 4096
RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class Memory:
    """Bytes per device: ``weights``, ``gradients``, ``optimizer``, ``activations``,
    ``kv_cache`` and their ``total``; ``conditions`` are what the split needs (tp
    dividing the heads, pp dividing the layers) when that is not decided; ``undeclared``
    names the layers whose saved tensors no rule declares (their activations are missing
    from the total, never silently zero)."""

    weights: Expr
    gradients: Expr
    optimizer: Expr
    activations: Expr
    kv_cache: Expr = Integer(0)
    conditions: tuple = ()
    undeclared: tuple = ()
    layers: tuple = field(default=(), repr=False)
    options: tuple = field(default=(), repr=False)

    @property
    def total(self) -> Expr:
        return self.weights + self.gradients + self.optimizer + self.activations + self.kv_cache

    def as_dict(self) -> dict[str, Expr]:
        return {"weights": self.weights, "gradients": self.gradients, "optimizer": self.optimizer,
                "activations": self.activations, "kv_cache": self.kv_cache, "total": self.total}

    def by_layer(self) -> list[tuple[str, dict[str, Expr]]]:
        """``[(layer name, {"weights", "activations"})]``: bytes per device of each layer
        (all its occurrences), in model order."""
        return [(name, dict(parts)) for name, parts in self.layers]

    def subs(self, values: dict | None = None, **kwargs) -> "Memory":
        """The same memory with dims bound by name (``batch_size=8``)."""
        given = {**(values or {}), **kwargs}
        symbols = set()
        for value in self.as_dict().values():
            symbols |= value.free_symbols
        mapping = {s: Integer(given[s.name]) for s in symbols if s.name in given}

        def bind(e):
            return e.xreplace(mapping) if isinstance(e, sympy.Basic) else e

        layers = tuple((n, tuple((k, bind(v)) for k, v in parts)) for n, parts in self.layers)
        return Memory(bind(self.weights), bind(self.gradients), bind(self.optimizer), bind(self.activations),
                      bind(self.kv_cache), self.conditions, self.undeclared, layers, self.options)


def _size(value, what: str, owner: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        raise ArgumentError(f"{owner}: memory({what}={value!r}): must be a positive integer or a dim")
    try:
        expr = as_expr(value, f"memory {what}")
    except Exception:
        raise ArgumentError(f"{owner}: memory({what}={value!r}): must be a positive integer or a dim") from None
    if expr.is_number and not (expr.is_Integer and expr > 0):
        raise ArgumentError(f"{owner}: memory({what}={value!r}): must be a positive integer or a dim")
    return expr


def _choice(value, what: str, known, owner: str):
    if value not in known:
        raise ArgumentError(f"{owner}: memory({what}={value!r}): unknown {what}. Known: {', '.join(map(str, known))}")
    return value


@dataclass(frozen=True)
class Plan:
    """The checked options of one :func:`memory` call."""

    dtype: str
    optimizer: str
    batch_size: Expr
    training: bool
    master_weights: bool
    recompute: str
    tp: Expr
    sp: bool
    pp: Expr
    dp: Expr
    zero: int
    microbatches: Expr | None
    kv_cache: bool
    seq_len: Expr | None
    device: str
    attention: str


def plan(owner: str, dtype="float32", optimizer="adam", batch_size=1, training=True, *, master_weights=None,
         recompute="none", tp=1, sp=False, pp=1, dp=1, zero=0, microbatches=None, kv_cache=False, seq_len=None,
         device="cuda", attention="eager") -> Plan:
    """Check :func:`memory`'s options, naming the one that is wrong and what it needs."""
    name = dtype_name(dtype)
    if name is None:
        raise ArgumentError(f"{owner}: memory(dtype={dtype!r}): unknown dtype. Known: {', '.join(FLOAT_BYTES)} "
                            "(or bf16, fp16, fp32)")
    _choice(optimizer, "optimizer", OPTIMIZERS, owner)
    _choice(recompute, "recompute", RECOMPUTE, owner)
    _choice(device, "device", DEVICES, owner)
    _choice(attention, "attention", ATTENTIONS, owner)
    _choice(zero, "zero", (0, 1, 2, 3), owner)
    for flag, value in (("training", training), ("sp", sp), ("kv_cache", kv_cache)):
        if not isinstance(value, bool):
            raise ArgumentError(f"{owner}: memory({flag}={value!r}): must be True or False")
    if master_weights is None:
        master_weights = training and FLOAT_BYTES[name] == 2
    elif not isinstance(master_weights, bool):
        raise ArgumentError(f"{owner}: memory(master_weights={master_weights!r}): must be True, False or None")
    if sp and tp == 1:
        raise ArgumentError(f"{owner}: memory(sp=True) splits the sequence over the tensor-parallel group: "
                            "it needs tp > 1")
    if zero and dp == 1:
        raise ArgumentError(f"{owner}: memory(zero={zero}) shards over data-parallel devices: it needs dp > 1")
    if kv_cache and training:
        raise ArgumentError(f"{owner}: memory(kv_cache=True) is for inference: pass training=False")
    return Plan(name, optimizer, _size(batch_size, "batch_size", owner), training, master_weights, recompute,
                _size(tp, "tp", owner), sp, _size(pp, "pp", owner), _size(dp, "dp", owner), zero,
                _size(microbatches, "microbatches", owner, allow_none=True), kv_cache,
                _size(seq_len, "seq_len", owner, allow_none=True), device, attention)


# ---------------------------------------------------------------------------
# Which layers a device holds (pipeline stages) and how tensor parallelism splits them
# ---------------------------------------------------------------------------


def _stage_share(count, p: Plan) -> tuple[list, list]:
    """Per record, the share of its occurrences the first pipeline stage holds, and the
    conditions that needs: records before the first repeated block are all there (the
    embedding), a top-level repeated block's occurrences are split evenly (``n/pp``),
    records after it belong to the last stage."""
    shares = [Integer(1)] * len(count.layers)
    conditions = []
    if p.pp == 1:
        return shares, conditions
    top = _top_boundaries(count) or _folded_stack(count)
    if not top:
        raise ArgumentError(f"{count.name}: memory(pp={p.pp}): pipeline parallelism splits a stack of repeated "
                            "layers over stages, and this model has none")
    first_start = top[0][4]
    for b in top:
        _, _, _, _, start, end, _ = b
        occurrences = count.layers[start].repeat if end > start else Integer(1)
        conditions += _divides(occurrences, p.pp, count.layers[start].name,
                               f"{count.name}: memory(pp={p.pp}): pipeline stages split the {occurrences} "
                               f"repeated layers evenly, so pp must divide {occurrences}")
        for i in range(start, end):
            shares[i] = 1 / p.pp
    last_end = top[-1][5]
    for i in range(last_end, len(count.layers)):
        shares[i] = Integer(0)
    for i in range(first_start):
        shares[i] = Integer(1)
    return shares, conditions


def _divides(size, n, needed_by: str, message: str) -> list:
    """``n`` must divide ``size``: an error (``message``) when it provably does not, the
    condition when undecided, nothing when it does."""
    relation = sympy.Eq(sympy.Mod(size, n), 0)
    verdict = decided(relation)
    if verdict is False:
        raise ArgumentError(message)
    return [Condition(relation, (needed_by,))] if verdict is None else []


def _folded_stack(count) -> list:
    """An imported model's stack of layers: the records folded with one symbolic
    multiplicity (``num_hidden_layers``), from the first to the last, as a boundary-like
    span (no tensor keys)."""
    base = count.symbolic or count
    folded = [i for i, r in enumerate(base.layers) if not r.repeat.is_number]
    if not folded or len(base.layers) != len(count.layers):
        return []
    return [(None, None, None, None, folded[0], folded[-1] + 1, Integer(0))]


def _top_boundaries(count) -> list:
    """The repeated blocks not inside another, in model order."""
    spans = sorted(count.boundaries, key=lambda b: (b[4], -b[5]))
    top, end = [], -1
    for b in spans:
        if b[4] >= end:
            top.append(b)
            end = b[5]
    return top


def _split_keys(count) -> set:
    """The tensors tensor parallelism splits: a column-parallel layer's output, and what
    layers without a parallel role make of split tensors only, up to the row-parallel
    layer that gathers them (Megatron-LM's ``ColumnParallelLinear`` with
    ``gather_output=False`` feeding ``RowParallelLinear(input_is_parallel=True)``)."""
    split: set = set()
    for record in count.layers:
        role = getattr(record.layer, "tensor_parallel", None)
        if role == "column":
            split.add(record.output_key)
        elif role in ("row", "vocab"):
            continue
        elif record.input_keys and all(k in split for k in record.input_keys) and not record.layer.view:
            split.add(record.output_key)
    return split


def _held(record, p: Plan, trainable_only: bool = False) -> Expr:
    """The record's weight elements on one device (one occurrence): parameters and
    buffers (``trainable_only``: trainable parameters), those of column-, row- and
    vocabulary-parallel layers divided by ``tp`` (a row-parallel layer's bias is whole
    on every device, as in Megatron-LM's ``RowParallelLinear``)."""
    if not record.counted:
        return Integer(0)
    role = getattr(record.layer, "tensor_parallel", None)
    roles = _part_roles(record) if p.tp != 1 else {}
    own_roles = getattr(record.layer, "weight_roles", None) or {}  # an import's, per parameter
    total = Integer(0)
    for w in record.weights:
        if not (w.counts and w.trainable) if trainable_only else not (w.counts or w.buffer):
            continue
        own = own_roles.get(w.name) or roles.get(w.name.rpartition(".")[0], role)
        whole = own is None or w.buffer or (own == "row" and w.name.endswith("bias"))
        total += w.size if whole else w.size / p.tp
    return total


def _part_roles(record) -> dict:
    """The tensor-parallel role of each part of a layer made of parts (an attention
    module's projections, a decoder layer's attention's), keyed by the prefix of the
    part's weights' names (``self_attn.q_proj``)."""
    roles: dict = {}

    def visit(layer, shape, prefix):
        parts = getattr(layer, "parts", None)
        if parts is None:
            return
        try:
            listed = list(parts(shape))
        except Exception:  # noqa: BLE001 - a layer whose parts need other shapes keeps no roles
            return
        for attribute, part, part_shape in listed:
            name = f"{prefix}.{attribute}" if prefix and attribute else attribute or prefix
            role = getattr(part, "tensor_parallel", None)
            if role is not None and name:
                roles[name] = role
            visit(part, part_shape, name)

    visit(record.layer, record.input_shape, "")
    return roles


def _tp_conditions(count, p: Plan) -> list:
    """``tp`` must divide what each parallel layer splits (``Layer.parallel_sizes``)."""
    conditions = []
    if p.tp == 1:
        return conditions
    found = False
    for record in count.layers:
        sizes = getattr(record.layer, "parallel_sizes", None)
        if getattr(record.layer, "tensor_parallel", None) is None and sizes is None:
            continue
        found = True
        for what, size in (sizes(record.input_shape) if sizes else ()):
            conditions += _divides(size, p.tp, record.name,
                                   f"{count.name} › {record.name}: memory(tp={p.tp}): tensor parallelism splits "
                                   f"{what} ({size}) over the devices, so tp must divide it")
    if not found:
        raise ArgumentError(f"{count.name}: memory(tp={p.tp}): no layer of this model is tensor-parallel "
                            "(column-, row- or vocabulary-parallel layers, as Megatron-LM splits a transformer)")
    return conditions


# ---------------------------------------------------------------------------
# Activations: each saved tensor once
# ---------------------------------------------------------------------------


def saved_bytes(count, p: Plan, shares=None, broken=frozenset()) -> tuple[Expr, dict, tuple]:
    """Bytes of the tensors autograd saves for one step of ``p.batch_size`` examples, per
    device: each distinct tensor once (a layer's saved output that the next layer saves
    as its input), every occurrence of a repeated block counted, entries ``per_batch``
    once per step; returns ``(total, bytes per record index, names of layers that
    declare nothing)``."""
    multiplicity = dict(count.tensors)
    shares = shares or [Integer(1)] * len(count.layers)
    split = _split_keys(count) if p.tp != 1 else set()
    sizes: dict = {}   # key -> (bytes per occurrence, record index)
    internal = Integer(0)
    per_record: dict = {}
    undeclared = []
    _check_attention(count, p)
    stacks = (_top_boundaries(count) or _folded_stack(count)) if p.recompute == "full" else []
    inside = {i for b in stacks for i in range(b[4], b[5])}
    for index, record in enumerate(count.layers):
        if record.saved is None or index in broken:
            if record.type != "InputLayer":
                undeclared.append(record.name)
            continue
        if index in inside:
            continue
        for entry in record.saved:
            if entry.attention is not None and entry.attention != p.attention:
                continue
            if p.recompute == "selective" and entry.selective:
                continue
            if entry.cast and p.dtype in ("float32", "tf32"):  # the cast returns its float32 input
                continue
            if entry.input_index is not None:
                key = record.input_keys[entry.input_index] if entry.input_index < len(record.input_keys) else None
            elif entry.tensor == "output":
                key = record.output_key
            else:
                key = None
            if entry.parallel is not None:
                is_split = entry.parallel
            else:
                is_split = (key if key is not None else record.output_key) in split
            divisor = p.tp if (p.sp or is_split) else Integer(1)
            examples = Integer(1) if entry.per_batch else p.batch_size
            nbytes = examples * entry.size * entry.element_bytes(p.dtype, p.device) / divisor
            if key is None:
                amount = nbytes * record.repeat * shares[index]
                internal += amount
                per_record[index] = per_record.get(index, Integer(0)) + amount
            elif key not in sizes:
                sizes[key] = (nbytes, index)
    for b in stacks:  # full recomputation: each layer's input only
        inner, _, outer_in, _, start, end, block_elements = b
        if inner is None:  # an imported model's folded stack: its first layer's input, once per layer
            first = count.layers[start]
            amount = (p.batch_size * _elements(first.input_shape) * FLOAT_BYTES[p.dtype] / (p.tp if p.sp else 1)
                      * first.repeat * shares[start])
            internal += amount
            per_record[start] = per_record.get(start, Integer(0)) + amount
            continue
        nbytes = p.batch_size * block_elements * FLOAT_BYTES[p.dtype] / (p.tp if p.sp else 1)
        sizes.setdefault(outer_in, (nbytes, start))
        sizes.setdefault(inner, (nbytes, start))
    keys = _resolve_boundaries(count, set(sizes), sizes)
    total = internal
    for key in keys:
        nbytes, index = sizes[key]
        amount = nbytes * multiplicity.get(key, Integer(1)) * shares[index]
        total += amount
        per_record[index] = per_record.get(index, Integer(0)) + amount
    return total, per_record, tuple(undeclared)


def _elements(shape) -> Expr:
    return elements(shape[0] if shape and isinstance(shape[0], tuple) else shape)


def _check_attention(count, p: Plan) -> None:
    """``attention="flash"`` needs the attention layers to say what a flash kernel keeps: a
    layer that declares the eager kernel's tensors and nothing for the flash kernel (an
    import recorded with eager attention) would silently leave them out. (A layer that
    keeps its probabilities whatever the kernel declares them for both, ``attention=None``.)"""
    if p.attention != "flash":
        return
    eager = [r.name for r in count.layers if r.saved and any(e.attention == "eager" for e in r.saved)
             and not any(e.attention == "flash" for e in r.saved)]
    if eager:
        raise ArgumentError(f"{count.name}: memory(attention='flash'): {eager[0]} keeps attention's probabilities "
                            "as recorded with the eager kernel, and what a flash kernel would keep instead is not "
                            "known for this model; use attention='eager', or a zoo entry")


def _resolve_boundaries(count, keys: set, sizes: dict) -> set:
    """A repeated block's input and output are the tensors between its occurrences
    (T₁ … T_{n−1}, one key of n − 1 tensors) and, outside, T₀ (when the block saves its
    input) and T_n (when it saves its output); inner blocks first."""
    keys = set(keys)
    for inner, out, outer_in, after, *_ in count.boundaries:
        input_saved, output_saved = inner in keys, out in keys
        if output_saved and out != inner:
            keys.discard(out)
            sizes.setdefault(inner, sizes[out])
        if output_saved:
            keys.add(inner)
            sizes.setdefault(after, sizes[inner])
            keys.add(after)
        if input_saved and outer_in is not None:
            sizes.setdefault(outer_in, sizes[inner])
            keys.add(outer_in)
    return keys


# ---------------------------------------------------------------------------
# Model states and the whole
# ---------------------------------------------------------------------------


def _optimizer_bytes(count, p: Plan, trainable: Expr, shares) -> Expr:
    """States per trainable parameter (in fp32 with master weights, else in ``dtype``;
    ``adam8bit``'s in one byte), plus the fp32 master copy. Adafactor (``torch.optim.Adafactor``)
    keeps no first moment and factors the second: for a weight of shape ``(…, r, c)`` a row
    statistic of ``∏shape[:-1]`` and a column statistic of ``∏shape[:-2]·c`` elements; a
    vector keeps a full one."""
    states, state_bytes = OPTIMIZERS[p.optimizer]
    fp32 = 4 if p.master_weights else FLOAT_BYTES[p.dtype]
    if states is None:
        factored = Integer(0)
        for w, times in _trainable_weights(count, shares):
            rows_and_columns = product(w.shape[:-1]) + product(w.shape[:-2]) * w.shape[-1] if len(w.shape) >= 2 \
                else w.size
            factored += rows_and_columns * times
        state = factored * fp32
    elif p.optimizer == "adam8bit":  # bitsandbytes Optimizer2State.init_state
        state = Integer(0)
        for w, times in _trainable_weights(count, shares):
            n = w.size
            eight_bit = 2 * n + 2 * 4 * sympy.ceiling(n / BNB_BLOCK)
            per = eight_bit if n.is_number and n >= BNB_MIN_8BIT else \
                8 * n if n.is_number else sympy.Piecewise((8 * n, n < BNB_MIN_8BIT), (eight_bit, True))
            state += per * times
    else:
        state = states * trainable * fp32
    master = 4 * trainable if p.master_weights else Integer(0)
    if p.optimizer in STEPPED:  # torch.optim's state["step"]: an fp32 scalar per parameter tensor
        tensors = sympy.Add(*(times for _, times in _trainable_weights(count, shares)))
        state += 4 * tensors
    return state + master


def _trainable_weights(count, shares):
    """Each trainable parameter tensor a device holds, with how many of it there are
    (its layer's occurrences × the pipeline stage's share)."""
    for index, record in enumerate(count.layers):
        if record.counted:
            for w in record.weights:
                if w.counts and w.trainable:
                    yield w, record.repeat * shares[index]


def memory(count, *args, **kwargs) -> Memory:
    """The bytes per device of training (or serving) ``count``'s model; see the module's
    docstring for the rules and ``Count.memory`` for the arguments."""
    p = plan(count.name, *args, **kwargs)
    shares, conditions = _stage_share(count, p)
    conditions += _tp_conditions(count, p)
    element = FLOAT_BYTES[p.dtype]
    weights = sympy.Add(*(_held(r, p) * r.repeat * shares[i] for i, r in enumerate(count.layers)))
    trainable = sympy.Add(*(_held(r, p, True) * r.repeat * shares[i] for i, r in enumerate(count.layers)))
    grads = trainable * element if p.training else Integer(0)
    optimizer = _optimizer_bytes(count, p, trainable, shares) if p.training else Integer(0)
    weight_bytes = weights * element
    if p.zero >= 1:
        optimizer = optimizer / p.dp
    if p.zero >= 2:
        grads = grads / p.dp
    if p.zero >= 3:
        weight_bytes = weight_bytes / p.dp
    activations = Integer(0)
    undeclared: tuple = ()
    per_record: dict = {}
    if p.training:
        measured, broken = _measured_where(count)
        conditions += measured
        in_flight = p.pp if p.microbatches is None else sympy.Min(p.pp, p.microbatches)
        saved, per_record, undeclared = saved_bytes(count, p, shares, broken)
        activations = saved * in_flight
        per_record = {i: v * in_flight for i, v in per_record.items()}
    cache = kv_cache_bytes(count, p, shares) if p.kv_cache else Integer(0)
    layers = []
    for index, record in enumerate(count.layers):
        held = _held(record, p) * record.repeat * shares[index] * element
        if p.zero >= 3:
            held = held / p.dp
        layers.append((record.name, (("weights", held), ("activations", per_record.get(index, Integer(0))))))
    options = tuple(sorted(vars(p).items()))
    memory = Memory(weight_bytes, grads, optimizer, activations, cache, _bound(count, p, conditions), undeclared,
                    tuple(layers), options)
    # a layer's own rules (cache_elements, parallel_sizes) are written in its symbolic
    # arguments: bind the count's values there too
    return memory.subs(count.values) if count.values else memory


def _measured_where(count) -> tuple[list, set]:
    """The relations an imported layer's saved tensors were measured under
    (``Layer.saved_conditions``: key/value heads equal to the query heads, where
    transformers' ``repeat_kv`` copies nothing; the experts a token is routed to at the
    value probed), and the indices of the records whose relations the count's values
    break: the tensors saved there are other ones, so those layers are not counted
    (``Memory.undeclared``), never counted wrong."""
    mapping = {d: Integer(count.values[d.name]) for d in count.dims if d.name in count.values}
    out, broken = [], set()
    for index, record in enumerate(count.layers):
        for relation in getattr(record.layer, "saved_conditions", ()):
            if decided(relation.xreplace(mapping) if mapping else relation) is False:
                broken.add(index)
            else:
                out.append(Condition(relation, (record.name,)))
    return out, broken


def _bound(count, p: Plan, conditions) -> tuple:
    """The split's conditions at the count's values: one per relation, those decided
    true dropped, one decided false an error naming the layer and the option."""
    mapping = {d: Integer(count.values[d.name]) for d in count.dims if d.name in count.values}
    kept: dict = {}
    for condition in conditions:
        relation = condition.relation.xreplace(mapping) if mapping else condition.relation
        verdict = decided(relation)
        if verdict is False:
            raise ArgumentError(f"{count.name} › {', '.join(condition.needed_by)}: memory(tp={p.tp}, pp={p.pp}): "
                                f"the split needs {condition_text(condition.relation)}, which these values break "
                                f"({', '.join(f'{k}={v}' for k, v in count.values.items())})")
        if verdict is None:
            kept.setdefault(relation, Condition(relation, condition.needed_by))
    return tuple(kept.values())


def kv_cache_bytes(count, p: Plan, shares) -> Expr:
    """Keys and values the attention layers keep for ``seq_len`` tokens (default: the
    model's own sequence length), ``batch_size`` sequences, in ``dtype``: the sum of
    each layer's ``cache_elements(shape, tokens)`` (transformers' ``DynamicCache``: 2 ·
    kv_heads · head_dim · tokens per layer; a sliding-window layer keeps fewer), divided
    over ``tp`` devices by heads (``cache_heads``: at least one head per device)."""
    total = Integer(0)
    found = False
    for index, record in enumerate(count.layers):
        rule = getattr(record.layer, "cache_elements", None)
        if rule is None:
            continue
        found = True
        # tensor parallelism splits the key/value heads; with fewer heads than devices
        # each device keeps one (Megatron-LM replicates the query groups)
        heads = getattr(record.layer, "cache_heads", None)
        split = p.tp if heads is None or p.tp == 1 else sympy.Min(p.tp, heads)
        total += rule(record.input_shape, p.seq_len) * record.repeat * shares[index] / split
    if not found:
        raise ArgumentError(f"{count.name}: memory(kv_cache=True): no layer of this model keeps a key/value cache "
                            "(a decoder's self-attention does)")
    return total * p.batch_size * FLOAT_BYTES[p.dtype]
