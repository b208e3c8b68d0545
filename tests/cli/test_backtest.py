"""``schemesim backtest`` on the shipped real figures: it runs and reports each forecast (whether
the figure is inside is reported, never asserted), and bad input exits 2."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SCENARIOS

OBSERVED = SCENARIOS / "observed"


@pytest.mark.parametrize(
    ("scenario", "figures", "cut", "later"),
    [
        ("nifs-2020.toml", "nifs.csv", "2024-07-31", "nifs approved"),
        ("tvp-2016.toml", "tvp.csv", "2017-04-30", "tvp approved"),
    ],
)
def test_backtest_runs_and_reports(cli, scenario: str, figures: str, cut: str, later: str) -> None:
    result = cli(
        "backtest", OBSERVED / scenario, OBSERVED / figures, "--cut", cut, "-n", "600", "--workers", "1"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(later))
    found = re.fullmatch(
        rf"{later} on \d{{4}}-\d\d-\d\d: published ([\d,]+), 90% interval ([\d,]+) - ([\d,]+): (inside|outside)",
        line,
    )
    assert found, line
    published, low, high = (float(found.group(i).replace(",", "")) for i in (1, 2, 3))
    assert low <= high
    assert (found.group(4) == "inside") == (low <= published <= high)  # every figure here is exact
    assert re.search(
        r"600 prior replications, effective sample size [\d,]+; [01] of 1 figures inside", result.stdout
    )
    assert not any(p.name.startswith("results") for p in OBSERVED.iterdir())  # nothing written


def test_backtest_refuses_bad_input(cli) -> None:
    scenario, figures = OBSERVED / "tvp-2016.toml", OBSERVED / "tvp.csv"
    result = cli("backtest", scenario, figures, "--cut", "2017-13-01")
    assert result.exit_code == 2
    assert "--cut: must be a date YYYY-MM-DD" in result.stderr
    result = cli("backtest", scenario, figures, "--cut", "2018-01-01", "-n", "10")
    assert result.exit_code == 2
    assert "no figure dated after the cut 2018-01-01" in result.stderr
    result = cli("backtest", scenario, OBSERVED / "nifs.csv", "--cut", "2018-01-01")
    assert result.exit_code == 2
    assert "nifs.csv" in result.stderr
    assert "Traceback" not in result.stderr
