"""Hugging Face models from their configs: ``from_hf`` and rebuilding a transformers
module at other configurations for probing.

A config (a ``PretrainedConfig``, a ``config.json``, a folder holding one, or a dict
with ``model_type``) is built into its model on the meta device with eager attention
and eager experts (nothing is downloaded), recorded at the level of its operators, and
probed field by field: the formula is in the config's own field names plus ``seq_len``
(``decoder_seq_len`` for encoder-decoders), checked at a configuration not used to fit
it and, for a large config (probed at a smaller copy: depth 2, widths divided by a power
of two), at the config itself.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import ArgumentError, SpecError, SymcountError
from ._symbols import DEPTH, config_values
from .kv_cache import accepts

#: the largest config.json read (bytes)
CONFIG_LIMIT = 4 * 1024 * 1024

TASKS = {
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "image-classification": "AutoModelForImageClassification",
    "base": "AutoModel",
}


def transformers_module():
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError:
        raise ArgumentError("from_hf needs transformers and torch: pip install 'symcount[hf]'") from None
    return transformers


def load_config(source):
    """A ``PretrainedConfig`` from a config, a dict with ``model_type``, a ``config.json``
    path or a folder holding one."""
    transformers = transformers_module()
    if isinstance(source, transformers.PretrainedConfig):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            path = path / "config.json"
        if not path.is_file():
            raise SpecError(f"from_hf: {source}: no config.json there")
        if path.stat().st_size > CONFIG_LIMIT:
            raise SpecError(f"from_hf: {path}: {path.stat().st_size:,} bytes; a config.json is at most "
                            f"{CONFIG_LIMIT:,}")
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SpecError(f"from_hf: {path}: not a JSON config ({exc})") from None
    if not isinstance(source, dict):
        raise ArgumentError(f"from_hf: expected a transformers config, a dict with model_type, a config.json "
                            f"or a folder holding one. Received: {source!r} ({type(source).__name__})")
    model_type = source.get("model_type")
    if not isinstance(model_type, str) or model_type not in transformers.CONFIG_MAPPING:
        raise SpecError(f"from_hf: model_type {model_type!r} is not one transformers knows")
    fields = {k: v for k, v in source.items() if k != "model_type"}
    try:
        return transformers.CONFIG_MAPPING[model_type].from_dict(fields)
    except Exception as exc:  # noqa: BLE001 - transformers' own validation, reported as the config's
        raise SpecError(f"from_hf: {model_type} config rejected by transformers: {_first_line(exc)}") from None


def _first_line(exc) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def model_class(config, task):
    """``make(config)``: the model of a config (the ``task``'s auto class, else the
    config's ``architectures``, else ``AutoModel``) with eager attention and experts, in
    float32 whatever the config's ``torch_dtype`` (Llama-2-7B's says float16): the
    recording is float32, and what 16-bit keeps besides is seen by recording it again
    (:func:`.traced._fp32_kinds`)."""
    import torch

    transformers = transformers_module()
    options = dict(attn_implementation="eager", experts_implementation="eager", dtype=torch.float32)
    if task is not None:
        if task not in TASKS:
            raise ArgumentError(f"from_hf: unknown task {task!r}. Known: {', '.join(TASKS)}")
        auto = getattr(transformers, TASKS[task])
        return lambda cfg: auto.from_config(cfg, **options)
    for name in getattr(config, "architectures", None) or ():
        cls = getattr(transformers, name, None)
        if cls is not None:
            return lambda cfg, cls=cls: cls._from_config(cfg, **options)
    return lambda cfg: transformers.AutoModel.from_config(cfg, **options)


def with_values(config, values: dict):
    """A copy of ``config`` with some fields changed; per-layer lists follow a changed depth
    field (see :func:`follow_depth`)."""
    fields = config.to_dict()
    for name, value in values.items():
        old = fields.get(name)
        if isinstance(old, int) and old != value and DEPTH.search(name):
            follow_depth(fields, old, value)
    fields.update(values)
    fields.pop("model_type", None)
    fields.pop("transformers_version", None)
    copy = type(config).from_dict(fields)
    return copy


def follow_depth(fields: dict, old: int, new: int) -> None:
    """Resize the per-layer lists of a config whose depth field goes from ``old`` to ``new``
    (in place): a list of ``old`` entries (Qwen2's and Gemma-2's ``layer_types``, GPT-Neo's
    ``attention_layers``) repeats its pattern to ``new`` entries, and a list of
    ``[pattern, repeats]`` pairs covering ``old`` layers (GPT-Neo's ``attention_types``)
    scales its repeats, as the config's own validation requires."""
    for name, value in list(fields.items()):
        if not isinstance(value, list) or not value:
            continue
        if len(value) == old and all(isinstance(v, (str, int, float, type(None))) for v in value):
            fields[name] = [value[i % old] for i in range(new)]
            continue
        pairs = all(isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[0], (list, tuple))
                    and isinstance(v[1], int) for v in value)
        if pairs and sum(len(p) * r for p, r in value) == old:
            scaled = [[list(p), r * new // old] for p, r in value]
            if all(r * new % old == 0 for _, r in value):
                fields[name] = scaled


def builder(config, make):
    """``build(values, device)`` for a :class:`~.operators.Runner`."""
    import torch

    fields = set(config_values(config)[0])

    def build(values, device):
        changes = {k: v for k, v in values.items() if k in fields}
        cfg = with_values(config, changes)
        with torch.device(device):
            model = make(cfg)
        model.train(True)  # as trained: dropout runs and saves its masks (the operators counted are the same)
        return model

    return build


def inputs_for(config, seq="seq_len", decoder_seq="decoder_seq_len"):
    """``inputs(values, module, device)``: the model's main input (token ids, pixels or
    audio features) at the values' sizes, and decoder tokens for an encoder-decoder."""

    def inputs(values, module, device, batch=1):
        import torch

        cfg = module.config
        name = getattr(module, "main_input_name", "input_ids")
        kwargs = {}
        if name == "pixel_values":
            size = cfg.image_size
            size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
            kwargs[name] = torch.randn(batch, getattr(cfg, "num_channels", 3), *size, device=device)
        elif name == "input_features":
            kwargs[name] = torch.randn(batch, cfg.num_mel_bins, 2 * cfg.max_source_positions, device=device)
        else:
            kwargs[name] = torch.zeros(batch, values[seq], dtype=torch.long, device=device)
            if accepts(module, "attention_mask"):
                # all ones, as without it; given, the mask code need not read a value (meta runs it)
                kwargs["attention_mask"] = torch.ones(batch, values[seq], dtype=torch.long, device=device)
        if getattr(cfg, "is_encoder_decoder", False):
            kwargs["decoder_input_ids"] = torch.zeros(batch, values[decoder_seq], dtype=torch.long, device=device)
        try:
            import inspect

            if "use_cache" in inspect.signature(module.forward).parameters:
                kwargs["use_cache"] = False
        except (TypeError, ValueError):
            pass
        return (), kwargs

    return inputs


def cache_probe(config, seq="seq_len"):
    """``kv_cache(module, values)`` for a :class:`~.operators.Runner`: the cache a decoder
    taking tokens keeps (:func:`.kv_cache.measure`), at one token and at its
    ``max_position_embeddings`` (then, once the tokens' axis has been seen, at the
    latter only). The cache is given its own token counts, so configurations that differ
    in ``seq`` alone share one measurement."""
    from .kv_cache import LONGEST, measure

    make = inputs_for(config, seq=seq)
    measured: dict = {}
    seen = [False]  # the tokens' axis seen at a configuration measured before

    def inputs(values, module, device, tokens):
        return make({**values, seq: tokens}, module, device)

    def probe(module, values):
        if getattr(module, "main_input_name", "input_ids") != "input_ids":
            return None
        key = tuple(sorted((k, v) for k, v in values.items() if k != seq))
        if key not in measured:
            long = min(_default_seq_len(module.config), LONGEST)
            measured[key], axis = measure(module, inputs, values, long, tokens_axis=seen[0])
            seen[0] = seen[0] or axis
        return measured[key]

    return probe


def axes_of(config):
    """The input axes a config's model takes: ``seq_len`` (and ``decoder_seq_len``) for
    token inputs; none for pixels and audio features (their sizes are config fields)."""
    transformers = transformers_module()
    model_type = getattr(config, "model_type", "")
    vision = any(k in config.to_dict() for k in ("image_size",)) and "vocab_size" not in config.to_dict()
    audio = model_type in ("whisper",)
    axes = []
    if not vision and not audio:
        axes.append("seq_len")
    if getattr(config, "is_encoder_decoder", False):
        axes.append("decoder_seq_len")
    del transformers
    return axes


_HEADS = re.compile(r"(^|_)(n_)?(head|heads|num_heads|attention_heads|key_value_heads|kv_heads)$")


def probe_base(values: dict, fields: set) -> dict:
    """A smaller configuration to probe a large one at: depth fields at most 2, fields of
    512 or more divided by one power of two ``g`` (as large as keeps them at least 64), and
    the head counts divided by the power of two (at most ``g``) that keeps each head at
    least 8 wide and every head count whole (Mixtral's 32 query and 8 key/value heads
    become 8 and 2 at width 64, as its 128-wide heads become 16)."""
    out = dict(values)
    for name, v in values.items():
        if name in fields and DEPTH.search(name) and v > 2:
            out[name] = 2
    large = [v for n, v in values.items() if n in fields and v >= 512]
    if large:
        g = min((v & -v) for v in large)
        while g > 1 and min(large) // g < 64:
            g //= 2
        for name, v in values.items():
            if name in fields and v >= 512:
                out[name] = v // g
        heads = {n: v for n, v in values.items() if n in fields and _HEADS.search(n)}
        width = min(out[n] for n, v in values.items() if n in fields and v >= 512)
        h = 1
        while heads and h < g and max(heads.values()) // h > 1 and width * h // max(heads.values()) < 8 \
                and all(v % (2 * h) == 0 for v in heads.values()):
            h *= 2
        for n, v in heads.items():
            out[n] = v // h
    return out


def _default_seq_len(config) -> int:
    for name in ("max_position_embeddings", "n_positions", "n_ctx", "max_target_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 512


def from_hf(config, *, seq_len: str = "seq_len", task: str | None = None, name: str | None = None,
            kv_cache: bool = True):
    """The symcount model of a Hugging Face config, its formula in the config's field names.

    ``config``: a ``transformers.PretrainedConfig``, a ``config.json`` path, a folder
    holding one, or a dict with ``model_type``. The model (the config's
    ``architectures``, else ``AutoModel``, or the ``task``'s auto class: ``"causal-lm"``,
    ``"masked-lm"``, ``"seq2seq-lm"`` …) is built on the meta device with eager attention;
    nothing is downloaded. Token models take ``seq_len`` (and ``decoder_seq_len``) as an
    input axis, its value the config's ``max_position_embeddings``.

        model = sc.from_hf("examples/hf/llama-2-7b/config.json")
        model.count().subs(model.values).total      # 6738415616

    Every size is placed by probing (see :mod:`symcount.importers.traced`) and the formula
    is checked at a configuration not used to build it, and at the config itself.

    ``kv_cache=False`` skips measuring a decoder's key/value cache (its forward passes
    are a third of the import; the CLI needs it only for ``memory --inference``): the
    model then declares no cache.
    """
    from .traced import finish, numbers, report, trace
    from .operators import Runner

    transformers_module()
    cfg = load_config(config)
    make = model_class(cfg, task)
    values, _ = config_values(cfg)
    fields = set(values)
    axes = [seq_len if a == "seq_len" else a for a in axes_of(cfg)]
    user = dict(values)
    probe_values = probe_base(values, fields)
    for k, axis in enumerate(axes):
        user[axis] = _default_seq_len(cfg)
        # distinct lengths for the encoder and the decoder (8, 12), so that no two sizes agree by chance
        probe_values[axis] = (8 + 4 * k) if user[axis] >= 32 else max(2, user[axis] // 4 + k)
    name = name or (getattr(cfg, "architectures", None) or [cfg.model_type])[0]
    runner = Runner(builder(cfg, make), inputs_for(cfg, seq=axes[0] if axes else "seq_len"),
                    kv_cache=cache_probe(cfg, axes[0])
                    if kv_cache and axes and not getattr(cfg, "is_encoder_decoder", False) else None, reuse=True)
    try:
        # an image's size is probed at +1 and +3 too, as an input axis: floors of strided layers show
        shifted = axes + [f for f in ("image_size",) if f in fields]
        traced = trace(runner, probe_values, sorted(fields) + axes, name, axes=shifted)
    except RuntimeError as exc:  # the config's own model does not build or run
        raise SymcountError(f"from_hf: {name}: {_first_line(exc)}") from None
    if probe_values != {k: user[k] for k in probe_values}:
        traced = _check_at(traced, runner, user, name, make, cfg)
    model = finish(traced, user)
    report(traced, f"from_hf: {name}")
    return model


def _check_at(traced, runner, user, name, make, cfg):
    """The formula, fitted at a smaller copy, at the config itself: parameters always (the
    model built on the meta device), every size when its forward runs on meta. A
    disagreement gives the numbers at the config, with the warning."""
    import sympy

    from .traced import numbers

    total = traced.model.count().total
    at = total.xreplace({s: sympy.Integer(user[s.name]) for s in total.free_symbols if s.name in user})
    with __import__("torch").device("meta"):
        actual = sum(p.numel() for p in builder(cfg, make)(user, "meta").parameters())
    moved = [d for d in traced.unplaced if d in user and traced.base.get(d) != user[d]]
    if at.is_Integer and int(at) == actual and not moved:
        return traced  # dims not placed are at the config's own values: the formula holds there
    if not (at.is_Integer and int(at) == actual):
        traced.unplaced.setdefault("(the config itself)",
                                   f"the formula gives {at} parameters where the model has {actual:,}")
    try:
        fallback = numbers(runner, user, name)
    except Exception as exc:  # noqa: BLE001 - never the unchecked formula instead
        raise SymcountError(f"from_hf: {name}: the formula fitted at a smaller copy of the config disagrees with "
                           f"the config itself ({'; '.join(f'{d}: {why}' for d, why in traced.unplaced.items())}), "
                           f"and the config itself could not be recorded ({exc})") from None
    fallback.unplaced = traced.unplaced
    return fallback
