"""The ``symcount count --json`` object: expressions as SymPy ``str()``, exact integers
as JSON integers (however large), ``null`` where a dim has no value."""

from __future__ import annotations


def _int_or_none(expr):
    return int(expr) if getattr(expr, "is_Integer", False) else None


def _text(value):
    return None if value is None else str(value)


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
        })
    return {
        "model": count.name,
        "dims": {d.name: count.values.get(d.name) for d in count.dims},
        "total": str(symbolic.total),
        "trainable": str(symbolic.trainable),
        "non_trainable": str(symbolic.non_trainable),
        "values": {
            "total": int(count.total),
            "trainable": int(count.trainable),
            "non_trainable": int(count.non_trainable),
        } if bound else None,
        "conditions": [str(c) for c in count.conditions],
        "layers": layers,
    }
