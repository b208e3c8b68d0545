"""The allocation rules are declared once (sim.engines.allocation) and everything else derives from them.

The schema's names, the batch engine's supported set, the kernel's terms and
the readiness draw follow the declaration; the worked examples of each rule
(R-DECIDE, R-ROUNDS, R-FUND) are in the other files of this folder.
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest

from sim.engines import batch
from sim.engines.allocation import (
    ALLOCATION_RULES,
    RANKING_DRAWS,
    AllocationRule,
    DecisionTime,
    FundingOrder,
    allocation_rule,
)
from sim.engines.layout import CandidateRow
from sim.engines.rules import RULES
from sim.spec.loader import LoadedScenario, ScenarioError, scenario_from_dict
from sim.spec.scenario import ALLOCATION_RULE_NAMES, CLOSE_ALLOCATION_RULES
from tests.rules.conftest import applicants, check, terms

NAN = np.nan


def test_the_engines_declare_exactly_the_allocation_rules_the_schema_accepts() -> None:
    assert set(ALLOCATION_RULES) == set(ALLOCATION_RULE_NAMES)
    assert all(name == rule.name for name, rule in ALLOCATION_RULES.items())
    at_close = {name for name, rule in ALLOCATION_RULES.items() if rule.decides_at_close}
    assert set(CLOSE_ALLOCATION_RULES) == at_close


def test_a_rule_deciding_at_the_close_needs_a_closing_date(small: LoadedScenario) -> None:
    source = deepcopy(small.source)
    source["schemes"]["manufacturing_plus"]["allocation"] = {"rule": "lottery_at_close"}
    with pytest.raises(ScenarioError, match="manufacturing_plus.allocation.rule: 'lottery_at_close' decides"):
        scenario_from_dict(source)


@pytest.mark.parametrize("name", ALLOCATION_RULE_NAMES)
def test_the_batch_engine_supports_every_rule_the_schema_accepts(name: str, small: LoadedScenario) -> None:
    source = deepcopy(small.source)
    for scheme in source["schemes"].values():
        scheme.setdefault("allocation", {})["rule"] = name
        scheme["closes_week"] = 52  # a call, for the rule that decides at its close
    assert batch.unsupported(scenario_from_dict(source)) == []


def test_every_allocation_rule_cites_rule_book_ids_that_exist() -> None:
    for rule in ALLOCATION_RULES.values():
        assert rule.rule_ids, rule.name
        assert set(rule.rule_ids) <= set(RULES), rule.name


def test_an_unknown_allocation_rule_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: first_come, rounds, lottery, lottery_at_close"):
        allocation_rule("raffle")


def test_readiness_cannot_rank_files_decided_at_review_end() -> None:
    with pytest.raises(ValueError, match="only files decided at meetings"):
        AllocationRule("ranked", DecisionTime.REVIEW_END, FundingOrder.READINESS, ("R-DECIDE",))


def test_a_ticket_cannot_rank_files_decided_one_by_one() -> None:
    with pytest.raises(ValueError, match="only files decided together"):
        AllocationRule("drawn", DecisionTime.REVIEW_END, FundingOrder.TICKET, ("R-DECIDE",))


@pytest.mark.parametrize(
    ("name", "interval", "decided_at", "order", "ranking_draw"),
    [
        ("first_come", 0.0, DecisionTime.REVIEW_END, FundingOrder.ARRIVAL, None),
        ("rounds", 4.0, DecisionTime.MEETINGS, FundingOrder.READINESS, ("population", "readiness")),
        ("lottery", 4.0, DecisionTime.MEETINGS, FundingOrder.TICKET, ("approval", "ticket")),
        ("lottery_at_close", 0.0, DecisionTime.CLOSE, FundingOrder.TICKET, ("approval", "ticket")),
    ],
)
def test_the_kernel_gets_the_rules_properties_as_codes(
    name: str, interval: float, decided_at: int, order: int, ranking_draw: tuple[str, str] | None
) -> None:
    allocation = (name, 4.0, 52.0)
    terms = batch._kernel_terms(np.zeros((1, 1)), np.ones((1, 1)), 10.0, allocation, False, (104.0, 104.0))
    assert (terms.interval, terms.decided_at, terms.order, terms.closing) == (
        interval,
        decided_at,
        order,
        52.0,
    )
    assert allocation_rule(name).ranking_draw == ranking_draw


def test_every_ranking_draw_fills_a_candidate_row() -> None:
    for draw in RANKING_DRAWS.values():
        if draw is not None:
            assert draw[1].upper() in CandidateRow.__members__, draw


def test_a_rule_declared_only_in_the_table_runs_on_both_engines(simulate, monkeypatch) -> None:
    # A committee that funds in order of arrival: declared in ALLOCATION_RULES and nowhere else.
    # The files of R-ROUNDS' first example: f0..f3 decided at the meeting of week 4, f4 at 8.
    # In arrival order: f0 (place 1), f1 (place 2), f2 (no place left: exhausts at 4, unfunded),
    # f3 withdrawn; f4 unfunded. Ranked by readiness instead, f0 would be the unfunded one.
    rule = AllocationRule("arrival_rounds", DecisionTime.MEETINGS, FundingOrder.ARRIVAL, ("R-ROUNDS",))
    monkeypatch.setitem(ALLOCATION_RULES, rule.name, rule)
    files = applicants(
        [0, 0.5, 1, 1.5, 5],
        review=[1, 2, 2, 1, 1],
        readiness=[0.2, 0.9, 0.5, 0.95, 0.99],
        decide=[0.5, 0.5, 0.5, 0.05, 0.5],
    )
    rec = simulate(files, terms(rule=rule.name, meeting_interval_weeks=4.0, places=2))
    check(
        "R-ROUNDS",
        rec,
        5,
        decision=[4, 4, 4, 4, 8],
        status=["AWARDED", "AWARDED", "UNFUNDED", "WITHDRAWN", "UNFUNDED"],
        upgrade_start=[4, 4, NAN, NAN, NAN],
        exhaustion=4.0,
    )
