"""The model's rules as pure functions, shared by both engines (MODEL.md 2-7).

Each works on numbers or numpy arrays alike, so the SimPy engine applies it to
one firm or a whole array of firms. Those the batch engine applies firm by firm
inside its compiled loops (:mod:`sim.engines.kernels`) are written with
operations numba compiles for numbers too (``np.minimum``/``np.maximum``
rather than ``np.clip``), so both engines run this one definition.

The process rules (vetting, decisions, committee rounds, funding and
exhaustion, turn-away, integrators, completion) are stated once, with ids, in
:data:`RULE_BOOK`; the engines' docstrings and the worked examples of
``tests/rules`` refer to them by id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engines.records import ExhaustedBy

__all__ = [
    "grant",
    "subsidy_rate",
    "would_apply_probability",
    "bass_cdf",
    "bass_inverse",
    "approval_threshold",
    "next_meeting",
    "completion_probability",
    "binding_limit",
    "ramp_share",
    "pv_factor",
    "BUDGET_SLACK_HKD",
    "Rule",
    "RULE_BOOK",
    "RULES",
]

#: Rounding slack when checking that the remaining budget covers a grant.
BUDGET_SLACK_HKD = 1e-6


def grant(project_cost, cap, matching_ratio):
    """Grant for a project: ``min(cap, cost / (1 + ratio))`` (1 : 2 matching -> ratio 2)."""
    return np.minimum(cap, project_cost / (1.0 + matching_ratio))


def subsidy_rate(project_cost, cap, matching_ratio):
    """Share of the project the grant pays (``grant / cost``); 1/(1+ratio) for a zero cost."""
    safe = np.where(project_cost > 0, project_cost, 1.0)
    return np.where(project_cost > 0, grant(safe, cap, matching_ratio) / safe, 1.0 / (1.0 + matching_ratio))


def would_apply_probability(propensity, rate, reference_rate, elasticity):
    """``a_i = clip(a_seg * (r_i / r_ref) ** elasticity, 0, 1)`` (MODEL.md 3)."""
    return np.minimum(np.maximum(propensity * (rate / reference_rate) ** elasticity, 0.0), 1.0)


def bass_cdf(t, p, q):
    """Bass diffusion CDF ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``."""
    e = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_inverse(u, p, q):
    """Closed-form inverse of :func:`bass_cdf`: the time at which ``F(t) = u``."""
    return np.log((1.0 + u * q / p) / (1.0 - u)) / (p + q)


def approval_threshold(withdraw_probability, approval_probability):
    """The review outcome from one uniform ``u`` per file (MODEL.md 4).

    ``u < withdraw_probability``: withdrawn or ineligible; else ``u`` below the
    returned threshold: approved; else rejected.
    """
    return withdraw_probability + (1 - withdraw_probability) * approval_probability


def next_meeting(t, interval):
    """The first committee meeting at or after ``t`` (meetings at interval, 2*interval, ...)."""
    return np.maximum(np.ceil(t / interval), 1.0) * interval


def completion_probability(base, band_factor):
    """Chance an awarded upgrade completes, adjusted for the firm's size band."""
    return np.minimum(np.maximum(base * band_factor, 0.0), 1.0)


def binding_limit(awards, places):
    """Why the first approved file that cannot be funded is not funded (rule R-FUND).

    With ``awards`` already made: no place left (``awards >= places``) is
    :attr:`~sim.engines.records.ExhaustedBy.PLACES`, whatever the money;
    otherwise the file's grant exceeded the remaining budget,
    :attr:`~sim.engines.records.ExhaustedBy.MONEY`.
    """
    return ExhaustedBy.PLACES if awards >= places else ExhaustedBy.MONEY


def ramp_share(weeks_since_completion, ramp_years):
    """Share of the full gain reached, phased in linearly over ``ramp_years``."""
    return np.clip(weeks_since_completion / (52.0 * ramp_years), 0.0, 1.0)


def pv_factor(ramp_years, benefit_years, discount_rate):
    """Present value at completion of a gain of 1 per year, ramped, over the benefit years.

    Year ``y = 1..n`` (``n = round(benefit_years)``) brings ``min(1, y / ramp_years)``,
    discounted by ``(1 + discount_rate) ** -y``. Works elementwise on arrays; the
    years are added one at a time, so each element's value does not depend on
    the others (a pairwise sum over padded years would).
    """
    ramp = np.atleast_1d(np.asarray(ramp_years, dtype=float))
    n = np.atleast_1d(np.rint(np.asarray(benefit_years, dtype=float)))
    rate = np.atleast_1d(np.asarray(discount_rate, dtype=float))
    ramp, n, rate = np.broadcast_arrays(ramp, n, rate)
    total = np.zeros(ramp.shape)
    for year in range(1, int(n.max(initial=1)) + 1):
        term = np.minimum(1.0, year / ramp) * (1.0 + rate) ** -year
        total = total + np.where(year <= n, term, 0.0)
    return total


# ---------------------------------------------------------------- the rule book


@dataclass(frozen=True)
class Rule:
    """One process rule of the model: an id (used by tests and docstrings) and its one statement."""

    id: str
    title: str
    statement: str


#: The process rules both engines implement (MODEL.md "Rule book"), each stated once. The
#: worked examples in ``tests/rules`` pin each rule on both engines.
RULE_BOOK: tuple[Rule, ...] = (
    Rule(
        "R-UPTAKE-TIME",
        "application time",
        "A would-be applicant with timing uniform u applies at the window's opening week plus F^-1(u), "
        "F(t) = L min(t / w_L, 1) + R clip((t - (W - w_R)) / w_R, 0, 1) + (1 - L - R) F_Bass(t) for a "
        "window of W weeks (a launch burst, a deadline rush and Bass diffusion); a time after the close "
        "(or the horizon) means it never applies.",
    ),
    Rule(
        "R-CHOICE",
        "choice among schemes",
        "A firm's project (one cost, one chance to apply, one timing uniform) is eligible for a scheme "
        "listing its segment when its cost lies within the scheme's `min_project_cost_hkd` / "
        "`max_project_cost_hkd` and the scheme's window is open at the firm's week under that scheme's "
        "timing (R-UPTAKE-TIME); it goes to the eligible scheme with the largest grant (ties: scenario "
        "order), or, if none is open, to the fitting scheme with the largest grant (where it never "
        "applies), and is then a would-be applicant with that scheme's chance to apply. A project goes "
        "to at most one scheme.",
    ),
    Rule(
        "R-REDIRECT",
        "redirect after a turn-away",
        "A firm turned away by a scheme with `redirect_when_closed = true` (its applications closed "
        "early, or it is exhausted and closes on exhaustion) applies, at the week it was turned away, to "
        "its next eligible scheme: among the schemes listing its segment that it has not applied to, "
        "whose cost bounds its project fits and whose window is open at that week, the one with the "
        "largest grant (ties: scenario order); it counts as turned away by the first scheme and as an "
        "applicant of the second. If none is eligible, it stays turned away; a firm applies to each "
        "scheme at most once.",
    ),
    Rule(
        "R-VET-FCFS",
        "first-come-first-served vetting",
        "Applications are reviewed in order of arrival by `capacity` reviewers: each starts at the later "
        "of its arrival and the time a reviewer first frees up, and takes its review time.",
    ),
    Rule(
        "R-DECIDE",
        "review outcome and decision time",
        "At review end one uniform u per file decides: u < w withdrawn or ineligible, else "
        "u < w + (1 - w) p approved, else rejected. Under `first_come` the decision is at review end.",
    ),
    Rule(
        "R-ROUNDS",
        "committee order",
        "Under `rounds` every reviewed file is decided at the first meeting at or after its review end "
        "(meetings at k * interval, k >= 1); at a meeting, approved files are funded highest readiness "
        "first.",
    ),
    Rule(
        "R-LOTTERY",
        "lottery order",
        "Under `lottery` every reviewed file is decided at the first meeting at or after its review end, "
        "as under `rounds`; under `lottery_at_close` every file is decided at one draw, at the later of "
        "the call's close and the last review end (if that is after the horizon, no file is decided). "
        "Files decided "
        "together are funded lowest ticket first, a uniform per file from its own stream, independent "
        "of its other draws: a uniformly random order.",
    ),
    Rule(
        "R-FUND",
        "funding decision and exhaustion",
        "Approved files decided by the horizon are taken in order of (decision time, readiness highest "
        "first under `rounds`, ticket lowest first under a lottery); each is funded while committed + "
        "grant <= budget (to HK$1e-6) and awards < places. "
        "The first approved file that cannot be funded exhausts the scheme at its decision time; every "
        "later approved file is unfunded. The scheme is exhausted by places if no place was left for "
        "that file (awards = places), otherwise by money (its grant exceeded the remaining budget).",
    ),
    Rule(
        "R-TURN-AWAY",
        "turn-away after exhaustion",
        "With `close_on_exhaustion`, an application arriving after the exhaustion time is turned away: "
        "it never queues, is never reviewed and costs nothing.",
    ),
    Rule(
        "R-CHANGE",
        "dated changes, reserve list and reopening",
        "A scheme's `changes` take effect at their weeks, before the decisions and arrivals of the same "
        "week. Approved files that cannot be funded (the one that exhausts the scheme and every later "
        "one) wait on the reserve list in the order they were decided. A top-up adds its `budget_hkd` and"
        " `places`, then funds the reserve list in order while its first file fits, each awarded at the "
        "top-up's week (its recorded decision week); an emptied reserve list reopens the scheme: later "
        "approved files are funded and, with `close_on_exhaustion`, arrivals are admitted again. The "
        "exhaustion week is the first exhaustion's. With `closes = true`, every application arriving "
        "after its week is turned away; files already in are reviewed and decided. Files still on the "
        "reserve list at the horizon are unfunded. A change's `max_grant_hkd` is the cap for files "
        "decided from its week on: their grant is min(cap, cost / (1 + matching ratio)) (a file on the "
        "reserve list keeps the grant of its decision). A change's `assessors` are reviewers added to "
        "`capacity` from its week on: the files waiting then start review on them first come first "
        "served, as do later files whenever a reviewer frees up.",
    ),
    Rule(
        "R-REAPPLY",
        "re-application after rejection",
        "A first application rejected at week d (not a withdrawn one) reapplies once if its uniform is "
        "below `reapply_probability`, at d plus its delay, if that week is not after the window's close "
        "(at most the horizon); under `lottery_at_close` no file reapplies (it is decided at or after "
        "the close). The re-application is the same firm and project (cost, value added, readiness, "
        "upgrade draws) with its own review time, review uniform and ticket; like any application it may "
        "be turned away on arrival and is otherwise reviewed, decided and funded (its grant under the "
        "cap in force at its decision); it is a row of its own, after the applications in order of "
        "arrival, and counts among the applications.",
    ),
    Rule(
        "R-INTEGRATORS",
        "integrator queue",
        "An upgrade starts at award; with finite `integrators` it starts first come first served, in "
        "award order, when an integrator frees up (at completion or abandonment).",
    ),
    Rule(
        "R-COMPLETE",
        "completion and abandonment",
        "An upgrade completes, after its duration, when its uniform is below completion_probability x "
        "completion_factor (clipped to [0, 1]); otherwise it is abandoned after a uniform fraction of "
        "its duration. An end after the end of the follow-up is not reached (the upgrade is ongoing).",
    ),
    Rule(
        "R-FOLLOW-UP",
        "scheme horizon and follow-up",
        "Applications are taken, reviewed and decided up to the horizon only: a review that would start "
        "or end after it leaves the file in review, and no meeting is held after it. Funded upgrades go "
        "on: they start (R-INTEGRATORS) and end (R-COMPLETE) until the end of the follow-up, the "
        "horizon plus `follow_up_weeks` (0: no follow-up), and their payments and impact count to there.",
    ),
    Rule(
        "R-PROGRAMME-COHORTS",
        "an operator's cohorts",
        "In an intermediary scheme a funded operator's base opens when its set-up (the upgrade) "
        "completes; it then admits a cohort at the opening and every `cohort_interval_weeks` after it, "
        "up to the end of the follow-up. Each cohort offers Poisson(`cohort_size_mean`) places; of its "
        "admitted start-ups, Binomial(admitted, p) are relocated, surviving and with follow-on funding, "
        "p being `relocated_share`, `survival_probability` and `follow_on_probability`.",
    ),
    Rule(
        "R-PROGRAMME-POOL",
        "the start-up pool",
        "Cohorts are admitted in order of week (ties: award order), each taking its places while the "
        "pool lasts: floor(count x eligible_share) start-ups of the cohort segment per replication.",
    ),
    Rule(
        "R-PROGRAMME-PAY",
        "an operator's tranches",
        "An operator is paid `upfront_share` of its grant at award and the rest in `tranches` equal "
        "parts, at the admissions of its first `tranches` cohorts; a base that does not open is paid "
        "the upfront share only.",
    ),
    Rule(
        "R-PROGRAMME-IMPACT",
        "the value of start-up outcomes",
        "Only where an intermediary scheme's programme has an `impact` section: the benefit by a date "
        "is (1 - deadweight) x (surviving x `surviving_value_hkd` + relocated x `relocated_value_hkd` "
        "+ with follow-on funding x `follow_on_value_hkd`), counting the start-ups accelerated by that "
        "date, valued at the end of the follow-up and discounted to the scheme's opening by "
        "(1 + `discount_rate`) ** -(end week / 52); the benefit-cost ratio is that present value over "
        "the public cost by the same date. Without the section there is no benefit and no ratio.",
    ),
)

#: The rules by id.
RULES: dict[str, Rule] = {rule.id: rule for rule in RULE_BOOK}
