"""No project is funded by two schemes (R-CHOICE), in every replication of every shipped scenario and
of the choice scenarios of the equivalence test, on both engines.

A firm's project cost is drawn once from its segment's streams, whichever scheme it goes to, and is
continuous, so two applications with the same cost in one replication are the same project. Where
several schemes list a segment, the costs of its applications to them must therefore be disjoint
(not only those funded: a project applies to one scheme at most), and its would-be applicants,
counted by each scheme, add up to at most its eligible firms.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.records import SchemeRecords
from sim.spec.loader import load_scenario
from sim.spec.scenario import Scenario
from tests.conftest import shipped_scenarios
from tests.statistical.test_equivalence import CHOICE, choice_scenario

REPS = {"des": 12, "batch": 400}
ENGINES = {"des": des.simulate_des, "batch": batch.simulate_batch}
CASES = [(p.stem, load_scenario(p).scenario) for p in shipped_scenarios()]
CASES += [(f"choice-{k}", choice_scenario(k)) for k in range(CHOICE)]


def _costs(records: SchemeRecords, scenario: Scenario, scheme: str, segment: str, r: int) -> np.ndarray:
    """Project costs of the applications of ``segment``'s firms to ``scheme`` in replication ``r``."""
    k = scenario.schemes[scheme].segments.index(segment)
    return records.cost[r][records.segment[r] == k]


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_no_project_applies_to_two_schemes(case, engine) -> None:
    scenario = dict(CASES)[case]
    records = ENGINES[engine](scenario, 11, np.arange(REPS[engine]))
    shared = [seg for seg in scenario.segments if len(scenario.schemes_of(seg)) > 1]
    for seg in shared:
        rivals = scenario.schemes_of(seg)
        ks = [scenario.schemes[s].segments.index(seg) for s in rivals]
        eligible = records[rivals[0]].eligible[:, ks[0]]
        would_be = sum(records[s].would_be[:, k] for s, k in zip(rivals, ks, strict=True))
        assert (would_be <= eligible).all(), f"{case}: {seg}'s firms counted as would-be twice"
        for r in range(REPS[engine]):
            costs = [_costs(records[s], scenario, s, seg, r) for s in rivals]
            joined = np.concatenate(costs)
            assert len(np.unique(joined)) == len(joined), f"{case}, replication {r}: a project in two schemes"


def test_the_check_finds_a_project_in_two_schemes() -> None:
    """The check is not empty: every choice scenario has a shared segment with applications to both."""
    for k in range(CHOICE):
        scenario = choice_scenario(k)
        records = des.simulate_des(scenario, 11, np.arange(4))
        seg = "alpha"
        counts = [
            sum(len(_costs(records[s], scenario, s, seg, r)) for r in range(4)) for s in scenario.schemes
        ]
        assert min(counts) > 0, f"choice-{k}: {dict(zip(scenario.schemes, counts, strict=True))}"
