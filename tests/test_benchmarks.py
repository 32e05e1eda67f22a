"""``benchmarks/run.py --quick`` runs (symcount's side only, one repetition each) and
writes its tables. The timings themselves are the benchmark's business, not a test's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_its_tables(tmp_path):
    out = tmp_path / "RESULTS.md"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    text = out.read_text(encoding="utf-8")
    for heading in ("## Counts and FLOPs against the frameworks", "## Symbolic build cost as models grow",
                    "## CLI start-up", "## Targets (issue 8)"):
        assert heading in text
    assert "| sweep of 1,000,000 GPT configurations" in text
    assert "ResNet-152 (`torchvision:resnet152`)" in text
    assert "`symcount count examples/seed_cnn.yaml`" in text
