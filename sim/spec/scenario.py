"""The scenario schema: population segments, schemes and their stages (MODEL.md 1-7).

A :class:`Scenario` is plain, immutable data, validated once when it is loaded.
Two kinds of numbers appear in it:

* **parameters** (:class:`ParamSpec` in the annotation): a number or a named
  distribution, drawn once per replication (what we do not know about the world);
* **firm-level distributions** (``ParamSpec(..., firm_level=True)``): drawn per
  firm, with parameters that are numbers (how firms differ).

Each field states its allowed range in its annotation (:mod:`sim.spec.fields`);
a distribution is accepted only if its whole support lies inside that range (or,
for an unbounded tail, its mean does), so a probability can never be drawn above
1 and a budget never below 0. Every range is finite, so a scenario that
validates can run: :func:`field_limits` lists them all (the table in README).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.spec.distributions import Distribution, Fixed, LogNormal
from sim.spec.fields import DateRange, Limit, ParamSpec, Text, Value
from sim.spec.suggest import did_you_mean

__all__ = [
    "ParamSpec",
    "Value",
    "Band",
    "Segment",
    "Uptake",
    "Vetting",
    "Allocation",
    "Upgrade",
    "Tranches",
    "Impact",
    "NO_IMPACT",
    "impact_of",
    "Change",
    "Programme",
    "StartupImpact",
    "SchemeKind",
    "Scheme",
    "PosteriorFile",
    "Scenario",
    "parameter_specs",
    "uncertain_paths",
    "unread_paths",
    "impact_problem",
    "closing_week",
    "window_problem",
    "field_limits",
    "written_section",
    "MAX_FIRMS",
    "ALLOCATION_RULE_NAMES",
    "CLOSE_ALLOCATION_RULES",
]

# ---------------------------------------------------------------- limits (the one place they are declared)

#: Most firms in one segment: generous but finite (memory is checked by the run pipeline).
MAX_FIRMS = 10_000_000
#: Longest horizon, window, review, upgrade or committee interval, in weeks (50 years).
MAX_WEEKS = 2_600
#: Most concurrent reviews or integrator projects.
MAX_SERVERS = 100_000
#: Largest budget of a scheme, in HK$.
MAX_BUDGET_HKD = 1e13
#: Largest single amount (grant cap, project cost), in HK$.
MAX_AMOUNT_HKD = 1e11
#: Most years over which a completed upgrade brings benefits.
MAX_BENEFIT_YEARS = 100

_KEY = Text(40, 40, required=True, key=True)

Probability: TypeAlias = Annotated[Value, ParamSpec(0.0, 1.0)]
Share: TypeAlias = Annotated[float, Limit(0.0, 1.0)]
Name: TypeAlias = Annotated[str, _KEY]
Label: TypeAlias = Annotated[str, Text(100, 400, forbidden="[]")]
Weeks: TypeAlias = Annotated[float, Limit(0.0, MAX_WEEKS, open_lo=True)]
Servers: TypeAlias = Annotated[Value, ParamSpec(1.0, MAX_SERVERS, integer=True)]
Money: TypeAlias = Annotated[Value, ParamSpec(0.0, MAX_AMOUNT_HKD)]
FirmMoney: TypeAlias = Annotated[Distribution, ParamSpec(0.0, MAX_AMOUNT_HKD, firm_level=True)]
FirmValueAdded: TypeAlias = Annotated[Distribution, ParamSpec(0.0, 10 * MAX_AMOUNT_HKD, firm_level=True)]
FirmWeeks: TypeAlias = Annotated[Distribution, ParamSpec(0.0, MAX_WEEKS, firm_level=True)]
Gain: TypeAlias = Annotated[Distribution, ParamSpec(-1.0, 100.0, firm_level=True)]
Rate: TypeAlias = Annotated[Value, ParamSpec(0.0, 10.0)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Band(_Spec):
    """A size band within a segment, e.g. micro (<10 staff)."""

    share: Share = Field(description="Share of the segment's firms in this band.")
    project_cost_hkd: FirmMoney = Field(description="Cost of the upgrade project, per firm.")
    value_added_hkd: FirmValueAdded = Field(description="Annual value added, per firm.")
    completion_factor: Annotated[float, Limit(0.0, 10.0)] = Field(
        default=1.0,
        description="Multiplies the completion probability (micro firms finish less often).",
    )


class Segment(_Spec):
    """A population segment: a count of firms, their size bands and eligible share."""

    label: Label = ""
    count: Annotated[int, Limit(1, MAX_FIRMS, integer=True)] = Field(
        description="Number of firms in the segment (a fixed number)."
    )
    eligible_share: Probability
    propensity: Probability = Field(
        description="a_seg: chance an eligible firm would apply at the reference rate."
    )
    bands: dict[Name, Band] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Segment:
        total = sum(b.share for b in self.bands.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"band shares must add up to 1 (got {total:g})")
        return self


BurstWeeks: TypeAlias = Annotated[Value, ParamSpec(0.0, MAX_WEEKS, open_lo=True)]


class Uptake(_Spec):
    """Who applies and when (MODEL.md 3): subsidy-rate elasticity, and timing as a mixture of a
    launch burst, a deadline rush and Bass diffusion (MODEL.md 3c)."""

    reference_rate: Annotated[Value, ParamSpec(0.001, 1.0)] = 1.0 / 3.0
    elasticity: Rate = 1.0
    bass_p: Annotated[Value, ParamSpec(1e-6, 10.0)]
    bass_q: Rate
    launch_share: Probability = Field(
        default=0.0, description="Share of would-be applicants who apply in the launch burst."
    )
    launch_weeks: BurstWeeks | None = Field(
        default=None, description="Length of the launch burst after the window opens (weeks)."
    )
    rush_share: Probability = Field(
        default=0.0, description="Share who apply in the rush before the window closes."
    )
    rush_weeks: BurstWeeks | None = Field(
        default=None, description="Length of the deadline rush before the close (weeks)."
    )

    @model_validator(mode="after")
    def _bursts_are_complete(self) -> Uptake:
        for burst in ("launch", "rush"):
            if _highest(getattr(self, f"{burst}_share")) > 0 and getattr(self, f"{burst}_weeks") is None:
                raise ValueError(f"{burst}_share needs {burst}_weeks (the length of the {burst}, in weeks)")
        total = _highest(self.launch_share) + _highest(self.rush_share)
        if total > 1.0 + 1e-12:
            raise ValueError(
                f"launch_share + rush_share must be at most 1 (their largest values add up to {total:g})"
            )
        return self


def _highest(value: Value | None) -> float:
    """The largest value a parameter can take (its own value when it is a number; 0 when absent)."""
    if value is None:
        return 0.0
    return value.support()[1] if isinstance(value, Distribution) else float(value)


#: The wait of a rejected applicant before it reapplies (MODEL.md 3e: median 12 weeks, *assumption*).
REAPPLY_DELAY_WEEKS = LogNormal(12.0, 0.5)


class Vetting(_Spec):
    """First-come-first-served review by ``capacity`` concurrent reviewers (MODEL.md 4), and the
    re-application of rejected files (MODEL.md 3e, rule R-REAPPLY)."""

    capacity: Servers
    review_weeks: FirmWeeks
    withdraw_probability: Probability
    approval_probability: Probability
    reapply_probability: Probability = Field(
        default=0.0, description="Chance a rejected applicant reapplies once (not a withdrawn one)."
    )
    reapply_delay_weeks: FirmWeeks = Field(
        default=REAPPLY_DELAY_WEEKS, description="Weeks from the rejection to the re-application, per firm."
    )


#: The allocation rules a scheme may name. What each does is declared once, in
#: ``sim.engines.allocation.ALLOCATION_RULES`` (a test checks it covers exactly these names);
#: the names live here so that the schema needs no engine.
AllocationRuleName: TypeAlias = Literal["first_come", "rounds", "lottery", "lottery_at_close"]
ALLOCATION_RULE_NAMES: tuple[str, ...] = get_args(AllocationRuleName)
#: The rules that decide at the call's close, so need a closing date (a test checks them against
#: the engines' declaration, sim.engines.allocation).
CLOSE_ALLOCATION_RULES: tuple[str, ...] = ("lottery_at_close",)


class Allocation(_Spec):
    """Who gets the money (MODEL.md 5): at review end, at committee rounds, or by lottery (at each
    meeting, or once at the call's close)."""

    rule: AllocationRuleName = "first_come"
    meeting_interval_weeks: Annotated[float, Limit(0.1, MAX_WEEKS)] = 8.0


class Upgrade(_Spec):
    """The funded upgrade (MODEL.md 6): integrator capacity, duration, completion."""

    integrators: Servers | None = Field(
        default=None, description="Concurrent projects suppliers can run; omit for unlimited."
    )
    duration_weeks: FirmWeeks
    completion_probability: Probability


class Tranches(_Spec):
    """How the grant is paid: a share at award, the rest at completion."""

    upfront_share: Probability


class Impact(_Spec):
    """What a completed upgrade adds (MODEL.md 7)."""

    no_gain_probability: Probability
    gain: Gain
    ramp_years: Annotated[Value, ParamSpec(0.0, 100.0, open_lo=True)]
    deadweight: Probability
    benefit_years: Annotated[Value, ParamSpec(1.0, MAX_BENEFIT_YEARS, integer=True)]
    discount_rate: Probability


#: The terms the engines carry for a scheme without an impact section (an intermediary scheme,
#: MODEL.md 6b): no upgrade gains anything and every one would have happened anyway, so nothing
#: can be counted as a benefit. No output of an intermediary scheme reads them (its value added,
#: additional upgrades and benefits are empty); they only fill the engines' tables.
NO_IMPACT = Impact(
    no_gain_probability=1.0,
    gain=Fixed(0.0),
    ramp_years=1.0,
    deadweight=1.0,
    benefit_years=1.0,
    discount_rate=0.0,
)


class Change(_Spec):
    """A dated policy change of a scheme (MODEL.md 5, R-CHANGE): a top-up of money or places, a new
    grant cap, an early close, or more assessors (reviewers added to ``vetting.capacity`` from its
    week on; only additions: a reviewer cannot be taken off a file mid-review). Amounts are plain
    numbers (not distributions): a policy decision, not an unknown."""

    week: Annotated[float, Limit(0.0, MAX_WEEKS, open_lo=True)] = Field(
        description="Week the change takes effect (within the horizon)."
    )
    budget_hkd: Annotated[float, Limit(0.0, MAX_BUDGET_HKD)] = 0.0
    places: Annotated[float, Limit(0.0, MAX_FIRMS, integer=True)] = 0.0
    max_grant_hkd: Annotated[float, Limit(0.0, MAX_AMOUNT_HKD)] | None = Field(
        default=None, description="The grant cap for files decided from this week on."
    )
    closes: StrictBool = False
    assessors: Annotated[float, Limit(0.0, MAX_SERVERS, integer=True)] = Field(
        default=0.0, description="Reviewers added to vetting.capacity from this week on."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Change:
        if not self.model_fields_set & {"budget_hkd", "places", "max_grant_hkd", "closes", "assessors"}:
            raise ValueError(
                "a change needs at least one of budget_hkd, places, max_grant_hkd, closes or assessors "
                "(besides its week)"
            )
        return self


class StartupImpact(_Spec):
    """What the start-up outcomes of an intermediary scheme are worth (MODEL.md 6b, rule
    R-PROGRAMME-IMPACT): optional, so that no benefit is invented. Each value is a sum of HK$ per
    start-up with that outcome, counted at the end of the follow-up; an outcome left out is not
    valued (0)."""

    surviving_value_hkd: Money = Field(
        default=0.0, description="Value of an accelerated start-up that survives the follow-up (HK$)."
    )
    relocated_value_hkd: Money = Field(
        default=0.0, description="Value of an accelerated start-up that relocated to Hong Kong (HK$)."
    )
    follow_on_value_hkd: Money = Field(
        default=0.0, description="Value of an accelerated start-up that raised follow-on funding (HK$)."
    )
    deadweight: Probability = Field(
        description="Share of these outcomes that would have happened without the scheme."
    )
    discount_rate: Probability = Field(description="Annual rate discounting to the scheme's opening.")

    @model_validator(mode="after")
    def _values_something(self) -> StartupImpact:
        if not self.model_fields_set & {"surviving_value_hkd", "relocated_value_hkd", "follow_on_value_hkd"}:
            raise ValueError(
                "an impact section needs at least one of surviving_value_hkd, relocated_value_hkd or "
                "follow_on_value_hkd (besides deadweight and discount_rate)"
            )
        return self


class Programme(_Spec):
    """What a funded operator of an intermediary scheme runs (MODEL.md 6b, rules R-PROGRAMME-*).

    The operator's base opens when its ``upgrade`` (the set-up) completes; from then on it admits
    a cohort every ``cohort_interval_weeks`` until the follow-up ends.
    """

    cohort_segment: Name = Field(description="Segment the admitted start-ups come from.")
    cohort_size_mean: Annotated[Value, ParamSpec(0.0, 100_000.0)] = Field(
        description="Mean of each cohort's size (Poisson)."
    )
    cohort_interval_weeks: Annotated[float, Limit(1.0, MAX_WEEKS)] = 26.0
    relocated_share: Probability = Field(
        description="Chance an admitted start-up comes from outside Hong Kong."
    )
    survival_probability: Probability = Field(
        description="Chance an accelerated start-up survives the follow-up."
    )
    follow_on_probability: Probability = Field(
        description="Chance an accelerated start-up raises follow-on funding."
    )
    tranches: Annotated[int, Limit(1, 1000, integer=True)] = Field(
        default=1,
        description="Equal tranches of the grant after the upfront share, at the first cohorts' admissions.",
    )
    impact: StartupImpact | None = Field(
        default=None,
        description="What the start-ups' outcomes are worth; without it no benefit-cost ratio is given.",
    )


#: Why an intermediary scheme's own impact section is refused, and what to write instead.
INTERMEDIARY_IMPACT = (
    "an intermediary scheme has no impact section of its own (its operators' set-up adds no value "
    "added, MODEL.md 6b); value its start-ups in its programme's impact section "
    "([schemes.<name>.programme.impact]) instead, or leave both out"
)

#: What a scheme funds (MODEL.md 2): firms' own projects, or operators who run programmes for firms.
SchemeKind: TypeAlias = Literal["direct", "intermediary"]


class Scheme(_Spec):
    """A support scheme: who it serves, its money, and each stage's rules."""

    kind: SchemeKind = "direct"

    label: Label = ""
    segments: list[Name] = Field(min_length=1, max_length=50)
    budget_hkd: Annotated[Value, ParamSpec(0.0, MAX_BUDGET_HKD)]
    places: Annotated[Value, ParamSpec(0.0, MAX_FIRMS, integer=True)]
    max_grant_hkd: Money
    matching_ratio: Annotated[Value, ParamSpec(0.0, 1000.0)] = Field(
        description="Company HK$ per government HK$ (1:2 matching -> 2)."
    )
    application_window_weeks: Weeks | None = Field(
        default=None, description="Length of the application window from its opening (weeks)."
    )
    opens_week: Annotated[float, Limit(0.0, MAX_WEEKS)] = Field(
        default=0.0, description="Week the application window opens (0: at the start date)."
    )
    closes_week: Weeks | None = Field(
        default=None, description="Week the application window closes; omit for a rolling scheme."
    )
    close_on_exhaustion: StrictBool = True
    redirect_when_closed: StrictBool = Field(
        default=False,
        description="Firms this scheme turns away (closed or exhausted) apply to their next eligible scheme.",
    )
    changes: list[Change] = Field(
        default_factory=list,
        max_length=100,
        description="Dated top-ups, caps, more assessors and an early close (MODEL.md 5).",
    )
    admin_cost_per_application_hkd: Money = 0.0
    min_project_cost_hkd: Annotated[float, Limit(0.0, MAX_AMOUNT_HKD)] = Field(
        default=0.0, description="Smallest project cost the scheme funds (HK$, a fixed number)."
    )
    max_project_cost_hkd: Annotated[float, Limit(0.0, MAX_AMOUNT_HKD, open_lo=True)] | None = Field(
        default=None, description="Largest project cost the scheme funds (HK$); omit for no limit."
    )
    uptake: Uptake
    vetting: Vetting
    allocation: Allocation = Allocation()
    upgrade: Upgrade
    tranches: Tranches
    impact: Impact | None = Field(
        default=None,
        description="What a completed upgrade adds (a direct scheme only; MODEL.md 6b, 7).",
    )
    programme: Programme | None = Field(
        default=None, description="The operators' programme; required exactly when kind = 'intermediary'."
    )

    @field_validator("impact", mode="before")
    @classmethod
    def _no_impact_of_an_intermediary(cls, value: Any, info: ValidationInfo) -> Any:
        """Refuse an intermediary scheme's own impact section before its fields are checked (``kind``
        is read first): its operators add no value added, so nothing would read it (MODEL.md 6b)."""
        if value is not None and info.data.get("kind") == "intermediary":
            raise ValueError(INTERMEDIARY_IMPACT)
        return value


class PosteriorFile(_Spec):
    """A calibration's posterior joint sample named by the scenario (``posterior = "FILE.parquet"``).

    The loader checks the file and writes this reference in place of the path
    (:mod:`sim.spec.posterior`); its rows replace the priors of ``parameters``.
    """

    file: str = Field(description="The posterior file, resolved.")
    sha256: str = Field(description="SHA-256 digest of the file as checked.")
    draws: int = Field(description="Rows (posterior draws) in the file.")
    parameters: list[str] = Field(description="The parameter paths it covers.")


class Scenario(_Spec):
    """A whole scenario: the firms, the schemes, and the simulated horizon."""

    name: Annotated[str, Text(60, 100, required=True, forbidden="[]")]
    description: Annotated[str, Text(2000, 8000)] = ""
    start_date: Annotated[date, DateRange(date(1900, 1, 1), date(2200, 12, 31))]
    horizon_weeks: Annotated[float, Limit(1.0, MAX_WEEKS)]
    #: Weeks after the scheme horizon over which payments, completions and impact keep accruing
    #: (no application is taken or decided in them).
    follow_up_weeks: Annotated[float, Limit(0.0, MAX_WEEKS)] = 0.0
    segments: dict[Name, Segment] = Field(min_length=1, max_length=50)
    schemes: dict[Name, Scheme] = Field(min_length=1, max_length=20)
    posterior: PosteriorFile | None = Field(
        default=None, description="A calibration's posterior sample replacing the priors it covers."
    )

    @model_validator(mode="after")
    def _segments_exist(self) -> Scenario:
        """Every segment a scheme lists is defined; a segment may be listed by several schemes, whose
        firms then choose among them (MODEL.md 3b, rule R-CHOICE)."""
        for scheme_name, scheme in self.schemes.items():
            for seg in scheme.segments:
                if seg not in self.segments:
                    hint = did_you_mean(seg, list(self.segments))
                    raise ValueError(
                        f"schemes.{scheme_name}.segments: unknown segment '{seg}'{hint}; "
                        f"defined segments: {', '.join(self.segments)}"
                    )
            twice = sorted({seg for seg in scheme.segments if scheme.segments.count(seg) > 1})
            if twice:
                raise ValueError(f"schemes.{scheme_name}.segments: segment '{twice[0]}' is listed twice")
        return self

    @model_validator(mode="after")
    def _programmes_fit(self) -> Scenario:
        for name, scheme in self.schemes.items():
            problem = impact_problem(scheme) or programme_problem(scheme, list(self.segments))
            if problem:
                raise ValueError(f"schemes.{name}.{problem}")
        return self

    @model_validator(mode="after")
    def _windows_fit(self) -> Scenario:
        for name, scheme in self.schemes.items():
            problem = window_problem(scheme, self.horizon_weeks)
            if problem:
                raise ValueError(f"schemes.{name}.{problem}")
        return self

    @property
    def end_weeks(self) -> float:
        """The end of the follow-up: the scheme horizon plus ``follow_up_weeks``."""
        return self.horizon_weeks + self.follow_up_weeks

    def window(self, scheme: str) -> float:
        """The week the last application can arrive: the window's close, at most the horizon."""
        close = closing_week(self.schemes[scheme])
        return self.horizon_weeks if close is None else min(close, self.horizon_weeks)

    def schemes_of(self, segment: str) -> list[str]:
        """The schemes that list ``segment``, in scenario order (the order that breaks ties, R-CHOICE)."""
        return [name for name, scheme in self.schemes.items() if segment in scheme.segments]

    def window_length(self, scheme: str) -> float:
        """Weeks from the window's opening to its close (a rolling scheme's: to the horizon)."""
        close = closing_week(self.schemes[scheme])
        return (self.horizon_weeks if close is None else close) - self.schemes[scheme].opens_week


def closing_week(scheme: Scheme) -> float | None:
    """The week a scheme's window closes: ``closes_week``, or ``opens_week + application_window_weeks``;
    None for a rolling scheme (open to the horizon)."""
    if scheme.closes_week is not None:
        return scheme.closes_week
    if scheme.application_window_weeks is not None:
        return scheme.opens_week + scheme.application_window_weeks
    return None


def impact_of(scheme: Scheme) -> Impact:
    """The impact terms the engines carry for ``scheme``: its own section, or :data:`NO_IMPACT`
    for an intermediary scheme, which has none (MODEL.md 6b)."""
    return NO_IMPACT if scheme.impact is None else scheme.impact


def impact_problem(scheme: Scheme) -> str | None:
    """What is wrong with a scheme's own impact section (MODEL.md 6b and 7), as 'field: message'.

    A direct scheme's benefits come from it, so it is required; an intermediary scheme's is refused
    as soon as it is read (:meth:`Scheme._no_impact_of_an_intermediary`).
    """
    if scheme.kind == "direct" and scheme.impact is None:
        return "impact: a direct scheme needs an [impact] section (what a completed upgrade adds, MODEL.md 7)"
    if scheme.kind == "intermediary" and scheme.impact is not None:
        return f"impact: {INTERMEDIARY_IMPACT}"
    return None


def programme_problem(scheme: Scheme, segments: list[str]) -> str | None:
    """What is wrong with a scheme's kind and programme (MODEL.md 6b), as 'field: message'."""
    if scheme.kind == "direct":
        return (
            "programme: only an intermediary scheme (kind = 'intermediary') has a programme"
            if scheme.programme
            else None
        )
    if scheme.programme is None:
        return "programme: an intermediary scheme needs a [programme] section (MODEL.md 6b)"
    cohort = scheme.programme.cohort_segment
    if cohort not in segments:
        hint = did_you_mean(cohort, segments)
        defined = ", ".join(segments)
        return f"programme.cohort_segment: unknown segment '{cohort}'{hint}; defined segments: {defined}"
    if cohort in scheme.segments:
        return f"programme.cohort_segment: '{cohort}' is the operators' segment; cohorts come from another"
    return None


def window_problem(scheme: Scheme, horizon: float) -> str | None:
    """What is wrong with a scheme's window and its bursts (MODEL.md 3c, 3d), as 'field: message'."""
    opens, given = scheme.opens_week, scheme.application_window_weeks
    if (
        scheme.closes_week is not None
        and given is not None
        and abs(opens + given - scheme.closes_week) > 1e-9
    ):
        return (
            f"closes_week: {scheme.closes_week:g} contradicts application_window_weeks = {given:g} (the "
            f"window closes at opens_week + application_window_weeks = {opens + given:g}); give one of them"
        )
    problem = changes_problem(scheme, horizon)
    if problem:
        return problem
    if scheme.max_project_cost_hkd is not None and scheme.max_project_cost_hkd < scheme.min_project_cost_hkd:
        return (
            f"max_project_cost_hkd: must be at least min_project_cost_hkd ({scheme.min_project_cost_hkd:g}) "
            f"(got {scheme.max_project_cost_hkd:g})"
        )
    if opens >= horizon:
        return f"opens_week: must be before the horizon ({horizon:g} weeks) (got {opens:g})"
    close = closing_week(scheme)
    if scheme.closes_week is not None and not opens < scheme.closes_week <= horizon:
        return (
            f"closes_week: must be after opens_week ({opens:g}) and at most the horizon ({horizon:g} weeks) "
            f"(got {scheme.closes_week:g})"
        )
    if scheme.allocation.rule in CLOSE_ALLOCATION_RULES and close is None:
        return (
            f"allocation.rule: '{scheme.allocation.rule}' decides at the call's close and needs a "
            "closing date (closes_week); use 'lottery' for a rolling scheme"
        )
    up = scheme.uptake
    if _highest(up.rush_share) > 0 and close is None:
        return "uptake.rush_share: a deadline rush needs a closing date (closes_week)"
    length = (horizon if close is None else close) - opens
    for burst in ("launch", "rush"):
        weeks = getattr(up, f"{burst}_weeks")
        if _highest(getattr(up, f"{burst}_share")) > 0 and _highest(weeks) > length:
            return (
                f"uptake.{burst}_weeks: must be at most the window's length, {length:g} weeks "
                f"(got values up to {_highest(weeks):g})"
            )
    return None


def changes_problem(scheme: Scheme, horizon: float) -> str | None:
    """What is wrong with a scheme's dated changes (weeks within the horizon and increasing), as
    'field: message'."""
    weeks = [change.week for change in scheme.changes]
    for k, week in enumerate(weeks):
        if week > horizon:
            return f"changes.{k}.week: must be at most the horizon ({horizon:g} weeks) (got {week:g})"
        if k > 0 and week <= weeks[k - 1]:
            return (
                f"changes.{k}.week: changes must be listed in increasing week order, one entry per week "
                f"(got {week:g} after {weeks[k - 1]:g}); merge changes of the same week into one entry"
            )
    return None


def parameter_specs(model: BaseModel, prefix: str = "") -> list[tuple[str, Value, ParamSpec]]:
    """Every per-replication parameter in ``model`` as (dotted path, value, spec).

    Firm-level distributions are not included: they are drawn per firm. Of a whole scenario,
    the fields no engine reads are left out too (:func:`unread_paths`), so that they are neither
    drawn nor offered as uncertain to calibration, sensitivity, value of information or discovery.
    """
    found = _parameter_specs(model, prefix)
    if isinstance(model, Scenario) and not prefix:
        unread = unread_paths(model)
        found = [entry for entry in found if entry[0] not in unread]
    return found


def uncertain_paths(scenario: Scenario) -> list[str]:
    """The dotted paths of the parameters given as distributions (the priors), in schema order: the
    one list that draws.parquet, calibration, value of information and discovery share."""
    return [path for path, value, _ in parameter_specs(scenario) if isinstance(value, Distribution)]


def unread_paths(scenario: Scenario) -> set[str]:
    """Parameters a scenario may give that no engine reads: those of a segment no scheme lists.

    Such a segment has no applicants; the cohort segment of an intermediary scheme (MODEL.md 6b)
    is one, and only its ``eligible_share`` is read (the size of the start-up pool). An
    intermediary scheme's own impact section is refused instead (:func:`impact_problem`).
    """
    listed = {seg for scheme in scenario.schemes.values() for seg in scheme.segments}
    cohorts = {s.programme.cohort_segment for s in scenario.schemes.values() if s.programme is not None}
    unread = set()
    for name in scenario.segments:
        if name not in listed:
            unread.add(f"segments.{name}.propensity")
            if name not in cohorts:
                unread.add(f"segments.{name}.eligible_share")
    return unread


def _parameter_specs(model: BaseModel, prefix: str) -> list[tuple[str, Value, ParamSpec]]:
    out: list[tuple[str, Value, ParamSpec]] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        spec = next((m for m in info.metadata if isinstance(m, ParamSpec)), None)
        if spec is None:
            # Optional parameters (e.g. integrators) keep the spec inside the union.
            args = getattr(info.annotation, "__args__", ())
            for arg in args:
                spec = next((m for m in getattr(arg, "__metadata__", ()) if isinstance(m, ParamSpec)), None)
                if spec:
                    break
        if spec is not None:
            if not spec.firm_level and value is not None:
                out.append((path, value, spec))
        elif isinstance(value, BaseModel):
            out.extend(_parameter_specs(value, path + "."))
        elif isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(sub, BaseModel):
                    out.extend(_parameter_specs(sub, f"{path}.{key}."))
    return out


def _constraint(annotation: object, metadata: list[object]) -> Limit | Text | DateRange | None:
    """The constraint object of a field, also inside an optional (``X | None``) annotation."""
    found = [m for m in metadata if isinstance(m, Limit | Text | DateRange)]
    if getattr(annotation, "__origin__", None) in (dict, list):
        return found[0] if found else None
    for arg in getattr(annotation, "__args__", ()):
        found.extend(m for m in getattr(arg, "__metadata__", ()) if isinstance(m, Limit | Text | DateRange))
    return found[0] if found else None


def field_limits(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str]]:
    """Every constrained field as (dotted path, allowed values in words), ``*`` for any name.

    This is the documented limits table: the same objects produce the messages.
    """
    out: list[tuple[str, str]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        limit = _constraint(annotation, list(info.metadata))
        if limit is not None:
            kind = " (or a distribution)" if isinstance(limit, ParamSpec) and not limit.firm_level else ""
            kind = " (a distribution per firm)" if isinstance(limit, ParamSpec) and limit.firm_level else kind
            out.append((path, limit.allowed() + kind))
        inner: tuple[Any, ...] = getattr(annotation, "__args__", ())
        origin = getattr(annotation, "__origin__", None)
        if origin is list and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
            out.append((path, f"0 to {_max_length(info.metadata)} entries, in increasing week order"))
            out.extend(field_limits(inner[0], f"{path}.*."))
            continue
        if origin in (dict, list):
            entries = "entries" if origin is dict else "names"
            out.append((path, f"1 to {_max_length(info.metadata)} {entries}, each {_KEY.allowed()}"))
        if origin is dict and isinstance(inner[1], type) and issubclass(inner[1], BaseModel):
            out.extend(field_limits(inner[1], f"{path}.*."))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(field_limits(annotation, f"{path}."))
        else:  # an optional section a user writes (``Programme | None``): its fields when given
            for arg in inner:
                if isinstance(arg, type) and issubclass(arg, BaseModel) and written_section(arg):
                    out.extend(field_limits(arg, f"{path}."))
    return out


def written_section(model: type[BaseModel]) -> bool:
    """Whether a section's fields carry limits (a section of the scenario file, not a reference the
    loader fills in, such as a posterior file's)."""
    return any(_constraint(info.annotation, list(info.metadata)) for info in model.model_fields.values())


def _max_length(metadata: list[object]) -> int:
    return next(int(getattr(m, "max_length", 0)) for m in metadata if getattr(m, "max_length", None))
