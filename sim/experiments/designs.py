"""Sweep files and the designs that turn them into points.

A sweep file (``scenarios/sweeps/*.toml``) names a base scenario and the
parameters to vary, each by its dotted path in the scenario::

    base = "../baseline.toml"
    design = "grid"              # grid | lhs | sobol | morris
    replications = 1000

    [[parameters]]
    path = "schemes.manufacturing_plus.max_grant_hkd"
    low = 100_000
    high = 575_000
    levels = 20                  # grid: evenly spaced values from low to high

    [[parameters]]
    path = "schemes.manufacturing_plus.places"
    values = [100, 200, 400, 800]

A design is computed in *design coordinates* (the value itself, or its base-10
logarithm for ``scale = "log"``), which is what the samplers and the
sensitivity analyses see; the scenario receives the value, rounded where the
field takes whole numbers. Samplers come from ``scipy.stats.qmc`` (Latin
hypercube, scrambled Sobol') and SALib (Morris trajectories, Saltelli's
extension of Sobol' sequences); every one is seeded from the sweep's seed.

**Limits.** A design has at most :data:`MAX_POINTS` (100,000) points, whatever
makes it (a grid's product of levels, ``points``, Morris trajectories x
(parameters + 1), Saltelli samples x (parameters + 2)); a parameter has at most
:data:`MAX_LEVELS` (10,000) levels or listed values; a sweep lists at most
:data:`MAX_PARAMETERS` parameters, at most :data:`MAX_REPLICATIONS` replications
per point, and a seed below 2^63. The sweep file is read like a scenario file
(:mod:`sim.spec.reading`: a regular file of at most 1 MiB, nesting at most 16
deep), and its ``base`` must lie inside the sweep file's allowed folder tree
unless ``allow_outside`` (or ``SCHEMESIM_ALLOW_OUTSIDE=1``) says otherwise.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.rng import tag
from sim.spec.loader import LoadedScenario, ScenarioError, load_scenario, merge, scenario_from_dict
from sim.spec.reading import (
    ALLOW_OUTSIDE_ENV,
    ReadError,
    allowed_roots,
    inside,
    outside_allowed,
    read_toml_file,
    resolved,
)
from sim.spec.scenario import ParamSpec, parameter_specs

__all__ = [
    "DESIGNS",
    "OUTPUTS",
    "Parameter",
    "Sweep",
    "Design",
    "load_sweep",
    "make_design",
    "check_design",
    "design_size",
    "MAX_POINTS",
    "MAX_LEVELS",
    "overrides_of",
    "point_source",
]

#: Most points of any design (grid product, points, trajectories x (k + 1), samples x (k + 2)).
MAX_POINTS = 100_000
#: Most levels (or listed values) of one parameter.
MAX_LEVELS = 10_000
#: Most parameters a sweep may vary.
MAX_PARAMETERS = 100
#: Most replications per point.
MAX_REPLICATIONS = 10_000_000

#: Designs a sweep file may name.
DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")

#: Outputs that sensitivity analyses report (see :mod:`sim.experiments.sensitivity`). Which limit
#: binds is reported per limit (share of runs where the places fill, where the money runs out) with
#: the share of the budget left unused, never as one week that mixes the two limits.
OUTPUTS: tuple[str, ...] = (
    "exhausted_by_places",
    "exhausted_by_money",
    "unused_budget_share",
    "awarded",
    "completed",
    "cost_per_additional_hkd",
    "benefit_cost_ratio",
    "completed_follow_up",
    "cost_per_additional_hkd_follow_up",
    "benefit_cost_ratio_follow_up",
)

_TOP_KEYS = (
    "name",
    "description",
    "base",
    "design",
    "points",
    "replications",
    "seed",
    "engine",
    "num_levels",
    "parameters",
    "sensitivity",
)
_PARAM_KEYS = ("path", "values", "low", "high", "levels", "scale", "integer")
_SENS_KEYS = ("outputs", "schemes", "morris_trajectories", "sobol_samples", "resamples")


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: its path, and its listed values or its range."""

    path: str
    values: tuple[float, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    scale: str = "linear"
    integer: bool = False

    @property
    def log(self) -> bool:
        return self.scale == "log"

    def bounds(self) -> tuple[float, float]:
        """Design-coordinate bounds (a listed parameter spans its smallest to largest value)."""
        if self.values is not None:
            lo, hi = min(self.values), max(self.values)
        else:
            lo, hi = float(self.low or 0.0), float(self.high or 0.0)
        return (math.log10(lo), math.log10(hi)) if self.log else (float(lo), float(hi))

    def grid(self) -> np.ndarray:
        """Grid values in design coordinates."""
        if self.values is not None:
            v = np.asarray(self.values, dtype=float)
            return np.log10(v) if self.log else v
        lo, hi = self.bounds()
        return np.linspace(lo, hi, self.levels or 2)

    def value(self, x: np.ndarray) -> np.ndarray:
        """Scenario values from design coordinates (listed values and ends exactly as written)."""
        v = np.power(10.0, x) if self.log else np.asarray(x, dtype=float)
        exact = np.asarray(self.values if self.values is not None else (self.low, self.high), dtype=float)
        match = np.isclose(v[:, None], exact[None, :], rtol=1e-12, atol=0.0)
        v = np.where(match.any(axis=1), exact[match.argmax(axis=1)], v)
        return np.rint(v) if self.integer else v

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.values is not None:
            out["values"] = list(self.values)
        else:
            out.update(low=self.low, high=self.high)
            if self.levels:
                out["levels"] = self.levels
        if self.log:
            out["scale"] = "log"
        return out


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file with its base scenario."""

    name: str
    path: str
    base: LoadedScenario
    parameters: tuple[Parameter, ...]
    design: str = "grid"
    points: int | None = None
    replications: int = 100
    seed: int = 20251118
    engine: str | None = None
    num_levels: int = 4
    description: str = ""
    outputs: tuple[str, ...] = OUTPUTS
    schemes: tuple[str, ...] = ()
    morris_trajectories: int = 20
    sobol_samples: int = 64
    resamples: int = 1000
    text: str = field(default="", repr=False)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    def definition(self) -> dict[str, Any]:
        """What defines the points of the sweep (for hashes and manifests)."""
        return {
            "base_scenario_hash": self.base.hash,
            "parameters": [p.describe() for p in self.parameters],
            "design": self.design,
            "points": self.points,
            "num_levels": self.num_levels,
        }


@dataclass(frozen=True)
class Design:
    """Points of a design: ``x`` in design coordinates, ``values`` as the scenario sees them."""

    method: str
    x: np.ndarray  # (points, parameters)
    values: pd.DataFrame  # columns: point, then one per parameter path

    def __len__(self) -> int:
        return len(self.values)


# ------------------------------------------------------------------ loading


def load_sweep(path: str | Path, *, allow_outside: bool | None = None) -> Sweep:
    """Read and validate a sweep file. Raises :class:`ScenarioError` naming the file and field.

    ``base`` must lie in the sweep file's allowed folder tree (:mod:`sim.spec.reading`)
    unless ``allow_outside`` is true (``None``: the ``SCHEMESIM_ALLOW_OUTSIDE`` variable).
    """
    path = Path(path)
    try:
        data, text = read_toml_file(path)
        roots = allowed_roots(path)
    except ReadError as err:
        raise ScenarioError(path, [str(err).replace("a scenario is", "a sweep is")]) from None
    _unknown(path, "", data, _TOP_KEYS)
    base = _load_base(path, data.get("base"), roots, outside_allowed(allow_outside))
    design = data.get("design", "grid")
    if not isinstance(design, str) or design not in DESIGNS:
        raise ScenarioError(path, [f"design: must be one of {', '.join(DESIGNS)} (got {_short(design)})"])
    raw = data.get("parameters")
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(path, ["parameters: required, a list of [[parameters]] tables with a path"])
    if len(raw) > MAX_PARAMETERS:
        raise ScenarioError(path, [f"parameters: at most {MAX_PARAMETERS} parameters (got {len(raw)})"])
    specs = {p: s for p, _, s in parameter_specs(base.scenario)}
    params = tuple(_parameter(path, i, item, base, specs) for i, item in enumerate(raw))
    seen = [p.path for p in params]
    if len(set(seen)) < len(seen):
        dup = next(p for p in seen if seen.count(p) > 1)
        raise ScenarioError(path, [f"parameters: '{dup}' is listed twice"])
    sens = data.get("sensitivity", {})
    if not isinstance(sens, dict):
        raise ScenarioError(path, ["sensitivity: must be a table"])
    _unknown(path, "sensitivity.", sens, _SENS_KEYS)
    sweep = Sweep(
        name=_text(path, "name", data.get("name", path.stem)),
        path=str(path),
        base=base,
        parameters=params,
        design=design,
        points=_int(path, "points", data.get("points"), 1, optional=True, high=MAX_POINTS),
        replications=_int(path, "replications", data.get("replications", 100), 1, high=MAX_REPLICATIONS),
        seed=_int(path, "seed", data.get("seed", 20251118), 0, high=2**63 - 1),
        engine=_text(path, "engine", data.get("engine"), optional=True),
        num_levels=_int(path, "num_levels", data.get("num_levels", 4), 2, high=100),
        description=_text(path, "description", data.get("description", "")),
        outputs=tuple(_names(path, "sensitivity.outputs", sens.get("outputs", list(OUTPUTS)), OUTPUTS)),
        schemes=tuple(
            _names(path, "sensitivity.schemes", sens.get("schemes", []), tuple(base.scenario.schemes))
        ),
        morris_trajectories=_int(
            path, "sensitivity.morris_trajectories", sens.get("morris_trajectories", 20), 2, high=MAX_POINTS
        ),
        sobol_samples=_power_of_two(path, "sensitivity.sobol_samples", sens.get("sobol_samples", 64)),
        resamples=_int(path, "sensitivity.resamples", sens.get("resamples", 1000), 10, high=100_000),
        text=text,
    )
    return sweep


def _unknown(path: Path, prefix: str, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(
                path, [f"{prefix}{key}: unknown key{hint}; allowed here: {', '.join(allowed)}"]
            )


def _load_base(path: Path, base_name: Any, roots: tuple[Path, ...], allow_outside: bool) -> LoadedScenario:
    """The sweep's base scenario, read only from inside the sweep file's allowed tree."""
    if not isinstance(base_name, str) or not base_name or "\0" in base_name or len(base_name) > 1000:
        raise ScenarioError(path, ['base: required, the base scenario file such as "../baseline.toml"'])
    try:
        target = resolved(path.parent / base_name)
    except ReadError as err:
        raise ScenarioError(path, [f"base: {err}"]) from None
    if not allow_outside and not inside(target, roots):
        raise ScenarioError(
            path,
            [
                f"base: {base_name} lies outside the allowed folder tree {roots[0]}; "
                f"run schemesim --allow-outside (or set {ALLOW_OUTSIDE_ENV}=1) to allow it"
            ],
        )
    if not target.exists():
        raise ScenarioError(path, [f"base: file not found: {path.parent / base_name}"])
    try:
        return load_scenario(target, allow_outside=allow_outside, roots=roots)
    except ScenarioError as problem:
        raise ScenarioError(path, [f"base: {base_name}: {p}" for p in problem.problems]) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(path: Path, name: str, value: Any, optional: bool = False) -> Any:
    """A text field of the sweep file: at most 60 characters for names, 2,000 for a description."""
    if value is None and optional:
        return None
    longest = 2000 if name == "description" else 60
    if not isinstance(value, str) or len(value) > longest or not value.isprintable():
        raise ScenarioError(
            path, [f"{name}: must be text of at most {longest} characters (got {_short(value)})"]
        )
    return value


def _int(path: Path, name: str, value: Any, low: int, optional: bool = False, high: int = MAX_POINTS) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScenarioError(
            path, [f"{name}: must be a whole number between {low:,} and {high:,} (got {_short(value)})"]
        )
    return value


def _power_of_two(path: Path, name: str, value: Any) -> int:
    n = _int(path, name, value, 2)
    if n & (n - 1):
        raise ScenarioError(path, [f"{name}: must be a power of two such as 64 or 128 (got {n})"])
    return n


def _names(path: Path, name: str, value: Any, allowed: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list):
        raise ScenarioError(path, [f"{name}: must be a list of names from: {', '.join(allowed)}"])
    for item in value:
        if item not in allowed:
            close = difflib.get_close_matches(str(item), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ScenarioError(path, [f"{name}: unknown name {item!r}{hint}; allowed: {', '.join(allowed)}"])
    return list(value)


def _check_path(path: Path, where: str, dotted: str, base: LoadedScenario) -> Any:
    """The base value at ``dotted`` (None if the field is optional and unset)."""
    node: Any = base.source
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):  # an entry of a list
            node = node[int(part)]
            continue
        if not isinstance(node, dict) or (part not in node and depth < len(parts) - 1):
            keys = sorted(node) if isinstance(node, dict) else []
            close = difflib.get_close_matches(part, keys, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = f"; keys there: {', '.join(keys)}" if keys else ""
            raise ScenarioError(path, [f"{where}: '{dotted}' is not in the base scenario{hint}{known}"])
        node = node.get(part)
    return node


def _number(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(path, [f"{where}: must be a finite number (got {value!r})"])
    return float(value)


def _parameter(
    path: Path,
    i: int,
    item: Any,
    base: LoadedScenario,
    specs: dict[str, ParamSpec],
) -> Parameter:
    where = f"parameters[{i}]"
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise ScenarioError(path, [f"{where}.path: required, a dotted path such as schemes.NAME.places"])
    _unknown(path, f"{where}.", item, _PARAM_KEYS)
    dotted = item["path"]
    current = _check_path(path, f"{where}.path", dotted, base)
    spec = specs.get(dotted)
    # a parameter given as a distribution is set to one number per point
    if isinstance(current, list | str | bool) or (isinstance(current, dict) and spec is None):
        raise ScenarioError(path, [f"{where}.path: '{dotted}' is not a number in the base scenario"])
    whole = spec.integer if spec else isinstance(current, int)
    integer = item.get("integer", whole)
    scale = item.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ScenarioError(path, [f"{where}.scale: must be 'linear' or 'log' (got {scale!r})"])
    values = item.get("values")
    if values is not None:
        if "low" in item or "high" in item or "levels" in item:
            raise ScenarioError(path, [f"{where}: give either values or low/high (and levels), not both"])
        if not isinstance(values, list) or not values or len(values) > MAX_LEVELS:
            raise ScenarioError(path, [f"{where}.values: must be a list of 1 to {MAX_LEVELS:,} numbers"])
        vals = tuple(_number(path, f"{where}.values", v) for v in values)
        param = Parameter(dotted, values=vals, scale=scale, integer=bool(integer))
        ends: tuple[float, ...] = vals
    else:
        if "low" not in item or "high" not in item:
            raise ScenarioError(path, [f"{where}: give values = [...] or both low and high"])
        low = _number(path, f"{where}.low", item["low"])
        high = _number(path, f"{where}.high", item["high"])
        if not low < high:
            raise ScenarioError(path, [f"{where}: low must be below high (got {low:g} and {high:g})"])
        levels = item.get("levels")
        if levels is not None:
            levels = _int(path, f"{where}.levels", levels, 2, high=MAX_LEVELS)
        param = Parameter(dotted, low=low, high=high, levels=levels, scale=scale, integer=bool(integer))
        ends = (low, high)
    if param.log and min(ends) <= 0:
        raise ScenarioError(path, [f"{where}.scale: a log scale needs values above 0"])
    label = where if current is not None else f"{where}.path"  # an unset field may be an unknown one
    for v in ends:  # each end as the scenario receives it (value() takes design coordinates)
        x = np.log10(np.atleast_1d(v)) if param.log else np.atleast_1d(v)
        _validate(path, label, base, {dotted: float(param.value(x)[0])})
    return param


def _validate(path: Path, where: str, base: LoadedScenario, overrides: dict[str, float]) -> None:
    """Check one parameter's value on its own: problems of that field stop the sweep here;
    rules across fields (e.g. band shares adding up to 1) are checked point by point."""
    try:
        scenario_from_dict(point_source(base.source, overrides), path)
    except ScenarioError as problem:
        (dotted,) = overrides
        own = [p for p in problem.problems if p.startswith(dotted)]
        if own:
            raise ScenarioError(path, [f"{where}: {'; '.join(own)}"]) from None


def check_design(sweep: Sweep) -> None:
    """Check that the sweep's own design can be made (``schemesim sensitivity`` makes its own)."""
    k = len(sweep.parameters)
    if sweep.design == "grid":
        for i, p in enumerate(sweep.parameters):
            if p.values is None and p.levels is None:
                raise ScenarioError(
                    sweep.path,
                    [
                        f"parameters[{i}].levels: a grid over low..high needs levels (e.g. 10); "
                        "the design is a grid (design = 'grid', the default): for a sample of "
                        "points give design = 'lhs' or 'sobol' with points"
                    ],
                )
        n = design_size(sweep, "grid", None)
        if sweep.points is not None and sweep.points != n:
            raise ScenarioError(
                sweep.path, [f"points: the grid has {n} points (product of the levels), not {sweep.points}"]
            )
    elif sweep.points is None:
        what = "trajectories" if sweep.design == "morris" else "points"
        raise ScenarioError(sweep.path, [f"points: required for design '{sweep.design}' (number of {what})"])
    elif sweep.design == "sobol" and sweep.points & (sweep.points - 1):
        raise ScenarioError(
            sweep.path, [f"points: a Sobol' design needs a power of two such as 256 (got {sweep.points})"]
        )
    if sweep.design == "morris" and k < 2:
        raise ScenarioError(sweep.path, ["parameters: the Morris design needs at least two parameters"])


# ------------------------------------------------------------------ designs


def problem_of(sweep: Sweep) -> dict[str, Any]:
    """The SALib problem: names and design-coordinate bounds."""
    return {
        "num_vars": len(sweep.parameters),
        "names": sweep.paths,
        "bounds": [list(p.bounds()) for p in sweep.parameters],
    }


def _rng(seed: int, method: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(tag(f"design:{method}"),)))


def _seed_int(seed: int, method: str) -> int:
    return int(_rng(seed, method).integers(2**31 - 1))


def _scale(sweep: Sweep, unit: np.ndarray) -> np.ndarray:
    bounds = np.array([p.bounds() for p in sweep.parameters])
    return bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])


def sample_grid(sweep: Sweep) -> np.ndarray:
    """Every combination of the parameters' values; the first parameter varies slowest."""
    grids = [p.grid() for p in sweep.parameters]
    return np.array(list(itertools.product(*grids)), dtype=float).reshape(-1, len(grids))


def sample_lhs(sweep: Sweep, n: int) -> np.ndarray:
    from scipy.stats import qmc

    return _scale(sweep, qmc.LatinHypercube(d=len(sweep.parameters), rng=_rng(sweep.seed, "lhs")).random(n))


def sample_sobol(sweep: Sweep, n: int) -> np.ndarray:
    """A scrambled Sobol' sequence of ``n`` (a power of two) points."""
    from scipy.stats import qmc

    m = int(round(math.log2(n)))
    engine = qmc.Sobol(d=len(sweep.parameters), scramble=True, rng=_rng(sweep.seed, "sobol"))
    return _scale(sweep, engine.random_base2(m))


def sample_morris(sweep: Sweep, trajectories: int) -> np.ndarray:
    """Morris trajectories (SALib): ``trajectories x (parameters + 1)`` points."""
    from SALib.sample import morris

    return morris.sample(
        problem_of(sweep), trajectories, num_levels=sweep.num_levels, seed=_seed_int(sweep.seed, "morris")
    )


def sample_saltelli(sweep: Sweep, n: int) -> np.ndarray:
    """Saltelli's design for first and total Sobol' indices (SALib): ``n x (parameters + 2)`` points."""
    from SALib.sample import sobol

    return sobol.sample(
        problem_of(sweep), n, calc_second_order=False, scramble=True, seed=_seed_int(sweep.seed, "saltelli")
    )


def design_size(sweep: Sweep, method: str, n: int | None) -> int:
    """How many points ``method`` makes for ``sweep`` (``n``: points, trajectories or base samples)."""
    k = len(sweep.parameters)
    if method == "grid":
        return math.prod(len(p.values) if p.values is not None else (p.levels or 2) for p in sweep.parameters)
    per = {"morris": k + 1, "saltelli": k + 2}.get(method, 1)
    return (n or 0) * per


def check_size(sweep: Sweep, method: str, n: int | None, field: str = "points") -> None:
    """Refuse a design of more than MAX_POINTS points before any point is made.

    ``field`` names what set the size in the message (the sweep's ``points``, or
    the number a command asked for).
    """
    size = design_size(sweep, method, n)
    n = n or 0
    if method == "grid":
        field = "parameters"
    if size > MAX_POINTS:
        what = {
            "grid": "the grid (the product of the parameters' levels)",
            "morris": f"{n:,} Morris trajectories x {len(sweep.parameters) + 1}",
            "saltelli": f"{n:,} Saltelli samples x {len(sweep.parameters) + 2}",
        }.get(method, f"the {method} design")
        raise ScenarioError(
            sweep.path, [f"{field}: {what} makes {size:,} points; a design has at most {MAX_POINTS:,} points"]
        )


def make_design(sweep: Sweep, method: str | None = None, n: int | None = None) -> Design:
    """The points of ``sweep`` under ``method`` (default: the sweep's design).

    ``method`` may also be ``"saltelli"`` (for Sobol' indices). ``n`` is the
    number of points (lhs, sobol), trajectories (morris) or base samples (saltelli).
    """
    if (method is None or method == sweep.design) and n is None:
        check_design(sweep)
    field = "points" if n is None else "design"
    method = method or sweep.design
    n = n or sweep.points
    check_size(sweep, method, n, field)
    if method == "grid":
        x = sample_grid(sweep)
    elif method == "lhs":
        x = sample_lhs(sweep, _need(n))
    elif method == "sobol":
        x = sample_sobol(sweep, _need(n))
    elif method == "morris":
        x = sample_morris(sweep, _need(n))
    elif method == "saltelli":
        x = sample_saltelli(sweep, _need(n))
    else:
        raise ValueError(f"unknown design '{method}'; allowed: {', '.join(DESIGNS)}, saltelli")
    values = pd.DataFrame({"point": np.arange(len(x), dtype=np.int64)})
    for j, p in enumerate(sweep.parameters):
        values[p.path] = p.value(x[:, j])
    return Design(method=method, x=x, values=values)


def _need(n: int | None) -> int:
    if not n:
        raise ValueError("this design needs a number of points")
    return n


# ------------------------------------------------------------------ points


def overrides_of(paths: list[str], row: np.ndarray | list[float]) -> dict[str, float]:
    """``{path: value}`` of one design point."""
    return {p: float(v) for p, v in zip(paths, row, strict=True)}


def point_source(source: dict[str, Any], overrides: dict[str, float]) -> dict[str, Any]:
    """The base scenario table with each dotted path set to its value."""
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = nested
        *head, last = dotted.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = int(value) if float(value).is_integer() and abs(value) < 2**53 else value
    return merge(source, _into_lists(source, nested))


def _into_lists(source: Any, nested: dict[str, Any]) -> dict[str, Any]:
    """``nested`` with each table whose keys number a list of ``source`` (a path such as
    ``schemes.NAME.changes.0.week``) turned into that list, its numbered entries merged."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        base = source.get(key) if isinstance(source, dict) else None
        if isinstance(base, list) and isinstance(value, dict) and all(k.isdigit() for k in value):
            entries = list(base)
            for k, sub in value.items():
                entries[int(k)] = merge(entries[int(k)], sub) if isinstance(sub, dict) else sub
            out[key] = entries
        elif isinstance(value, dict):
            out[key] = _into_lists(base, value)
        else:
            out[key] = value
    return out
