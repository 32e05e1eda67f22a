"""Render the gallery's pictures into docs/img/gallery/ (and the README's picture,
docs/img/seed_cnn_derivation.png): LaTeX documents written by symcount, compiled with
pdflatex and turned into PNG pages with pdftoppm, and plots from symcount.scaling.

    python docs/gen_gallery.py

Needs pdflatex and pdftoppm (TeX Live, poppler) and the plot extra (matplotlib). The
PNGs are committed; docs/gallery.md shows them with the commands that make them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import symcount as sc  # noqa: E402
from symcount.spec import default_values, load  # noqa: E402

IMG = ROOT / "docs" / "img"
GALLERY = IMG / "gallery"
RESOLUTION = 90  # dpi: an A4 page is 744 × 1052 pixels

# name → (architecture file or zoo entry, values, pages to render)
DOCUMENTS = {
    "seed_cnn": ("examples/seed_cnn.yaml", {"classes": 9}, 3),
    "mlp": ("examples/mlp.yaml", {}, 1),
    "small_cnn": ("examples/small_cnn.yaml", {}, 2),
    "vgg16_symbolic": ("examples/vgg16.yaml", None, 1),        # every dim symbolic
    "torchvision_resnet18": ("torchvision:resnet18", {}, 2),
    "gpt2_symbolic": ("transformers:GPT2Model", None, 2),
}


def count_of(target: str, values: dict | None):
    """The target's count: an architecture file with its defaults and ``values`` put in,
    or a zoo entry at its defaults; ``values=None`` keeps every dim symbolic."""
    if target.endswith(".yaml"):
        spec = load(ROOT / target)
        count = spec.model.count()
        if values is None:
            return count
        bound = {k: v for k, v in default_values(spec).items() if v is not None}
        return count.subs({**bound, **values})
    if values is None:
        return sc.zoo.symbolic(target)
    return sc.zoo.get(target, **values)


def render_document(name: str, target: str, values, pages: int, workdir: Path) -> list[Path]:
    tex = workdir / f"{name}.tex"
    tex.write_text(count_of(target, values).latex(standalone=True), encoding="utf-8")
    for _ in range(2):  # longtable settles its column widths on the second run
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=workdir,
                       check=True, capture_output=True, timeout=300)
    prefix = workdir / name
    subprocess.run(["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", "1", "-l", str(pages), f"{name}.pdf",
                    str(prefix)], cwd=workdir, check=True, timeout=300)
    out = []
    for i, page in enumerate(sorted(workdir.glob(f"{name}-*.png")), start=1):
        target_path = GALLERY / f"{name}-{i}.png"
        shutil.copyfile(page, target_path)
        out.append(target_path)
    return out


def render_plots() -> list[Path]:
    from symcount.scaling import plot_contours, plot_scaling, plot_shares

    out = []
    seed = load(ROOT / "examples" / "seed_cnn.yaml").model.count()
    out.append(plot_scaling(seed, "H", range(32, 1025, 4), GALLERY / "seed_cnn_params_vs_H.png",
                            what=["total", "macs"], given={"W": 256, "classes": 9},
                            title="seed_cnn: parameters and MACs against the image height H (W = 256)"))
    gpt2 = sc.zoo.symbolic("transformers:GPT2Model")
    out.append(plot_shares(gpt2, "n_embd", [2 ** k for k in range(6, 15)], GALLERY / "gpt2_shares_vs_n_embd.png",
                           by="type", given={"n_layer": 12, "n_head": 1, "vocab_size": 50257, "n_positions": 1024,
                                             "seq_len": 1024},
                           title="GPT2Model: parameter shares by layer type against n_embd (12 layers)"))
    vgg = sc.zoo.symbolic("keras:VGG16")
    out.append(plot_contours(vgg, ("H", range(32, 1025, 16)), ("W", range(32, 1025, 16)),
                             GALLERY / "vgg16_macs_contours.png", what="macs", given={"classes": 1000},
                             budgets=["15.47e9", "50e9"],
                             title="keras:VGG16: MACs per image over H and W"))
    return out


def main() -> int:
    GALLERY.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (target, values, pages) in DOCUMENTS.items():
            written += render_document(name, target, values, pages, Path(tmp))
    shutil.copyfile(GALLERY / "seed_cnn-1.png", IMG / "seed_cnn_derivation.png")
    written.append(IMG / "seed_cnn_derivation.png")
    written += render_plots()
    for path in written:
        print(f"wrote {Path(path).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
