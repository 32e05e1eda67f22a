"""``from_hf`` on the published configs under ``examples/hf/`` (config.json only, nothing
downloaded), against the published parameter counts, and the active parameters of a mixture
of experts against a hand derivation over the real model's parameters.

Published totals: Llama-2-7B 6,738,415,616 and Mistral-7B 7,241,732,096 (the model cards'
``sum(p.numel())``), Mixtral-8x7B 46,702,792,704 with 12,879,925,248 active per token
(Mistral AI's announcement: "46.7B total parameters but only uses 12.9B parameters per
token").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import symcount as sc  # noqa: E402

from .hf_families import build, make_config, values_of  # noqa: E402

pytestmark = pytest.mark.oracle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hf"

PUBLISHED = {
    "llama-2-7b": (6_738_415_616, 6_738_415_616),
    "mistral-7b": (7_241_732_096, 7_241_732_096),
    "mixtral-8x7b": (46_702_792_704, 12_879_925_248),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_configs_give_the_published_totals(name):
    model = sc.from_hf(EXAMPLES / name / "config.json")
    count = model.count()
    assert count.free_dims, "a formula, not a number"
    at = count.subs(model.values)
    assert (int(at.total), int(at.active_params)) == PUBLISHED[name]


def test_the_cli_takes_a_config_folder():
    env = dict(os.environ, KERAS_BACKEND="torch", COLUMNS="10000")  # each total on one line
    done = subprocess.run([sys.executable, "-m", "symcount", "count", str(EXAMPLES / "mixtral-8x7b"),
                           "--set", "seq_len=4096"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = {line.split(":")[0].strip(): line for line in done.stdout.splitlines()}
    assert "= 46,702,792,704 (" in lines["total"]  # then its size at 4 bytes a parameter
    assert "= 12,879,925,248 (" in lines["active"]
    assert "seq_len=4096" in lines["values"]


@pytest.mark.parametrize("family", ["mixtral", "qwen2_moe"])
@pytest.mark.parametrize("which", [1, 2])
def test_active_parameters_are_the_shared_ones_and_top_k_of_the_routed_experts(family, which):
    """Hand derivation over the real model: every parameter, less the routed experts' share a
    token does not use, ``(1 - k/E)`` of every stacked expert weight (``mlp.experts.*``,
    whose first axis is the expert; a shared expert is not routed)."""
    config, model, _ = build(family, which)
    k = config.num_experts_per_tok
    total = sum(p.numel() for p in model.parameters())
    routed = 0
    for name, p in model.named_parameters():
        if ".experts." in name:
            experts = p.shape[0]
            assert experts == getattr(config, "num_local_experts", None) or experts == config.num_experts
            routed += p.numel()
    assert routed > 0
    expected = total - routed * (experts - k) // experts
    count = sc.from_hf(make_config(family, 1)).count()
    values = values_of(family, which, config)
    at = count.subs(**{d.name: values[d.name] for d in count.free_dims})
    assert int(at.active_params) == expected


@pytest.mark.parametrize("fields, says", [
    ({"model_type": "no-such-model"}, "model_type 'no-such-model' is not one transformers knows"),
    ({"model_type": "llama", "hidden_size": 48, "num_attention_heads": 5}, "not a multiple of the number of attention"),
    ({"model_type": "llama", "hidden_size": 48, "num_attention_heads": 4, "num_key_value_heads": 3},
     "the forward pass could not be recorded"),
])
def test_a_config_transformers_rejects_is_one_line_and_status_2(tmp_path, fields, says):
    import json

    (tmp_path / "config.json").write_text(json.dumps(fields), encoding="utf-8")
    env = dict(os.environ, KERAS_BACKEND="torch")
    done = subprocess.run([sys.executable, "-m", "symcount", "count", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: from_hf:") and says in lines[0], done.stderr
