"""ViT (``transformers.models.vit``): ``ViTModel``.

``embeddings``: the patch embedding ``patch_embeddings.projection`` = ``Conv2d(num_channels,
hidden_size, kernel_size=patch_size, stride=patch_size)`` on the image ``(num_channels,
image_size, image_size)``, flattened to ``(image_size // patch_size)²`` patch tokens; the
``[CLS]`` token prepended and ``position_embeddings (1, patches + 1, hidden_size)`` added
(:class:`ViTEmbeddings`); ``layers``: ``num_hidden_layers`` pre-norm layers —
``layernorm_before``, self-attention ``attention`` (:class:`ViTAttention`), a residual sum,
``layernorm_after``, ``mlp`` (``fc1`` → GELU → ``fc2``), a residual sum — one ``Repeat``
named ``layers.*.…``; ``layernorm``; and with ``add_pooling_layer`` the ``pooler``
(``dense`` + tanh on the ``[CLS]`` token).

The sequence length is not a dim of its own: ``(image_size // patch_size)² + 1``. The
options ``hidden_dropout_prob`` and ``attention_probs_dropout_prob`` are ViTConfig's (0.0
each). Tensor parallelism as Megatron-LM splits a transformer: ``mlp.fc1`` column-parallel,
``mlp.fc2`` row-parallel (the attention's projections inside :class:`ViTAttention`).
"""

from __future__ import annotations

from ...torch import GELU, Add, Block, Conv2d, Dropout, Flatten, Input, LayerNorm, Linear, Model, Repeat, Tanh
from ...printing import conventional
from ..registry import register
from .layers import FirstToken, Transpose, ViTAttention, ViTEmbeddings, parallel

#: the symbols papers use for this config's names (Kaplan et al. 2020, Narayanan et al. 2021), in math
conventional(num_hidden_layers="L", hidden_size="h", num_attention_heads="a", intermediate_size="d_ff",
             image_size="r", patch_size="p", num_channels="C")

#: google/vit-base-patch16-224's config
DIMS = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
        "image_size": 224, "patch_size": 16, "num_channels": 3}
OPTIONS = {"add_pooling_layer": True, "qkv_bias": True, "use_mask_token": False, "hidden_dropout_prob": 0.0,
           "attention_probs_dropout_prob": 0.0}
EPS = 1e-12  # ViTConfig.layer_norm_eps


def vit_layer(hidden_size, num_attention_heads, intermediate_size, qkv_bias, hidden_dropout_prob=0.0,
              attention_probs_dropout_prob=0.0) -> Block:
    """``ViTLayer``: ``x + attention(layernorm_before(x))``, then ``h + mlp(layernorm_after(h))``."""
    p = "layers.*"
    layernorm_before = LayerNorm(hidden_size, eps=EPS, name=f"{p}.layernorm_before")
    attention = ViTAttention(hidden_size, num_attention_heads, qkv_bias, attention_probs_dropout_prob,
                             name=f"{p}.attention")
    dropout = Dropout(hidden_dropout_prob, name=f"{p}.dropout")  # one module, after the attention and the MLP
    layernorm_after = LayerNorm(hidden_size, eps=EPS, name=f"{p}.layernorm_after")
    mlp = [parallel(Linear(hidden_size, intermediate_size, name=f"{p}.mlp.fc1"), "column"),
           GELU(name=f"{p}.mlp.activation_fn"),
           parallel(Linear(intermediate_size, hidden_size, name=f"{p}.mlp.fc2"), "row")]
    attention_sum, mlp_sum = Add(name=f"{p}.add"), Add(name=f"{p}.add_1")

    def forward(x):
        h = attention_sum([dropout(attention(layernorm_before(x))), x])
        y = layernorm_after(h)
        for layer in mlp:
            y = layer(y)
        return mlp_sum([dropout(y), h])

    return Block("layers", forward)


@register("transformers:ViTModel", dims=DIMS, options=OPTIONS,
          source="transformers.ViTModel(ViTConfig()) (google/vit-base-patch16-224's config)")
def vit_model(hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, image_size, patch_size,
              num_channels, add_pooling_layer, qkv_bias, use_mask_token, hidden_dropout_prob,
              attention_probs_dropout_prob):
    pixels = Input((num_channels, image_size, image_size), name="pixel_values")
    x = Conv2d(num_channels, hidden_size, kernel_size=patch_size, stride=patch_size,
               name="embeddings.patch_embeddings.projection")(pixels)
    x = Flatten(start_dim=2, name="embeddings.patch_embeddings.flatten")(x)
    x = Transpose(1, 2, name="embeddings.patch_embeddings.transpose")(x)
    num_patches = (image_size // patch_size) ** 2
    x = ViTEmbeddings(hidden_size, num_patches, use_mask_token, name="embeddings")(x)
    x = Dropout(hidden_dropout_prob, name="embeddings.dropout")(x)
    x = Repeat(vit_layer(hidden_size, num_attention_heads, intermediate_size, qkv_bias, hidden_dropout_prob,
                         attention_probs_dropout_prob), num_hidden_layers)(x)
    x = LayerNorm(hidden_size, eps=EPS, name="layernorm")(x)
    outputs = [x]
    if add_pooling_layer:
        pooled = Linear(hidden_size, hidden_size, name="pooler.dense")(FirstToken(name="pooler.first_token")(x))
        outputs.append(Tanh(name="pooler.activation")(pooled))
    return Model(pixels, outputs, name="ViTModel")
