"""Per-replication draws of a scenario's uncertain parameters, and their typed views.

Every scalar parameter that is a distribution is drawn once per replication,
from its own stream (:func:`sim.rng.parameter_stream`), so a replication's
value of ``schemes.x.budget_hkd`` is the same whichever engine, chunk or
worker computes it, and does not change when another parameter does.

The engines read the draws through typed objects, :class:`SchemeParameters`
and :class:`SegmentParameters` (one array per field, one value per
replication), built once per call by :func:`scheme_parameters` and
:func:`segment_parameters`. Each field names its dotted path in the scenario
schema, and building checks that path against the schema and the draws, so a
renamed schema field fails there, in both engines, with the path in the
message, rather than deep inside an engine.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, cast

import numpy as np
from pydantic import BaseModel

from sim.engines.posterior import apply_posterior
from sim.rng import PARAMETER_BLOCK, parameter_stream
from sim.spec import scenario as schema
from sim.spec.distributions import Distribution
from sim.spec.scenario import Scenario, parameter_specs

__all__ = [
    "ParameterDraws",
    "draw_parameters",
    "UnknownParameter",
    "SchemeParameters",
    "SegmentParameters",
    "scheme_parameters",
    "segment_parameters",
]


class ParameterDraws:
    """Parameter values for a set of replications: ``draws[path]`` is an array, one per replication."""

    def __init__(self, values: dict[str, np.ndarray], reps: np.ndarray):
        self._values = values
        self.reps = reps
        #: Typed views built from these draws, by (class, prefix): built once, read many times per chunk.
        self._views: dict[tuple[type, str], Any] = {}

    def __getitem__(self, path: str) -> np.ndarray:
        return self._values[path]

    def __contains__(self, path: str) -> bool:
        return path in self._values

    def get(self, path: str, default: float | None = None) -> np.ndarray | None:
        if path in self._values:
            return self._values[path]
        if default is None:
            return None
        return np.full(len(self.reps), float(default))

    def scheme(self, name: str, field: str) -> np.ndarray:
        """Shorthand for ``draws[f"schemes.{name}.{field}"]``."""
        return self._values[f"schemes.{name}.{field}"]

    def segment(self, name: str, field: str) -> np.ndarray:
        return self._values[f"segments.{name}.{field}"]

    def paths(self) -> list[str]:
        return sorted(self._values)

    def has_section(self, prefix: str) -> bool:
        """Whether any parameter under ``prefix`` (e.g. ``schemes.x.impact.``) was drawn."""
        return any(path.startswith(prefix) for path in self._values)

    def take(self, index: np.ndarray) -> ParameterDraws:
        """The draws of the replications at positions ``index`` of this set."""
        return ParameterDraws({k: v[index] for k, v in self._values.items()}, self.reps[index])

    def row(self, i: int) -> dict[str, float]:
        """The parameter values of the i-th replication in this set."""
        return {k: float(v[i]) for k, v in self._values.items()}


def draw_parameters(scenario: Scenario, seed: int, reps: Sequence[int] | np.ndarray) -> ParameterDraws:
    """Draw every per-replication parameter for replications ``reps``.

    Each parameter's block of :data:`~sim.rng.PARAMETER_BLOCK` replications is
    drawn whole and the wanted replications taken from it, so a replication's
    value does not depend on which others are drawn with it. A scenario
    that names a posterior sample takes the parameters it covers from it
    (:mod:`sim.engines.posterior`).
    """
    reps = np.asarray(reps, dtype=np.int64)
    values: dict[str, np.ndarray] = {}
    blocks, offsets = np.divmod(reps, PARAMETER_BLOCK)
    at = {block: (blocks == block, offsets[blocks == block]) for block in np.unique(blocks).tolist()}
    specs, earlier = _recent(scenario)
    drawn: dict[tuple[int, str, int], np.ndarray] = {}
    for path, value, spec in specs:
        if isinstance(value, Distribution):
            out = np.empty(len(reps))
            for block, (mask, where) in at.items():
                key = (seed, path, block)
                sample = earlier.get(key)
                if sample is None:
                    sample = _block_sample(value, seed, path, block)
                drawn[key] = sample
                out[mask] = sample[where]
            out = np.clip(out, spec.lo, spec.hi)
        else:
            out = np.full(len(reps), float(value))
        if spec.integer:
            out = np.maximum(np.rint(out), spec.lo)
        values[path] = out
    _RECENT["last"] = (scenario, specs, drawn)
    apply_posterior(values, scenario, seed, reps)  # a calibrated scenario: its posterior, not its priors
    return ParameterDraws(values, reps)


#: The scenario :func:`draw_parameters` last drew for, its parameter specs and that call's whole-block
#: samples by (seed, path, block): consecutive chunks of a run fall in the same block of
#: :data:`~sim.rng.PARAMETER_BLOCK` replications, and a scenario does not change (it is frozen), so
#: the next call for it takes them from here (the same numbers, not drawn again). One tuple, replaced
#: whole, so threads drawing at once each read a consistent one.
_RECENT: dict[str, tuple[Scenario, list[tuple[str, Any, Any]], dict[tuple[int, str, int], np.ndarray]]] = {}


def _recent(scenario: Scenario) -> tuple[list[tuple[str, Any, Any]], dict[tuple[int, str, int], np.ndarray]]:
    """The parameter specs of ``scenario`` and the block samples last drawn for it (none if another
    scenario was drawn for last)."""
    last = _RECENT.get("last")
    if last is not None and last[0] is scenario:
        return last[1], last[2]
    return parameter_specs(scenario), {}


def _block_sample(dist: Distribution, seed: int, path: str, block: int) -> np.ndarray:
    """One parameter's draws for a whole block of replications."""
    return np.asarray(dist.sample(parameter_stream(seed, path, block), PARAMETER_BLOCK), dtype=float)


# ---------------------------------------------------------------- typed views


class UnknownParameter(KeyError):
    """A typed parameter whose dotted path is not in the scenario schema or not among the draws."""

    def __str__(self) -> str:
        return str(self.args[0])


def _path(dotted: str, optional: bool = False) -> Any:
    """A dataclass field read from the draws at ``dotted`` (relative to its scheme or segment)."""
    return field(metadata={"path": dotted, "optional": optional})


#: The section a scheme may lack (an intermediary scheme has no impact section, MODEL.md 6b); its
#: fields then hold the neutral terms of :data:`sim.spec.scenario.NO_IMPACT`, which no output reads.
_ABSENT_SECTION = "impact."


@dataclass(frozen=True)
class SchemeParameters:
    """One scheme's parameters, one value per replication (MODEL.md 2-7)."""

    budget_hkd: np.ndarray = _path("budget_hkd")
    places: np.ndarray = _path("places")
    max_grant_hkd: np.ndarray = _path("max_grant_hkd")
    matching_ratio: np.ndarray = _path("matching_ratio")
    admin_cost_per_application_hkd: np.ndarray = _path("admin_cost_per_application_hkd")
    reference_rate: np.ndarray = _path("uptake.reference_rate")
    elasticity: np.ndarray = _path("uptake.elasticity")
    bass_p: np.ndarray = _path("uptake.bass_p")
    bass_q: np.ndarray = _path("uptake.bass_q")
    launch_share: np.ndarray = _path("uptake.launch_share")
    #: Length of the launch burst; None where the scheme has none (launch_share 0).
    launch_weeks: np.ndarray | None = _path("uptake.launch_weeks", optional=True)
    rush_share: np.ndarray = _path("uptake.rush_share")
    #: Length of the deadline rush; None where the scheme has none (rush_share 0).
    rush_weeks: np.ndarray | None = _path("uptake.rush_weeks", optional=True)
    capacity: np.ndarray = _path("vetting.capacity")
    withdraw_probability: np.ndarray = _path("vetting.withdraw_probability")
    approval_probability: np.ndarray = _path("vetting.approval_probability")
    reapply_probability: np.ndarray = _path("vetting.reapply_probability")
    completion_probability: np.ndarray = _path("upgrade.completion_probability")
    #: Integrators working on upgrades; None: as many as needed (upgrades start at award).
    integrators: np.ndarray | None = _path("upgrade.integrators", optional=True)
    upfront_share: np.ndarray = _path("tranches.upfront_share")
    no_gain_probability: np.ndarray = _path("impact.no_gain_probability")
    ramp_years: np.ndarray = _path("impact.ramp_years")
    deadweight: np.ndarray = _path("impact.deadweight")
    benefit_years: np.ndarray = _path("impact.benefit_years")
    discount_rate: np.ndarray = _path("impact.discount_rate")

    def take(self, index: np.ndarray) -> SchemeParameters:
        """The parameters of the replications at positions ``index``."""
        return _take(self, index)


@dataclass(frozen=True)
class SegmentParameters:
    """One segment's parameters, one value per replication (MODEL.md 1 and 3)."""

    eligible_share: np.ndarray = _path("eligible_share")
    propensity: np.ndarray = _path("propensity")

    def take(self, index: np.ndarray) -> SegmentParameters:
        """The parameters of the replications at positions ``index``."""
        return _take(self, index)


_Typed = TypeVar("_Typed", SchemeParameters, SegmentParameters)


def _take(typed: _Typed, index: np.ndarray) -> _Typed:
    values = {f.name: getattr(typed, f.name) for f in fields(typed)}
    taken = {k: None if v is None else v[index] for k, v in values.items()}
    return type(typed)(**cast(dict[str, Any], taken))


def scheme_parameters(draws: ParameterDraws, name: str) -> SchemeParameters:
    """Scheme ``name``'s parameters from ``draws``, each field checked against the schema."""
    return _view(SchemeParameters, schema.Scheme, draws, f"schemes.{name}.")


def segment_parameters(draws: ParameterDraws, name: str) -> SegmentParameters:
    """Segment ``name``'s parameters from ``draws``, each field checked against the schema."""
    return _view(SegmentParameters, schema.Segment, draws, f"segments.{name}.")


def _view(kind: type[_Typed], model: type[BaseModel], draws: ParameterDraws, prefix: str) -> _Typed:
    """:func:`_build`, once per set of draws: the view holds the draws' own arrays, so a view built
    earlier is the same view (the engines build each several times per chunk)."""
    key = (kind, prefix)
    view = draws._views.get(key)
    if view is None:
        view = draws._views[key] = _build(kind, model, draws, prefix)
    return cast(_Typed, view)


def _build(kind: type[_Typed], model: type[BaseModel], draws: ParameterDraws, prefix: str) -> _Typed:
    values: dict[str, np.ndarray | None] = {}
    absent = not draws.has_section(prefix + _ABSENT_SECTION)
    for f in fields(kind):
        dotted, optional = f.metadata["path"], f.metadata["optional"]
        if not _in_schema(model, dotted):
            raise UnknownParameter(f"parameter '{prefix}{dotted}' is not a field of the scenario schema")
        if absent and dotted.startswith(_ABSENT_SECTION):
            values[f.name] = draws.get(prefix + dotted, _neutral(dotted))
            continue
        if prefix + dotted not in draws and not optional:
            raise UnknownParameter(f"parameter '{prefix}{dotted}' was not drawn")
        values[f.name] = draws.get(prefix + dotted)
    return kind(**cast(dict[str, Any], values))


def _neutral(dotted: str) -> float:
    """The value of an absent section's field, from :data:`~sim.spec.scenario.NO_IMPACT`."""
    return float(getattr(schema.NO_IMPACT, dotted.removeprefix(_ABSENT_SECTION)))


@functools.cache
def _in_schema(model: type[BaseModel], dotted: str) -> bool:
    """Whether ``dotted`` (e.g. ``vetting.capacity``) names a field of ``model`` and its sub-models.

    Kept once known (the schema does not change while running): parameters are built several
    times per chunk, and looking fields up in the schema's classes costs more than the rest."""
    head, _, rest = dotted.partition(".")
    info = model.model_fields.get(head)
    if info is None:
        return False
    if not rest:
        return True
    # an optional section (``Impact | None``) is looked into as the section it holds when given
    options = getattr(info.annotation, "__args__", None) or (info.annotation,)
    return any(
        isinstance(sub, type) and issubclass(sub, BaseModel) and _in_schema(sub, rest) for sub in options
    )
