"""The shipped example of observed data: a SYNTHETIC first year of Manufacturing+.

No Manufacturing+ figures had been published, so the example's numbers are made
up: the cumulative applications and awards of one replication of the baseline
at a fixed seed, read at each calendar month end of the scheme's first year
with the same week convention as every comparison
(:func:`sim.spec.observations.observation_week`). ``python -m
tests.observed_example`` rewrites the file; ``tests/unit/test_observed_data.py``
fails when the shipped file differs from what this gives.
"""

from __future__ import annotations

from datetime import date, timedelta

from sim.experiments.observed import series_index
from sim.experiments.replicate import replicate
from sim.outputs.store import write_text
from sim.spec.loader import load_scenario
from sim.spec.observations import observation_week
from tests.conftest import SCENARIOS

SCENARIO = SCENARIOS / "baseline.toml"
TARGET = SCENARIOS / "observed" / "manufacturing-plus-synthetic.csv"
SCHEME = "manufacturing_plus"
SEED = 20251118
REPLICATION = 0
QUANTITIES = ("applications_received", "awarded")
HEADER = (
    "# SYNTHETIC DATA MADE UP FOR THIS EXAMPLE - NOT REAL FIGURES (none had been published for Manufacturing+)\n"
    f"# generated from replication {REPLICATION} of scenarios/baseline.toml at seed {SEED} "
    "by: python -m tests.observed_example\n"
    "scheme,date,quantity,value,bound,source\n"
)


def month_ends(start: date, weeks: int = 52) -> list[date]:
    """The calendar month ends from ``start`` to ``weeks`` weeks after it."""
    last = start + timedelta(weeks=weeks)
    ends = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = date(year, month, 1) - timedelta(days=1)
        if end > last:
            return ends
        ends.append(end)


def example_text() -> str:
    """The example file's text, from the simulation as it is now."""
    scenario = load_scenario(SCENARIO).scenario
    weekly = replicate(scenario, SEED, [REPLICATION]).weekly[SCHEME][0]
    source = f"synthetic: baseline replication {REPLICATION} seed {SEED}"
    lines = [HEADER]
    for day in month_ends(scenario.start_date):
        week = observation_week(day, scenario.start_date)
        for quantity in QUANTITIES:
            value = weekly[series_index(quantity), week]
            lines.append(f"{SCHEME},{day},{quantity},{value:.0f},exact,{source}\n")
    return "".join(lines)


def main() -> None:
    """Rewrite the shipped example (whole: a temporary file, then one rename)."""
    TARGET.parent.mkdir(exist_ok=True)
    write_text(TARGET, example_text())
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
