"""Field constraints of the scenario schema: each states its allowed range once.

A constraint object is placed in a field's annotation, e.g.
``Annotated[float, Limit(0, 1)]`` or ``Annotated[Value, ParamSpec(1, 100_000, integer=True)]``;
pydantic validates the field with the object's ``check`` method (through
``__get_pydantic_core_schema__``), and :func:`sim.spec.scenario.field_limits`
reads the same objects to document the limits, so the message a user sees and
the documented range come from the same numbers.

Every range is finite: a scenario that validates must run, so counts, money,
durations and rates stop at values the engines can hold in 64-bit numbers and
finish in bounded time. Booleans are never accepted as numbers.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from sim.spec.distributions import Distribution, DistributionError, Fixed, parse_distribution

__all__ = ["Limit", "ParamSpec", "Text", "DateRange", "Value"]

#: A scalar parameter as written in a scenario: a number or a distribution.
Value = float | Distribution


def _g(x: float) -> str:
    """A limit in words: whole numbers in full with separators, others in short form."""
    if float(x).is_integer() and abs(x) < 1e16:
        return f"{int(x):,}".replace(",", "_")
    return f"{x:g}"


class _Checked:
    """A constraint that pydantic applies by calling its ``check`` method (its only validation)."""

    def check(self, raw: Any) -> Any:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)


@dataclass(frozen=True)
class Limit(_Checked):
    """The allowed range of a plain number field: ``lo <= x <= hi`` (``lo < x`` if ``open_lo``)."""

    lo: float
    hi: float
    integer: bool = False
    open_lo: bool = False

    def allowed(self) -> str:
        """The allowed range in words, e.g. 'between 0 and 1' or 'above 0 and at most 100'."""
        if self.open_lo:
            text = f"above {_g(self.lo)} and at most {_g(self.hi)}"
        else:
            text = f"between {_g(self.lo)} and {_g(self.hi)}"
        return text + (" (a whole number)" if self.integer else "")

    def inside(self, lo: float, hi: float) -> bool:
        """Whether ``[lo, hi]`` lies inside the allowed range."""
        too_low = lo < self.lo or (self.open_lo and lo <= self.lo)
        return not too_low and hi <= self.hi

    def number(self, raw: Any) -> float:
        """``raw`` as a finite float, or ValueError saying what is allowed; booleans are refused."""
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"must be a number, {self.allowed()} (got {_short(raw)})")
        if isinstance(raw, int) and abs(raw) > 2**63:
            raise ValueError(f"must be {self.allowed()} (got a number with {len(str(abs(raw)))} digits)")
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"must be finite, {self.allowed()} (got {raw!r})")
        if self.integer and not value.is_integer():
            raise ValueError(f"must be {self.allowed()} (got {raw!r})")
        if not self.inside(value, value):
            raise ValueError(f"must be {self.allowed()} (got {raw!r})")
        return value

    def check(self, raw: Any) -> float | int:
        """Validate a plain number field: an int for whole-number fields, else a float."""
        value = self.number(raw)
        return int(value) if self.integer else value


@dataclass(frozen=True)
class ParamSpec(Limit):
    """Marks a field as a per-replication parameter (or a firm-level distribution) and states its range.

    A distribution is accepted only if its lower end lies in the range, its
    upper end too when it is finite, and its mean in any case: a distribution
    with an unbounded tail (lognormal, gamma, poisson) is allowed when its mean
    is in range; per-replication draws are clipped to the range.
    """

    firm_level: bool = False

    def check(self, raw: Any) -> Value:  # type: ignore[override]
        """Parse a number or distribution table and check it against the range."""
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = self.number(raw)
            return Fixed(value) if self.firm_level else value
        if isinstance(raw, dict):
            try:
                dist = parse_distribution(raw)
            except DistributionError as err:
                raise ValueError(str(err)) from None
        elif isinstance(raw, Distribution):
            dist = raw
        else:
            kind = "a distribution table" if self.firm_level else "a number or a distribution table"
            raise ValueError(
                f'must be {kind} such as {{dist = "lognormal", median = 1, sigma = 0.5}}, '
                f"{self.allowed()} (got {_short(raw)})"
            )
        if isinstance(dist, Fixed):
            value = self.number(dist.value)
            return Fixed(value) if self.firm_level else value
        self._check_distribution(dist)
        return dist

    def _check_distribution(self, dist: Distribution) -> None:
        lo, hi = dist.support()
        mean = dist.mean()
        name = _shorter(dist.describe(), 120)
        if not self.inside(lo, hi if math.isfinite(hi) else lo):
            raise ValueError(f"{name} can give {lo:g}..{hi:g}, but values must be {self.allowed()}")
        if not (math.isfinite(mean) and self.inside(mean, mean)):
            raise ValueError(f"{name} has mean {mean:g}, but values must be {self.allowed()}")


@dataclass(frozen=True)
class Text(_Checked):
    """A text field: at most ``max_chars`` characters and ``max_bytes`` bytes in UTF-8, no control characters.

    ``key`` restricts it to a name usable in dotted paths and folder names
    (letters, digits, ``_`` and ``-``, starting with a letter); ``forbidden``
    lists characters a text may not hold (names and labels are printed in
    console tables, where ``[`` and ``]`` are markup).
    """

    max_chars: int
    max_bytes: int
    required: bool = False
    key: bool = False
    forbidden: str = ""

    def allowed(self) -> str:
        """The allowed text in words."""
        if self.key:
            return f"a name of 1 to {self.max_chars} letters, digits, '_' or '-', starting with a letter"
        least = "1" if self.required else "0"
        without = f", without {' '.join(self.forbidden)}" if self.forbidden else ""
        size = f"{least} to {self.max_chars} characters (at most {self.max_bytes} bytes in UTF-8)"
        return f"text of {size}{without}"

    def check(self, raw: Any) -> str:
        """Validate a text value; ValueError says what is allowed."""
        if not isinstance(raw, str):
            raise ValueError(f"must be {self.allowed()} (got {_short(raw)})")
        fits = len(raw) <= self.max_chars and len(raw.encode("utf-8")) <= self.max_bytes
        control = any(unicodedata.category(c).startswith("C") or c in self.forbidden for c in raw)
        empty = self.required and not raw.strip()
        if not fits or control or empty or (self.key and not _is_key(raw)):
            raise ValueError(f"must be {self.allowed()} (got {_short(raw)})")
        return raw


def _is_key(text: str) -> bool:
    return (
        bool(text)
        and text[0].isascii()
        and text[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "_-") for c in text)
    )


@dataclass(frozen=True)
class DateRange(_Checked):
    """A calendar date between ``first`` and ``last`` (the calendar of results must fit pandas' range)."""

    first: date
    last: date

    def allowed(self) -> str:
        """The allowed dates in words."""
        return f"a date between {self.first.isoformat()} and {self.last.isoformat()}"

    def check(self, raw: Any) -> date:
        """Validate a date (a TOML date, or text such as 2025-11-18)."""
        value = raw
        if isinstance(raw, str) and len(raw) <= 40:
            try:
                value = date.fromisoformat(raw)
            except ValueError:
                value = raw
        if type(value) is not date or not self.first <= value <= self.last:
            raise ValueError(f"must be {self.allowed()} (got {_short(raw)})")
        return value


def _short(raw: Any) -> str:
    """``repr(raw)``, cut to 60 characters: a message never repeats a huge value."""
    return _shorter(raw.isoformat() if isinstance(raw, date) else repr(raw), 60)


def _shorter(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
