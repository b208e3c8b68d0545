"""The scenario schema: population segments, schemes and their stages (MODEL.md 1-7).

A :class:`Scenario` is plain, immutable data, validated once when it is loaded.
Two kinds of numbers appear in it:

* **parameters** (:func:`param`): a number or a named distribution, drawn once
  per replication (what we do not know about the world);
* **firm-level distributions** (:func:`firm_dist`): drawn per firm, with
  parameters that are numbers (how firms differ).

Each field states its allowed range; a distribution is accepted only if its
whole support lies inside that range, so a probability can never be drawn
above 1 and a budget never below 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator

from sim.spec.distributions import Distribution, DistributionError, Fixed, parse_distribution
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
    "Scheme",
    "Scenario",
    "parameter_specs",
]

#: A scalar parameter as written in a scenario: a number or a distribution.
Value = float | Distribution


@dataclass(frozen=True)
class ParamSpec:
    """Marks a field as a per-replication parameter and states its allowed range."""

    lo: float = -math.inf
    hi: float = math.inf
    integer: bool = False
    open_lo: bool = False
    firm_level: bool = False

    def allowed(self) -> str:
        """The allowed range in words, e.g. 'between 0 and 1' or '> 0 (a whole number)'."""
        lo, hi = self.lo, self.hi
        if math.isinf(hi):
            text = "any number" if math.isinf(lo) else f"{'>' if self.open_lo else '>='} {lo:g}"
        elif self.open_lo:
            text = f"above {lo:g} and at most {hi:g}"
        else:
            text = f"between {lo:g} and {hi:g}"
        return text + (" (a whole number)" if self.integer else "")

    def check(self, raw: Any) -> Value:
        """Parse a number or distribution table and check it against the range."""
        if isinstance(raw, bool):
            raise ValueError(f"must be a number or a distribution table, {self.allowed()} (got {raw!r})")
        if isinstance(raw, int | float):
            value: Value = float(raw)
            lo = hi = float(raw)
            if not math.isfinite(lo):
                raise ValueError(f"must be finite, {self.allowed()} (got {raw!r})")
            if self.integer and lo != int(lo):
                raise ValueError(f"must be {self.allowed()} (got {raw!r})")
        elif isinstance(raw, dict):
            try:
                value = parse_distribution(raw)
            except DistributionError as err:
                raise ValueError(str(err)) from None
            if isinstance(value, Fixed):
                value = float(value.value)
                lo = hi = value
            else:
                lo, hi = value.support()
        elif isinstance(raw, Distribution):
            value = raw
            lo, hi = raw.support()
        else:
            kind = "a distribution table" if self.firm_level else "a number or a distribution table"
            raise ValueError(
                f'must be {kind} such as {{dist = "lognormal", median = 1, sigma = 0.5}}, '
                f"{self.allowed()} (got {raw!r})"
            )
        too_low = lo < self.lo or (self.open_lo and lo <= self.lo)
        if too_low or hi > self.hi:
            what = "value" if isinstance(value, float) else f"{value.describe()} can give {lo:g}..{hi:g}, but"
            raise ValueError(
                f"{what} must be {self.allowed()}" + (f" (got {lo:g})" if isinstance(value, float) else "")
            )
        if self.firm_level and isinstance(value, float):
            return Fixed(value)  # a number for a firm-level quantity: every firm gets it
        return value


def param(
    lo: float = -math.inf, hi: float = math.inf, *, integer: bool = False, open_lo: bool = False
) -> Any:
    """Annotation for a per-replication parameter with range [lo, hi]."""
    spec = ParamSpec(lo, hi, integer, open_lo)
    return Annotated[Any, PlainValidator(spec.check), spec]


def firm_dist(lo: float = -math.inf, hi: float = math.inf) -> Any:
    """Annotation for a firm-level distribution (parameters are numbers, drawn per firm)."""
    spec = ParamSpec(lo, hi, firm_level=True)
    return Annotated[Any, PlainValidator(spec.check), spec]


Probability = param(0.0, 1.0)
NonNegative = param(0.0)
Positive = param(0.0, open_lo=True)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Band(_Spec):
    """A size band within a segment, e.g. micro (<10 staff)."""

    share: float = Field(ge=0, le=1, description="Share of the segment's firms in this band.")
    project_cost_hkd: firm_dist(0.0) = Field(description="Cost of the upgrade project, per firm.")
    value_added_hkd: firm_dist(0.0) = Field(description="Annual value added, per firm.")
    completion_factor: float = Field(
        default=1.0,
        ge=0,
        description="Multiplies the completion probability (micro firms finish less often).",
    )


class Segment(_Spec):
    """A population segment: a count of firms, their size bands and eligible share."""

    label: str = ""
    count: int = Field(gt=0, description="Number of firms in the segment (a fixed number).")
    eligible_share: Probability
    propensity: Probability = Field(
        description="a_seg: chance an eligible firm would apply at the reference rate."
    )
    bands: dict[str, Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Segment:
        total = sum(b.share for b in self.bands.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"band shares must add up to 1 (got {total:g})")
        return self


class Uptake(_Spec):
    """Who applies and when (MODEL.md 3): subsidy-rate elasticity and Bass diffusion."""

    reference_rate: param(0.0, 1.0, open_lo=True) = 1.0 / 3.0
    elasticity: NonNegative = 1.0
    bass_p: Positive
    bass_q: NonNegative


class Vetting(_Spec):
    """First-come-first-served review by ``capacity`` concurrent reviewers (MODEL.md 4)."""

    capacity: param(1.0, integer=True)
    review_weeks: firm_dist(0.0)
    withdraw_probability: Probability
    approval_probability: Probability


class Allocation(_Spec):
    """Who gets the money (MODEL.md 5): at review end, or at committee rounds."""

    rule: Literal["first_come", "rounds"] = "first_come"
    meeting_interval_weeks: float = Field(default=8.0, gt=0)


class Upgrade(_Spec):
    """The funded upgrade (MODEL.md 6): integrator capacity, duration, completion."""

    integrators: param(1.0, integer=True) | None = Field(
        default=None, description="Concurrent projects suppliers can run; omit for unlimited."
    )
    duration_weeks: firm_dist(0.0)
    completion_probability: Probability


class Tranches(_Spec):
    """How the grant is paid: a share at award, the rest at completion."""

    upfront_share: Probability


class Impact(_Spec):
    """What a completed upgrade adds (MODEL.md 7)."""

    no_gain_probability: Probability
    gain: firm_dist(-1.0)
    ramp_years: Positive
    deadweight: Probability
    benefit_years: param(1.0, integer=True)
    discount_rate: param(0.0, 1.0)


class Scheme(_Spec):
    """A support scheme: who it serves, its money, and each stage's rules."""

    label: str = ""
    segments: list[str] = Field(min_length=1)
    budget_hkd: NonNegative
    places: param(0.0, integer=True)
    max_grant_hkd: NonNegative
    matching_ratio: NonNegative = Field(description="Company HK$ per government HK$ (1:2 matching -> 2).")
    application_window_weeks: float | None = Field(default=None, gt=0)
    close_on_exhaustion: bool = True
    admin_cost_per_application_hkd: NonNegative = 0.0
    uptake: Uptake
    vetting: Vetting
    allocation: Allocation = Allocation()
    upgrade: Upgrade
    tranches: Tranches
    impact: Impact


class Scenario(_Spec):
    """A whole scenario: the firms, the schemes, and the simulated horizon."""

    name: str
    description: str = ""
    start_date: date
    horizon_weeks: float = Field(gt=0, le=52 * 50)
    segments: dict[str, Segment] = Field(min_length=1)
    schemes: dict[str, Scheme] = Field(min_length=1)

    @model_validator(mode="after")
    def _segments_belong_to_one_scheme(self) -> Scenario:
        owner: dict[str, str] = {}
        for scheme_name, scheme in self.schemes.items():
            for seg in scheme.segments:
                if seg not in self.segments:
                    hint = did_you_mean(seg, list(self.segments))
                    raise ValueError(
                        f"schemes.{scheme_name}.segments: unknown segment '{seg}'{hint}; "
                        f"defined segments: {', '.join(self.segments)}"
                    )
                if seg in owner:
                    raise ValueError(
                        f"schemes.{scheme_name}.segments: segment '{seg}' already belongs to scheme "
                        f"'{owner[seg]}'; a segment belongs to at most one scheme"
                    )
                owner[seg] = scheme_name
        return self

    def window(self, scheme: str) -> float:
        """Weeks during which applications are accepted (at most the horizon)."""
        w = self.schemes[scheme].application_window_weeks
        return self.horizon_weeks if w is None else min(w, self.horizon_weeks)


def parameter_specs(model: BaseModel, prefix: str = "") -> list[tuple[str, Value, ParamSpec]]:
    """Every per-replication parameter in ``model`` as (dotted path, value, spec).

    Firm-level distributions are not included: they are drawn per firm.
    """
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
            out.extend(parameter_specs(value, path + "."))
        elif isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(sub, BaseModel):
                    out.extend(parameter_specs(sub, f"{path}.{key}."))
    return out
