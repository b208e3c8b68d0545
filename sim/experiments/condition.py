"""A small, safe language for a condition on a result's outputs, for scenario discovery.

``schemesim discover RESULTS --where "CONDITION"`` marks each case (a
replication of a run, a point of a sweep) where CONDITION holds. Nothing is
evaluated as Python: the text is split into tokens and parsed by a small
recursive-descent parser into comparisons joined by ``and``, ``or`` and
``not``, with parentheses::

    exhaustion_week < 78 and exhausted_by == places
    unused budget > 30M
    benefit-cost ratio < 1 or not (awarded >= 300)

- A comparison is ``OUTPUT OP VALUE`` (or ``VALUE OP OUTPUT``, or two
  outputs); OP is one of ``< <= > >= == !=`` (``=`` means ``==``).
- An output is a column of the result; words may be separated by spaces,
  ``_`` or ``-`` (``exhaustion week`` is ``exhaustion_week``), and ``_hkd``
  may be left off (``unused budget`` is ``unused_budget_hkd``).
- A number may end in ``k`` (thousand), ``M`` (million), ``bn`` (billion) or
  ``%`` (a share: ``30%`` is 0.3).
- A text output (``exhausted_by``: ``money``, ``places`` or ``none``) is
  compared for equality with a word, quoted or not.

A comparison with a missing value (the week the places fill, in a run where
they never fill) is false, whatever the operator. An unknown output or word stops with one message
naming it, what is allowed and the closest allowed name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.spec.suggest import did_you_mean

__all__ = ["Condition", "ConditionError", "parse_condition", "MAX_LENGTH"]

#: Longest condition accepted (characters).
MAX_LENGTH = 1000

_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "bn": 1e9, "B": 1e9, "%": 0.01}
_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:bn|[kKmMB%])?(?![A-Za-z0-9_]))"
    r"|(?P<op><=|>=|==|!=|<|>|=)"
    r"|(?P<paren>[()])"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_\-]*)"
    r")"
)
_KEYWORDS = ("and", "or", "not")
_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


class ConditionError(ValueError):
    """A condition that cannot be read: the message says where and what is allowed."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number, op, paren, string, name, keyword
    text: str
    value: float | str


@dataclass(frozen=True)
class Operand:
    """One side of a comparison: an output column, a number or a word."""

    column: str | None = None
    number: float | None = None
    word: str | None = None


@dataclass(frozen=True)
class Comparison:
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class Join:
    op: str  # "and" | "or"
    parts: tuple[Node, ...]


Node = Comparison | Not | Join


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, its tree, and the output columns it reads."""

    text: str
    tree: Node
    columns: tuple[str, ...]

    def evaluate(self, table: Mapping[str, Sequence[object] | np.ndarray]) -> np.ndarray:
        """A boolean array: where the condition holds in ``table`` (column name -> values)."""
        return _evaluate(self.tree, table)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ConditionError(f"cannot read '{text[pos:].strip()[:20]}' (at character {pos + 1})")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        out.append(_token(kind, raw))
        pos = match.end()
    return _join_words(out)


def _token(kind: str, raw: str) -> _Token:
    if kind == "number":
        suffix = "bn" if raw.endswith("bn") else raw[-1] if raw[-1] in _SUFFIX else ""
        value = float(raw[: len(raw) - len(suffix)].replace("_", "")) * _SUFFIX[suffix]
        return _Token("number", raw, value)
    if kind == "string":
        return _Token("string", raw, raw[1:-1])
    if kind == "word" and raw.lower() in _KEYWORDS:
        return _Token("keyword", raw, raw.lower())
    return _Token(kind if kind != "word" else "name", raw, raw)


def _join_words(tokens: list[_Token]) -> list[_Token]:
    """Consecutive words (not keywords) are one name: ``unused budget`` -> ``unused_budget``."""
    out: list[_Token] = []
    for token in tokens:
        if token.kind == "name" and out and out[-1].kind == "name":
            joined = f"{out[-1].text} {token.text}"
            out[-1] = _Token("name", joined, joined)
        else:
            out.append(token)
    return out


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


class _Parser:
    """Recursive descent over the tokens: or > and > not > comparison."""

    def __init__(self, tokens: list[_Token], outputs: Mapping[str, Sequence[str] | None]):
        self.tokens = tokens
        self.pos = 0
        self.outputs = outputs
        self.columns: list[str] = []

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ConditionError(
                "the condition ends too early: a comparison such as 'awarded >= 300' is needed"
            )
        self.pos += 1
        return token

    def joined(self, op: str, inner: str) -> Node:
        parts = [getattr(self, inner)()]
        while (token := self.peek()) is not None and token.kind == "keyword" and token.value == op:
            self.take()
            parts.append(getattr(self, inner)())
        return parts[0] if len(parts) == 1 else Join(op, tuple(parts))

    def any_of(self) -> Node:
        return self.joined("or", "all_of")

    def all_of(self) -> Node:
        return self.joined("and", "negated")

    def negated(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "keyword" and token.value == "not":
            self.take()
            return Not(self.negated())
        if token is not None and token.text == "(":
            self.take()
            inner = self.any_of()
            if self.take().text != ")":
                raise ConditionError("a '(' is not closed by ')'")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        left = self.take()
        op = self.take()
        if op.kind != "op":
            raise ConditionError(
                f"after '{left.text}' a comparison (< <= > >= == !=) is needed, not '{op.text}'"
            )
        right = self.take()
        return _checked(self, left, "==" if op.text == "=" else op.text, right)

    def column(self, token: _Token) -> str | None:
        """The output a name stands for, or None if it names none."""
        name = _normal(token.text)
        for candidate in (name, f"{name}_hkd"):
            if candidate in self.outputs:
                return candidate
        return None

    def unknown(self, token: _Token) -> ConditionError:
        name = _normal(token.text)
        allowed = sorted(self.outputs)
        return ConditionError(
            f"'{token.text}' is not an output of this result{did_you_mean(name, allowed)}; "
            f"allowed: {', '.join(allowed)}"
        )


def _checked(parser: _Parser, left: _Token, op: str, right: _Token) -> Comparison:
    """A comparison of two tokens, with its operands resolved and their kinds checked."""
    columns = [parser.column(t) if t.kind == "name" else None for t in (left, right)]
    if columns == [None, None]:
        named = left if left.kind == "name" else right if right.kind == "name" else None
        if named is None:
            raise ConditionError(f"'{left.text} {op} {right.text}' compares no output of this result")
        raise parser.unknown(named)
    operands = []
    for token, column, other in ((left, columns[0], columns[1]), (right, columns[1], columns[0])):
        if column is not None:
            parser.columns.append(column)
            operands.append(Operand(column=column))
            continue
        operands.append(_value(parser, token, other or ""))
    _check_kinds(parser, operands, op)
    return Comparison(operands[0], op, operands[1])


def _value(parser: _Parser, token: _Token, column: str) -> Operand:
    """A number, or a word allowed for the text output ``column``."""
    words = parser.outputs.get(column)
    if token.kind == "number":
        return Operand(number=float(token.value))
    if words is None:
        if token.kind == "name":
            raise parser.unknown(token)
        raise ConditionError(f"'{column}' is a number; compare it with a number, not {token.text}")
    word = str(token.value).strip().lower()
    if word not in words:
        raise ConditionError(
            f"'{token.text}' is not a value of '{column}'{did_you_mean(word, words)}; "
            f"allowed: {', '.join(words)}"
        )
    return Operand(word=word)


def _check_kinds(parser: _Parser, operands: list[Operand], op: str) -> None:
    texts = [o.column is not None and parser.outputs.get(o.column) is not None for o in operands]
    if any(texts) or any(o.word is not None for o in operands):
        if op not in ("==", "!="):
            raise ConditionError(f"a text output is compared only with == or != (got {op})")
        if not all(texts[i] or operands[i].word is not None for i in range(2)):
            raise ConditionError("a text output is compared with a word (such as places), not a number")


def _evaluate(node: Node, table: Mapping[str, Sequence[object] | np.ndarray]) -> np.ndarray:
    if isinstance(node, Not):
        return ~_evaluate(node.inner, table)
    if isinstance(node, Join):
        parts = [_evaluate(p, table) for p in node.parts]
        combine = np.logical_and if node.op == "and" else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    left, right = (_side(o, table) for o in (node.left, node.right))
    with np.errstate(invalid="ignore"):
        out = np.asarray(_COMPARE[node.op](left, right), dtype=bool)
    for side in (left, right):  # a missing value (NaN) makes every comparison false, != included
        if isinstance(side, np.ndarray) and side.dtype.kind == "f":
            out = out & ~np.isnan(side)
    return out


def _side(operand: Operand, table: Mapping[str, Sequence[object] | np.ndarray]) -> np.ndarray | float | str:
    if operand.column is not None:
        return np.asarray(table[operand.column])
    if operand.number is not None:
        return operand.number
    return str(operand.word)


def parse_condition(text: str, outputs: Mapping[str, Sequence[str] | None]) -> Condition:
    """Parse ``text`` against ``outputs`` (output name -> its allowed words for a text output,
    None for a number); :class:`ConditionError` says what is wrong."""
    if not text.strip():
        raise ConditionError("the condition is empty; give one such as 'awarded >= 300'")
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"the condition is {len(text):,} characters long; at most {MAX_LENGTH:,}")
    parser = _Parser(_tokens(text), outputs)
    tree = parser.any_of()
    extra = parser.peek()
    if extra is not None:
        raise ConditionError(f"'{extra.text}' follows a complete comparison: join comparisons with and / or")
    return Condition(text.strip(), tree, tuple(dict.fromkeys(parser.columns)))
