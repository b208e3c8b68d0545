"""Worked examples of the rule book: a few firms with hand-computed outcomes, run on both engines.

Each test file pins one process rule of :data:`sim.engines.rules.RULE_BOOK`
(its id is in the file's docstring and in every assertion message). The
examples feed a prepared table of applications (:class:`Applicants`) and the
scheme's terms (:class:`ProcessTerms`) to each engine's
``simulate_applicants``, which runs the same process code as the engine's
normal path, so an engine that breaks a rule fails here with the rule named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from sim.engines import batch, des
from sim.engines.applicants import Applicants, ProcessTerms
from sim.engines.records import ExhaustedBy, SchemeRecords, Status
from sim.engines.rules import RULES

Simulate = Callable[[Applicants, ProcessTerms], SchemeRecords]

#: Terms every example starts from: no limit binds, decisions at review end, all complete.
BASE_TERMS = ProcessTerms(
    horizon=104.0,
    rule="first_come",
    meeting_interval_weeks=4.0,
    close_on_exhaustion=False,
    budget_hkd=1e9,
    places=1000,
    capacity=100,
    integrators=None,
    withdraw_probability=0.1,
    approval_probability=0.8,  # approved when 0.1 <= u < 0.1 + 0.9 * 0.8 = 0.82
    completion_probability=1.0,
    no_gain_probability=0.0,
    deadweight=0.0,
    completion_factor=np.array([[1.0]]),
)


@pytest.fixture(params=["des", "batch"])
def simulate(request: pytest.FixtureRequest) -> Simulate:
    """Each engine's process rules, behind the one seam."""
    return {"des": des.simulate_applicants, "batch": batch.simulate_applicants}[request.param]


def terms(**changes: Any) -> ProcessTerms:
    """:data:`BASE_TERMS` with ``changes``."""
    return replace(BASE_TERMS, **changes)


def applicants(arrival: Sequence[float], **columns: Sequence[float] | float) -> Applicants:
    """Applications arriving at ``arrival``; unnamed columns take defaults (approved, grant HK$100,
    review 1 week, upgrade 10 weeks that completes, segment and band 0; no lottery ticket)."""
    n = len(arrival)
    defaults: dict[str, Any] = {
        "segment": 0,
        "band": 0,
        "review": 1.0,
        "decide": 0.5,
        "cost": 300.0,
        "grant": 100.0,
        "value_added": 1000.0,
        "readiness": 0.5,
        "duration": 10.0,
        "complete": 0.5,
        "abandon_fraction": 0.5,
        "no_gain": 0.5,
        "gain": 0.1,
        "deadweight": 0.5,
    }
    values = {key: columns.get(key, default) for key, default in defaults.items()}
    table = {
        key: np.broadcast_to(
            np.asarray(value, dtype=np.int64 if key in ("segment", "band") else float), n
        ).copy()
        for key, value in values.items()
    }
    ticket = np.asarray(columns["ticket"], dtype=float) if "ticket" in columns else None
    return Applicants(arrival=np.asarray(arrival, dtype=float), ticket=ticket, **table)


def outcome(rec: SchemeRecords, n: int, field: str) -> np.ndarray:
    """One record field of the ``n`` applications (the batch engine pads its records)."""
    return np.asarray(getattr(rec, field))[0, :n]


def check(rule: str, rec: SchemeRecords, n: int, **expected: Any) -> None:
    """Assert each expected field (``status`` as :class:`Status` names, ``exhausted_by`` as an
    :class:`ExhaustedBy` name) of the ``n`` applications."""
    assert rule in RULES, f"unknown rule id {rule}"
    for field, want in expected.items():
        if field == "status":
            got = [Status(int(s)).name for s in outcome(rec, n, "status")]
            assert got == list(want), f"{rule} ({RULES[rule].title}): status {got} != {list(want)}"
        elif field == "exhausted_by":
            got_by = ExhaustedBy(int(rec.exhausted_by[0])).name
            assert got_by == want, f"{rule} ({RULES[rule].title}): exhausted by {got_by} != {want}"
        elif field == "exhaustion":
            np.testing.assert_array_equal(rec.exhaustion[:1], [want], err_msg=f"{rule}: exhaustion")
        else:
            np.testing.assert_array_equal(outcome(rec, n, field), want, err_msg=f"{rule}: {field}")
