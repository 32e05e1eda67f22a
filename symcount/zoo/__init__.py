"""Reference architectures as closed forms: ``symcount.zoo.get("keras:ResNet50", classes=10)``.

Every entry composes symcount layers (with ``Block``/``Repeat``), symbolic in its dims;
never a hand-written total. Families: ``keras:`` (keras.applications), ``torchvision:``
(torchvision.models) and ``transformers:`` (Hugging Face models, config field names).
"""

from .registry import Entry, entries, entry, get, model, register, symbolic

__all__ = ["Entry", "entries", "entry", "get", "model", "register", "symbolic"]
