"""Saved tensors: what a layer's backward needs, declared as a layer declares its weights.

A training step keeps, from the forward pass to the backward, the tensors autograd
saves (``torch.autograd.graph.saved_tensors_hooks`` sees each one as it is packed):
a matrix product's input, an activation's output, a dropout mask, max-pooling's
indices, normalization's statistics, attention's probabilities. Parameters and
buffers are saved too but are not activations. A tensor saved by two operators (a
layer's output that the next layer saves as its input) is held once.

A layer declares its saved tensors per example with :class:`Saved`; ``tensor`` says
whether the entry is the layer's own input or output (shared with the neighbouring
layers, so counted once) or a tensor only the layer sees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy
from sympy import Expr

#: bytes per element of a floating dtype (the names torch and Keras use, and short forms)
FLOAT_BYTES = {"float64": 8, "float32": 4, "tf32": 4, "bfloat16": 2, "float16": 2, "float8": 1}
#: short names accepted for dtypes
DTYPE_ALIASES = {"fp64": "float64", "double": "float64", "fp32": "float32", "float": "float32",
                 "bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp8": "float8"}
#: kinds of saved tensor and what decides their element size
KINDS = ("activation", "float32", "statistic", "int64", "int32", "mask", "bool")
DEVICES = ("cuda", "cpu")
ATTENTIONS = ("eager", "flash")


def dtype_name(dtype: str) -> str | None:
    """The canonical name of a floating dtype (``bf16`` → ``bfloat16``), or None."""
    if not isinstance(dtype, str):
        return None
    name = DTYPE_ALIASES.get(dtype.lower(), dtype.lower())
    return name if name in FLOAT_BYTES else None


@dataclass(frozen=True)
class Saved:
    """One tensor a layer's backward needs, per example.

    - ``name``: what it is (``input``, ``output``, ``mask``, ``indices``, ``mean``…).
    - ``size``: elements per example.
    - ``kind``: ``activation`` (the model's compute dtype), ``float32`` (statistics kept
      in single precision), ``int64``/``int32`` (indices, token ids), ``mask`` (dropout's
      mask: a 1-byte bool on CUDA, the activation's dtype on the CPU, as
      ``aten::native_dropout`` keeps it), ``statistic`` (a normalization's mean and rstd:
      float32 on CUDA, the kernels' accumulation type, and the activation's dtype on the
      CPU, as ``native_layer_norm``/``native_batch_norm`` keep them there) or ``bool`` (1 byte).
    - ``tensor``: ``"input"`` (the layer's input; ``"input1"``… for the further inputs of a
      layer that takes several), ``"output"`` (its output), or ``""``: a tensor made and
      seen inside the layer only.
    - ``selective``: recomputed under selective recomputation (Korthikanti et al. 2022:
      attention's softmax, its dropout mask and the dropped-out probabilities).
    - ``attention``: for an attention kernel's entries, the kernel they belong to
      (``"eager"``: the scores and probabilities; ``"flash"``: the log-sum-exp only);
      ``None`` for entries both keep.
    - ``per_batch``: the size is per step, not per example (batch norm's ``save_mean``
      and ``save_invstd``: one per channel whatever the batch size).
    - ``parallel``: whether tensor parallelism splits the tensor (it lies between a
      column-parallel projection and the row-parallel one after it: the heads' queries,
      keys, values and scores, the MLP's inner width); ``None`` (the default) derives it
      from the model's dataflow. A layer made of parts (an attention module) says it
      for the tensors only it sees.
    - ``cast``: a cast between float32 and the compute dtype (``softmax(…, dtype=float32)
      .to(dtype)``, an RMS norm's ``x.to(float32)``): a tensor of its own only when the
      compute dtype is not float32, where the cast returns its input; memory skips it in
      float32 (and tf32).
    """

    name: str
    size: Expr
    kind: str = "activation"
    tensor: str = ""
    selective: bool = False
    attention: str | None = None
    per_batch: bool = False
    parallel: bool | None = None
    cast: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Saved.kind must be one of {KINDS}, not {self.kind!r}")
        if not (self.tensor in ("", "input", "output") or
                (self.tensor.startswith("input") and self.tensor[5:].isdigit())):
            raise ValueError(f"Saved.tensor must be '', 'input', 'inputN' or 'output', not {self.tensor!r}")
        if self.attention not in (None, *ATTENTIONS):
            raise ValueError(f"Saved.attention must be None or one of {ATTENTIONS}, not {self.attention!r}")
        if not isinstance(self.size, sympy.Basic):
            object.__setattr__(self, "size", sympy.Integer(int(self.size)))

    @property
    def input_index(self) -> int | None:
        """Which input the entry is (0 for ``input``), or None."""
        if not self.tensor.startswith("input"):
            return None
        return int(self.tensor[5:] or 0)

    def element_bytes(self, dtype: str, device: str) -> int:
        """Bytes per element for a model computing in ``dtype`` on ``device``."""
        if self.kind == "activation":
            return FLOAT_BYTES[dtype]
        if self.kind == "mask":
            return 1 if device == "cuda" else FLOAT_BYTES[dtype]
        if self.kind == "statistic":
            return 4 if device == "cuda" else FLOAT_BYTES[dtype]
        return {"float32": 4, "int64": 8, "int32": 4, "bool": 1}[self.kind]

    def subs(self, mapping, subs_value) -> "Saved":
        return replace(self, size=subs_value(self.size, mapping))


def inputs(shape) -> list:
    """The input shapes of a layer (one, or a tuple of them)."""
    return list(shape) if shape and isinstance(shape[0], tuple) else [shape]


def elements(shape) -> Expr:
    """Elements per example of a shape: every axis but the batch axis, which is the one
    of unknown size (``None``: axis 1 of a time-major ``(L, None, E)``) or else the first."""
    batch = shape.index(None) if None in shape else 0
    out = sympy.Integer(1)
    for axis, s in enumerate(shape):
        if axis != batch and s is not None:
            out *= s
    return out


def saved_input(shape, index: int = 0, kind: str = "activation") -> Saved:
    """The layer's input (``index``: which one), as a matrix product keeps it for the
    weight's gradient."""
    return Saved("input" if index == 0 else f"input{index}", elements(inputs(shape)[index]), kind,
                 "input" if index == 0 else f"input{index}")


def saved_output(out_shape, kind: str = "activation") -> Saved:
    """The layer's output, as ReLU, sigmoid, tanh and softmax keep it for their gradient."""
    return Saved("output", elements(out_shape), kind, "output")
