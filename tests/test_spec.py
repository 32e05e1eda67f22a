"""Architecture files: one schema in YAML, JSON and TOML; clear errors naming the entry."""

import json
import os

import pytest

from symcount.errors import SpecError
from symcount.spec import from_data, load

SMALL = {
    "name": "tiny", "dims": {"n": 4, "k": None}, "input": ["n"],
    "layers": [{"Dense": {"units": "2*k + 1"}}, {"Activation": ["relu"]}, "Flatten", {"Dense": [3]}],
}


def test_yaml_json_and_toml_give_the_same_model(tmp_path):
    import yaml

    (tmp_path / "m.yaml").write_text(yaml.safe_dump(SMALL))
    (tmp_path / "m.json").write_text(json.dumps(SMALL))
    (tmp_path / "m.toml").write_text(
        'name = "tiny"\ninput = ["n"]\nlayers = [{Dense = {units = "2*k + 1"}}, {Activation = ["relu"]}, '
        '"Flatten", {Dense = [3]}]\n[dims]\nn = 4\n'
    )
    # TOML has no null: a dim without default is simply listed in a list form elsewhere; here k is undeclared
    totals = []
    for suffix in ("yaml", "json"):
        count = load(tmp_path / f"m.{suffix}").model.count().subs(n=4, k=3)
        totals.append(int(count.total))
    assert totals == [(4 + 1) * 7 + (7 + 1) * 3] * 2
    with pytest.raises(SpecError, match=r"m\.toml: layers\[0\] \(Dense\) units: .*unknown name 'k'"):
        load(tmp_path / "m.toml")


def test_python_in_an_argument_is_rejected_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {**SMALL, "layers": [{"Dense": {"units": "__import__('os').system('touch PWNED')"}}]}
    (tmp_path / "evil.yaml").write_text(json.dumps(spec))
    with pytest.raises(SpecError, match=r"evil\.yaml: layers\[0\] \(Dense\) units: unexpected character"):
        load(tmp_path / "evil.yaml")
    assert not os.path.exists(tmp_path / "PWNED")


def test_yaml_python_tags_are_not_constructed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tag.yaml").write_text("name: !!python/object/apply:os.system ['touch PWNED']\ninput: [1]\nlayers: [Flatten]\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load(tmp_path / "tag.yaml")
    assert not os.path.exists(tmp_path / "PWNED")


@pytest.mark.parametrize("change, message", [
    ({"layers": [{"Dens": {"units": 3}}]}, r"layers\[0\]: unknown layer type 'Dens'"),
    ({"layers": [{"Dense": {"unitz": 3}}]}, r"layers\[0\] \(Dense\): .*unexpected keyword argument 'unitz'"),
    ({"layers": [{"Dense": {"units": "clases"}}]}, r"layers\[0\] \(Dense\): Dense units must be .*'clases'.*declared dim: n, k"),
    ({"layers": [{"Dense": {"units": 3, "activation": "rleu"}}]}, r"layers\[0\] \(Dense\): .*unknown activation.*'rleu'"),
    ({"input": ["n", "m"]}, r"input: 'm' is not a declared dim"),
    ({"dims": {"n": 0}}, r"the default of n must be a positive integer"),
    ({"dims": {"n-1": 3}}, r"a dim name must be an identifier"),
    ({"framework": "jax"}, r"unknown framework 'jax'"),
    ({"layer": []}, r"unknown key\(s\) layer"),
    ({"layers": [{"Dense": 3}]}, r"arguments must be a mapping or a list"),
    ({"layers": []}, r"layers must be a non-empty list"),
])
def test_malformed_entries_name_the_file_and_entry(change, message):
    with pytest.raises(SpecError, match=message):
        from_data({**SMALL, **change}, "m.yaml")


def test_missing_and_unparsable_files_are_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="no such architecture file"):
        load(tmp_path / "absent.yaml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SpecError, match=r"bad\.json: not valid JSON"):
        load(tmp_path / "bad.json")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(SpecError, match="unknown file type"):
        load(tmp_path / "m.txt")


@pytest.mark.oracle
@pytest.mark.parametrize("h, w", [(32, 32), (31, 20)])
def test_torch_file_equals_torch_modules(examples, h, w):
    import torch
    from torch import nn

    count = load(examples / "torch_cnn.yaml").model.count().subs(H=h, W=w, num_classes=10)
    module = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(16 * (h // 2) * (w // 2), 10))
    with torch.no_grad():
        out = module(torch.zeros(1, 3, h, w))
    assert int(count.total) == sum(p.numel() for p in module.parameters())
    assert int(count.buffers) == sum(b.numel() for b in module.buffers())
    assert count.output_shape[1:] == tuple(out.shape[1:])


def test_unknown_framework_lists_both():
    with pytest.raises(SpecError, match="unknown framework 'jax'. Expected: keras or torch"):
        from_data({**SMALL, "framework": "jax"}, "m.yaml")
