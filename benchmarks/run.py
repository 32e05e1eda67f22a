"""Benchmarks: symcount against what users run today (issue 8).

    python benchmarks/run.py              # everything; writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick      # symcount's side only, one run each: a smoke test; prints

One process, side by side, medians of repeated runs. Each time is measured twice: CPU
time of this process (``time.process_time``: every thread, so a multi-threaded
framework is charged for all its threads) and wall time (``time.perf_counter``).
The machine is shared, so speed-ups are given on both.

symcount's times are *cold*: before every repetition every cache of symcount is cleared —
the zoo's per-entry cache, ``layer.build``'s per-(layer, shape) cache, ``dims.at_least``,
the printing and derivation caches — so each run builds the model from its layers
again. SymPy's own global cache is left as a long-running process has it, except in the
rows marked "SymPy cache cleared too" and in the growth table. *Warm* rows reuse the
zoo's cached symbolic count: what a second query costs.

Every comparison checks that both sides give the same number before it is timed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "zoo"))  # torchvision_defs: torchvision's classes, transcribed

import sympy  # noqa: E402

import symcount  # noqa: E402
from symcount import zoo  # noqa: E402

GPT3 = dict(n_layer=96, n_embd=12288, n_head=96, vocab_size=50257, n_positions=2048)


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


@dataclass
class Timing:
    cpu: float
    wall: float
    runs: int

    def text(self) -> str:
        return f"{_seconds(self.cpu)} ({_seconds(self.wall)})"


def _seconds(t: float) -> str:
    if t >= 100:
        return f"{t:,.0f} s"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 0.01:
        return f"{t * 1e3:.0f} ms"
    if t >= 0.001:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def measure(fn, repeat: int, before=None):
    """Median CPU and wall time of ``fn()`` over ``repeat`` runs, ``before()`` untimed
    ahead of each; returns the timing and the last result."""
    cpus, walls, result = [], [], None
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Timing(statistics.median(cpus), statistics.median(walls), repeat), result


def symcount_caches() -> list:
    """Every ``functools`` cache in symcount's loaded modules (the zoo's per-entry cache,
    ``layer.build``, ``dims.at_least``, the derivation caches …), except the zoo's
    record of which family modules it has imported."""
    caches = []
    for name, module in list(sys.modules.items()):
        if name != "symcount" and not name.startswith("symcount."):
            continue
        for attribute, value in list(vars(module).items()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name \
                    and (name, attribute) != ("symcount.zoo.registry", "_load"):
                caches.append(value)
    return caches


def cold(sympy_too: bool = False):
    """Clear symcount's caches (and SymPy's): the next build starts from the layers."""
    def clear():
        for cache in symcount_caches():
            cache.cache_clear()
        if sympy_too:
            sympy.core.cache.clear_cache()
    return clear


@dataclass
class Row:
    task: str
    ours: str
    ours_time: Timing
    theirs: str = ""
    theirs_time: Timing | None = None
    value: str = ""

    def cells(self) -> list[str]:
        if self.theirs_time is None:
            ratio = "—"
        else:
            cpu = _ratio(self.theirs_time.cpu, self.ours_time.cpu)
            ratio = f"{cpu} ({_ratio(self.theirs_time.wall, self.ours_time.wall)})"
        theirs = self.theirs_time.text() if self.theirs_time else ""
        return [self.task, self.value, self.ours, self.ours_time.text(), self.theirs, theirs, ratio]


def _ratio(theirs: float, ours: float) -> str:
    r = theirs / ours
    if r >= 1e4:
        return f"{r:.1e}×"
    if r >= 10:
        return f"{r:,.0f}×"
    return f"{r:.1f}×"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# what users run today
# ---------------------------------------------------------------------------


def torch_numel(model) -> int:
    return sum(p.numel() for p in model.parameters())


def hf_gpt2(device: str, eager: bool = False, **config):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    extra = {"attn_implementation": "eager"} if eager else {}
    with torch.device(device):
        return GPT2LMHeadModel(GPT2Config(**config, **extra))


def torchvision_model(name: str, device: str):
    import torch
    import torchvision_defs

    with torch.device(device):
        return torchvision_defs.MODELS[name]()


def flop_counter(model, inputs) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(**inputs) if isinstance(inputs, dict) else model(inputs)
    return counter.get_total_flops()


# ---------------------------------------------------------------------------
# the comparisons
# ---------------------------------------------------------------------------


def ours(name: str, what: str = "total", **values) -> int:
    """symcount: the zoo entry built, counted and substituted; ``what`` as an int."""
    return int(getattr(zoo.get(name, **values), what))


def check(label: str, a: int, b: int) -> int:
    if a != b:
        raise SystemExit(f"{label}: symcount says {a:,}, the framework {b:,}")
    return a


def gpt3(reps) -> list[Row]:
    name = "transformers:GPT2LMHeadModel"
    values = {**GPT3, "seq_len": GPT3["n_positions"]}
    t_meta, n = measure(lambda: torch_numel(hf_gpt2("meta", **GPT3)), reps.framework)
    t_ours, ours_n = measure(lambda: ours(name, **values), reps.ours, cold())
    t_sympy, _ = measure(lambda: ours(name, **values), reps.ours, cold(sympy_too=True))
    t_warm, _ = measure(lambda: ours(name, **values), reps.ours)
    value = f"{check('GPT-3', ours_n, n):,}"
    baseline = "transformers `GPT2LMHeadModel` on `meta` + `sum(numel)`"
    return [
        Row("GPT-3-sized count", "zoo build + count + subs", t_ours, baseline, t_meta, value),
        Row("", "the same, SymPy cache cleared too", t_sympy, baseline, t_meta, value),
        Row("", "warm: subs on the cached closed form", t_warm, baseline, t_meta, value),
    ]


def cnn_counts(reps) -> list[Row]:
    import keras

    rows = []
    for label, tv, ka in (("ResNet-50", "resnet50", "ResNet50"), ("VGG16", "vgg16", "VGG16")):
        t_ours, n_ours = measure(lambda: ours(f"torchvision:{tv}"), reps.ours, cold())
        t_sympy, _ = measure(lambda: ours(f"torchvision:{tv}"), reps.ours, cold(sympy_too=True))
        t_meta, n_meta = measure(lambda: torch_numel(torchvision_model(tv, "meta")), reps.framework)
        t_cpu, n_cpu = measure(lambda: torch_numel(torchvision_model(tv, "cpu")), reps.framework)
        t_warm, _ = measure(lambda: ours(f"torchvision:{tv}"), reps.ours)
        value = f"{check(label, n_ours, n_meta):,}"
        check(label, n_ours, n_cpu)
        rows += [Row(f"{label} count (torchvision)", f"`torchvision:{tv}`", t_ours,
                     "torch on `meta` + `sum(numel)`", t_meta, value),
                 Row("", "", t_ours, "torch on CPU + `sum(numel)`", t_cpu, value),
                 Row("", "the same, SymPy cache cleared too", t_sympy, "torch on CPU + `sum(numel)`", t_cpu, value),
                 Row("", "warm: subs on the cached closed form", t_warm, "torch on `meta` + `sum(numel)`", t_meta,
                     value)]

        app = getattr(keras.applications, ka)
        t_ours, n_ours = measure(lambda: ours(f"keras:{ka}"), reps.ours, cold())
        t_keras, model = measure(lambda: app(weights=None), reps.slow, keras.backend.clear_session)
        t_count, n_keras = measure(model.count_params, reps.framework)
        t_warm, _ = measure(lambda: ours(f"keras:{ka}"), reps.ours)
        build_and_count = Timing(t_keras.cpu + t_count.cpu, t_keras.wall + t_count.wall, t_keras.runs)
        value = f"{check(label, n_ours, n_keras):,}"
        rows += [Row(f"{label} count (Keras)", f"`keras:{ka}`", t_ours,
                     f"`keras.applications.{ka}(weights=None)` + `count_params()`", build_and_count, value),
                 Row("", "", t_ours, "`count_params()` alone, model already built", t_count, value),
                 Row("", "warm: subs on the cached closed form", t_warm,
                     "`count_params()` alone, model already built", t_count, value)]
        keras.backend.clear_session()
    return rows


def flops(reps) -> list[Row]:
    import torch

    rows = []
    ids = {"input_ids": torch.zeros(1, 1024, dtype=torch.long)}
    meta_ids = {"input_ids": torch.zeros(1, 1024, dtype=torch.long, device="meta")}
    t_ours, f_ours = measure(lambda: ours("transformers:GPT2LMHeadModel", "flops", seq_len=1024), reps.ours, cold())
    t_meta, f_meta = measure(lambda: flop_counter(hf_gpt2("meta", eager=True), meta_ids), reps.framework)
    t_cpu, f_cpu = measure(lambda: flop_counter(hf_gpt2("cpu", eager=True), ids), reps.slow)
    value = f"{check('GPT-2 FLOPs', f_ours, f_meta):,}"
    check("GPT-2 FLOPs", f_ours, f_cpu)
    baseline = "GPT-2 (eager attention) forward under `FlopCounterMode`"
    rows += [Row("GPT-2 forward FLOPs, 1024 tokens", "`transformers:GPT2LMHeadModel` `.flops`", t_ours,
                 baseline + ", `meta`", t_meta, value),
             Row("", "", t_ours, baseline + ", CPU", t_cpu, value)]

    image = torch.zeros(1, 3, 224, 224)
    meta_image = torch.zeros(1, 3, 224, 224, device="meta")
    t_ours, f_ours = measure(lambda: ours("torchvision:resnet50", "flops"), reps.ours, cold())
    t_meta, f_meta = measure(lambda: flop_counter(torchvision_model("resnet50", "meta"), meta_image), reps.framework)
    t_cpu, f_cpu = measure(lambda: flop_counter(torchvision_model("resnet50", "cpu"), image), reps.slow)
    value = f"{check('ResNet-50 FLOPs', f_ours, f_meta):,}"
    check("ResNet-50 FLOPs", f_ours, f_cpu)
    baseline = "ResNet-50 forward under `FlopCounterMode`"
    rows += [Row("ResNet-50 forward FLOPs, 224²", "`torchvision:resnet50` `.flops`", t_ours,
                 baseline + ", `meta`", t_meta, value),
             Row("", "", t_ours, baseline + ", CPU", t_cpu, value)]
    return rows


def imports(reps) -> list[Row]:
    """Importing what users bring (issue 16): a Hugging Face config to a checked formula, and
    a torch module counted by its operators, against building the model on ``meta`` and
    running ``FlopCounterMode``."""
    import warnings

    import torch
    import transformers

    from symcount.importers import SymcountImportWarning

    rows = []
    config = ROOT / "examples" / "hf" / "llama-2-7b" / "config.json"
    seq = 4096

    def from_hf():
        with warnings.catch_warnings():
            warnings.simplefilter("error", SymcountImportWarning)  # checked, all placed
            model = symcount.from_hf(config)
        at = model.count().subs(model.values)
        return int(at.total), int(at.flops)

    def meta_llama():
        cfg = transformers.AutoConfig.from_pretrained(config.parent)
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
        ids = torch.zeros(1, seq, dtype=torch.long, device="meta")
        mask = torch.ones(1, seq, dtype=torch.long, device="meta")  # without it the mask code calls .item()
        return torch_numel(model), flop_counter(model, {"input_ids": ids, "attention_mask": mask,
                                                         "use_cache": False})

    t_ours, (n_ours, f_ours) = measure(from_hf, reps.slow, cold())
    t_meta, (n_meta, f_meta) = measure(meta_llama, reps.slow)
    value = f"{check('Llama-2-7B', n_ours, n_meta):,} params, {check('Llama-2-7B FLOPs', f_ours, f_meta):,} FLOPs"
    rows.append(Row("Llama-2-7B from its config.json, 4096 tokens", "`sc.from_hf` to a checked formula + `subs`",
                    t_ours, "transformers on `meta` + `sum(numel)` + `FlopCounterMode`", t_meta, value))

    import torchvision_defs

    def from_torch():
        with torch.device("meta"):
            module = torchvision_defs.MODELS["resnet50"]()
        count = symcount.from_torch(module, (3, 224, 224)).count()
        return int(count.total), int(count.flops)

    def meta_resnet():
        module = torchvision_model("resnet50", "meta")
        return torch_numel(module), flop_counter(module, torch.zeros(1, 3, 224, 224, device="meta"))

    t_ours, (n_ours, f_ours) = measure(from_torch, reps.slow, cold())
    t_meta, (n_meta, f_meta) = measure(meta_resnet, reps.framework)
    value = f"{check('ResNet-50', n_ours, n_meta):,} params, {check('ResNet-50 FLOPs', f_ours, f_meta):,} FLOPs"
    del torchvision_defs
    rows.append(Row("ResNet-50 module imported, 224²", "`sc.from_torch` (operators recorded on `meta`)", t_ours,
                    "torch on `meta` + `sum(numel)` + `FlopCounterMode`", t_meta, value))
    return rows


#: ``symcount memory`` with every option: the zoo's Llama-2-7B (written with Megatron's
#: tensor-parallel roles) and the config file (an import: its roles read off the operators)
MEMORY_OPTIONS = ["--dtype", "bf16", "--optimizer", "adam", "--batch-size", "8", "--seq-len", "4096", "--pp", "4",
                  "--dp", "16", "--zero", "1", "--recompute", "selective", "--microbatches", "16", "--tp", "8",
                  "--sp", "--json"]


def memory_rows(reps) -> list[Row]:
    """``symcount memory`` answering "will it fit" (issue 17), in one process, cold."""
    import contextlib
    import io
    import json

    from symcount.cli import main as cli_main

    def run(argv):
        def go():
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert cli_main(argv) == 0, argv
            return json.loads(out.getvalue())["per_device"]["total"]["bytes"]
        return go

    rows = []
    for task, argv in (
            ("Llama-2-7B memory, every option (zoo entry)",
             ["memory", "transformers:LlamaForCausalLM", *MEMORY_OPTIONS]),
            ("Llama-2-7B memory, every option (config.json)",
             ["memory", str(ROOT / "examples" / "hf" / "llama-2-7b"), *MEMORY_OPTIONS])):
        timing, total = measure(run(argv), reps.slow, cold())
        rows.append(Row(task, "`symcount memory` (in process)", timing, value=f"{total:,} bytes per device"))
    return rows


def million_sweep(reps, frameworks: bool) -> list[Row]:
    import numpy as np

    from symcount.scaling import sweep

    name = "transformers:GPT2LMHeadModel"
    given = dict(vocab_size=50257, n_positions=1024, seq_len=1024, n_head=16)
    grid = dict(n_embd=np.arange(16, 16 * 1001, 16), n_layer=np.arange(1, 1001))
    count = zoo.symbolic(name)
    t_ours, result = measure(lambda: sweep(count, given=given, **grid), reps.ours)
    for i, j in ((0, 0), (511, 97), (999, 999)):
        values = dict(n_embd=int(grid["n_embd"][i]), n_layer=int(grid["n_layer"][j]), **given)
        assert int(result.values[i, j]) == int(count.subs(**values).total)
    points = result.values.size
    row = Row(f"sweep of {points:,} GPT configurations (n_embd × n_layer)",
              "`scaling.sweep` on the symbolic count", t_ours, value=f"{points:,} totals")
    if frameworks:
        config = dict(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
        t_one, _ = measure(lambda: torch_numel(hf_gpt2("meta", **config)), reps.framework)
        row.theirs = (f"one `GPT2LMHeadModel` on `meta` per configuration (GPT-2 size, 12 layers; "
                      f"deeper ones cost more) × {points:,}")
        row.theirs_time = Timing(t_one.cpu * points, t_one.wall * points, t_one.runs)
    return [row]


def growth(reps, sizes) -> tuple[list[list[str]], dict]:
    from symcount.keras import Dense, Input, Sequential

    lines, figures = [], {}
    for n in sizes:
        widths = symcount.dims(" ".join(f"d{i}" for i in range(n + 1)))

        def build():
            model = Sequential([Input((widths[0],))] + [Dense(w) for w in widths[1:]], name=f"mlp{n}")
            c = model.count()
            c.total, c.flops  # noqa: B018 — the totals are part of counting
            return c

        repeat = reps.ours if n < 1000 else reps.slow
        t_build, count = measure(build, repeat, cold(sympy_too=True))
        t_latex, _ = measure(lambda: count.latex(standalone=True), repeat, cold(sympy_too=True))
        figures[n] = (t_build, t_latex)
        lines.append([f"MLP, {n} `Dense` layers, widths `d0`…`d{n}` symbolic", t_build.text(), t_latex.text()])

    def resnet152():
        c = zoo.symbolic("torchvision:resnet152")
        c.total, c.flops  # noqa: B018
        return c

    t_build, count = measure(resnet152, reps.slow, cold(sympy_too=True))
    t_latex, _ = measure(lambda: count.latex(standalone=True), reps.slow, cold(sympy_too=True))
    figures["resnet152"] = (t_build, t_latex)
    lines.append(["ResNet-152 (`torchvision:resnet152`), `H`, `W`, `num_classes` symbolic",
                  t_build.text(), t_latex.text()])
    return lines, figures


def cli_startup(reps, quick: bool = False) -> tuple[list[list[str]], dict]:
    """New processes: the ``symcount`` console script against ``python -c "import sympy"``.

    Measured with bytecode cached (``PYTHONPYCACHEPREFIX`` to a temporary directory,
    one warm-up run first), as after any installation; and in this process's own
    environment, which may set ``PYTHONDONTWRITEBYTECODE`` (then every start compiles
    symcount's sources again, while SymPy's installed bytecode is used)."""
    # the console script itself (a pyenv or conda shim in front of it would add its own start-up)
    exe = Path(sysconfig.get_path("scripts")) / "symcount"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "symcount"]
    runs = {
        "`symcount count examples/seed_cnn.yaml`": command + ["count", str(ROOT / "examples" / "seed_cnn.yaml")],
        '`python -c "import sympy"`': [sys.executable, "-c", "import sympy"],
        '`python -c "pass"`': [sys.executable, "-c", "pass"],
    }
    if quick:
        del runs['`python -c "pass"`']
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environments = {"bytecode cached": cached}
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not quick:
        environments["`PYTHONDONTWRITEBYTECODE=1` (this machine's setting)"] = dict(os.environ)
    lines, figures = [], {}
    with tempfile.TemporaryDirectory() as prefix:
        cached["PYTHONPYCACHEPREFIX"] = prefix
        for argv in runs.values():  # warm-up: write the bytecode
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=cached)
        for environment, env in environments.items():
            for label, argv in runs.items():
                cpus, walls = [], []
                for _ in range(reps.cli):
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
                    walls.append(time.perf_counter() - start)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                t = Timing(statistics.median(cpus), statistics.median(walls), reps.cli)
                figures[(environment, label)] = t
                lines.append([label, environment, t.text()])
    return lines, figures


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}", f"SymPy {sympy.__version__}"]
    for package in ("numpy", "torch", "keras", "transformers"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "symcount"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip()
        if commit and changed:
            commit += " with uncommitted changes to symcount/"
    except OSError:
        commit = ""
    return [f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs",
            ", ".join(versions) + f"; symcount {symcount.__version__}" + (f" at {commit}" if commit else "")]


def targets(rows, figures, cli) -> list[str]:
    """The issue's done-when list, each with the measured figure."""
    out = []

    def line(ok, text):
        out.append(f"- {'met' if ok else '**not met**'}: {text}")

    by_task = {}
    task = ""
    for r in rows:
        task = r.task or task
        by_task.setdefault(task, []).append(r)
    if "GPT-3-sized count" in by_task:
        r = by_task["GPT-3-sized count"][0]
        c, w = r.theirs_time.cpu / r.ours_time.cpu, r.theirs_time.wall / r.ours_time.wall
        line(min(c, w) >= 20,
             f"GPT-3-sized count ≥ 20× faster than `meta` instantiation: {c:.0f}× CPU, {w:.0f}× wall")
    for key in ("ResNet-50 count (torchvision)", "ResNet-50 count (Keras)"):
        if key in by_task:
            r = by_task[key][1] if "torchvision" in key else by_task[key][0]
            c, w = r.theirs_time.cpu / r.ours_time.cpu, r.theirs_time.wall / r.ours_time.wall
            line(min(c, w) >= 5, f"{key} ≥ 5× faster than {r.theirs}: {c:.1f}× CPU, {w:.1f}× wall")
    for key in ("Llama-2-7B from its config.json, 4096 tokens", "ResNet-50 module imported, 224²"):
        if key in by_task:
            t = by_task[key][0].ours_time
            line(max(t.cpu, t.wall) < 2, f"{key} < 2 s (issue 16): {t.text()}")
    for key in ("Llama-2-7B memory, every option (zoo entry)",
                "Llama-2-7B memory, every option (config.json)"):
        if key in by_task:
            t = by_task[key][0].ours_time
            line(max(t.cpu, t.wall) < 1, f"{key} < 1 s (issue 17): {t.text()}")
    sweep_rows = [r for r in rows if r.task.startswith("sweep")]
    if sweep_rows:
        t = sweep_rows[0].ours_time
        line(max(t.cpu, t.wall) < 0.5, f"10⁶-configuration sweep < 0.5 s: {t.text()}")
    if "resnet152" in figures:
        b, l = figures["resnet152"]
        line(max(b.cpu, b.wall) < 2, f"symbolic ResNet-152 built and counted < 2 s: {b.text()}")
        line(max(l.cpu, l.wall) < 2, f"its LaTeX report < 2 s more: {l.text()}")
    if 100 in figures and 1000 in figures:
        c = figures[1000][0].cpu / figures[100][0].cpu
        w = figures[1000][0].wall / figures[100][0].wall
        line(max(c, w) <= 12, f"1000 `Dense` layers build ≤ 12× 100 layers: {c:.1f}× CPU, {w:.1f}× wall")
    if cli:
        ours_t = next(v for (e, k), v in cli.items() if e == "bytecode cached" and "symcount" in k)
        sympy_t = next(v for (e, k), v in cli.items() if e == "bytecode cached" and "sympy" in k)
        c, w = ours_t.cpu - sympy_t.cpu, ours_t.wall - sympy_t.wall
        line(max(c, w) <= 0.3, f"CLI start-up within 0.3 s of `import sympy` (bytecode cached): "
                               f"+{c:.2f} s CPU, +{w:.2f} s wall")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="symcount's side only (no torch/Keras/transformers), few repetitions; print, do not write")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the Markdown (default benchmarks/RESULTS.md; --quick: print only)")
    args = parser.parse_args(argv)

    class reps:  # repetitions: symcount, fast framework runs, slow framework runs, CLI processes
        ours, framework, slow, cli = (1, 1, 1, 1) if args.quick else (9, 5, 3, 9)

    load_before = os.getloadavg()
    started = time.perf_counter()
    # import the zoo's families once (module imports are not what is measured)
    for name in ("torchvision:resnet152", "transformers:GPT2LMHeadModel") if args.quick else ():
        zoo.entry(name)
    if not args.quick:
        zoo.entries()
    rows: list[Row] = []
    if not args.quick:
        rows += gpt3(reps)
        rows += cnn_counts(reps)
        rows += flops(reps)
        rows += imports(reps)
        rows += memory_rows(reps)
    rows += million_sweep(reps, frameworks=not args.quick)
    growth_lines, figures = growth(reps, (10, 100) if args.quick else (10, 100, 1000))
    cli_lines, cli = cli_startup(reps, args.quick)
    load_after = os.getloadavg()

    header = ["task", "value", "symcount", "symcount CPU (wall)", "what users run today", "their CPU (wall)",
              "speed-up CPU (wall)"]
    text = "\n".join([
        "# Benchmarks",
        "",
        f"Written by `python benchmarks/run.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        f" in {time.perf_counter() - started:.0f} s. Re-run it to refresh this page.",
        "",
        *(["**`--quick`: one run of each, symcount's side only — a smoke test of this script, not a"
           " measurement.**", ""] if args.quick else []),
        *[f"- {m}" for m in machine()],
        f"- load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{', '.join(f'{x:.2f}' for x in load_after)} after — a shared machine: CPU time "
        "(`time.process_time`, all threads of the process) is the steadier figure; wall time is in parentheses",
        "",
        "Medians of repeated runs in one process. symcount's times are **cold** unless marked warm: every cache"
        " of symcount (the zoo's per-entry cache, `layer.build`'s per-(layer, shape) cache, `dims.at_least`,"
        " the derivation caches) is cleared before every repetition, so each run builds the model from its"
        " layers again; SymPy's own cache is left as a running process has it, except where the row says so."
        " Module imports are not timed on either side. Every comparison checks that both sides give the same"
        " number.",
        "",
        "## Counts and FLOPs against the frameworks",
        "",
        table(header, [r.cells() for r in rows]),
        "",
        "## Symbolic build cost as models grow",
        "",
        "Here SymPy's cache is cleared too before every repetition: it holds 1000 expressions, so a"
        " 100-layer model would otherwise find its previous run's expressions there while a 1000-layer"
        " one overflows it, and the growth would look worse than it is.",
        "",
        table(["model", "build + count (totals, FLOPs)", "LaTeX report (`latex(standalone=True)`)"], growth_lines),
        "",
        "## CLI start-up (a new process each run)",
        "",
        table(["command", "environment", "CPU (wall)"], cli_lines),
        "",
        "## Targets (issue 8)",
        "",
        "Each speed-up target is judged on the less favourable of the CPU and the wall-time ratio.",
        "",
        *targets(rows, figures, cli),
        "",
        "## Notes",
        "",
        "- torchvision cannot be installed beside the CPU build of torch 2.13.0 here, so the torch side"
        " builds `tests/zoo/torchvision_defs.py`, a transcription of torchvision 0.28's classes that leaves"
        " out torchvision's own weight-initialisation loop: its CPU instantiation is, if anything, faster"
        " than torchvision's.",
        "- On the `meta` device torch allocates nothing, so a small CNN instantiates in a few"
        " milliseconds: a cold symbolic build of ResNet-50 or VGG16 is not faster than that; the warm"
        " query (substituting into the cached closed form) is. Transformers at GPT-3 size are where"
        " `meta` instantiation gets slow (hundreds of modules), and the closed form does not.",
        "- `count_params()` on a Keras model that is already built only sums its weights' stored shapes;"
        " symcount has no built model to start from, so its cold time includes building the closed form."
        " The comparison that matches what a user runs is the construction plus `count_params()`.",
        "- The sweep's framework column is extrapolated from one `meta` instantiation at GPT-2 size;"
        " most of the grid's configurations are deeper and would take longer.",
        "- FLOPs: `FlopCounterMode` counts 2 per multiply-accumulate of matrix products and convolutions;"
        " symcount's `flops` follows that convention, and both sides' numbers are checked equal.",
        "",
    ])
    output = args.output or (None if args.quick else Path(__file__).with_name("RESULTS.md"))
    if output is None:
        print(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
