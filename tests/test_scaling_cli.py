"""The scaling commands: symcount scale, solve, sweep, shares (in-process through ``main``)."""

from __future__ import annotations

import pytest

from symcount.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def gpt_file(tmp_path):
    """An MLP file: d → 4d → d → V, with defaults."""
    path = tmp_path / "gpt.yaml"
    path.write_text(
        "name: tiny_mlp\n"
        "framework: torch\n"
        "dims: {V: 1000, d: 64, n: 4}\n"
        "input: [d]\n"
        "layers:\n"
        "  - Linear: {in_features: d, out_features: 4*d}\n"
        "  - Linear: {in_features: 4*d, out_features: d}\n"
        "  - Linear: {in_features: d, out_features: V}\n"
    )
    return path


def zoo_or_skip(name):
    """The entry's name, after checking it is registered (a missing entry fails the test)."""
    from symcount import zoo

    assert name in {e.name for e in zoo.entries()}, f"zoo entry {name} is not registered"
    return name


def test_scale_prints_the_leading_term_and_what_it_drops(capsys):
    target = zoo_or_skip("transformers:GPT2Model")
    status, out, _ = run(capsys, "scale", target, "--grow", "n_embd,n_layer")
    assert status == 0
    assert "leading term:  12*n_embd**2*n_layer  (degree 3)" in out
    assert "total = 124,439,808, leading term = 84,934,656, dropped 31.7 %" in out


def test_solve_reads_the_budget_exactly_and_finds_llama2_7b(capsys):
    target = zoo_or_skip("transformers:LlamaForCausalLM")
    status, out, _ = run(capsys, "solve", target, "--params", "6.74e9", "--for", "hidden_size",
                         "--multiple-of", "128", "--set", "num_hidden_layers=32")
    assert status == 0
    assert "hidden_size=4096: total = 6,738,415,616" in out
    assert "nearest above: hidden_size=4224" in out


def test_solve_for_two_dims_at_a_ratio(capsys):
    target = zoo_or_skip("transformers:LlamaForCausalLM")
    status, out, _ = run(capsys, "solve", target, "--params", "7B", "--for", "hidden_size,num_hidden_layers",
                         "--ratio", "128", "--nearest", "below")
    assert status == 0 and "hidden_size=4096, num_hidden_layers=32: total = 6,738,415,616" in out


def test_solve_for_a_compute_budget(capsys):
    target = zoo_or_skip("transformers:GPT2Model")
    status, out, _ = run(capsys, "solve", target, "--compute", "1e21", "--for", "n_embd,n_layer", "--ratio", "128",
                         "--multiple-of", "128", "--set", "n_head=16", "--causal")
    assert status == 0 and "n_embd=3072, n_layer=24: N = 2,876,408,832 parameters" in out
    assert "D = 57,528,176,640 tokens" in out  # 20 tokens per parameter, exactly


def test_sweep_prints_a_table_and_flags_invalid_points(capsys):
    target = zoo_or_skip("transformers:GPT2Model")
    status, out, err = run(capsys, "sweep", target, "--range", "n_embd=256:1024:256", "--range", "n_head=4,12",
                           "--what", "total,flops", "--csv")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "n_embd,n_head,total,flops,valid"
    assert "768,12,124439808,212600881152,yes" in lines
    assert "256,12,22605568,32212254720,invalid" in lines
    assert "break a validity condition: n_embd % n_head == 0" in err


def test_sweep_writes_a_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target = zoo_or_skip("transformers:GPT2Model")
    path = tmp_path / "params.png"
    status, out, _ = run(capsys, "sweep", target, "--range", "n_embd=256:4096:2x", "--set", "n_head=16",
                         "--plot", str(path))
    assert status == 0 and f"wrote {path}" in out
    assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 5000


def test_shares_with_limits(capsys):
    target = zoo_or_skip("transformers:GPT2Model")
    status, out, _ = run(capsys, "shares", target, "--by", "type", "--grow", "n_embd,n_layer")
    assert status == 0
    assert "Embedding      39,383,808  31.6 %" in out
    assert "GPT2Attention: 1/3  (33.3 %)" in out


def test_commands_work_on_architecture_files(capsys, gpt_file):
    status, out, _ = run(capsys, "scale", str(gpt_file), "--grow", "d")
    # (d·4d + 4d) + (4d·d + d) + (d·V + V) = 8d² + (V + 5)·d + V
    assert status == 0 and "leading term:  8*d**2  (degree 2)" in out and "degree 1:      d*(V + 5)" in out
    status, out, _ = run(capsys, "solve", str(gpt_file), "--params", "1e6", "--for", "d", "--nearest", "below")
    # V = 1000: 8d² + 1005d + 1000 ≤ 10⁶ up to d = 296 (999,408); d = 297 gives 1,005,157
    assert status == 0 and "d=296: total = 999,408" in out and "d=297 → 1,005,157" in out
    status, out, _ = run(capsys, "sweep", str(gpt_file), "--range", "d=1,2", "--range", "V=10")
    assert status == 0 and out.split() == ["d", "V", "total", "valid", "1", "10", "33", "yes", "2", "10", "72", "yes"]


@pytest.mark.parametrize("args, message", [
    (["solve", "{file}", "--params", "7.1.1", "--for", "d"], "--params: cannot read '7.1.1'"),
    (["solve", "{file}", "--params", "1e6", "--for", "d", "--set", "d=4"], "cannot also be given"),
    (["solve", "{file}", "--params", "1e6", "--for", "x"], "unknown dim 'x'"),
    (["solve", "{file}", "--params", "1e6", "--for", "d", "--multiple-of", "0"], "--multiple-of: expected a positive"),
    (["solve", "{file}", "--params", "1e6", "--for", "d", "--ratio", "2"], "ratio= is for two dims"),
    (["solve", "{file}", "--params", "1", "--for", "d", "--nearest", "below"], "no valid value"),
    (["scale", "{file}", "--grow", ","], "--grow: expected dim names"),
    (["scale", "{file}", "--grow", "d", "--set", "q=3"], "unknown dim 'q'"),
    (["sweep", "{file}", "--range", "d"], "expected DIM=SPEC"),
    (["sweep", "{file}", "--range", "d=0:4:1"], "positive integers"),
    (["sweep", "{file}", "--range", "d=1:4:1", "--what", "bytes"], "--what 'bytes'"),
    (["sweep", "{file}", "--range", "d=1:4:1", "--plot", "out.gif"], "end the file name in"),
    (["sweep", "{file}", "--range", "d=1,2", "--range", "V=1,2", "--range", "n=1", "--plot", "o.png"],
     "one range"),
    (["shares", "{file}", "--depth", "0"], "--depth must be at least 1"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, gpt_file, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *[a.replace("{file}", str(gpt_file)) for a in args])
    assert status == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
