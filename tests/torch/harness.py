"""Running one layer configuration through torch and through symcount, in the same plain form.

A :class:`Case` names a ``torch.nn`` class (symcount.torch has the same name and the same
keyword arguments), its keyword arguments and its input shapes without the batch axis.
torch is the independent source: it builds the module, runs a forward pass on zeros with
a batch of 2, and reports the output shape, ``named_parameters()``, ``named_buffers()``
and (FlopCounterMode) the multiply-accumulates. symcount counts the same configuration
numerically and once more with every positive size replaced by a dim and substituted back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import symcount as sc
import symcount.torch as st
from symcount.dims import decided
from symcount.errors import SymcountError

BATCH = 2


@dataclass(frozen=True)
class Sub:
    """A module argument (``TransformerEncoder(encoder_layer=…)``): built by each library."""

    cls: str
    kwargs: dict

    def build(self, library):
        return getattr(library, self.cls)(**{k: resolve(v, library) for k, v in self.kwargs.items()})


def resolve(value, library):
    return value.build(library) if isinstance(value, Sub) else value


@dataclass(frozen=True)
class Case:
    cls: str
    kwargs: dict
    shapes: tuple  # input shapes without the batch axis
    batch_first: bool = True  # False: the batch axis is second (time-major)
    sizes: tuple = ()  # keyword arguments that are sizes (replaced by dims in the symbolic twin)
    multi: bool = False  # called on a list of inputs
    integer_input: bool = False  # Embedding's indices
    flops: bool = False  # compare MACs with FlopCounterMode
    flops_missing: int = 0  # MACs FlopCounterMode cannot see (CPU attention kernel), derived by hand
    self_attention: bool = False  # torch is called as module(x, x, x), symcount on x alone

    def __repr__(self):
        return f"{self.cls}(**{self.kwargs}) on {self.shapes} batch_first={self.batch_first}"


@dataclass
class Result:
    error: str | None = None
    output_shape: tuple = ()
    params: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)
    total: int = 0
    trainable: int = 0
    macs: int | None = None


def _batched(shape, batch_first):
    return (BATCH, *shape) if batch_first else (shape[0], BATCH, *shape[1:])


def torch_result(case: Case) -> Result:
    """What torch builds and computes for the case (its own error when it rejects it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = Sub(case.cls, case.kwargs).build(torch.nn)
            dtype = torch.long if case.integer_input else torch.float32
            xs = [torch.zeros(_batched(s, case.batch_first), dtype=dtype) for s in case.shapes]
            if case.self_attention:
                xs = xs * 3
            with FlopCounterMode(display=False) as counter:
                out = module(*xs)
    except (ValueError, RuntimeError, AssertionError, IndexError, TypeError) as exc:
        return Result(error=f"{type(exc).__name__}: {exc}")
    if isinstance(out, tuple):
        out = out[0]
    if 0 in out.shape:
        # an empty output: symcount requires every output size to be at least 1. torch is
        # not consistent here itself: ConvTranspose1d(1, 1, 1, padding=1) on length 2 gives
        # an empty tensor for a batch of 2 (oneDNN) and "Output size is too small" for 1
        return Result(error=f"empty output {tuple(out.shape)}")
    return Result(
        output_shape=tuple(out.shape),
        params={n: tuple(p.shape) for n, p in module.named_parameters()},
        buffers={n: tuple(b.shape) for n, b in module.named_buffers()},
        total=sum(p.numel() for p in module.parameters()),
        trainable=sum(p.numel() for p in module.parameters() if p.requires_grad),
        macs=counter.get_total_flops() // (2 * BATCH),  # 2 FLOPs per MAC; per example
    )


def symcount_count(case: Case, kwargs: dict, shapes) -> tuple:
    """symcount's count of the case and the layer, through the user's own paths:
    ``Sequential.count(input_shape=…)`` for one batch-first input, an ``Input`` for a
    time-major one, a functional ``Model`` for several."""
    layer = Sub(case.cls, kwargs).build(st)
    if case.multi:
        inputs = [st.Input(s, batch_first=case.batch_first) for s in shapes]
        count = sc.Model(inputs, layer(inputs)).count()
    elif case.batch_first:
        count = st.Sequential([layer]).count(input_shape=shapes[0])
    else:
        count = st.Sequential([st.Input(shapes[0], batch_first=False), layer]).count()
    return count, layer


def _ints(shape):
    return tuple(BATCH if s is None else int(s) for s in shape)


def symcount_result(case: Case, kwargs=None, shapes=None, values=None) -> Result:
    """symcount's answer; with ``values``, the symbolic count substituted at them."""
    try:
        count, layer = symcount_count(case, case.kwargs if kwargs is None else kwargs,
                                      case.shapes if shapes is None else shapes)
        if values:
            known = {d.name for d in count.dims}
            count = count.subs(**{k: v for k, v in values.items() if k in known})
            # a dim only a condition mentions (MHA's num_heads) is not one of the model's
            # dims: check the remaining conditions at the full values
            mapping = {sc.dim(k): v for k, v in values.items()}
            broken = [str(c) for c in count.conditions if decided(c.relation.xreplace(mapping)) is False]
            if broken:
                return Result(error=f"SubstitutionError (condition): {broken}")
    except SymcountError as exc:
        return Result(error=f"{type(exc).__name__}: {exc}")
    record = next(r for r in count.layers if r.layer is layer)
    return Result(
        output_shape=_ints(record.output_shape),
        params={w.name: _ints(w.shape) for w in record.weights if not w.buffer},
        buffers={w.name: _ints(w.shape) for w in record.weights if w.buffer},
        total=int(count.total),
        trainable=int(count.trainable),
        macs=int(count.macs),
    )


def symbolize(case: Case):
    """The case with every positive size (listed keyword arguments, input axes) a dim,
    and the values to substitute."""
    values = {}

    def sym(name, value):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return value
        values[name] = value
        return sc.dim(name)

    def sym_arg(key, value):
        if isinstance(value, (tuple, list)):
            return tuple(sym(f"{key}_{i}", v) for i, v in enumerate(value))
        return sym(key, value)

    kwargs = {k: sym_arg(k, v) if k in case.sizes else v for k, v in case.kwargs.items()}
    shapes = tuple(tuple(sym(f"x{i}_{j}", s) for j, s in enumerate(shape)) for i, shape in enumerate(case.shapes))
    return kwargs, shapes, values


def compare(case: Case, theirs: Result, ours: Result, symbolic: bool = False) -> None:
    where = f"{'symbolic ' if symbolic else ''}{case!r}"
    if theirs.error or ours.error:
        assert bool(theirs.error) == bool(ours.error), \
            f"{where}: torch {'rejects' if theirs.error else 'accepts'} ({theirs.error}), " \
            f"symcount {'rejects' if ours.error else 'accepts'} ({ours.error})"
        return
    assert ours.output_shape == theirs.output_shape, where
    assert ours.total == theirs.total, where
    assert ours.trainable == theirs.trainable, where
    if set(ours.params) == set(theirs.params) or not symbolic:
        assert ours.params == theirs.params, where
    else:
        # a symbolic num_layers stacks layers 1… as `*` weights; an undecidable
        # kdim == embed_dim declares separate q/k/v projections: same count, other names
        assert any("*" in n or "q_proj_weight" in n for n in ours.params), (where, ours.params, theirs.params)
    assert ours.buffers == theirs.buffers, where
    if case.flops:
        assert ours.macs == theirs.macs + case.flops_missing, where


def check(case: Case, symbolic: bool = True) -> Result:
    """torch vs symcount on the case, numerically and (``symbolic``) through dims."""
    theirs = torch_result(case)
    compare(case, theirs, symcount_result(case))
    if symbolic:
        kwargs, shapes, values = symbolize(case)
        compare(case, theirs, symcount_result(case, kwargs, shapes, values), symbolic=True)
    return theirs


oracle = pytest.mark.oracle
