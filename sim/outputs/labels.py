"""Every headline statistic's words, stated once: the label a reader sees and what it means.

The headline table (:data:`sim.outputs.tables.HEADLINE`, printed by ``run``
and written to ``headline.csv``), the brief's sentences and table, the
figures' titles and axes (through :data:`METRIC_WORDS`) and the outputs of
``compare``, sweeps and sensitivity take their words from :data:`STATISTICS`,
so one label never stands for two statistics. Where they show another
statistic of the same per-run metric (a mean over runs where the headline
gives a median), they name it from :data:`SHOWN_AS` (:func:`mean_label`), so
two statistics never share a label either. Which limit binds is named:
"the places fill" and "the money runs out" are different events (MODEL.md
"Which limit binds"), and "exhausted" is used only for either of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "Statistic",
    "STATISTICS",
    "METRIC_WORDS",
    "SHOWN_AS",
    "mean_label",
    "COMPARE_HEADERS",
    "COMPARE_LABELS",
    "COMPARE_NOTE",
    "label",
    "compare_header",
    "definitions",
    "PARAMETER_WORDS",
    "scheme_label",
    "parameter_label",
    "VOI_STATISTICS",
    "INTERVAL_WORDS",
    "INTERVAL_NOTE",
    "SHARE_INTERVAL_MARK",
    "interval_words",
]


@dataclass(frozen=True)
class Statistic:
    """A statistic's label (what the reader sees), its definition (what it is) and its unit."""

    label: str
    definition: str
    unit: str


#: The headline statistics and the per-run metrics they are made of, by key.
STATISTICS: dict[str, Statistic] = {
    "applications": Statistic(
        "Applications",
        "Applications received by the horizon; mean over runs (5-95% of runs).",
        "applications",
    ),
    "turned_away": Statistic(
        "Applications turned away",
        "Applications that arrived after the scheme closed early (a dated change, closes = true) or "
        "while it was exhausted and closed on exhaustion, by the horizon: they are never reviewed; "
        "mean over runs (5-95% of runs). Firms whose week falls after a close announced with the "
        "window (closes_week) never apply and are not counted here.",
        "applications",
    ),
    "awarded": Statistic("Awards", "Grants awarded by the horizon; mean over runs (5-95% of runs).", "firms"),
    "exhausted": Statistic(
        "Runs where the scheme is exhausted",
        "Share of runs in which an approved file could not be funded by the horizon, because the places "
        "filled or the money ran out.",
        "share of runs",
    ),
    "exhaustion_week": Statistic(
        "Week the scheme is exhausted",
        "Week of the first approved file that could not be funded (places filled or money ran out), "
        "counted from the scenario's start date (not the scheme's opening); defined only in runs where "
        "that happens.",
        "weeks from the start date",
    ),
    "exhausted_by_places": Statistic(
        "Runs where the places fill",
        "Share of runs in which an approved file found no place left by the horizon (90% confidence "
        "interval of the share).",
        "share of runs",
    ),
    "places_fill_week": Statistic(
        "Week the places fill (median of runs where they fill)",
        "Median, over the runs where the places fill, of the week the first file found no place left, "
        "counted from the scenario's start date (5-95% of those runs).",
        "weeks from the start date",
    ),
    "exhausted_by_money": Statistic(
        "Runs where the money runs out",
        "Share of runs in which, with places left, an approved file's grant exceeded the money left by "
        "the horizon (90% confidence interval of the share).",
        "share of runs",
    ),
    "money_runs_out_week": Statistic(
        "Week the money runs out (median of runs where it runs out)",
        "Median, over the runs where the money runs out, of the week the first grant did not fit, "
        "counted from the scenario's start date (5-95% of those runs).",
        "weeks from the start date",
    ),
    "undersubscribed": Statistic(
        "Runs under-subscribed",
        "Share of runs with fewer applications than places, or less than a threshold share of the "
        "budget committed by the horizon (default 50%; `run --undersubscribed-below`).",
        "share of runs",
    ),
    "applications_below_places": Statistic(
        "Runs with fewer applications than places",
        "Share of runs in which the scheme received fewer applications than it has places.",
        "share of runs",
    ),
    "committed_hkd": Statistic(
        "Money committed", "Grants awarded by the horizon, HK$; mean over runs (5-95% of runs).", "HK$"
    ),
    "unused_budget_hkd": Statistic(
        "Budget left unused (HK$)",
        "Budget minus the grants committed by the horizon, HK$; mean over runs (5-95% of runs).",
        "HK$",
    ),
    "unused_budget_share": Statistic(
        "Budget left unused (share)",
        "Budget left unused as a share of the budget; mean over runs (5-95% of runs).",
        "share of budget",
    ),
    "average_grant_hkd": Statistic(
        "Average grant (HK$)",
        "Money committed divided by awards in a run, HK$; mean over runs (5-95% of runs).",
        "HK$",
    ),
    "wait_median_weeks": Statistic(
        "Median wait to decision (weeks)",
        "Each run's median wait from application to decision (files decided by the horizon); median "
        "over runs (5-95% of runs).",
        "weeks",
    ),
    "paid_hkd": Statistic(
        "Money paid by scheme end (HK$)",
        "Grants paid out by the scheme's end (upfront shares at award, final tranches at completion), HK$; "
        "mean over runs (5-95% of runs).",
        "HK$",
    ),
    "paid_hkd_follow_up": Statistic(
        "Money paid by follow-up end (HK$)",
        "Grants paid out by the end of the follow-up (final tranches of upgrades that complete after the "
        "scheme's end included), HK$; mean over runs (5-95% of runs).",
        "HK$",
    ),
    "completed": Statistic(
        "Upgrades completed by scheme end",
        "Funded upgrades completed by the scheme's end (its horizon); mean over runs (5-95% of runs).",
        "upgrades",
    ),
    "completed_follow_up": Statistic(
        "Upgrades completed by follow-up end",
        "Funded upgrades completed by the end of the follow-up (awards stop at the scheme's end, upgrades "
        "go on); mean over runs (5-95% of runs).",
        "upgrades",
    ),
    "additional_upgrades": Statistic(
        "Additional upgrades by scheme end",
        "Upgrades completed by the scheme's end that would not have happened without the grant; mean over "
        "runs (5-95% of runs).",
        "upgrades",
    ),
    "additional_upgrades_follow_up": Statistic(
        "Additional upgrades by follow-up end",
        "Upgrades completed by the end of the follow-up that would not have happened without the grant; "
        "mean over runs (5-95% of runs).",
        "upgrades",
    ),
    "cost_per_additional_hkd": Statistic(
        "Cost per additional upgrade by scheme end (HK$)",
        "Public cost (money paid plus administration) by the scheme's end divided by the additional "
        "upgrades completed by then, in a run; mean over runs where defined (5-95% of runs).",
        "HK$",
    ),
    "cost_per_additional_hkd_follow_up": Statistic(
        "Cost per additional upgrade by follow-up end (HK$)",
        "Public cost (money paid plus administration) by the end of the follow-up divided by the "
        "additional upgrades completed by then, in a run; mean over runs where defined (5-95% of runs).",
        "HK$",
    ),
    "benefit_cost_ratio": Statistic(
        "Benefit-cost ratio by scheme end",
        "Present value of the benefits of additional upgrades completed by the scheme's end (an "
        "intermediary scheme: of the outcomes of start-ups accelerated by then, valued by its programme's "
        "impact section; not given without one) divided by the public cost by then, in a run; mean over "
        "runs where defined (5-95% of runs).",
        "HK$ of benefit per HK$ of public cost",
    ),
    "benefit_cost_ratio_follow_up": Statistic(
        "Benefit-cost ratio by follow-up end",
        "Present value of the benefits of additional upgrades completed by the end of the follow-up (an "
        "intermediary scheme: of the outcomes of start-ups accelerated by then, valued by its programme's "
        "impact section; not given without one) divided by the public cost by then, in a run; mean over "
        "runs where defined (5-95% of runs).",
        "HK$ of benefit per HK$ of public cost",
    ),
}


def _by_window(key: str, label: str, definition: str, unit: str) -> dict[str, Statistic]:
    """A statistic of an intermediary scheme counted by the scheme's end and by the follow-up's end."""
    tail = " (HK$)" if unit == "HK$" else ""
    return {
        key: Statistic(f"{label} by scheme end{tail}", definition.format(window="the scheme's end"), unit),
        key + "_follow_up": Statistic(
            f"{label} by follow-up end{tail}", definition.format(window="the end of the follow-up"), unit
        ),
    }


#: The statistics of an intermediary scheme (MODEL.md 6b): operators funded, start-ups in their
#: cohorts and the public cost per start-up, each counted to a stated date.
STATISTICS.update(
    {
        "operators_funded": Statistic(
            "Operators funded",
            "Operators (start-up service providers) awarded a grant by the horizon; mean over runs "
            "(5-95% of runs).",
            "operators",
        ),
        "operator_paid_hkd": Statistic(
            "Money paid to operators by scheme end (HK$)",
            "Grants paid to operators by the scheme's end (upfront shares at award, tranches at their first "
            "cohorts), HK$; mean over runs (5-95% of runs).",
            "HK$",
        ),
        "operator_paid_hkd_follow_up": Statistic(
            "Money paid to operators by follow-up end (HK$)",
            "Grants paid to operators by the end of the follow-up (tranches at cohorts admitted after the "
            "scheme's end included), HK$; mean over runs (5-95% of runs).",
            "HK$",
        ),
        **_by_window(
            "startups_accelerated",
            "Start-ups accelerated",
            "Start-ups admitted to the funded operators' cohorts by {window}; mean over runs "
            "(5-95% of runs).",
            "start-ups",
        ),
        **_by_window(
            "startups_relocated",
            "Start-ups relocated to Hong Kong",
            "Start-ups accelerated by {window} that came from outside Hong Kong; mean over runs "
            "(5-95% of runs).",
            "start-ups",
        ),
        # survival is to the follow-up's end whichever window the start-ups are accelerated by
        # (R-PROGRAMME-COHORTS), so the label names both dates
        **{
            key: Statistic(
                f"Start-ups accelerated by {when} that survive to follow-up end",
                f"Start-ups accelerated by {window} that survive to the end of the follow-up (the "
                "scheme's end where there is none); mean over runs (5-95% of runs).",
                "start-ups",
            )
            for key, when, window in (
                ("startups_surviving", "scheme end", "the scheme's end"),
                ("startups_surviving_follow_up", "follow-up end", "the end of the follow-up"),
            )
        },
        **_by_window(
            "startups_follow_on",
            "Start-ups with follow-on funding",
            "Start-ups accelerated by {window} that raise follow-on funding; mean over runs (5-95% of runs).",
            "start-ups",
        ),
        **_by_window(
            "cost_per_startup_hkd",
            "Public cost per start-up accelerated",
            "Public cost (money paid plus administration) by {window} divided by the start-ups accelerated "
            "by then, in a run; mean over runs where defined (5-95% of runs).",
            "HK$",
        ),
        **_by_window(
            "cost_per_surviving_startup_hkd",
            "Public cost per surviving start-up",
            "Public cost (money paid plus administration) by {window} divided by the start-ups accelerated "
            "by then that survive, in a run; mean over runs where defined (5-95% of runs).",
            "HK$",
        ),
    }
)

#: What a headline number's bracket holds, by its statistic (``tables.HeadlineRow.statistic``):
#: a mean or median comes with the range its per-run metric takes over runs (the spread of
#: outcomes); a share of runs comes with the confidence interval of the share (its precision, which
#: narrows with more runs). The two are never given one name.
INTERVAL_WORDS: dict[str, str] = {
    "mean": "5-95% of runs",
    "median": "5-95% of runs",
    "share": "90% confidence interval of the share",
}

#: The mark put before a share's confidence interval where a table has no room for its words.
SHARE_INTERVAL_MARK = "CI"

#: The sentence that says what brackets hold, for a table or page that shows both kinds.
INTERVAL_NOTE = (
    f"ranges hold {INTERVAL_WORDS['mean']}; '{SHARE_INTERVAL_MARK}' marks the "
    f"{INTERVAL_WORDS['share']} of runs"
)


def interval_words(statistic: str) -> str:
    """What the bracket of a headline number of that statistic ('mean', 'median', 'share') holds."""
    return INTERVAL_WORDS[statistic]


#: Statistics that figures, comparisons, sweeps and sensitivity show where the headline shows
#: another statistic of the same per-run metric, under names of their own: the headline gives
#: the median over runs of each run's median wait, and the median week a limit binds; figures
#: draw each run's median wait run by run, and comparisons and sweeps give means over runs.
SHOWN_AS: dict[str, Statistic] = {
    "wait_median_weeks": Statistic(
        "Each run's median wait to decision (weeks)",
        "A run's median wait from application to decision, shown run by run (figures) or as its mean "
        "over runs (compare, sweeps, sensitivity); the headline row above is its median over runs.",
        "weeks",
    ),
    "places_fill_week": Statistic(
        "Week the places fill",
        "The week the places fill in a run where they fill; compare and sweeps show its mean over the "
        "runs where they fill (and say in how many); the headline row above is its median.",
        "weeks from the start date",
    ),
    "money_runs_out_week": Statistic(
        "Week the money runs out",
        "The week the money runs out in a run where it runs out; compare and sweeps show its mean over "
        "the runs where it runs out (and say in how many); the headline row above is its median.",
        "weeks from the start date",
    ),
}


def _words(key: str, statistic: Statistic) -> tuple[str, str]:
    """A statistic's words for a figure (its label without the unit, or its own name where the
    figure shows another statistic, see :data:`SHOWN_AS`) and its unit."""
    shown = SHOWN_AS.get(key, statistic)
    return shown.label.split(" (")[0], shown.unit


#: Words (label without its unit, unit) of every statistic defined here, for figures' titles and
#: axes (units go on axes): figures, sweeps and sensitivity name a headline metric only by these.
METRIC_WORDS: dict[str, tuple[str, str]] = {key: _words(key, s) for key, s in STATISTICS.items()}


def mean_label(key: str) -> str:
    """The label of the mean over runs of per-run metric ``key`` (comparisons, sensitivity
    tables): the headline label where the headline shows that mean, else its own name and unit."""
    return (SHOWN_AS.get(key) or STATISTICS[key]).label


#: Column headers of a comparison (``compare``'s table, the comparison brief), stated once.
#: ``{level}`` is the confidence level of the run. The interval of the mean difference is its
#: precision (it narrows with more runs); the range of the per-run difference is its spread (it
#: does not), and the headers say which is which.
COMPARE_HEADERS: dict[str, str] = {
    "a": "A (mean of runs)",
    "b": "B (mean of runs)",
    "diff": "Mean difference B - A ({level} confidence interval of the mean)",
    "spread": "Difference B - A in 90% of runs (5-95%)",
    "better": "Runs where B is better",
}

#: Labels a comparison gives where its statistic differs from the headline's (see
#: :data:`SHOWN_AS`): the weeks a limit binds are compared as means over the runs where it binds
#: under both A and B, the wait as the mean of each run's median (the headline's labels say
#: median, a different statistic); and public cost is not a headline row.
COMPARE_LABELS: dict[str, str] = {
    **{key: mean_label(key) for key in SHOWN_AS},
    "public_cost_hkd": "Public cost by scheme end (HK$)",
    "public_cost_hkd_follow_up": "Public cost by follow-up end (HK$)",
}

#: Figures' words of the public cost a comparison shows (not a headline statistic).
METRIC_WORDS.update(
    {
        key: (COMPARE_LABELS[key].removesuffix(" (HK$)"), "HK$")
        for key in ("public_cost_hkd", "public_cost_hkd_follow_up")
    }
)

#: The sentence that goes under a comparison table, saying what its columns mean.
COMPARE_NOTE = (
    "Run k of A is paired with run k of B (common random numbers). The confidence interval is the "
    "precision of the mean difference and narrows with more runs; the 90% range is how much the "
    "difference varies from run to run. 'Better': more awards, completions, additional upgrades and "
    "benefit per HK$; less wait, under-subscription and cost per additional upgrade by scheme end "
    "or by follow-up end; "
    "'-' where neither direction is better."
)


def compare_header(key: str, level: str) -> str:
    """The header of comparison column ``key`` at confidence ``level`` (e.g. '95%')."""
    return COMPARE_HEADERS[key].format(level=level)


def label(key: str) -> str:
    """The label of statistic ``key``."""
    return STATISTICS[key].label


def definitions(keys: tuple[str, ...] | None = None, shown_as: bool = False) -> list[tuple[str, str]]:
    """(label, definition) of statistics ``keys`` (all if None), in order: the README's table;
    with ``shown_as``, then those of :data:`SHOWN_AS` (the names figures, compare and sweeps use)."""
    chosen = keys if keys is not None else tuple(STATISTICS)
    rows = [(STATISTICS[k].label, STATISTICS[k].definition) for k in chosen]
    if shown_as:
        rows += [(mean_label(k), s.definition) for k, s in SHOWN_AS.items()]
    return rows


#: Plain words for the last parts of parameter paths.
PARAMETER_WORDS: dict[str, str] = {
    "budget_hkd": "budget (HK$)",
    "places": "places",
    "max_grant_hkd": "grant cap (HK$)",
    "changes": "dated changes (top-ups, cap, close, assessors)",
    "matching_ratio": "company HK$ per government HK$",
    "admin_cost_per_application_hkd": "admin cost per application (HK$)",
    "uptake.elasticity": "uptake elasticity",
    "uptake.bass_p": "uptake: innovation rate (Bass p)",
    "uptake.bass_q": "uptake: imitation rate (Bass q)",
    "uptake.launch_share": "uptake: share applying in the launch burst",
    "uptake.launch_weeks": "uptake: launch burst (weeks)",
    "uptake.rush_share": "uptake: share applying in the deadline rush",
    "uptake.rush_weeks": "uptake: deadline rush (weeks)",
    "opens_week": "window opens (week)",
    "closes_week": "window closes (week)",
    "vetting.capacity": "vetting capacity (concurrent reviews)",
    "vetting.review_weeks": "review time (weeks)",
    "vetting.withdraw_probability": "withdrawal probability",
    "vetting.approval_probability": "approval probability",
    "allocation.meeting_interval_weeks": "weeks between committee meetings",
    "upgrade.integrators": "integrator capacity (projects)",
    "upgrade.duration_weeks": "upgrade duration (weeks)",
    "upgrade.completion_probability": "completion probability",
    "tranches.upfront_share": "share paid at award",
    "impact.no_gain_probability": "probability of no gain",
    "impact.gain": "gain in value added",
    "impact.ramp_years": "ramp-up (years)",
    "impact.deadweight": "deadweight (would upgrade anyway)",
    "impact.benefit_years": "benefit years",
    "impact.discount_rate": "discount rate",
    "programme.cohort_size_mean": "mean cohort size (start-ups)",
    "programme.cohort_interval_weeks": "weeks between cohorts",
    "programme.relocated_share": "share of start-ups relocated",
    "programme.survival_probability": "start-up survival probability",
    "programme.follow_on_probability": "start-up follow-on funding probability",
    "programme.tranches": "tranches after the upfront share",
    "programme.impact.surviving_value_hkd": "value of a surviving start-up (HK$)",
    "programme.impact.relocated_value_hkd": "value of a relocated start-up (HK$)",
    "programme.impact.follow_on_value_hkd": "value of a start-up with follow-on funding (HK$)",
    "programme.impact.deadweight": "start-up deadweight (would happen anyway)",
    "programme.impact.discount_rate": "discount rate of start-up benefits",
    "count": "number of firms",
    "eligible_share": "eligible share",
    "propensity": "propensity to apply",
}


def scheme_label(scheme: str, labels: Mapping[str, str]) -> str:
    """A scheme's label from the scenario (``labels``: name -> label), else its name in words."""
    return labels.get(scheme) or scheme.replace("_", " ").capitalize()


def parameter_label(path: str, labels: Mapping[str, str] | None = None) -> str:
    """A parameter path in words, for tables and figures:
    'schemes.manufacturing_plus.vetting.capacity' -> 'Manufacturing+: vetting capacity (...)'."""
    parts = path.split(".")
    if len(parts) == 5 and parts[0] == "schemes" and parts[2] == "changes" and parts[3].isdigit():
        words = _CHANGE_WORDS.get(parts[4], _plain(parts[4]))
        return f"{scheme_label(parts[1], labels or {})}: {words} of dated change {int(parts[3]) + 1}"
    if len(parts) >= 3 and parts[0] in ("schemes", "segments"):
        owner, rest = parts[1], ".".join(parts[2:])
        words = PARAMETER_WORDS.get(rest) or PARAMETER_WORDS.get(parts[-1]) or _plain(rest)
        return f"{scheme_label(owner, labels or {})}: {words}"
    return PARAMETER_WORDS.get(path, _plain(path))


#: The fields of a dated change (R-CHANGE) in words.
_CHANGE_WORDS = {
    "week": "week",
    "budget_hkd": "money added (HK$)",
    "places": "places added",
    "max_grant_hkd": "new grant cap (HK$)",
    "assessors": "assessors added",
}


def _plain(path: str) -> str:
    return path.replace(".", " ").replace("_", " ")


#: The nowcast's statistics (``schemesim nowcast``) beyond :data:`STATISTICS`: each row of its
#: headline is one of these or a headline statistic under its own label, shown twice: over all runs
#: equally (the prior forecast) and over the runs weighted by how likely each makes the
#: observations (as at the date). ``{date}`` is the end of a calendar quarter or the scheme's end.
NOWCAST_STATISTICS: dict[str, Statistic] = {
    "places_fill_by": Statistic(
        "Runs where the places fill by {date}",
        "Share of runs in which an approved file found no place left by the date (the end of each "
        "calendar quarter after the as-at date, and the scheme's end).",
        "share of runs",
    ),
    # the headline statistics the nowcast shows, counted by the scheme's end (the horizon): their
    # labels with the window the run tables' other statistics give theirs in
    **{
        key: Statistic(
            f"{STATISTICS[key].label} by scheme end", STATISTICS[key].definition, STATISTICS[key].unit
        )
        for key in ("applications", "awarded", "exhausted_by_money")
    },
}

#: Column headers of the nowcast's headline, stated once (``{date}``: the as-at date).
NOWCAST_HEADERS: dict[str, str] = {
    "prior": "Prior forecast (all runs equally)",
    "as_at": "As at {date} (runs weighted by the observations)",
    "range": "As at {date}, 90% of weighted runs (5-95%)",
    "change_as_at": "Variant - base as at {date} (same runs)",
    "change_prior": "Variant - base, prior forecast (same runs)",
}

#: The same headers, short, for a terminal's width (the printed note says what they mean).
NOWCAST_SHORT_HEADERS: dict[str, str] = {
    "prior": "prior",
    "as_at": "as at",
    "range": "as at, 90%",
    "change_as_at": "{name} - base",
}

#: The sentence under a nowcast's headline, saying what its columns mean.
NOWCAST_NOTE = (
    "Every run goes from the opening to the end of the follow-up. The prior forecast counts every run "
    "equally; 'as at' weights each run by how likely it makes the observations, so runs whose history "
    "agrees with them carry the forecast. A variant's run k uses the random numbers of the base's run k "
    "and shares its history up to the as-at date, so it takes the base's weights."
)


def nowcast_label(key: str, day: str = "", intermediary: bool = False) -> str:
    """The label of a nowcast headline row: its own (:data:`NOWCAST_STATISTICS`, at ``day``) or the
    headline statistic's, an ``intermediary`` scheme's in its own words ("Operators funded")."""
    if key in NOWCAST_STATISTICS:
        if intermediary and key in INTERMEDIARY_STATISTICS:  # its own words, with the same window
            return f"{INTERMEDIARY_STATISTICS[key].label} by scheme end"
        return NOWCAST_STATISTICS[key].label.format(date=day)
    return scheme_statistic(key, intermediary).label


#: The words of a value-of-information analysis (``schemesim value-of-information``): its default
#: decision metric and the two values it reports, defined once for its table, figure and brief.
VOI_STATISTICS: dict[str, Statistic] = {
    "net_benefit": Statistic(
        "Net benefit by follow-up end (HK$)",
        "Present value of the benefits of additional upgrades completed by the end of the follow-up "
        "minus the public cost (money paid plus administration) by then, summed over the schemes "
        "that have a benefit (not an intermediary scheme), in a run, HK$.",
        "HK$",
    ),
    "evpi": Statistic(
        "Value of perfect information",
        "How much more the better option is worth, on average, if every uncertain parameter were "
        "known before choosing between A and B than if the choice were made now; estimated by "
        "regressing the run-by-run difference B - A on all the parameters (firm-level variation "
        "is not counted as information).",
        "metric's unit",
    ),
    "evppi": Statistic(
        "Value of learning the parameter first",
        "The same for one uncertain parameter: how much more the choice between A and B is worth, "
        "on average, if that parameter alone were known before choosing; an upper bound on what "
        "research into it is worth for this decision.",
        "metric's unit",
    ),
}


#: The words of an intermediary scheme (MODEL.md 6b) where its rows, figures and funnel show a
#: statistic it shares with a direct scheme: its applicants are operators (start-up service
#: providers), an award funds an operator, and what a direct scheme counts as a completed upgrade is
#: an operator's base opening. Each is one statistic under one label, never a direct scheme's label.
INTERMEDIARY_STATISTICS: dict[str, Statistic] = {
    "eligible": Statistic(
        "Eligible operators",
        "Operators (start-up service providers) eligible to apply; mean over runs (5-95% of runs).",
        "operators",
    ),
    "would_be": Statistic(
        "Operators that would apply",
        "Eligible operators that would apply while the scheme is open; mean over runs (5-95% of runs).",
        "operators",
    ),
    "applications": Statistic(
        "Applications from operators",
        "Operators' applications received by the horizon; mean over runs (5-95% of runs).",
        "applications",
    ),
    "approved": Statistic(
        "Operators' applications approved",
        "Operators' applications approved by the horizon; mean over runs (5-95% of runs).",
        "applications",
    ),
    "awarded": STATISTICS["operators_funded"],
    "completed": Statistic(
        "Operator bases opened by scheme end",
        "Funded operators whose base (the set-up the grant pays for) has opened by the scheme's end; "
        "a base opens before its first cohort; mean over runs (5-95% of runs).",
        "operators",
    ),
    "completed_follow_up": Statistic(
        "Operator bases opened by follow-up end",
        "Funded operators whose base has opened by the end of the follow-up; mean over runs (5-95% of runs).",
        "operators",
    ),
    "startup_places_follow_up": Statistic(
        "Cohort places offered by follow-up end",
        "Start-up places in the cohorts the funded operators run by the end of the follow-up, before the "
        "pool of eligible start-ups limits admissions; mean over runs (5-95% of runs).",
        "start-ups",
    ),
    "paid_hkd": STATISTICS["operator_paid_hkd"],
}

#: An intermediary scheme's funnel: operators from eligible to bases opened (the scheme's end),
#: then the start-ups of their cohorts to the end of the follow-up. Relocated, surviving and
#: follow-on funding are each a part of the start-ups accelerated, not of one another.
INTERMEDIARY_FUNNEL: dict[str, tuple[str, ...]] = {
    "operators": ("eligible", "would_be", "applications", "approved", "awarded", "completed"),
    "start-ups": (
        "startup_places_follow_up",
        "startups_accelerated_follow_up",
        "startups_relocated_follow_up",
        "startups_surviving_follow_up",
        "startups_follow_on_follow_up",
    ),
}

#: An intermediary scheme's fan-chart series: (series, panel title, y-axis label).
INTERMEDIARY_FAN_SERIES: tuple[tuple[str, str, str], ...] = (
    ("applications", "Applications from operators", "applications from operators (cumulative)"),
    ("awards", "Operators funded", "operators funded (cumulative)"),
    ("completions", "Operator bases opened", "operator bases opened (cumulative)"),
    ("paid_hkd", "Money paid to operators", "HK$ paid to operators (cumulative)"),
)


def scheme_statistic(key: str, intermediary: bool) -> Statistic:
    """Statistic ``key`` of a scheme of that kind: an intermediary scheme's own words where it has
    them (:data:`INTERMEDIARY_STATISTICS`), else the statistic's one label."""
    if intermediary and key in INTERMEDIARY_STATISTICS:
        return INTERMEDIARY_STATISTICS[key]
    return STATISTICS[key]


def scheme_words(key: str, intermediary: bool) -> str:
    """The label of ``key`` for a scheme of that kind, without its unit (figures' words); the
    figures' words of a metric that has no statistic here are the caller's."""
    return scheme_statistic(key, intermediary).label.split(" (")[0]


def intermediary_schemes(meta: Mapping[str, object]) -> frozenset[str]:
    """The intermediary schemes of the scenario a result folder's manifest (``meta``) records."""
    source = meta.get("scenario_source")
    schemes = source.get("schemes", {}) if isinstance(source, Mapping) else {}
    return frozenset(
        name for name, s in schemes.items() if isinstance(s, Mapping) and s.get("kind") == "intermediary"
    )
