"""The trace's operator columns (``schemesim trace`` on an intermediary scheme) add up to the
replication's start-up outcomes and money paid to the end of the follow-up, and a base opens when
its set-up (the upgrade) completes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.des import simulate_replication
from sim.engines.programme_trace import PROGRAMME_COLUMNS, with_programmes
from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario
from tests.conftest import SCENARIOS

SEED = 20251118


@pytest.mark.parametrize("rep", [0, 1, 2, 3])
def test_operator_columns_add_up_to_the_replications_outcomes(rep: int) -> None:
    scenario = load_scenario(SCENARIOS / "baseline.toml").scenario
    records, trace = simulate_replication(scenario, SEED, rep, trace=True)
    assert trace is not None
    trace = with_programmes(trace, scenario, SEED, rep, records)
    row = replicate(scenario, SEED, [rep], "des", weekly=False).table
    row = row[row["scheme"] == "it_accelerator"].iloc[0]
    ops = trace[(trace["scheme"] == "it_accelerator") & (trace["status"] == "awarded")]
    assert len(ops) == row["operators_funded"]
    for column in ("startups_accelerated", "startups_relocated", "startups_surviving", "startups_follow_on"):
        assert ops[column].sum() == row[column + "_follow_up"], column
    assert ops["paid_to_operator_hkd"].sum() == pytest.approx(row["paid_hkd_follow_up"], rel=1e-12)
    opened = ops["upgrade"] == "completed"
    np.testing.assert_array_equal(ops.loc[opened, "base_opening_week"], ops.loc[opened, "upgrade_end_week"])
    assert ops.loc[~opened, "cohorts"].eq(0).all()
    others = trace[trace["status"] != "awarded"]
    assert others[list(PROGRAMME_COLUMNS)].isna().all().all()


def test_a_scenario_without_an_intermediary_keeps_its_trace() -> None:
    loaded = load_scenario(SCENARIOS / "baseline.toml")
    scenario = loaded.scenario.model_copy(
        update={"schemes": {"manufacturing_plus": loaded.scenario.schemes["manufacturing_plus"]}}
    )
    records, trace = simulate_replication(scenario, SEED, 0, trace=True)
    assert trace is not None
    assert with_programmes(trace, scenario, SEED, 0, records) is trace
