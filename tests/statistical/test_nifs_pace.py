"""The baseline's NIFS against its observed pace, as the README states it.

Observed: about nine supported projects a year from July 2021 to July 2024 (16 to 43), so about 18
over the baseline's two-year horizon. The README says the baseline's NIFS is far slower (about two
awards a year) and why; this test fails when that stops being true, in either direction: when the
baseline's NIFS reaches a third of the observed pace (6 awards in two years), or funds almost none.
The mean over 1,000 replications has a standard error of about 0.1 award, far from both bounds.
"""

from __future__ import annotations

import numpy as np

from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario
from tests.conftest import SCENARIOS

OBSERVED_PER_YEAR = (43 - 16) / 3  # supported projects a year, July 2021 to July 2024


def test_baseline_nifs_is_well_below_its_observed_pace() -> None:
    scenario = load_scenario(SCENARIOS / "baseline.toml").scenario
    table = replicate(scenario, 20251118, np.arange(1000), "batch").table
    nifs = table[(table["scheme"] == "nifs") & (table["segment"] == "all")]
    per_year = nifs["awarded"].mean() / (scenario.horizon_weeks / 52)
    assert per_year < OBSERVED_PER_YEAR / 3, per_year
    assert per_year > 1.0, per_year
    # the projects that go to NIFS are those from HK$3M, every grant above Manufacturing+'s cap
    assert (nifs["average_grant_hkd"].dropna() >= 1_000_000).all()
