"""Attribution by probing, not by value: sizes that coincide at the imported configuration
still get their own dims, and a dim no probe can place keeps its value, with a warning.

The references are the real models (``sum(p.numel())`` and ``FlopCounterMode`` on the CPU,
``tests/importers/hf_families.py``) at a second configuration where the coinciding fields
differ: a formula that took one field for another gives a wrong number there.
"""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402

import symcount as sc  # noqa: E402
from symcount.importers import SymcountImportWarning  # noqa: E402

from .hf_families import COINCIDING, make_config, reference  # noqa: E402

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("family", COINCIDING)
def test_fields_equal_in_value_keep_their_roles(family):
    config = make_config(family, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymcountImportWarning)  # every field placed: no warning
        count = sc.from_hf(config).count()
    for which in (1, 2):
        ref = reference(family, which)
        at = count.subs(**{d.name: ref["values"][d.name] for d in count.free_dims})
        ours = (int(at.total), int(at.flops), int(at.training_flops))
        assert ours == (ref["params"], ref["flops"], ref["training_flops"]), which


def test_qwen3_key_width_is_heads_times_head_dim_not_hidden_size():
    count = sc.from_hf(make_config("qwen3_coinciding", 1)).count()
    k_proj = next(row for row in count.layers if row.name.endswith("self_attn.k_proj"))
    weight = k_proj.layer.declared[0][1]
    names = {str(s) for s in weight[0].free_symbols}
    assert names == {"num_key_value_heads", "head_dim"}, weight


class Branchy(torch.nn.Module):
    """A module whose forward takes another path once it is wider than 48: no probe of
    ``width`` runs the same operators, so ``width`` cannot be placed."""

    def __init__(self, width, depth):
        super().__init__()
        self.width = width
        self.layers = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(depth))
        self.extra = torch.nn.Linear(width, 7)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        if self.width > 48 or self.width < 24:
            x = self.extra(x)
        return x


def test_a_dim_no_probe_can_place_keeps_its_value_and_is_named():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sc.from_torch(lambda width, depth: Branchy(width, depth), ("width",), dims={"width": 32, "depth": 3})
    messages = [str(w.message) for w in caught if issubclass(w.category, SymcountImportWarning)]
    assert len(messages) == 1 and "width" in messages[0], messages
    count = model.count()
    assert {d.name for d in count.free_dims} == {"depth"}
    module = Branchy(32, 5)
    assert int(count.subs(depth=5).total) == sum(p.numel() for p in module.parameters())
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.randn(1, 32))
    assert int(count.subs(depth=5).flops) == counter.get_total_flops()
