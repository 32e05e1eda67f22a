"""``macs`` against fvcore's FlopCountAnalysis, which counts one per multiply-accumulate
of convolutions and matrix products. fvcore also adds BatchNorm, LayerNorm and adaptive
pooling (FRAMEWORK_NOTES.md), which are not products: those operators are set apart,
and everything else fvcore counts must be a product symcount counts."""

from __future__ import annotations

import pytest

import symcount as sc

pytestmark = pytest.mark.oracle

#: fvcore's operator names for convolutions and matrix products
PRODUCTS = {"conv", "linear", "addmm", "matmul", "bmm", "einsum", "mm"}
#: what fvcore counts besides products (normalizations and adaptive pooling)
NOT_PRODUCTS = {"batch_norm", "layer_norm", "group_norm", "adaptive_avg_pool2d"}


def fvcore_products(module, *inputs) -> int:
    import torch
    from fvcore.nn import FlopCountAnalysis

    with torch.no_grad():
        analysis = FlopCountAnalysis(module.eval(), inputs)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_operator = dict(analysis.by_operator())
    assert set(by_operator) <= PRODUCTS | NOT_PRODUCTS, by_operator
    products = sum(v for k, v in by_operator.items() if k in PRODUCTS)
    assert analysis.total() == products + sum(v for k, v in by_operator.items() if k in NOT_PRODUCTS)
    return products


@pytest.mark.parametrize("h, w", [(32, 32), (20, 28)])
def test_torch_cnn_example_macs_equal_fvcore(examples, h, w):
    import torch
    from torch import nn

    from symcount.spec import load

    count = load(examples / "torch_cnn.yaml").model.count().subs(H=h, W=w, num_classes=10)
    module = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(16 * (h // 2) * (w // 2), 10))
    assert fvcore_products(module, torch.randn(1, 3, h, w)) == count.macs


@pytest.mark.parametrize("size", [64, 96])
def test_resnet18_macs_equal_fvcore(size):
    import torch

    from .zoo import torchvision_defs as tv

    module = tv._resnet(tv.BasicBlock, [2, 2, 2, 2], num_classes=10)
    count = sc.zoo.get("torchvision:resnet18", num_classes=10, H=size, W=size)
    assert fvcore_products(module, torch.randn(1, 3, size, size)) == count.macs


@pytest.mark.parametrize("seq_len", [8, 16])
def test_gpt2_macs_equal_fvcore_with_eager_attention(seq_len):
    import torch
    from transformers import GPT2Config, GPT2Model

    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=100, n_positions=32, use_cache=False,
                        bos_token_id=0, eos_token_id=0)
    config._attn_implementation = "eager"  # fvcore traces the score and value matmuls

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = GPT2Model(config)

        def forward(self, ids):
            return self.model(ids, use_cache=False).last_hidden_state

    count = sc.zoo.get("transformers:GPT2Model", n_layer=2, n_embd=64, n_head=4, vocab_size=100,
                       n_positions=32, seq_len=seq_len)
    assert fvcore_products(LastHidden(), torch.randint(0, 100, (1, seq_len))) == count.macs
