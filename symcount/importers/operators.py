"""Importing from operators: a model given as something that can be built at any
configuration (a factory, a Hugging Face config) or as one module, recorded, probed,
fitted and checked (:mod:`.traced`).

``Runner`` records one configuration: it builds the module (on the meta device, or on
small real tensors when the forward depends on the data, as an MoE's routing does),
makes the inputs from the dims' values, and returns the template. The forward runs in
training mode, as the tensors autograd saves for a training step are recorded too
(dropout's masks); a forward that cannot run so on the meta device (BART's layerdrop
draws a number) is recorded in inference mode, its saved tensors then not declared.
"""

from __future__ import annotations

import sympy

from ..errors import ArgumentError
from .attributor import INFERENCE, template
from .builder import called_paths
from .recorder import meta_state, record

#: a real-tensor recording (when the meta device cannot run the forward) only below this many parameters
REAL_LIMIT = 50_000_000


class Runner:
    """``run(values)`` → (template, called paths, recording).

    - ``build(values, device)`` returns the module at those values (or None: use ``module``);
    - ``inputs(values, module, device)`` returns ``(args, kwargs)``.
    """

    def __init__(self, build, inputs, module=None, kv_cache=None, reuse=False):
        self.build = build
        self.inputs = inputs
        self.module = module
        self.cache: dict = {}
        #: configuration → its module on the meta device (:meth:`_built`), when ``reuse``:
        #: ``build`` makes a module whose forward keeps no state between calls (transformers')
        self.modules: dict | None = {} if reuse else None
        self.real = False
        #: ``kv_cache(module, values)`` → the cache layers a decoder keeps (:func:`.kv_cache.measure`)
        self.kv_cache = kv_cache

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
            try:  # a training-only branch that reads data (BART's layerdrop draws a number): inference mode
                return self._record(values, "meta", training=False)
            except Exception:  # noqa: BLE001
                pass
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

    def at_batch(self, values: dict, batch: int):
        """The recording of ``values`` with ``batch`` examples (on the device the others
        ran on): which saved tensors follow the batch."""
        return self._record(values, "cpu" if self.real else "meta", batch=batch)[2]

    def at_dtype(self, values: dict, dtype):
        """The recording of ``values`` with the model and its floating inputs in ``dtype``
        (meta device, else real tensors on the CPU where the 16-bit forward reads data: T5's
        mask in bf16): which saved tensors stay in fp32 (normalization statistics)."""
        try:
            return self._record(values, "cpu" if self.real else "meta", dtype=dtype)[2]
        except ArgumentError:
            raise
        except Exception:  # noqa: BLE001 - the meta device cannot run data-dependent code
            if self.real or self.build is None:
                raise
            try:
                return self._record(values, "cpu", dtype=dtype)[2]
            finally:
                import torch

                torch.manual_seed(0)

    def _built(self, values, device):
        """The module built at ``values``: with ``reuse``, on the meta device once per configuration (a
        recording leaves it as it was: its modes, dtypes and parameters put back; the
        base is recorded again with more examples and in bfloat16), on the CPU afresh
        (real weights, drawn from the seed)."""
        if device != "meta" or self.modules is None:
            return self.build(values, device)
        key = tuple(sorted(values.items()))
        if key not in self.modules:
            self.modules[key] = self.build(values, device)
        return self.modules[key]

    def _record(self, values, device, training=True, batch=1, dtype=None):
        import torch

        if device == "cpu" and self.build is not None:
            size = sum(p.numel() for p in self._built(values, "meta").parameters())
            if size > REAL_LIMIT:  # counted on meta, before anything is allocated
                raise ArgumentError(f"the forward needs real tensors (data-dependent operators) and the model has "
                                    f"{size:,} parameters, more than {REAL_LIMIT:,}: give a smaller configuration")
        module = self._built(values, device) if self.build is not None else None
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
        args, kwargs = self.inputs(values, module, device, batch) if batch != 1 else self.inputs(values, module, device)
        if dtype is not None:
            return self._in_dtype(module, state, args, kwargs, dtype)
        modes = {m: m.training for m in module.modules()}
        if not training:
            if not any(modes.values()):
                raise RuntimeError("already recorded in inference mode")
            module.train(False)
        elif device == "meta":
            module.train(True)  # as trained (a user's module in eval mode too): dropout saves its masks
        else:
            training = all(modes.values())  # real tensors: the module's own mode (its buffers are the user's)
        try:
            recording = record(module, args, kwargs, state=state)
        finally:
            for m, mode in modes.items():
                m.training = mode
        t = template(recording)
        if self.kv_cache is not None and device == "meta" and state is None and batch == 1:
            # measured when the cache's fit first reads it (its own forward passes: none for a
            # count of parameters and FLOPs, none where the base keeps no cache)
            t.cache_measure = lambda kv_cache=self.kv_cache, module=module, values=dict(values): \
                kv_cache(module, values)
        if not training:  # what inference saves is not what training does: no saved tensors declared
            t.saved_values, t.saved_key = [], INFERENCE
        return t, called_paths(recording), recording


    @staticmethod
    def _in_dtype(module, state, args, kwargs, dtype):
        """Record with the module's floating parameters, buffers and inputs in ``dtype``
        (the module's own tensors put back after)."""
        import torch

        def cast(t):
            return t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t

        args = tuple(cast(a) for a in args)
        kwargs = {k: cast(v) for k, v in kwargs.items()}
        modes = {m: m.training for m in module.modules()}
        module.train(True)
        if state is not None:
            state = {k: torch.empty(v.shape, dtype=dtype if v.is_floating_point() else v.dtype,
                                    device="meta").requires_grad_(v.requires_grad) for k, v in state.items()}
            try:
                return None, None, record(module, args, kwargs, state=state)
            finally:
                for m, mode in modes.items():
                    m.training = mode
        before = {name: t.dtype for name, t in [*module.named_parameters(), *module.named_buffers()]}
        module.to(dtype)
        try:
            return None, None, record(module, args, kwargs)
        finally:
            for name, t in [*module.named_parameters(), *module.named_buffers()]:
                if before.get(name, t.dtype) != t.dtype:
                    t.data = t.data.to(before[name])
            for m, mode in modes.items():
                m.training = mode


def tensor_inputs(shapes, dtype):
    """``inputs`` for input shapes whose entries are ints or dim names (batch 1, or ``batch``)."""

    def make(values, module, device, batch=1):
        import torch

        tensors = []
        for shape in shapes:
            concrete = [values[s.name] if isinstance(s, sympy.Symbol) else int(s) for s in shape]
            if dtype is not None and not dtype.is_floating_point:
                tensors.append(torch.zeros((batch, *concrete), dtype=dtype, device=device))
            else:
                tensors.append(torch.randn((batch, *concrete), dtype=dtype or torch.float32, device=device))
        return tuple(tensors), {}

    return make
