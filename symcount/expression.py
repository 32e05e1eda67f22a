"""A small, safe parser for size expressions in architecture files.

Accepts only integers, declared dim names, ``+ - * / // ** ^`` and parentheses —
``"4*d_model"``, ``"d_model // n_head"``, ``"(H - 1) / 2"`` — and builds SymPy
expressions with SymPy's own operators. Nothing is passed to ``eval``, ``exec`` or
``sympify``; anything else (quotes, dots, calls, attribute access) is a
:class:`SpecError` that points at the offending character. Limits, checked as it reads:
:data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` nested parentheses, literals of
:data:`MAX_DIGITS` digits (and numbers it computes, ``(9**64)**64``, no longer: checked
before the power is taken), exponents that are whole numbers of at most
:data:`MAX_EXPONENT`, in the result too (``n**n**n`` is no size and would hang the first
substitution; ``(n**64)**64`` is ``n**4096``).

Grammar (usual precedence, ``**``/``^`` right-associative)::

    expr  := term (("+" | "-") term)*
    term  := unary (("*" | "/" | "//") unary)*
    unary := ("+" | "-") unary | power
    power := atom (("**" | "^") unary)?
    atom  := INTEGER | NAME | "(" expr ")"
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy

from .errors import SpecError

# ASCII only: full-width or superscript digits (１２, ²) and other Unicode spaces are errors,
# not read as numbers
_TOKEN = re.compile(r"\s*(?:(?P<int>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|//|[-+*/^()]))", re.ASCII)
_SPACE = re.compile(r"\s*", re.ASCII)
MAX_DIGITS = 30  # literals longer than this are not sizes
MAX_EXPONENT = 64  # a constant exponent above this is not a size either
MAX_LENGTH = 10_000  # characters of one expression
MAX_DEPTH = 50  # nested parentheses


def _max_bits() -> int:
    """About :data:`MAX_DIGITS` decimal digits, in bits (a number's size known without
    printing it)."""
    return int(MAX_DIGITS * 3.33) + 4


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """``(kind, text, position)`` tokens; a character outside the grammar is an error.
    Linear in the text (each match starts where the last ended)."""
    if len(text) > MAX_LENGTH:
        raise SpecError(f"an expression of {len(text):,} characters: at most {MAX_LENGTH:,}")
    tokens, pos, end = [], 0, len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if not match:
            start = _SPACE.match(text, pos).end()
            if start == end:
                break
            raise SpecError(
                f"unexpected character {text[start]!r} at position {start} in expression {_short(text)!r}: "
                "only integers, dim names, + - * / // ** ^ and parentheses are allowed"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "…"


class _Parser:
    def __init__(self, text: str, names: Mapping[str, sympy.Expr]):
        self.text, self.names = text, names
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def error(self, what: str) -> SpecError:
        return SpecError(f"{what} in expression {_short(self.text)!r}")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def take(self, *ops):
        kind, text, _ = self.peek()
        if kind == "op" and text in ops:
            self.i += 1
            return text
        return None

    def parse(self) -> sympy.Expr:
        if not self.tokens:
            raise self.error("empty expression")
        value = self.expr()
        kind, text, pos = self.peek()
        if kind is not None:
            raise self.error(f"unexpected {text!r} at position {pos}")
        return self.checked(value)

    def expr(self):
        value = self.term()
        while op := self.take("+", "-"):
            value = value + self.term() if op == "+" else value - self.term()
        return value

    def term(self):
        value = self.unary()
        while op := self.take("*", "//", "/"):
            right = self.unary()
            if op == "*":
                value = value * right
                continue
            if right.is_zero:
                raise self.error("division by zero")
            value = sympy.floor(value / right) if op == "//" else value / right
        return value

    def unary(self):
        if op := self.take("+", "-"):
            operand = self.unary()
            return operand if op == "+" else -operand
        return self.power()

    def power(self):
        base = self.atom()
        if self.take("**", "^"):
            exponent = self.unary()
            if not exponent.is_number:
                raise self.error(f"the exponent {exponent} holds a dim: a size's exponent must be a number")
            if exponent.is_number and abs(exponent) > MAX_EXPONENT:
                raise self.error(f"exponent {exponent} is too large for a size")
            if base.is_zero and exponent.is_number and exponent < 0:
                raise self.error("division by zero")
            if not exponent.is_Integer:
                raise self.error(f"the exponent {exponent} is not a whole number: a size's exponent is one")
            if base.is_Rational and max(abs(base.p), base.q).bit_length() * abs(int(exponent)) > _max_bits():
                raise self.error(f"{base}**{exponent} has more than {MAX_DIGITS} digits: too large for a size")
            return self.checked(base**exponent)
        return base

    def checked(self, value):
        """``value`` if its numbers have at most :data:`MAX_DIGITS` digits and its powers
        exponents of at most :data:`MAX_EXPONENT` (``(n**64)**64`` is ``n**4096``)."""
        for node in sympy.preorder_traversal(value):
            if node.is_Rational and max(abs(node.p), node.q).bit_length() > _max_bits():
                raise self.error(f"a number of more than {MAX_DIGITS} digits is too large for a size")
            if node.is_Pow and node.exp.is_number and abs(node.exp) > MAX_EXPONENT:
                raise self.error(f"exponent {node.exp} is too large for a size (at most {MAX_EXPONENT})")
        return value

    def atom(self):
        kind, text, pos = self.peek()
        if kind == "int":
            self.i += 1
            if len(text) > MAX_DIGITS:
                raise self.error(f"integer literal of {len(text)} digits is too long for a size")
            return sympy.Integer(int(text))
        if kind == "name":
            self.i += 1
            if text not in self.names:
                known = ", ".join(self.names) or "none"
                raise self.error(f"unknown name {text!r} (declared dims: {known})")
            return self.names[text]
        if self.take("("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"parentheses nested more than {MAX_DEPTH} deep")
            value = self.expr()
            self.depth -= 1
            if not self.take(")"):
                raise self.error(f"missing ')' at position {self.peek()[2]}")
            return value
        if kind is None:
            raise self.error("unexpected end")
        raise self.error(f"unexpected {text!r} at position {pos}")


def parse_expression(text: str, names: Mapping[str, sympy.Expr]) -> sympy.Expr:
    """Parse ``text`` into a SymPy expression over ``names`` (dim name → symbol)."""
    if not isinstance(text, str):
        raise SpecError(f"an expression must be a string. Received: {text!r}")
    return _Parser(text, names).parse()


def is_identifier(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text))
