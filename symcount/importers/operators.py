"""Importing from operators: a model given as something that can be built at any
configuration (a factory, a Hugging Face config) or as one module, recorded, probed,
fitted and checked (:mod:`.traced`).

``Runner`` records one configuration: it builds the module (on the meta device, or on
small real tensors when the forward depends on the data, as an MoE's routing does),
makes the inputs from the dims' values, and returns the template.
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from .attributor import template
from .builder import called_paths
from .recorder import meta_state, record

#: a real-tensor recording (when the meta device cannot run the forward) only below this many parameters
REAL_LIMIT = 50_000_000


class Runner:
    """``run(values)`` → (template, called paths, recording).

    - ``build(values, device)`` returns the module at those values (or None: use ``module``);
    - ``inputs(values, module, device)`` returns ``(args, kwargs)``.
    """

    def __init__(self, build, inputs, module=None):
        self.build = build
        self.inputs = inputs
        self.module = module
        self.cache: dict = {}
        self.real = False

    def __call__(self, values: dict):
        key = tuple(sorted(values.items()))
        if key not in self.cache:
            self.cache[key] = self._run(values)
        return self.cache[key]

    def _run(self, values):
        import torch

        meta_error = None
        if not self.real:
            try:
                return self._record(values, "meta")
            except Exception as exc:  # noqa: BLE001 - the meta device cannot run data-dependent code
                meta_error = exc
        try:
            result = self._record(values, "cpu")
        except ArgumentError:
            raise
        except Exception as exc:  # noqa: BLE001 - a configuration the model rejects on both devices
            raise RuntimeError(f"the forward pass could not be recorded ({meta_error or exc})") from exc
        finally:
            torch.manual_seed(0)
        # the forward runs on real tensors where it did not on meta: it reads its data (an
        # MoE's routing), so every later configuration is recorded on real tensors too
        self.real = True
        return result

    def _record(self, values, device):
        import torch

        if device == "cpu" and self.build is not None:
            size = sum(p.numel() for p in self.build(values, "meta").parameters())
            if size > REAL_LIMIT:  # counted on meta, before anything is allocated
                raise ArgumentError(f"the forward needs real tensors (data-dependent operators) and the model has "
                                    f"{size:,} parameters, more than {REAL_LIMIT:,}: give a smaller configuration")
        module = self.build(values, device) if self.build is not None else None
        state = None
        if module is None:
            module = self.module
            on_meta = any(p.is_meta for p in module.parameters())
            if device == "meta" and not on_meta:
                state = meta_state(module)
            elif device == "cpu" and on_meta:
                raise RuntimeError("the module's parameters are on the meta device and its forward needs data")
        if device == "cpu":
            if sum(p.numel() for p in module.parameters()) > REAL_LIMIT:
                raise ArgumentError(f"the forward needs real tensors (data-dependent operators) and the model has "
                                    f"more than {REAL_LIMIT:,} parameters: give a smaller configuration")
            torch.manual_seed(0)
        args, kwargs = self.inputs(values, module, device)
        recording = record(module, args, kwargs, state=state)
        return template(recording), called_paths(recording), recording


def tensor_inputs(shapes, dtype):
    """``inputs`` for input shapes whose entries are ints or dim names (batch 1)."""

    def make(values, module, device):
        import torch

        tensors = []
        for shape in shapes:
            concrete = [values[s.name] if isinstance(s, sympy.Symbol) else int(s) for s in shape]
            if dtype is not None and not dtype.is_floating_point:
                tensors.append(torch.zeros((1, *concrete), dtype=dtype, device=device))
            else:
                tensors.append(torch.randn((1, *concrete), dtype=dtype or torch.float32, device=device))
        return tuple(tensors), {}

    return make
