"""The per-firm trace of an intermediary scheme's operators (MODEL.md 6b): each funded operator's
base opening, its cohorts and the start-ups they accelerate, and the grant paid to it.

Added to the SimPy engine's trace (:func:`sim.engines.des.simulate_replication`) by ``schemesim
trace``, from the same records and the same programme streams as the replication's metrics, so a
trace's operator columns add up to the replication's start-up outcomes to the end of the follow-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engines.parameters import draw_parameters
from sim.engines.programme import payments, run_programmes
from sim.engines.programme_metrics import operators, programme_terms
from sim.engines.records import SchemeRecords
from sim.spec.scenario import Scenario

__all__ = ["PROGRAMME_COLUMNS", "with_programmes"]

#: The trace's columns on an intermediary scheme's funded operators (empty elsewhere).
PROGRAMME_COLUMNS: tuple[str, ...] = (
    "base_opening_week",
    "cohorts",
    "startups_accelerated",
    "startups_relocated",
    "startups_surviving",
    "startups_follow_on",
    "paid_to_operator_hkd",
)


def with_programmes(
    trace: pd.DataFrame, scenario: Scenario, seed: int, rep: int, records: dict[str, SchemeRecords]
) -> pd.DataFrame:
    """``trace`` with :data:`PROGRAMME_COLUMNS`, filled on the funded operators of intermediary schemes
    (to the end of the follow-up); a scenario without one gets its trace back unchanged."""
    schemes = [name for name, s in scenario.schemes.items() if s.kind == "intermediary"]
    if not schemes:
        return trace
    out = trace.copy()
    for column in PROGRAMME_COLUMNS:
        out[column] = np.nan
    draws = draw_parameters(scenario, seed, [rep])
    for name in schemes:
        ops = operators(records[name])
        terms = programme_terms(scenario, draws, name)
        cohorts = run_programmes(ops, terms, seed, np.array([rep]), name)
        _, _, amount = payments(ops, cohorts, terms)
        paid = amount[: len(ops.rep)] + np.bincount(
            cohorts.operator[cohorts.index < terms.tranches],
            weights=amount[len(ops.rep) :],
            minlength=len(ops.rep),
        )
        # the trace's awarded rows, in order of application, are the records' awarded slots
        rows = out.index[(out["scheme"] == name) & (out["status"] == "awarded")]
        rows = out.loc[rows].sort_values("application_week", kind="stable").index
        values = {
            "base_opening_week": ops.opening,
            "cohorts": np.bincount(cohorts.operator, minlength=len(ops.rep)),
            "paid_to_operator_hkd": paid,
        }
        for column in PROGRAMME_COLUMNS[2:-1]:
            field = "admitted" if column == "startups_accelerated" else column.removeprefix("startups_")
            values[column] = np.bincount(
                cohorts.operator, weights=getattr(cohorts, field), minlength=len(ops.rep)
            )
        for column, value in values.items():
            out.loc[rows, column] = value
    return out
