"""Reading observed data: a good file's fields, the week an observation is compared at, the
consistency rules, and the shipped synthetic example (the refusals are in tests/cli)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from sim.engines.metrics import SERIES, weeks
from sim.spec.loader import LoadedScenario
from sim.spec.observations import (
    DEFAULT_TOLERANCE,
    QUANTITIES,
    SIMULATED_AS,
    ObservedDataError,
    last_observable_day,
    observation_week,
    read_observed,
)
from tests import observed_example

GOOD = (
    "\ufeff# a comment row, counted as row 1\n"
    "scheme,note,date,quantity,value,bound,tolerance,source\n"
    "manufacturing_plus,,2025-11-18,applications_received,0,exact,,\n"
    "\n"
    'manufacturing_plus,"said ""about 40""",2026-03-31,awarded,40,approx,,LegCo\n'
    "manufacturing_plus,,2026-03-31,paid_hkd,2500000.5,approx,0.25,\n"
    "it_accelerator,,2029-11-13,completed,3,at_least,,\n"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "obs.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_field_by_field(small: LoadedScenario, tmp_path: Path) -> None:
    data = read_observed(_write(tmp_path, GOOD), small.scenario)
    rows = [
        (o.row, o.scheme, o.day, o.week, o.quantity, o.value, o.bound, o.tolerance) for o in data.observations
    ]
    assert rows == [
        (3, "manufacturing_plus", date(2025, 11, 18), 0, "applications_received", 0.0, "exact", 0.0),
        (5, "manufacturing_plus", date(2026, 3, 31), 19, "awarded", 40.0, "approx", DEFAULT_TOLERANCE),
        (6, "manufacturing_plus", date(2026, 3, 31), 19, "paid_hkd", 2500000.5, "approx", 0.25),
        (7, "it_accelerator", date(2029, 11, 13), 208, "completed", 3.0, "at_least", 0.0),
    ]


def test_the_week_of_a_date_is_the_grid_week_it_ends_in() -> None:
    """Week w of the grid ends on start + w weeks; a date belongs to the week ending on it or next."""
    start = date(2025, 11, 18)
    for days in range(0, 400):
        day = start + timedelta(days=days)
        w = observation_week(day, start)
        assert start + timedelta(weeks=w - 1) < day <= start + timedelta(weeks=w) or (days == 0 and w == 0)
    assert [observation_week(start + timedelta(days=d), start) for d in (0, 1, 6, 7, 8, 14)] == [
        0,
        1,
        1,
        1,
        2,
        2,
    ]


def test_the_last_observable_day_is_the_last_grid_week(small: LoadedScenario) -> None:
    scenario = small.scenario
    last = last_observable_day(scenario)
    assert observation_week(last, scenario.start_date) == len(weeks(scenario.end_weeks)) - 1
    assert last == date(2029, 11, 13)


def test_every_simulated_quantity_has_its_series() -> None:
    assert set(SIMULATED_AS) == set(QUANTITIES)
    assert set(SIMULATED_AS.values()) <= set(SERIES)
    assert SIMULATED_AS["approved"] == "approvals"


@pytest.mark.parametrize(
    ("rows", "ok"),
    [
        (["2026-02-28,12,at_least", "2026-03-31,12,exact"], True),  # equal to an earlier lower bound
        (["2026-02-28,12,exact", "2026-03-31,8,at_least"], True),  # a later weaker bound says little
        (["2026-02-28,12,exact", "2026-03-31,8,approx"], True),  # approximate figures are not compared
        (["2026-02-28,12,approx", "2026-03-31,8,exact"], True),
        (["2026-02-28,12,at_least", "2026-03-31,11,exact"], False),
        (["2026-01-31,5,exact", "2026-02-28,12,at_least", "2026-03-31,9,exact"], False),
    ],
)
def test_cumulative_figures_never_decrease(
    small: LoadedScenario, tmp_path: Path, rows: list[str], ok: bool
) -> None:
    lines = [f"manufacturing_plus,{d},awarded,{v},{b}" for d, v, b in (r.split(",") for r in rows)]
    path = _write(tmp_path, "scheme,date,quantity,value,bound\n" + "\n".join(lines) + "\n")
    if ok:
        assert len(read_observed(path, small.scenario)) == len(rows)
    else:
        with pytest.raises(ObservedDataError, match=f"row {len(rows) + 1}, value: .* never decreases"):
            read_observed(path, small.scenario)


def test_different_schemes_and_quantities_are_separate_series(small: LoadedScenario, tmp_path: Path) -> None:
    text = (
        "scheme,date,quantity,value,bound\n"
        "manufacturing_plus,2026-02-28,applications_received,50,exact\n"
        "manufacturing_plus,2026-03-31,awarded,10,exact\n"
        "it_accelerator,2026-03-31,applications_received,5,exact\n"
    )
    assert len(read_observed(_write(tmp_path, text), small.scenario)) == 3


def test_the_shipped_example_is_what_its_script_generates(baseline: LoadedScenario) -> None:
    data = read_observed(observed_example.TARGET, baseline.scenario)
    assert len(data) == 24
    assert {o.quantity for o in data.observations} == {"applications_received", "awarded"}
    assert observed_example.TARGET.read_text(encoding="utf-8") == observed_example.example_text(), (
        "regenerate with: python -m tests.observed_example"
    )
    assert "SYNTHETIC" in observed_example.TARGET.read_text(encoding="utf-8").splitlines()[0]


def test_the_readme_example_rows_check_against_the_baseline(baseline: LoadedScenario, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Observed data", 1)[1]
    block = section.split("```csv\n", 1)[1].split("```", 1)[0]
    data = read_observed(_write(tmp_path, block), baseline.scenario)
    assert [o.bound for o in data.observations] == ["exact", "approx", "at_least"]
