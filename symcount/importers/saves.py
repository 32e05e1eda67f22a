"""What autograd saves during a recorded forward pass: one record per storage.

The truth for activation memory is the set of storages autograd packs for the backward
(``torch.autograd.graph.saved_tensors_hooks``), parameters and buffers excluded, each
storage once whatever number of operators save it or views of it (a ``Linear``'s output
that the next ``ReLU`` saves, ``q``, ``k``, ``v`` sliced from one projection). The
recorder runs the forward under the pack hook and its dispatch mode and gives both to a
:class:`Tracker`:

- **storages**: a tensor's storage is ``untyped_storage()._cdata`` (the C++ storage
  object). On the meta device a view may get a storage object of its own, so every view
  operator the dispatch mode sees (a return that aliases an argument: ``view``,
  ``transpose``, ``split``, ``unsqueeze`` …) links its output's storage to its input's,
  and a storage is known by the root of its links. Every tensor seen is kept alive while
  recording, so that no storage object is freed and its address reused.
- **size**: the root storage's bytes; its shape is the shape of the tensor that created
  it (an operator's output, or a tensor from outside such as the model's input) when
  that shape fills the storage, else one axis of its elements.
- **kind**: ``statistic`` for a normalization's mean and rstd (fp32 on CUDA, the
  activation's dtype on the CPU: which one is the ``device`` memory is asked for, not the
  device recorded on), ``mask`` for a storage ``bernoulli`` wrote (dropout's noise, kept in the
  activation's dtype on the CPU as ``aten::dropout`` makes it; ``native_dropout``'s
  mask on CUDA), ``activation`` for the model's floating dtype, ``float32`` for fp32
  kept beside another compute dtype, ``int64``, ``int32``, ``bool`` (1-byte types).
- **selective**: a softmax's output over three axes or more (attention's probabilities),
  its cast, its dropout's mask and output: what Korthikanti et al. (2022) recompute
  under selective recomputation.
- **owner**: the module call that saved the storage *first*. A stack of blocks then
  saves alike but for its first member (a block's input that the block before saved as
  its last activation's output belongs to that block; the first block's input, to the
  first block), and what is saved by every block of a stack (a decoder's cross-attention
  reading the encoder's output) belongs to the first block, which the folded stack
  stands for at every depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SavedRecord:
    """One storage autograd saved: its ``kind`` (:data:`symcount.saved.KINDS`) and the
    ``shape`` (batch axis included) whose elements it holds."""

    kind: str
    shape: tuple
    #: attention's softmax output, its dropout mask and output, and their casts: what
    #: selective recomputation (Korthikanti et al. 2022) recomputes instead of keeping
    selective: bool = False
    #: split over the tensor-parallel devices (:mod:`.parallel`): between a column- and
    #: a row-parallel layer, or a column-parallel head's logits
    split: bool = False

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


_MASK_WRITERS = {"bernoulli", "bernoulli_"}
#: normalizations whose outputs after the first are their statistics (mean and rstd):
#: fp32 on CUDA, the input's dtype on the CPU (``symcount.saved``'s ``statistic`` kind)
_NORMS = {"native_layer_norm", "native_batch_norm", "_native_batch_norm_legit", "native_group_norm",
          "_native_batch_norm_legit_functional"}


class Tracker:
    """Storages seen while recording one forward pass (see the module's docstring)."""

    def __init__(self, excluded=(), compute_dtype=None):
        import torch

        self.torch = torch
        self.compute = compute_dtype or torch.float32
        self.alive: list = []      # every tensor seen, kept so that no storage address is reused
        self.parent: dict = {}     # storage key → the storage key it is a view of
        self.root_tensor: dict = {}  # root storage key → the tensor that created it
        self.masks: set = set()
        self.excluded = {self.key(t) for t in excluded}
        self.owner: dict = {}      # root key → (owner node, order of its first save)
        self.selective: set = set()  # root keys of softmax outputs, their dropout and casts
        self.statistics: set = set()  # root keys of normalizations' mean and rstd
        self.order = 0

    # -- storages ------------------------------------------------------------------

    def _raw(self, t) -> int:
        return t.untyped_storage()._cdata

    def key(self, t) -> int:
        return self.root(self._raw(t))

    def root(self, k: int) -> int:
        """The storage a storage key is a view of (itself when it is no view)."""
        while k in self.parent:
            k = self.parent[k]
        return k

    def _see(self, t):
        self.alive.append(t)
        k = self._raw(t)
        if k not in self.parent and k not in self.root_tensor:
            self.root_tensor[k] = t

    def on_op(self, func, args, out) -> None:
        """An operator ran: link views to their bases, note who wrote a mask, remember the
        tensor that created each storage."""
        torch = self.torch
        outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, torch.Tensor)]
        schema = func._schema
        aliased = [r.alias_info is not None and not r.alias_info.is_write for r in schema.returns]
        base = None
        if any(aliased):
            base = next((a for a in args if isinstance(a, torch.Tensor)), None)
        for o in outs:
            if base is not None and self._raw(o) != self._raw(base):
                self.alive.append(o)
                self.alive.append(base)
                self._see(base)
                if self._raw(o) not in self.root_tensor:
                    self.parent[self._raw(o)] = self.key(base)
                continue
            self._see(o)
        self._selective(func._overloadpacket.__name__, args, outs)
        if func._overloadpacket.__name__ in _NORMS:
            self.statistics.update(self.key(o) for o in outs[1:])
        if func._overloadpacket.__name__ in _MASK_WRITERS:
            target = args[0] if func._overloadpacket.__name__.endswith("_") else (outs[0] if outs else None)
            if isinstance(target, torch.Tensor):
                self.masks.add(self.key(target))
        elif func._overloadpacket.__name__ == "native_dropout" and len(outs) > 1:
            self.masks.add(self.key(outs[1]))

    def _selective(self, name, args, outs) -> None:
        """Follow a softmax's output through its cast and its dropout (the mask that
        multiplies it and the product)."""
        torch = self.torch
        if not outs:
            return
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if name in ("_softmax", "_safe_softmax", "softmax") and outs[0].dim() >= 3:
            # attention's probabilities (batch, heads, queries, keys); not a classifier's
            # or a router's softmax over (rows, classes)
            self.selective.update(self.key(o) for o in outs)
        elif name in ("_to_copy", "clone") and tensors and self.key(tensors[0]) in self.selective:
            self.selective.add(self.key(outs[0]))
        elif name in ("mul", "mul_") and len(tensors) == 2:
            a, b = (self.key(t) for t in tensors)
            for probs, mask in ((a, b), (b, a)):
                if probs in self.selective and mask in self.masks:
                    self.selective.update((mask, self.key(outs[0])))
        elif name == "native_dropout" and tensors and self.key(tensors[0]) in self.selective:
            self.selective.update(self.key(o) for o in outs)

    # -- saving --------------------------------------------------------------------

    def on_pack(self, t, node) -> None:
        """Autograd packed ``t`` while ``node`` (a module call) was running."""
        if not isinstance(t, self.torch.Tensor):
            return
        self._see(t)
        k = self.key(t)
        if k in self.excluded:
            return
        if k not in self.owner:
            self.order += 1
            self.owner[k] = (node, self.order)

    def record_of(self, k) -> SavedRecord:
        t = self.root_tensor.get(k)
        if t is None:  # a storage created outside the dispatch mode and seen only as a view
            t = next(x for x in self.alive if self._raw(x) == k)
        itemsize = t.element_size()
        nbytes = t.untyped_storage().nbytes()
        shape = tuple(int(s) for s in t.shape)
        if math.prod(shape) * itemsize != nbytes:
            shape = (nbytes // itemsize,)
        return SavedRecord(self.kind_of(t, k), shape, k in self.selective, k in self.split)

    def kind_of(self, t, k) -> str:
        torch = self.torch
        if k in self.masks:
            return "mask"
        if k in self.statistics and t.is_floating_point():
            return "statistic"
        if t.is_floating_point():
            if t.dtype == self.compute:
                return "activation"
            return "float32" if t.dtype == torch.float32 else "activation"
        if t.dtype == torch.int64:
            return "int64"
        if t.dtype == torch.int32:
            return "int32"
        if t.element_size() == 1:
            return "bool"
        return "int32" if t.element_size() == 4 else "int64"

    def assign(self, split=frozenset()) -> None:
        """Each saved storage's record onto the call that saved it first
        (``node.saved``), in the order of those saves; ``split``: the root keys of the
        storages tensor parallelism splits."""
        self.split = split
        entries = sorted(self.owner.items(), key=lambda item: item[1][1])
        for k, (node, _) in entries:
            node.saved.append(self.record_of(k))
        self.alive.clear()
