"""LaTeX output compiled by a real pdflatex (TeX Live) and read back with pdftotext.

Every example model's standalone document must compile without errors and without an
overfull line wider than the page, and its text must hold each layer's count and the
total: the numbers come from the articles and from Keras's published VGG16 summary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import symcount as sc
from symcount.cli import main
from symcount.dims import LATEX_NAMES
from symcount.keras import (BatchNormalization, Block, Conv2D, Dense, Flatten, Input, MaxPooling2D, Repeat,
                            Sequential)
from symcount.spec import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: per-layer counts (layers with weights, in order) and totals, from independent sources
EXPECTED = {
    # the article: 896, 9248 (×5), dense 11552·512 + 512, 512·128 + 128, 128·9 + 9
    "seed_cnn": (["--set", "classes=9"], [896, 9248, 9248, 9248, 9248, 9248, 5915136, 65664, 1161], 6029097),
    # the article: (4 + 1)·7 = 35, (7 + 1)·13 = 104, (13 + 1)·5 = 70
    "mlp": ([], [35, 104, 70], 209),
    # the article: 224, 12352, 16448, 32896, 1290
    "small_cnn": ([], [224, 12352, 16448, 32896, 1290], 63210),
    # Keras's VGG16 summary (include_top, classes=2 head)
    "vgg16": ([], [1792, 36928, 73856, 147584, 295168, 590080, 590080, 1180160, 2359808, 2359808,
                   2359808, 2359808, 2359808, 102764544, 16781312, 8194], 134268738),
}

#: how far a line may stick out before it counts as overflowing the page
OVERFULL_TOLERANCE_PT = 1.0


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: the LaTeX tests need TeX Live and poppler-utils "
                    "(.ci/run installs texlive-latex-base, texlive-latex-recommended and poppler-utils)")
    return path


def compile_pdf(tex: Path) -> tuple[str, str]:
    """pdflatex the file; return (log, pdftotext of the PDF). Fails with the TeX error."""
    run = subprocess.run([require("pdflatex"), "-halt-on-error", "-interaction=nonstopmode", tex.name],
                         cwd=tex.parent, capture_output=True, text=True, timeout=120)
    log = tex.with_suffix(".log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and not errors, f"pdflatex failed on {tex.name}: {errors[:3]}"
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(w <= OVERFULL_TOLERANCE_PT for w in overfull), f"{tex.name}: lines too wide by {overfull} pt"
    text = subprocess.run([require("pdftotext"), "-layout", tex.with_suffix(".pdf").name, "-"],
                          cwd=tex.parent, capture_output=True, text=True, check=True).stdout
    return log, text


def numbers(text: str) -> list[int]:
    """The integers in the text, thousands separators (comma, thin space) removed."""
    return [int(n.replace(",", "").replace("\u2009", "")) for n in re.findall(r"\d[\d,\u2009]*\d|\d", text)]


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_standalone_document_compiles_and_shows_every_count(model, tmp_path, capsys):
    sets, counts, total = EXPECTED[model]
    tex = tmp_path / f"{model}.tex"
    assert main(["latex", str(EXAMPLES / f"{model}.yaml"), *sets, "--standalone", "-o", str(tex)]) == 0
    assert capsys.readouterr().out == ""  # written to the file, not printed
    _, text = compile_pdf(tex)
    found = numbers(text)
    for count in counts:
        assert count in found, f"{model}: {count} not in the PDF"
    assert total in found
    # the derivations section gives each count as the end of a chain "… = count"
    derivations = re.sub(r"\s+", " ", text.split("Derivations", 1)[1]).replace(",", "")
    for count in set(counts):
        assert f"= {count}" in derivations, f"{model}: no derivation ends in {count}"


def test_seed_cnn_pdf_reads_like_the_hand_derivation(tmp_path):
    tex = tmp_path / "seed.tex"
    main(["latex", str(EXAMPLES / "seed_cnn.yaml"), "--set", "classes=9", "--standalone", "-o", str(tex)])
    _, text = compile_pdf(tex)
    flat = re.sub(r"\s+", " ", text)
    assert "3 · 3 · 3 · 32 + 32 = 896" in flat
    assert "19 · 19 · 32 = 11,552" in flat
    assert "11,552 · 512 + 512 = 5,915,136" in flat
    assert "H ≥ 32" in flat and "W ≥ 32" in flat  # the validity conditions


def test_symbolic_documents_break_long_equations_within_the_page(tmp_path, monkeypatch):
    """Closed forms in several dims, nested floors, repeats and blocks, a user's LaTeX name."""
    monkeypatch.setitem(LATEX_NAMES, "V", "V")  # restored after the test
    H, W, C, G, K = sc.dims("H W C G K")
    grouped = Sequential([
        Input((H, W, C)), Conv2D(4 * G, (3, 5), strides=(2, 3), groups=G, use_bias=False),
        BatchNormalization(center=False), Conv2D(K, 3, dilation_rate=2), MaxPooling2D((3, 2), strides=(2, 1)),
        MaxPooling2D(2, padding="same"), Flatten(), Dense(K * K)], name="grouped")
    d_model, n_layer, T = sc.dims("d_model n_layer T")
    V = sc.dim("V", latex=r"\lvert\mathcal{V}\rvert")
    layer = Block("layer", [Dense(4 * d_model, activation="gelu"), Dense(d_model), BatchNormalization()])
    toy = Sequential([Input((T, d_model)), Dense(d_model), Repeat(layer, n_layer), Dense(V)], name="toy")
    seed = load(EXAMPLES / "seed_cnn.yaml").model.count()
    for name, count in (("grouped", grouped.count()), ("toy", toy.count()), ("seed", seed)):
        tex = tmp_path / f"{name}.tex"
        tex.write_text(count.latex(standalone=True))
        compile_pdf(tex)
    assert r"\lvert\mathcal{V}\rvert" in toy.count().latex()


def test_fragment_compiles_with_the_packages_it_names(tmp_path, capsys):
    assert main(["latex", str(EXAMPLES / "small_cnn.yaml")]) == 0
    fragment = capsys.readouterr().out
    packages = re.match(r"% symcount: small_cnn\. Needs \\usepackage\{([a-z,]+)\}", fragment).group(1)
    tex = tmp_path / "paper.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage{%s}\n\\begin{document}\n%s\\end{document}\n"
                   % (packages, fragment))
    _, text = compile_pdf(tex)
    assert {224, 12352, 16448, 32896, 1290, 63210} <= set(numbers(text))


def test_fragment_has_the_table_and_the_derivations(capsys):
    assert main(["latex", str(EXAMPLES / "mlp.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("% symcount: mlp. Needs \\usepackage{amsmath,booktabs,array}")
    assert "\\begin{tabular}" in out and "\\toprule" in out and "\\bottomrule" in out
    assert "\\begin{align*}" in out and "4 \\cdot 7 + 7 = 35" in out


def test_writing_to_a_missing_directory_is_a_one_line_error(tmp_path, capsys):
    status = main(["latex", str(EXAMPLES / "mlp.yaml"), "-o", str(tmp_path / "no" / "such" / "file.tex")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: cannot write") and len(err.strip().splitlines()) == 1
