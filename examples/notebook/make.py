"""Writes the notebook-ready examples beside this file, from symcount itself:

- ``gpt2.md``: GPT-2's table, totals in the conventional notation (L, h, a, V, s) with
  the table of notation, and derivations, as Markdown with inline math — what
  ``symcount summary transformers:GPT2Model --format markdown`` prints and what
  ``IPython.display.Markdown(count.markdown())`` renders in Jupyter;
- ``seed_cnn.html``: the seed CNN's table as a notebook shows a ``Count``
  (``count._repr_html_()``), in a page of its own.

Run ``python examples/notebook/make.py`` after a change to the renderers;
``tests/test_output_examples.py`` checks that the files are what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def contents() -> dict[str, str]:
    """Each file's name and the text symcount writes for it."""
    sys.path.insert(0, str(ROOT))
    from symcount.spec import default_values, load
    from symcount.targets import load_target

    gpt2 = load_target("transformers:GPT2Model", [], [], [])
    spec = load(ROOT / "examples" / "seed_cnn.yaml")
    seed = spec.model.count().subs({**default_values(spec), "classes": 9})
    page = ("<!doctype html>\n<html><head><meta charset='utf-8'><title>seed_cnn</title></head>\n<body>\n"
            f"{seed._repr_html_()}\n</body></html>\n")
    return {"gpt2.md": gpt2.markdown(), "seed_cnn.html": page}


def main() -> None:
    from symcount.files import write_text

    for name, text in contents().items():
        write_text(HERE / name, text)
        print(HERE / name)


if __name__ == "__main__":
    main()
