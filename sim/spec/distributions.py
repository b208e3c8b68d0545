"""Named probability distributions with readable parameters.

A scenario writes a distribution as an inline table, e.g.
``{dist = "beta", mean = 0.85, sd = 0.05}``. :func:`parse_distribution` turns
such a table into one of the frozen classes below, checking that the parameters
describe a valid distribution; every class can ``sample`` from a
``numpy.random.Generator`` and report its ``support`` so that a field can check
that, say, a probability can never be drawn above 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import special

from sim.spec.suggest import did_you_mean

__all__ = [
    "Distribution",
    "Fixed",
    "Uniform",
    "Triangular",
    "Normal",
    "LogNormal",
    "Beta",
    "Gamma",
    "Poisson",
    "Empirical",
    "DistributionError",
    "parse_distribution",
    "DISTRIBUTIONS",
]


class DistributionError(ValueError):
    """A distribution table that does not describe a valid distribution."""


#: Largest mean or parameter a distribution may have: far above any amount in a scenario,
#: far below where 64-bit sampling overflows (numpy's Poisson stops near 9.2e18).
LARGEST = 1e15

#: Most values an empirical distribution may list.
MAX_EMPIRICAL_VALUES = 10_000


@dataclass(frozen=True)
class Distribution:
    """Base class: a distribution that can be sampled and knows its support."""

    name: ClassVar[str] = ""

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        raise NotImplementedError

    def mean(self) -> float:
        raise NotImplementedError

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
        return f"{self.name}({fields})"


@dataclass(frozen=True)
class Fixed(Distribution):
    value: float
    name: ClassVar[str] = "fixed"

    def sample(self, rng, size):
        return np.full(size, float(self.value))

    def support(self):
        return (self.value, self.value)

    def mean(self):
        return self.value


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float
    name: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise DistributionError(f"uniform needs low <= high (got low={self.low}, high={self.high})")

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        return 0.5 * (self.low + self.high)


@dataclass(frozen=True)
class Triangular(Distribution):
    low: float
    mode: float
    high: float
    name: ClassVar[str] = "triangular"

    def __post_init__(self) -> None:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise DistributionError(
                "triangular needs low <= mode <= high and low < high "
                f"(got low={self.low}, mode={self.mode}, high={self.high})"
            )

    def sample(self, rng, size):
        return rng.triangular(self.low, self.mode, self.high, size)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        return (self.low + self.mode + self.high) / 3.0


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal, optionally truncated to [low, high] (sampled by inversion)."""

    mean_: float
    sd: float
    low: float = -math.inf
    high: float = math.inf
    name: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise DistributionError(f"normal needs sd > 0 (got sd={self.sd})")
        if not self.low < self.high:
            raise DistributionError(f"normal needs low < high (got low={self.low}, high={self.high})")
        lo = special.ndtr((self.low - self.mean_) / self.sd)
        hi = special.ndtr((self.high - self.mean_) / self.sd)
        if not hi > lo:
            raise DistributionError(
                f"normal(mean={self.mean_}, sd={self.sd}) has no probability mass between "
                f"low={self.low} and high={self.high}; move the bounds or the mean"
            )

    def sample(self, rng, size):
        if math.isinf(self.low) and math.isinf(self.high):
            return rng.normal(self.mean_, self.sd, size)
        lo = special.ndtr((self.low - self.mean_) / self.sd)
        hi = special.ndtr((self.high - self.mean_) / self.sd)
        u = rng.uniform(lo, hi, size)
        return np.clip(self.mean_ + self.sd * special.ndtri(u), self.low, self.high)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        if math.isinf(self.low) and math.isinf(self.high):
            return self.mean_
        a = (self.low - self.mean_) / self.sd
        b = (self.high - self.mean_) / self.sd
        z = special.ndtr(b) - special.ndtr(a)
        pdf = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0  # noqa: E731
        return self.mean_ + self.sd * (pdf(a) - pdf(b)) / z

    def describe(self) -> str:
        bounds = ""
        if math.isfinite(self.low) or math.isfinite(self.high):
            bounds = f", low={self.low}, high={self.high}"
        return f"normal(mean={self.mean_}, sd={self.sd}{bounds})"


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal given by its median and log-sd ``sigma`` (or built from mean and sd)."""

    median: float
    sigma: float
    name: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        if not 0 < self.median <= LARGEST:
            raise DistributionError(f"lognormal needs 0 < median <= {LARGEST:g} (got median={self.median})")
        if not 0 <= self.sigma <= 10:
            raise DistributionError(f"lognormal needs 0 <= sigma <= 10 (got sigma={self.sigma})")

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LogNormal:
        if not (0 < mean <= LARGEST and 0 < sd <= LARGEST):
            raise DistributionError(
                f"lognormal needs 0 < mean <= {LARGEST:g} and 0 < sd <= {LARGEST:g} "
                f"(got mean={mean}, sd={sd})"
            )
        ratio = sd / mean
        sigma2 = math.log1p(ratio * ratio)
        if not 0 < sigma2 <= 100:
            raise DistributionError(
                f"lognormal needs sd/mean between 1e-150 and 1e21 so that sigma is representable "
                f"(got mean={mean}, sd={sd})"
            )
        return cls(median=mean * math.exp(-0.5 * sigma2), sigma=math.sqrt(sigma2))

    def sample(self, rng, size):
        return self.median * np.exp(self.sigma * rng.standard_normal(size))

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        log_mean = math.log(self.median) + 0.5 * self.sigma * self.sigma
        return math.exp(log_mean) if log_mean < 700 else math.inf


@dataclass(frozen=True)
class Beta(Distribution):
    """Beta with shape parameters ``a``, ``b`` (or built from mean and sd)."""

    a: float
    b: float
    name: ClassVar[str] = "beta"

    def __post_init__(self) -> None:
        if not (0 < self.a <= LARGEST and 0 < self.b <= LARGEST):
            raise DistributionError(
                f"beta needs 0 < a <= {LARGEST:g} and 0 < b <= {LARGEST:g} (got a={self.a}, b={self.b})"
            )

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> Beta:
        if not 0 < mean < 1:
            raise DistributionError(f"beta needs 0 < mean < 1 (got mean={mean})")
        limit = math.sqrt(mean * (1 - mean))
        if not 0 < sd < limit:
            raise DistributionError(
                f"beta with mean {mean} needs 0 < sd < {limit:.4g} = sqrt(mean*(1-mean)) (got sd={sd})"
            )
        if sd < 1e-6:
            raise DistributionError(
                f"beta needs sd >= 1e-06 (got sd={sd}); for a value without uncertainty write the number"
            )
        k = mean * (1 - mean) / (sd * sd) - 1
        return cls(a=mean * k, b=(1 - mean) * k)

    def sample(self, rng, size):
        return rng.beta(self.a, self.b, size)

    def support(self):
        return (0.0, 1.0)

    def mean(self):
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class Gamma(Distribution):
    mean_: float
    sd: float
    name: ClassVar[str] = "gamma"

    def __post_init__(self) -> None:
        if not (0 < self.mean_ <= LARGEST and 0 < self.sd <= LARGEST):
            raise DistributionError(
                f"gamma needs 0 < mean <= {LARGEST:g} and 0 < sd <= {LARGEST:g} "
                f"(got mean={self.mean_}, sd={self.sd})"
            )
        ratio = self.mean_ / self.sd
        if not 1e-6 <= ratio <= 1e6:
            raise DistributionError(
                f"gamma needs mean/sd between 1e-06 and 1e+06 so that its shape is representable "
                f"(got mean={self.mean_}, sd={self.sd})"
            )

    def sample(self, rng, size):
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.sd**2 / self.mean_, size)

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        return self.mean_

    def describe(self) -> str:
        return f"gamma(mean={self.mean_}, sd={self.sd})"


@dataclass(frozen=True)
class Poisson(Distribution):
    mean_: float
    name: ClassVar[str] = "poisson"

    def __post_init__(self) -> None:
        if not 0 <= self.mean_ <= LARGEST:
            raise DistributionError(f"poisson needs 0 <= mean <= {LARGEST:g} (got mean={self.mean_})")

    def sample(self, rng, size):
        return rng.poisson(self.mean_, size).astype(float)

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        return self.mean_

    def describe(self) -> str:
        return f"poisson(mean={self.mean_})"


@dataclass(frozen=True)
class Empirical(Distribution):
    values: tuple[float, ...]
    weights: tuple[float, ...]
    name: ClassVar[str] = "empirical"

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise DistributionError("empirical needs at least one value")
        if len(self.weights) != len(self.values):
            raise DistributionError(
                f"empirical needs as many weights as values (got {len(self.values)} values, "
                f"{len(self.weights)} weights)"
            )
        if len(self.values) > MAX_EMPIRICAL_VALUES:
            raise DistributionError(
                f"empirical takes at most {MAX_EMPIRICAL_VALUES} values (got {len(self.values)})"
            )
        if any(w < 0 for w in self.weights) or not sum(self.weights) > 0:
            raise DistributionError("empirical weights must be >= 0 and not all zero")
        if not math.isfinite(sum(self.weights)):
            raise DistributionError("empirical weights must add up to a finite number (they overflow)")

    def _p(self) -> np.ndarray:
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng, size):
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    def support(self):
        return (min(self.values), max(self.values))

    def mean(self):
        return float(np.dot(self._p(), self.values))


# name -> accepted parameter sets (each a tuple of required keys) and optional keys
_SIGNATURES: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]] = {
    "fixed": ((("value",),), ()),
    "uniform": ((("low", "high"),), ()),
    "triangular": ((("low", "mode", "high"),), ()),
    "normal": ((("mean", "sd"),), ("low", "high")),
    "lognormal": ((("median", "sigma"), ("mean", "sd")), ()),
    "beta": ((("mean", "sd"), ("a", "b")), ()),
    "gamma": ((("mean", "sd"),), ()),
    "poisson": ((("mean",),), ()),
    "empirical": ((("values",), ("values", "weights")), ()),
}
DISTRIBUTIONS: tuple[str, ...] = tuple(_SIGNATURES)


def _forms(name: str) -> str:
    return " or ".join("(" + ", ".join(keys) + ")" for keys in _SIGNATURES[name][0])


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise DistributionError(f"{name} parameter '{key}' must be a number (got {shown})")
    if isinstance(value, int) and abs(value) > 2**63:
        raise DistributionError(f"{name} parameter '{key}' must be at most {LARGEST:g} in size")
    if not math.isfinite(value) and key not in ("low", "high"):
        raise DistributionError(f"{name} parameter '{key}' must be finite (got {value!r})")
    return float(value)


def parse_distribution(table: dict[str, Any]) -> Distribution:
    """Build a distribution from a scenario table such as ``{dist="beta", mean=.85, sd=.05}``.

    Raises :class:`DistributionError` with a message that says what is allowed,
    also when the parameters are too large or too small to compute with.
    """
    try:
        return _build(table)
    except ArithmeticError:
        raise DistributionError(
            f"{table.get('dist')} parameters are too large or too small to compute with "
            f"(keep them between 1e-15 and {LARGEST:g})"
        ) from None


def _build(table: dict[str, Any]) -> Distribution:
    name, params = _named_parameters(table)
    if name == "empirical":
        return _empirical(params)
    return _construct(name, {k: _number(name, k, v) for k, v in params.items()})


def _named_parameters(table: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The distribution's name and its parameters, checked against the accepted forms."""
    if "dist" not in table:
        raise DistributionError(
            "a distribution table needs a 'dist' key, one of: " + ", ".join(DISTRIBUTIONS)
        )
    name = table["dist"]
    if not isinstance(name, str) or name not in _SIGNATURES:
        hint = did_you_mean(str(name)[:40], DISTRIBUTIONS)
        shown = name if isinstance(name, str) and len(name) <= 40 else str(name)[:37] + "..."
        raise DistributionError(f"unknown distribution '{shown}'{hint}; allowed: " + ", ".join(DISTRIBUTIONS))
    params = {k: v for k, v in table.items() if k != "dist"}
    forms, optional = _SIGNATURES[name]
    allowed = {k for keys in forms for k in keys} | set(optional)
    for key in params:
        if key not in allowed:
            hint = did_you_mean(key, sorted(allowed))
            raise DistributionError(
                f"{name} has no parameter '{key}'{hint}; it takes {_forms(name)}"
                + (f" with optional {', '.join(optional)}" if optional else "")
            )
    given = set(params) - set(optional)
    form = next((keys for keys in forms if set(keys) == given), None)
    if form is None:
        missing = min(forms, key=lambda keys: len(set(keys) - given))
        lacking = ", ".join(k for k in missing if k not in given) or "a consistent set"
        raise DistributionError(f"{name} is missing parameter {lacking}; it takes {_forms(name)}")
    return name, params


def _empirical(params: dict[str, Any]) -> Empirical:
    values = params["values"]
    if not isinstance(values, list) or not values:
        raise DistributionError("empirical 'values' must be a non-empty list of numbers")
    if len(values) > MAX_EMPIRICAL_VALUES:
        raise DistributionError(f"empirical takes at most {MAX_EMPIRICAL_VALUES} values (got {len(values)})")
    vals = tuple(_number("empirical", "values", v) for v in values)
    raw_w = params.get("weights", [1.0] * len(vals))
    if not isinstance(raw_w, list):
        raise DistributionError("empirical 'weights' must be a list of numbers")
    return Empirical(vals, tuple(_number("empirical", "weights", w) for w in raw_w))


def _construct(name: str, p: dict[str, float]) -> Distribution:
    """The distribution ``name`` from its checked numeric parameters."""
    if name == "fixed":
        return Fixed(p["value"])
    if name == "uniform":
        return Uniform(p["low"], p["high"])
    if name == "triangular":
        return Triangular(p["low"], p["mode"], p["high"])
    if name == "normal":
        return Normal(p["mean"], p["sd"], p.get("low", -math.inf), p.get("high", math.inf))
    if name == "lognormal":
        if "median" in p:
            return LogNormal(p["median"], p["sigma"])
        return LogNormal.from_mean_sd(p["mean"], p["sd"])
    if name == "beta":
        if "a" in p:
            return Beta(p["a"], p["b"])
        return Beta.from_mean_sd(p["mean"], p["sd"])
    if name == "gamma":
        return Gamma(p["mean"], p["sd"])
    return Poisson(p["mean"])
