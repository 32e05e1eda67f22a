"""Hugging Face transformers modules symcount knows: the zoo's building blocks
(:mod:`symcount.zoo.transformers.layers`) made from a live module's attributes.

An attention module is mapped as one layer, so its products between activations
(``Q·Kᵀ``, ``A·V``) are counted although they happen outside any ``nn.Linear``. The
size arguments carry their config field as provenance (``hint``): ``GPT2Attention``'s
``num_heads`` is ``num_attention_heads`` (``n_head`` through GPT2Config's
``attribute_map``), so it becomes that dim even where ``n_layer`` has the same value.
"""

from __future__ import annotations

from ._torch_modules import Mapping


def _conv1d(m, size, name):
    from ..zoo.transformers.layers import Conv1D

    return Conv1D(size(m.nf), size(m.nx, hint="hidden_size"), name=name)


def _gpt2_attention(m, size, name):
    from ..zoo.transformers.layers import GPT2Attention

    if getattr(m, "is_cross_attention", False):
        return None
    return GPT2Attention(size(m.embed_dim, hint="hidden_size"), size(m.num_heads, hint="num_attention_heads"),
                         name=name)


def _bert_self_attention(m, size, name):
    from ..zoo.transformers.layers import BertSelfAttention

    if getattr(m, "is_cross_attention", False) or m.all_head_size != m.query.in_features:
        return None
    return BertSelfAttention(size(m.query.in_features, hint="hidden_size"),
                             size(m.num_attention_heads, hint="num_attention_heads"), name=name)


def _llama_attention(m, size, name):
    from ..zoo.transformers.layers import LlamaAttention

    config = m.config
    return LlamaAttention(size(m.q_proj.in_features, hint="hidden_size"),
                          size(config.num_attention_heads, hint="num_attention_heads"),
                          size(config.num_key_value_heads, hint="num_key_value_heads"),
                          head_dim=size(m.head_dim, hint="head_dim"),
                          attention_bias=m.q_proj.bias is not None, name=name)


def _llama_mlp(m, size, name):
    from ..zoo.transformers.layers import LlamaMLP

    return LlamaMLP(size(m.gate_proj.in_features, hint="hidden_size"),
                    size(m.gate_proj.out_features, hint="intermediate_size"),
                    mlp_bias=m.gate_proj.bias is not None, name=name)


def _llama_rms_norm(m, size, name):
    from ..zoo.transformers.layers import LlamaRMSNorm

    return LlamaRMSNorm(size(m.weight.shape[0], hint="hidden_size"), eps=m.variance_epsilon, name=name)


def _t5_layer_norm(m, size, name):
    from ..zoo.transformers.layers import T5LayerNorm

    return T5LayerNorm(size(m.weight.shape[0], hint="d_model"), eps=m.variance_epsilon, name=name)


def _sequence(width):
    return lambda m: (None, 1, width(m))


MODULES: dict[str, Mapping] = {
    "Conv1D": Mapping(_conv1d, _sequence(lambda m: m.nx)),
    "GPT2Attention": Mapping(_gpt2_attention, _sequence(lambda m: m.embed_dim)),
    "BertSelfAttention": Mapping(_bert_self_attention, _sequence(lambda m: m.query.in_features)),
    "LlamaAttention": Mapping(_llama_attention, _sequence(lambda m: m.q_proj.in_features)),
    "LlamaMLP": Mapping(_llama_mlp, _sequence(lambda m: m.gate_proj.in_features)),
    "LlamaRMSNorm": Mapping(_llama_rms_norm, _sequence(lambda m: m.weight.shape[0])),
    "T5LayerNorm": Mapping(_t5_layer_norm, _sequence(lambda m: m.weight.shape[0])),
}


def mapping_of(module) -> Mapping | None:
    """The mapping of a transformers module, by class name within ``transformers``."""
    cls = type(module)
    if not cls.__module__.startswith("transformers."):
        return None
    return MODULES.get(cls.__name__)


def derive(symbols) -> None:
    """Sizes a config implies without a field of their own: GPT-2's inner size
    ``4·n_embd`` when ``n_inner`` is None (``GPT2Block``: ``inner_dim = config.n_inner if
    config.n_inner is not None else 4 * hidden_size``)."""
    for config in symbols.configs:
        if hasattr(config, "n_inner") and config.n_inner is None:
            name = symbols.field("hidden_size") or symbols.field("n_embd")
            if name is not None:
                symbols.derive(4 * symbols.values[name], 4 * symbols.symbol(name))
