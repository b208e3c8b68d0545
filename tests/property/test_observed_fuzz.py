"""Fuzz: observed-data files built from good and bad cells are read or refused by row, never crash.

Each case is a CSV file whose header is a shuffle of the required and some optional columns (now
and then with one missing or one unknown) and whose rows are good rows (which may still repeat or
contradict each other), a quarter of them with one wrong cell (unknown names, dates outside the
simulation or impossible, text, infinite or negative numbers, quotes, empty cells).
:func:`read_observed` must either return observations that satisfy every rule of the format, or
raise :class:`ObservedDataError` whose every line names the file and a row (or the file as a whole).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.spec.loader import load_scenario
from sim.spec.observations import (
    BOUNDS,
    COLUMNS,
    COUNT_QUANTITIES,
    OPTIONAL_COLUMNS,
    QUANTITIES,
    SIMULATED_AS,
    ObservedDataError,
    last_observable_day,
    read_observed,
)
from tests.conftest import DATA

SCENARIO = load_scenario(DATA / "small.toml").scenario
CASES = 300

_ODD = st.sampled_from(
    ["", " ", "x", '"', "nan", "-1", "1e999", "0x10", "1_000", "#", "\u00e9", "2.5", "awards"]
)
_USABLE = [q for q in QUANTITIES if SIMULATED_AS[q] is not None]
#: Cells of a good row, by column (a row's tolerance is made to fit its bound).
GOOD = {
    "scheme": st.sampled_from(["manufacturing_plus", "it_accelerator"]),
    "date": st.dates(date(2025, 11, 18), date(2029, 11, 13)).map(str),
    "quantity": st.sampled_from(_USABLE),
    "value": st.integers(0, 500).map(str),
    "bound": st.sampled_from(BOUNDS),
    "tolerance": st.sampled_from(["", "0.1", "0.5", "1"]),
    "source": st.text(max_size=10),
    "note": st.text(max_size=10),
    "colour": st.just("red"),
}
#: Wrong cells, by column.
BAD = {
    "scheme": st.just("manufacturing") | _ODD,
    "date": st.sampled_from(["2025-11-17", "2029-11-14", "2026-02-30", "1/2/2026", "20260101"]) | _ODD,
    "quantity": st.just("approved") | _ODD,
    "value": st.floats(allow_nan=True).map(str) | _ODD,
    "bound": st.just("Exact") | _ODD,
    "tolerance": st.sampled_from(["0", "2", "-0.1"]) | _ODD,
}


@st.composite
def observed_files(draw: st.DrawFn) -> str:
    """A header (the required columns, some optional ones; now and then one missing or unknown)
    and good rows, of which some get one wrong cell."""
    columns = list(COLUMNS) + draw(st.lists(st.sampled_from(OPTIONAL_COLUMNS), unique=True))
    if draw(st.integers(0, 9)) == 0:
        columns.remove(draw(st.sampled_from(COLUMNS)))
    if draw(st.integers(0, 9)) == 0:
        columns.append("colour")
    columns = draw(st.permutations(columns))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = {c: draw(GOOD[c]) for c in columns}
        if row.get("bound") != "approx" and "tolerance" in row:
            row["tolerance"] = ""
        if draw(st.integers(0, 3)) == 0:
            wrong = draw(st.sampled_from([c for c in columns if c in BAD]))
            row[wrong] = draw(BAD[wrong])
        rows.append([row[c] for c in columns])
    return "\n".join([",".join(columns), *(",".join(_quoted(c) for c in row) for row in rows)]) + "\n"


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\n\r') else cell


def _check_accepted(observations) -> None:
    for o in observations:
        assert o.scheme in SCENARIO.schemes
        assert SCENARIO.start_date <= o.day <= last_observable_day(SCENARIO)
        assert o.quantity in QUANTITIES
        assert SIMULATED_AS[o.quantity] is not None
        assert math.isfinite(o.value)
        assert o.value >= 0
        assert o.value.is_integer() or o.quantity not in COUNT_QUANTITIES
        assert o.bound in BOUNDS
        assert (0 < o.tolerance <= 1) if o.bound == "approx" else o.tolerance == 0


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=observed_files())
def test_observed_files_are_read_or_refused_by_row(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    try:
        data = read_observed(path, SCENARIO)
    except ObservedDataError as problem:
        for line in str(problem).splitlines():
            assert line.startswith(f"{path}: "), line
            rest = line.removeprefix(f"{path}: ")
            assert rest.startswith(("row ", "no observations", "the columns are", "... and")), line
    else:
        _check_accepted(data.observations)
