"""The key/value cache of an imported decoder, measured: what transformers' cache holds
after a forward pass with ``use_cache=True``.

At the first configuration measured the model (on the meta device, inference mode) runs twice
with a fresh ``DynamicCache(config=…)`` — as the model makes its own — on one token and
on ``long`` tokens (its ``max_position_embeddings``, at most :data:`LONGEST`); the
elements of each cache layer's ``keys`` and ``values`` tensors are read off (the sum of
the tensors' sizes, as ``DynamicCache`` reports them). One token gives the elements per
token (2 · kv_heads · head_dim for every attention variant: grouped-query, multi-query);
the long run gives the tokens a layer keeps: all of them, or fewer (a sliding-window
layer keeps its last ``sliding_window − 1`` tokens in transformers 5.23, the view
``full[:, :, -sliding_window + 1:, :]`` of the concatenation).

Once the two runs at one configuration have shown where the tokens are (each layer's
``keys`` and ``values`` hold them along their second-to-last axis: 1 there after one
token, and the elements at ``long`` tokens that axis's length times the elements per
token), a further configuration runs on ``long`` tokens only and reads both numbers off
that run: the elements divided by the tokens axis's length, and that length.

Which module a cache layer belongs to is seen, not named: module hooks note, for each
call, whether a cache layer's tensors changed during it, and the innermost such call (the
attention module that called ``past_key_values.update``) is the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the longest sequence a probe's cache is measured at (the meta device allocates nothing)
LONGEST = 8192


@dataclass(frozen=True)
class CacheRecord:
    """One cache layer at one configuration: its owner (module path), its elements for
    one token and for ``long`` tokens (batch 1)."""

    owner: str
    per_token: int
    at_long: int
    long: int

    @property
    def kept(self) -> int:
        """The tokens it keeps out of ``long``."""
        return self.at_long // self.per_token if self.per_token else 0


def measure(module, make_inputs, values, long: int, *, tokens_axis: bool = False):
    """The cache layers of ``module`` (built at ``values``, on the meta device), or None
    when it keeps no cache that can be read (no ``use_cache``, an encoder, an
    encoder-decoder's cross cache); with whether the tokens were seen along the keys' and
    values' second-to-last axis (then ``tokens_axis=True`` next time: one run, on
    ``long`` tokens, reads both numbers)."""
    import torch

    try:
        from transformers import DynamicCache
    except ImportError:  # pragma: no cover - transformers is an optional dependency
        return None, False
    config = getattr(module, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False) or not accepts(module, "past_key_values"):
        return None, False
    runs = []
    modes = {m: m.training for m in module.modules()}
    module.train(False)
    try:
        for tokens in ((long,) if tokens_axis else (1, long)):
            runs.append(_run(module, make_inputs, values, tokens, DynamicCache, config, torch))
    except Exception:  # noqa: BLE001 - a model whose cache cannot be run on meta: no cache declared
        return None, False
    finally:
        for m, mode in modes.items():
            m.training = mode
    if tokens_axis:
        many, = runs
        if many and all(axis and n % axis == 0 for _, n, axis in many):
            return [CacheRecord(owner, n // axis, n, long) for owner, n, axis in many], True
        # not as before: both runs, as at the first configuration
        return measure(module, make_inputs, values, long)
    one, many = runs
    if not one or len(one) != len(many) or any(a[0] != b[0] for a, b in zip(one, many)):
        return None, False
    records = [CacheRecord(owner, n1, n2, long) for (owner, n1, _), (_, n2, _) in zip(one, many)]
    seen = all(a1 == 1 and a2 and n2 == n1 * a2 for (_, n1, a1), (_, n2, a2) in zip(one, many))
    return records, seen


def _run(module, make_inputs, values, tokens, cache_class, config, torch):
    values = dict(values)
    cache = cache_class(config=config)
    args, kwargs = make_inputs(values, module, "meta", tokens)
    kwargs = dict(kwargs, use_cache=True, past_key_values=cache)
    owners: dict = {}
    stack: list = []
    paths = {id(m): name for name, m in module.named_modules()}

    def state():
        return tuple((id(layer.keys), id(layer.values)) if getattr(layer, "keys", None) is not None else None
                     for layer in getattr(cache, "layers", ()))

    def pre(m, args, kwargs=None):
        stack.append(state())

    def post(m, args, *rest):
        before = stack.pop() if stack else ()
        after = state()
        for i, now in enumerate(after):
            if i not in owners and now is not None and (i >= len(before) or before[i] != now):
                owners[i] = paths.get(id(m), "")

    handles = [torch.nn.modules.module.register_module_forward_pre_hook(pre),
               torch.nn.modules.module.register_module_forward_hook(post)]
    try:
        with torch.no_grad():
            module(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    out = []
    for i, layer in enumerate(getattr(cache, "layers", ())):
        keys, vals = getattr(layer, "keys", None), getattr(layer, "values", None)
        if keys is None or vals is None or i not in owners:
            return None
        # the tokens along the second-to-last axis, where keys and values agree on it (else 0: not seen)
        axis = int(keys.shape[-2]) if keys.dim() >= 2 and vals.dim() >= 2 and keys.shape[-2] == vals.shape[-2] else 0
        out.append((owners[i], int(keys.numel() + vals.numel()), axis))
    return out


def accepts(module, name: str) -> bool:
    """Whether ``module.forward`` takes an argument ``name`` (``past_key_values``,
    ``attention_mask``)."""
    import inspect

    try:
        return name in inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False
