"""The ``symcount count --json`` object: expressions as SymPy ``str()``, exact integers
as JSON integers (however large), ``null`` where a dim has no value.

Totals: parameters (total, trainable, non-trainable), ``macs`` and ``flops`` of a
forward pass per example (FlopCounterMode's convention, 2 FLOPs per MAC),
``training_flops`` (forward + backward) and ``activations`` (output elements per
example); per layer its params and ``macs`` (one occurrence; ``repeat`` occurrences)."""

from __future__ import annotations


def _int_or_none(expr):
    return int(expr) if getattr(expr, "is_Integer", False) else None


def _text(value):
    return None if value is None else str(value)


#: the model totals reported, each as an expression and (all dims bound) a value
TOTALS = ("total", "trainable", "non_trainable", "macs", "flops", "training_flops", "activations")


def to_json(count) -> dict:
    symbolic = count.symbolic or count
    bound = not count.free_dims
    layers = []
    for record, sym in zip(count.layers, symbolic.layers):
        layers.append({
            "name": record.name,
            "type": record.type,
            "output_shape": [_text(s) for s in record.output_shape],
            "params": str(sym.params),
            "params_value": _int_or_none(record.params),
            "weights": {w.name: [str(s) for s in w.shape] for w in record.weights},
            "repeat": str(sym.repeat),
            "macs": str(sym.macs),
            "macs_value": _int_or_none(record.macs),
        })
    return {
        "model": count.name,
        "dims": {d.name: count.values.get(d.name) for d in count.dims},
        **{name: str(getattr(symbolic, name)) for name in TOTALS},
        "values": {name: int(getattr(count, name)) for name in TOTALS} if bound else None,
        "conditions": [str(c) for c in count.conditions],
        "layers": layers,
    }
