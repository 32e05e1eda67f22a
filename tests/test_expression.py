"""The safe expression parser: arithmetic over declared dims, nothing else."""

import pytest
import sympy

import symcount as sc
from symcount.errors import SpecError
from symcount.expression import parse_expression

D, N, H = sc.dims("d_model n_head H")
NAMES = {"d_model": D, "n_head": N, "H": H}


@pytest.mark.parametrize("text, expected", [
    ("4*d_model", 4 * D),
    ("d_model // n_head", sympy.floor(D / N)),
    ("(H - 1) / 2", (H - 1) / sympy.Integer(2)),
    ("2**3 + H^2", 8 + H**2),
    ("-3 + +H", H - 3),
    ("2 * (3 + 4) * 5", 70),
    ("7 / 2", sympy.Rational(7, 2)),
    ("2 ** 3 ** 2", 2**9),
])
def test_parses_arithmetic_exactly(text, expected):
    assert parse_expression(text, NAMES) == expected


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('touch PWNED')", "unexpected character"),
    ("d_model.real", "unexpected character '.'"),
    ("open('x')", "unexpected character"),
    ("H(1)", "unexpected '\\('"),
    ("lambda: 1", "unexpected character ':'"),
    ("H +", "unexpected end"),
    ("(H", "missing '\\)'"),
    ("", "empty expression"),
    ("H / 0", "division by zero"),
    ("depth * 2", "unknown name 'depth'"),
    ("2 ** 1000", "too large"),
    ("1" * 40, "too long"),
])
def test_rejects_anything_but_arithmetic(text, message):
    with pytest.raises(SpecError, match=message):
        parse_expression(text, NAMES)
