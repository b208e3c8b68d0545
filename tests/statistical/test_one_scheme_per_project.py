"""No project is funded by two schemes (R-CHOICE), and redirected firms are counted once in each
scheme's funnel (R-REDIRECT), in every replication of every shipped scenario and of the choice
scenarios of the equivalence test (redirects both ways, intermediary schemes beside), on both engines.

A firm's project cost is drawn once from its segment's streams, whichever scheme it goes to, and is
continuous, so two applications with the same cost in one replication are the same project. Where
several schemes list a segment, a project may apply to several of them only by being redirected:
then it was turned away by every scheme but the last it applied to, each of those redirects, and it
applied to all of them at the same week; it is funded by one scheme at most. A project turned away
by a scheme that redirects, with another scheme still eligible at that week (listing its segment,
its cost within the bounds, its window open, not applied to already), must have applied there: the
redirected firm counts as turned away by the first scheme and as an applicant of the second.
Would-be applicants add up, over the schemes listing a segment, to at most its eligible firms plus
the redirected applications (a redirected firm is a would-be applicant of both).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.records import SchemeRecords, Status
from sim.spec.loader import load_scenario
from sim.spec.scenario import Scenario
from tests.conftest import shipped_scenarios
from tests.statistical.test_equivalence import CHOICE, choice_scenario

REPS = {"des": 12, "batch": 400}
ENGINES = {"des": des.simulate_des, "batch": batch.simulate_batch}
CASES = [(p.stem, load_scenario(p).scenario) for p in shipped_scenarios()]
CASES += [(f"choice-{k}", choice_scenario(k)) for k in range(CHOICE)]


def _applications(
    records: dict[str, SchemeRecords], scenario: Scenario, segment: str, r: int
) -> dict[float, list[tuple[str, int, float]]]:
    """Replication ``r``'s applications of ``segment``'s firms, by project cost: (scheme, status, week)."""
    out: dict[float, list[tuple[str, int, float]]] = defaultdict(list)
    for scheme in scenario.schemes_of(segment):
        rec, k = records[scheme], scenario.schemes[scheme].segments.index(segment)
        rows = rec.segment[r] == k
        for cost, status, week in zip(
            rec.cost[r][rows], rec.status[r][rows], rec.arrival[r][rows], strict=True
        ):
            out[float(cost)].append((scheme, int(status), float(week)))
    return out


def _eligible_elsewhere(scenario: Scenario, segment: str, cost: float, week: float, tried: set[str]) -> bool:
    """Whether a scheme other than ``tried`` would take a project of ``cost`` at ``week`` (R-REDIRECT)."""
    for name in scenario.schemes_of(segment):
        scheme = scenario.schemes[name]
        high = np.inf if scheme.max_project_cost_hkd is None else scheme.max_project_cost_hkd
        fits = scheme.min_project_cost_hkd <= cost <= high
        if name not in tried and fits and scheme.opens_week <= week <= scenario.window(name):
            return True
    return False


def _check_project(scenario: Scenario, segment: str, cost: float, path: list[tuple[str, int, float]]) -> str:
    """What is wrong with one project's applications ('' if nothing)."""
    if sum(status == int(Status.AWARDED) for _, status, _ in path) > 1:
        return f"funded twice: {path}"
    # a rejected first application may be followed by one re-application to the same scheme
    # (R-REAPPLY), later; the redirect checks are on each scheme's first application
    first: dict[str, tuple[str, int, float]] = {}
    for entry in sorted(path, key=lambda e: e[2]):
        if entry[0] in first:
            if first[entry[0]][1] != int(Status.REJECTED) or sum(e[0] == entry[0] for e in path) > 2:
                return f"applied again to a scheme without a rejection: {path}"
            continue
        first[entry[0]] = entry
    path = list(first.values())
    schemes = [s for s, _, _ in path]
    if len({week for _, _, week in path}) > 1:
        return f"redirected at another week: {path}"
    turned = [s for s, status, _ in path if status == int(Status.TURNED_AWAY)]
    if len(path) - len(turned) > 1:
        return f"applied to two schemes without being turned away: {path}"
    # every scheme but the last the firm applied to sent it on (the last: the one that did not turn
    # it away, or, if all did, possibly one that does not redirect)
    keeping = [s for s in turned if not scenario.schemes[s].redirect_when_closed]
    if len(path) > 1 and len(keeping) > (1 if len(turned) == len(path) else 0):
        return f"sent on by a scheme that does not redirect: {path}"
    if len(turned) == len(path) and not keeping:  # the last redirects too: nowhere left to go
        if _eligible_elsewhere(scenario, segment, cost, path[0][2], set(schemes)):
            return f"turned away, not sent on to an eligible scheme: {path}"
    return ""


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_no_project_is_funded_twice_and_redirects_are_counted_once(case, engine) -> None:
    scenario = dict(CASES)[case]
    records = ENGINES[engine](scenario, 11, np.arange(REPS[engine]))
    shared = [seg for seg in scenario.segments if len(scenario.schemes_of(seg)) > 1]
    for seg in shared:
        rivals = scenario.schemes_of(seg)
        ks = [scenario.schemes[s].segments.index(seg) for s in rivals]
        for r in range(REPS[engine]):
            projects = _applications(records, scenario, seg, r)
            for cost, path in projects.items():
                problem = _check_project(scenario, seg, cost, path)
                assert not problem, f"{case}, replication {r}, R-REDIRECT: {problem}"
            redirected = sum(len({p[0] for p in path}) - 1 for path in projects.values())
            would_be = sum(int(records[s].would_be[r, k]) for s, k in zip(rivals, ks, strict=True))
            eligible = int(records[rivals[0]].eligible[r, ks[0]])
            assert would_be <= eligible + redirected, f"{case}, replication {r}: would-be counted twice"


def test_the_check_finds_projects_in_two_schemes() -> None:
    """The check is not empty: in most choice scenarios both schemes sharing ``alpha`` have
    applications, and in at least ten firms are redirected (the same project in both)."""
    both, sent = 0, 0
    for k in range(CHOICE):
        scenario = choice_scenario(k)
        records = batch.simulate_batch(scenario, 11, np.arange(40))
        paths = [path for r in range(40) for path in _applications(records, scenario, "alpha", r).values()]
        both += all(any(s in {p[0] for p in path} for path in paths) for s in scenario.schemes_of("alpha"))
        sent += any(len(path) > 1 for path in paths)
    assert both >= 15, both
    assert sent >= 10, sent


def test_the_check_catches_a_project_funded_twice_or_dropped() -> None:
    """The project check itself: a made-up project funded by both schemes, one applying to both
    without a turn-away, and one turned away but not sent on, are each caught."""
    scenario = choice_scenario(0)  # both schemes redirect (see the test above)
    a, b = scenario.schemes_of("alpha")
    awarded, turned = int(Status.AWARDED), int(Status.TURNED_AWAY)
    cost = 2e6  # within both schemes' bounds (narrow: HK$1.43M to HK$2.98M)
    assert _check_project(scenario, "alpha", cost, [(a, awarded, 5.0), (b, awarded, 5.0)])
    assert _check_project(scenario, "alpha", cost, [(a, awarded, 5.0), (a, awarded, 9.0)])
    assert not _check_project(scenario, "alpha", cost, [(a, int(Status.REJECTED), 5.0), (a, awarded, 9.0)])
    assert _check_project(scenario, "alpha", cost, [(a, int(Status.REJECTED), 5.0), (b, awarded, 5.0)])
    assert _check_project(scenario, "alpha", cost, [(a, turned, 5.0), (b, awarded, 6.0)])
    assert _check_project(scenario, "alpha", cost, [(a, turned, 5.0)])  # not sent on to b
    assert not _check_project(scenario, "alpha", cost, [(a, turned, 5.0), (b, awarded, 5.0)])
