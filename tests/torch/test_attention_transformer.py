"""MultiheadAttention (kdim, vdim, bias, add_bias_kv, add_zero_attn, batch_first) and the
transformer modules against torch: every named weight, the output shape, MACs."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, Sub, check, oracle
from .strategies import SETTINGS, near, rarely


@hs.composite
def attention_cases(draw):
    heads = draw(hs.integers(1, 3))
    embed = heads * draw(hs.integers(1, 3)) + (1 if rarely(draw, 8) else 0)
    kwargs = dict(embed_dim=embed, num_heads=heads, bias=draw(hs.booleans()), add_bias_kv=draw(hs.booleans()),
                  add_zero_attn=draw(hs.booleans()), batch_first=draw(hs.booleans()))
    sizes = ("embed_dim", "num_heads", "kdim", "vdim")
    target = draw(hs.integers(1, 4))
    if draw(hs.booleans()):  # self-attention on one tensor, as in a Sequential
        return Case("MultiheadAttention", kwargs, ((target, near(draw, embed, 8)),), kwargs["batch_first"],
                    sizes=sizes, self_attention=True, flops=True)
    for key in ("kdim", "vdim"):
        if draw(hs.booleans()):
            kwargs[key] = draw(hs.sampled_from([embed, draw(hs.integers(1, 6))]))
    source = draw(hs.integers(1, 4))
    kdim, vdim = kwargs.get("kdim") or embed, kwargs.get("vdim") or embed
    shapes = ((target, near(draw, embed, 5)), (source, near(draw, kdim, 5)),
              (near(draw, source, 5), near(draw, vdim, 5)))
    return Case("MultiheadAttention", kwargs, shapes, kwargs["batch_first"], sizes=sizes, multi=True, flops=True)


def layer_kwargs(draw):
    nhead = draw(hs.integers(1, 2))
    return dict(d_model=nhead * draw(hs.integers(1, 3)), nhead=nhead, dim_feedforward=draw(hs.integers(1, 6)),
                dropout=0.0, activation=draw(hs.sampled_from(["relu", "gelu", Sub("GELU", {}), Sub("PReLU", {})])),
                batch_first=draw(hs.booleans()),
                norm_first=draw(hs.booleans()), bias=draw(hs.booleans()))


SIZES = ("d_model", "nhead", "dim_feedforward", "num_layers", "num_encoder_layers", "num_decoder_layers")


def attention_products(target, source, d_model):
    """Scores and weighted sum of one attention, all heads: 2·T·S·d_model multiply-accumulates.
    torch 2.13's CPU scaled-dot-product kernel has no FLOP formula, so FlopCounterMode misses
    exactly these (the transformer layers call attention with need_weights=False)."""
    return 2 * target * source * d_model


@hs.composite
def transformer_cases(draw):
    kind = draw(hs.sampled_from(["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                                 "TransformerDecoder", "Transformer"]))
    kwargs = layer_kwargs(draw)
    d, bf = kwargs["d_model"], kwargs["batch_first"]
    source, target = draw(hs.integers(1, 3)), draw(hs.integers(1, 3))
    src, tgt = (source, near(draw, d, 5)), (target, near(draw, d, 5))
    if kind == "TransformerEncoderLayer":
        return Case(kind, kwargs, (src,), bf, sizes=SIZES, flops=True,
                    flops_missing=attention_products(source, source, d))
    if kind == "TransformerDecoderLayer":
        return Case(kind, kwargs, (tgt, src), bf, sizes=SIZES, multi=True, flops=True,
                    flops_missing=attention_products(target, target, d) + attention_products(target, source, d))
    n = draw(hs.integers(1, 2))
    norm = Sub("LayerNorm", dict(normalized_shape=d)) if draw(hs.booleans()) else None
    if kind == "TransformerEncoder":
        stack = dict(encoder_layer=Sub("TransformerEncoderLayer", kwargs), num_layers=n, norm=norm)
        return Case(kind, stack, (src,), bf, sizes=SIZES, flops=True,
                    flops_missing=n * attention_products(source, source, d))
    if kind == "TransformerDecoder":
        stack = dict(decoder_layer=Sub("TransformerDecoderLayer", kwargs), num_layers=n, norm=norm)
        return Case(kind, stack, (tgt, src), bf, sizes=SIZES, multi=True, flops=True,
                    flops_missing=n * (attention_products(target, target, d) + attention_products(target, source, d)))
    m = draw(hs.integers(1, 2))
    kwargs.update(num_encoder_layers=n, num_decoder_layers=m)
    missing = n * attention_products(source, source, d) + m * (attention_products(target, target, d)
                                                                + attention_products(target, source, d))
    return Case(kind, kwargs, (src, tgt), bf, sizes=SIZES, multi=True, flops=True, flops_missing=missing)


@oracle
@settings(SETTINGS, max_examples=250)
@given(attention_cases())
def test_multihead_attention_matches_torch(case):
    check(case)


@oracle
@settings(SETTINGS, max_examples=150)
@given(transformer_cases())
def test_transformer_modules_match_torch(case):
    check(case)
