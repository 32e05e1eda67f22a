"""docs/limits.md names every limit with its default: each constant it names exists and has
the default the page gives (the page cannot drift from the code)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text(encoding="utf-8")
MIB = 1024 * 1024
DEFAULTS = {  # the page's default column, as numbers
    "symcount.spec.FILE_LIMIT": 4 * MIB, "symcount.spec.KERAS_LIMIT": 16 * MIB,
    "symcount.importers.hf.CONFIG_LIMIT": 4 * MIB, "symcount.spec.ALIAS_LIMIT": 100,
    "symcount.spec.DEPTH_LIMIT": 64, "symcount.spec.VALUES_LIMIT": 200_000, "symcount.spec.LAYER_LIMIT": 50_000,
    "symcount.targets.DIGITS_LIMIT": 40, "symcount.expression.MAX_LENGTH": 10_000,
    "symcount.expression.MAX_DEPTH": 50, "symcount.expression.MAX_DIGITS": 30,
    "symcount.expression.MAX_EXPONENT": 64, "symcount.scaling.common.NUMBER_LIMIT": 100,
    "symcount.scaling.grid.MAX_POINTS": 1_000_000, "symcount.importers.operators.REAL_LIMIT": 50_000_000,
}


def test_every_constant_the_page_names_is_checked_here():
    named = set(re.findall(r"`(symcount\.[a-z_.]+\.[A-Z_]+)`", PAGE))
    assert named == set(DEFAULTS)


@pytest.mark.parametrize("name, default", DEFAULTS.items())
def test_each_limit_has_the_documented_default(name, default):
    module, _, constant = name.rpartition(".")
    assert getattr(importlib.import_module(module), constant) == default
