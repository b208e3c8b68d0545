"""Hard invariants in every replication of every shipped scenario, on every engine:
places and budget are never exceeded, the funnel conserves firms, and the money
runs out exactly when some approved application goes unfunded."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines.metrics import SERIES
from sim.engines.parameters import draw_parameters
from sim.engines.rules import BUDGET_SLACK_HKD
from sim.experiments.replicate import engine_names, replicate
from sim.spec.loader import load_scenario
from tests.conftest import shipped_scenarios

REPS = {"des": 12, "batch": 400}


@pytest.mark.parametrize("engine", engine_names())
@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_invariants_hold_in_every_replication(path, engine) -> None:
    scenario = load_scenario(path).scenario
    reps = np.arange(REPS.get(engine, 12))
    result = replicate(scenario, 7, reps, engine)
    table = result.table
    draws = draw_parameters(scenario, 7, reps)
    for scheme in scenario.schemes:
        t = table[(table["scheme"] == scheme) & (table["segment"] == "all")].sort_values("replication")
        changes = scenario.schemes[scheme].changes  # dated top-ups add places and money
        places = draws.scheme(scheme, "places") + sum(change.places for change in changes)
        budget = draws.scheme(scheme, "budget_hkd") + sum(change.budget_hkd for change in changes)
        assert (t["awarded"].to_numpy() <= places).all()
        assert (t["committed_hkd"].to_numpy() <= budget + BUDGET_SLACK_HKD * places).all()
        assert (t["paid_hkd"] <= t["committed_hkd"] + 1e-6).all()
        assert (
            t["applications"]
            == t["turned_away"] + t["in_review"] + t["withdrawn"] + t["rejected"] + t["approved"]
        ).all()
        assert (t["approved"] == t["unfunded"] + t["awarded"]).all()
        # the weekly approvals reach the approved files, never fall and never lag the awards
        approvals = result.weekly[scheme][:, SERIES.index("approvals")]
        assert (approvals[:, -1] == t["approved"].to_numpy()).all()
        assert (np.diff(approvals, axis=1) >= 0).all()
        assert (approvals >= result.weekly[scheme][:, SERIES.index("awards")]).all()
        assert (t["awarded"] == t["completed"] + t["abandoned"] + t["ongoing"]).all()
        assert (t["would_be"] <= t["eligible"]).all()
        # re-applications (R-REAPPLY) are applications of firms that applied before and were rejected
        assert (t["applications"] - t["reapplications"] <= t["would_be"]).all()
        assert (t["reapplications"] <= t["rejected"]).all()
        if scenario.schemes[scheme].kind == "direct":
            assert (t["additional_upgrades"] <= t["completed"]).all()
        else:  # no value-added gain is invented for an intermediary's operators (MODEL.md 6b)
            assert t["additional_upgrades"].isna().all()
        exhausted = t["exhaustion_week"].notna()
        assert (exhausted == (t["unfunded"] > 0)).all()
        assert (exhausted == (t["exhausted"] == 1)).all()
        assert (t.loc[exhausted, "exhaustion_week"] <= scenario.horizon_weeks).all()
        if not any(change.closes for change in changes):  # an early close turns away without exhaustion
            assert (t.loc[~exhausted, "turned_away"] == 0).all()
        else:
            assert (t["turned_away"] > 0).any()
