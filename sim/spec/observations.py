"""Observed data: dated cumulative figures per scheme, read and checked against a scenario.

An observed-data file is a CSV file with one observation a row::

    scheme,date,quantity,value,bound,tolerance,source,note
    manufacturing_plus,2026-01-31,applications_received,120,exact,,LegCo reply,
    manufacturing_plus,2026-06-30,awarded,150,approx,0.1,press release,about 150
    manufacturing_plus,2026-11-30,awarded,300,at_least,,speech,more than 300

``scheme`` is a scheme of the scenario; ``date`` an ISO date (YYYY-MM-DD) from
the scenario's ``start_date`` to the end of its follow-up (the end of the last
week of the simulated grid); ``quantity`` one of :data:`QUANTITIES`, each a
cumulative count or sum since the scheme opened; ``value`` a finite number at
least 0 (a whole number for counts); ``bound`` ``exact``, ``approx`` (the true
figure lies within ``tolerance`` of it, relative: 0.1 is +-10%; an empty
tolerance is :data:`DEFAULT_TOLERANCE`) or ``at_least`` (the true figure is at
least this: "more than 100"). ``tolerance`` is given only for ``approx``;
``source`` and ``note`` are free text. The first five columns are required, the
last three optional; no other column is allowed. A row whose first cell starts
with ``#`` is a comment; empty rows are skipped.

Rows are numbered as a spreadsheet shows them: the first row of the file is row
1 (comment and empty rows count), so the header is row 1 when it comes first
and the first observation row 2. Every problem is one message naming the file,
the row, the field and what is allowed (:class:`ObservedDataError`).

Besides each row on its own, the file as a whole must be consistent: no two
rows for the same scheme, date and quantity; and a cumulative figure never
decreases, so an ``exact`` value may not be below an ``exact`` or ``at_least``
value of the same scheme and quantity on an earlier date (``approx`` values are
not compared, being approximate).

Each quantity is compared with one weekly series of the engines
(:data:`SIMULATED_AS`): ``approved`` with the approvals (files approved, whether
then funded or not), ``awarded`` with the awards. Files are read under the bounds of
:mod:`sim.spec.reading` (a regular file of at most 1 MiB, never a pipe or a
device); like the scenario, the file named on the command line may lie anywhere.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sim.spec.reading import ReadError, read_text_file
from sim.spec.scenario import Scenario
from sim.spec.suggest import did_you_mean

__all__ = [
    "BOUNDS",
    "COLUMNS",
    "COUNT_QUANTITIES",
    "DEFAULT_TOLERANCE",
    "MAX_OBSERVATIONS",
    "OPTIONAL_COLUMNS",
    "QUANTITIES",
    "SIMULATED_AS",
    "Observation",
    "ObservedData",
    "ObservedDataError",
    "last_observable_day",
    "observation_week",
    "read_observed",
]

#: The observed quantities: cumulative counts and sums since the scheme opened.
QUANTITIES: tuple[str, ...] = (
    "applications_received",
    "approved",
    "awarded",
    "committed_hkd",
    "paid_hkd",
    "completed",
)
#: Quantities that count files or firms (whole numbers); the others are HK$ sums.
COUNT_QUANTITIES: frozenset[str] = frozenset({"applications_received", "approved", "awarded", "completed"})
#: The weekly series (``sim.engines.metrics.SERIES``) each quantity is compared with.
SIMULATED_AS: dict[str, str] = {
    "applications_received": "applications",
    "approved": "approvals",
    "awarded": "awards",
    "committed_hkd": "committed_hkd",
    "paid_hkd": "paid_hkd",
    "completed": "completions",
}
#: What a figure says about the true value: equal to it, near it (within a tolerance), at least it.
BOUNDS: tuple[str, ...] = ("exact", "approx", "at_least")
#: Required columns, in the order a file normally gives them.
COLUMNS: tuple[str, ...] = ("scheme", "date", "quantity", "value", "bound")
#: Optional columns.
OPTIONAL_COLUMNS: tuple[str, ...] = ("tolerance", "source", "note")
#: Relative tolerance of an ``approx`` figure whose tolerance is left empty (+-10%).
DEFAULT_TOLERANCE = 0.1
#: Most observations (rows) in one file.
MAX_OBSERVATIONS = 10_000
#: Most problems listed for one file (the rest are counted).
MAX_PROBLEMS = 20

_WHAT = "observed-data file"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class ObservedDataError(Exception):
    """An observed-data file that cannot be used; ``str()`` is the message for the user."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


@dataclass(frozen=True)
class Observation:
    """One dated figure: its spreadsheet row, scheme, date, week of the simulated grid and bound.

    ``tolerance`` is the relative tolerance of an ``approx`` figure (0 otherwise).
    """

    row: int
    scheme: str
    day: date
    week: int
    quantity: str
    value: float
    bound: str
    tolerance: float = 0.0


@dataclass(frozen=True)
class ObservedData:
    """The observations of one file, in file order, checked against one scenario."""

    path: str
    observations: tuple[Observation, ...]

    def __len__(self) -> int:
        return len(self.observations)


def observation_week(day: date, start: date) -> int:
    """The week of the simulated grid whose value an observation dated ``day`` is compared with.

    Week ``w`` of the grid ends on ``start + w`` weeks and its cumulative value
    counts everything up to then; a date falls in the week that ends on it or
    next after it (``ceil(days / 7)``), as in the money-by-financial-year table,
    where a week counts in the period it ends in. ``start`` itself is week 0.
    """
    return -(-(day - start).days // 7)


def last_observable_day(scenario: Scenario) -> date:
    """The last date an observation may carry: the end of the last week of the simulated grid
    (``start_date`` plus the whole weeks of ``end_weeks``, the end of the follow-up)."""
    return scenario.start_date + timedelta(weeks=math.floor(scenario.end_weeks))


def read_observed(path: str | Path, scenario: Scenario) -> ObservedData:
    """Read an observed-data file and check it against ``scenario``. Raises :class:`ObservedDataError`."""
    path = Path(path)
    try:
        text = read_text_file(path, _WHAT, "observed-data file (.csv)")
    except ReadError as err:
        raise ObservedDataError(path, [str(err)]) from None
    records = _records(text, path)
    problems: list[str] = []
    observations: list[Observation] = []
    header: dict[str, int] | None = None
    for row, cells in records:
        if header is None:
            header = _header(cells, row, path)
            continue
        if len(observations) + len(problems) >= MAX_OBSERVATIONS:
            raise ObservedDataError(path, [f"row {row}: more than {MAX_OBSERVATIONS:,} observations"])
        try:
            observations.append(_observation(cells, header, row, scenario))
        except _RowProblem as problem:
            problems.append(str(problem))
    if header is None or (not observations and not problems):
        raise ObservedDataError(path, ["no observations; " + _columns_hint()])
    if not problems:
        problems = _consistency(observations)
    if problems:
        raise ObservedDataError(path, _capped(problems))
    return ObservedData(path=str(path), observations=tuple(observations))


class _RowProblem(ValueError):
    """One problem with one row: ``str()`` names the row and the field."""

    def __init__(self, row: int, field: str, problem: str):
        super().__init__(f"row {row}, {field}: {problem}")


def _records(text: str, path: Path) -> list[tuple[int, list[str]]]:
    """The CSV records that are neither empty nor comments, with their spreadsheet row numbers."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            out.append((row, [c.strip() for c in cells]))
    except csv.Error as err:
        raise ObservedDataError(path, [f"row {row + 1}: not valid CSV ({err})"]) from None
    return out


def _columns_hint() -> str:
    return (
        f"the columns are {', '.join(COLUMNS)} (required) and {', '.join(OPTIONAL_COLUMNS)} "
        "(optional), in a header row"
    )


def _header(cells: list[str], row: int, path: Path) -> dict[str, int]:
    """Column name -> position; every required column present, no unknown or repeated column."""
    allowed = COLUMNS + OPTIONAL_COLUMNS
    other = next((sep for sep in (";", "\t", "|") if len(cells) == 1 and sep in cells[0]), None)
    if other is not None:
        raise ObservedDataError(path, [f"row {row} (header): separate columns with commas, not {other!r}"])
    problems = []
    for name in cells:
        if name not in allowed:
            shown = repr(name) if name else "(an empty name)"
            problems.append(
                f"row {row} (header), column {shown}: unknown column{did_you_mean(name, allowed)}"
            )
        elif cells.count(name) > 1:
            problems.append(f"row {row} (header), column '{name}': given more than once")
    missing = [name for name in COLUMNS if name not in cells]
    if missing:
        problems.append(
            f"row {row} (header): missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    if problems:
        raise ObservedDataError(path, [*dict.fromkeys(problems), _columns_hint()])
    return {name: cells.index(name) for name in cells}


def _observation(cells: list[str], header: dict[str, int], row: int, scenario: Scenario) -> Observation:
    """One row checked field by field (the first problem is raised as :class:`_RowProblem`)."""
    if len(cells) != len(header):
        raise _RowProblem(row, "(the row)", f"{len(cells)} cells; the header has {len(header)} columns")
    cell = {name: cells[i] for name, i in header.items()}
    scheme = _scheme(cell["scheme"], row, scenario)
    day = _day(cell["date"], row, scenario)
    quantity = _quantity(cell["quantity"], row)
    value = _value(cell["value"], row, quantity)
    bound = _choice(cell["bound"], row, "bound", BOUNDS)
    tolerance = _tolerance(cell.get("tolerance", ""), row, bound)
    week = observation_week(day, scenario.start_date)
    return Observation(row, scheme, day, week, quantity, value, bound, tolerance)


def _choice(text: str, row: int, field: str, allowed: tuple[str, ...]) -> str:
    if text in allowed:
        return text
    got = f"'{text}'" if text else "empty"
    raise _RowProblem(row, field, f"{got}{did_you_mean(text, allowed)}; allowed: {', '.join(allowed)}")


def _scheme(text: str, row: int, scenario: Scenario) -> str:
    return _choice(text, row, "scheme", tuple(scenario.schemes))


def _quantity(text: str, row: int) -> str:
    return _choice(text, row, "quantity", QUANTITIES)


def _day(text: str, row: int, scenario: Scenario) -> date:
    first, last = scenario.start_date, last_observable_day(scenario)
    allowed = f"allowed: a date YYYY-MM-DD from {first} (start_date) to {last} (end of the follow-up)"
    try:
        day = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise _RowProblem(row, "date", f"'{text}' is not a date; {allowed}")
    if not first <= day <= last:
        raise _RowProblem(row, "date", f"{day} lies outside the simulated period; {allowed}")
    return day


def _number(text: str, row: int, field: str, allowed: str) -> float:
    """A finite number written plainly (digits, a point, an exponent), else a :class:`_RowProblem`."""
    number = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(number):
        raise _RowProblem(row, field, f"'{text}' is not a number; allowed: {allowed}")
    return number


def _value(text: str, row: int, quantity: str) -> float:
    whole = quantity in COUNT_QUANTITIES
    allowed = "a whole number, at least 0" if whole else "a number of HK$, at least 0"
    value = _number(text, row, "value", allowed)
    if value < 0 or (whole and not value.is_integer()):
        raise _RowProblem(row, "value", f"{text} is not allowed for {quantity}; allowed: {allowed}")
    return value


def _tolerance(text: str, row: int, bound: str) -> float:
    if bound != "approx":
        if text:
            raise _RowProblem(
                row, "tolerance", f"given for a bound '{bound}'; leave it empty (only approx has one)"
            )
        return 0.0
    if not text:
        return DEFAULT_TOLERANCE
    allowed = f"a share above 0 and at most 1 (0.1 is +-10%; empty: {DEFAULT_TOLERANCE})"
    tolerance = _number(text, row, "tolerance", allowed)
    if not 0 < tolerance <= 1:
        raise _RowProblem(row, "tolerance", f"{text} is not allowed; allowed: {allowed}")
    return tolerance


def _consistency(observations: list[Observation]) -> list[str]:
    """Problems of the file as a whole: repeated (scheme, date, quantity); decreasing figures."""
    problems: list[str] = []
    seen: dict[tuple[str, date, str], int] = {}
    for obs in observations:
        key = (obs.scheme, obs.day, obs.quantity)
        if key in seen:
            problems.append(
                f"row {obs.row}, date: {obs.scheme} {obs.quantity} on {obs.day} is given twice "
                f"(also row {seen[key]}); one figure per scheme, date and quantity"
            )
        seen.setdefault(key, obs.row)
    if not problems:
        problems.extend(_decreasing(observations))
    return problems


def _decreasing(observations: list[Observation]) -> Iterator[str]:
    """An exact figure below an earlier exact or at-least figure of the same scheme and quantity."""
    series: dict[tuple[str, str], list[Observation]] = {}
    for obs in observations:
        series.setdefault((obs.scheme, obs.quantity), []).append(obs)
    for group in series.values():
        floor: Observation | None = None
        for obs in sorted(group, key=lambda o: o.day):
            if obs.bound == "exact" and floor is not None and obs.value < floor.value:
                yield (
                    f"row {obs.row}, value: {obs.quantity} of {obs.scheme} is {obs.value:g} on {obs.day}, "
                    f"below {floor.value:g} ({floor.bound}) on {floor.day} (row {floor.row}); "
                    "allowed: a cumulative figure never decreases"
                )
            if obs.bound != "approx" and (floor is None or obs.value > floor.value):
                floor = obs


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more problems"]
