"""Regression-based expected value of perfect and partial perfect information for a choice of two.

A decision maker picks option A or B, the one with the larger expected value
(net benefit, say). Let ``D = V_B - V_A``, one value per replication, run on
common random numbers, and ``theta`` the uncertain parameters drawn in that
replication. The value of learning ``phi`` (some of the parameters) before
deciding is

    EVPPI(phi) = E_phi[ max(0, E[D | phi]) ] - max(0, E[D])

and EVPI is the same with ``phi`` all the parameters. ``D`` also carries
firm-level variation that no parameter explains, so taking ``max(0, D)``
replication by replication (the "naive" EVPI) counts that noise as
information and overstates the value of learning the parameters. Following
Strong, Oakley & Brennan (2014, Medical Decision Making 34: 311-326), ``E[D |
phi]`` is instead estimated by regressing ``D`` on ``phi`` and the fitted
values are put into the formula above.

The regression is a penalised regression spline, the smoother of a
generalised additive model: an intercept and the parameter's linear term,
unpenalised, plus its cubic B-spline basis (scikit-learn's
``SplineTransformer``, evenly spaced knots) under a ridge penalty chosen by
generalised cross-validation (scikit-learn's ``RidgeCV``). A straight-line
effect is thus never shrunk; only the curvature is. For EVPI (all parameters
at once) the design is every parameter's linear term and spline basis plus the
pairwise products of the standardised parameters, so that interactions such
as propensity times eligible share are not lost. The penalty is chosen once on
the data, then kept for the bootstrap resamples (cross-validation on a
resample with repeated rows would choose too little smoothing).

Intervals are basic bootstrap intervals: replications resampled with
replacement, the regression refitted, the estimate recomputed. Every random
number comes from one Generator built from a SeedSequence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ALPHAS",
    "KNOTS",
    "LEVEL",
    "RESAMPLES",
    "Evppi",
    "MissingRegression",
    "decision_value",
    "estimate_evppi",
    "Design",
    "choose_penalty",
    "fitted_values",
    "make_design",
    "naive_evpi",
    "require_regression",
]

#: Knots of each parameter's cubic spline (evenly spaced over its range: 11 basis functions).
KNOTS = 9
#: Knots of each parameter's spline in the design of all parameters at once (EVPI), fewer
#: because that design also holds every pairwise product.
KNOTS_ALL = 5
#: Ridge penalties tried by generalised cross-validation (the basis columns lie in [0, 1]).
ALPHAS = np.logspace(-6, 6, 49)
#: Bootstrap resamples for the intervals, unless asked otherwise.
RESAMPLES = 200
#: Level of the bootstrap intervals.
LEVEL = 0.90

INSTALL_HINT = "pip install -e '.[voi]' (scikit-learn)"


class MissingRegression(ImportError):
    """scikit-learn, which the regression needs, is not installed."""


def require_regression() -> None:
    """Raise :class:`MissingRegression` with how to install it when scikit-learn is missing."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingRegression(f"value of information needs scikit-learn: {INSTALL_HINT}") from None


def decision_value(fitted: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``mean(max(0, g)) - max(0, mean(g))`` of fitted conditional mean differences ``g``: the
    expected gain from choosing B over A where ``g`` says so, over choosing once on the mean.
    ``weights`` (bootstrap counts) weight the means."""
    fitted = np.asarray(fitted, dtype=float)
    gain = np.average(np.maximum(fitted, 0.0), weights=weights)
    return float(gain - max(0.0, float(np.average(fitted, weights=weights))))


def naive_evpi(difference: np.ndarray) -> float:
    """The value computed replication by replication, firm-level noise counted as information
    (an upper bound of EVPI in expectation, shown only for contrast)."""
    return decision_value(difference)


@dataclass(frozen=True)
class Evppi:
    """The value of information of a choice between A and B (same unit as the difference).

    ``table`` has one row per parameter: ``parameter``, ``evppi``, ``lo``, ``hi``
    (the bootstrap interval at ``level``), ``rank`` (1 = worth most) and
    ``share_of_evpi``; ``evpi`` and its interval are for all parameters at once.
    """

    table: pd.DataFrame
    evpi: float
    evpi_lo: float
    evpi_hi: float
    naive_evpi: float
    mean_difference: float
    replications: int
    resamples: int
    level: float


def _standardise(x: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit sd (a constant column stays zero)."""
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


@dataclass(frozen=True)
class Design:
    """A regression design: ``free`` columns (an intercept and each parameter's linear term, not
    penalised) and ``penalised`` ones (spline bases, pairwise products), one row per replication."""

    free: np.ndarray
    penalised: np.ndarray

    def matrix(self) -> np.ndarray:
        return np.hstack([self.free, self.penalised])

    def penalties(self, alpha: float) -> np.ndarray:
        """The penalty of each column of :meth:`matrix`: 0 for the free ones, ``alpha`` else."""
        return np.concatenate([np.zeros(self.free.shape[1]), np.full(self.penalised.shape[1], alpha)])


def make_design(params: np.ndarray, knots: int = KNOTS, interactions: bool = False) -> Design:
    """Each parameter's linear term (free) and cubic spline basis (penalised); with
    ``interactions``, also the pairwise products of the standardised parameters (penalised)."""
    from sklearn.preprocessing import SplineTransformer

    z = _standardise(params)
    spline = SplineTransformer(n_knots=knots, degree=3, knots="uniform", extrapolation="linear")
    parts = [spline.fit_transform(z)]
    if interactions and z.shape[1] > 1:
        i, j = np.triu_indices(z.shape[1], k=1)
        parts.append(z[:, i] * z[:, j] / 4.0)  # comparable in scale with the basis columns
    return Design(np.hstack([np.ones((len(z), 1)), z]), np.hstack(parts))


def choose_penalty(design: Design, difference: np.ndarray) -> float:
    """The penalty chosen by generalised (efficient leave-one-out) cross-validation, scikit-learn's
    ``RidgeCV``, on the penalised columns once the free ones are partialled out (Frisch-Waugh:
    the same problem, as the penalty does not touch the free columns)."""
    from sklearn.linear_model import RidgeCV

    residual = _partial_out(design.free)
    model = RidgeCV(alphas=ALPHAS, fit_intercept=False)
    return float(model.fit(residual(design.penalised), residual(difference)).alpha_)


def _partial_out(free: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The map ``x -> x - free (free'free)^-1 free' x``: residuals of a least-squares fit on ``free``."""
    q, _ = np.linalg.qr(free)
    return lambda x: x - q @ (q.T @ x)


def fitted_values(design: Design, difference: np.ndarray, alpha: float, weights: np.ndarray) -> np.ndarray:
    """Fitted values of the penalised regression (free columns unpenalised, the others under
    ``alpha``), rows weighted by ``weights``.

    The estimator whose penalty :func:`choose_penalty` chose, solved directly from its normal
    equations (a test checks it against scikit-learn's ``Ridge`` on the partialled-out problem):
    the bootstrap refits it hundreds of times, where the library's input checks would take far
    longer than the solve.
    """
    x = design.matrix()
    weighted = x.T * weights
    gram = weighted @ x + np.diag(design.penalties(alpha))
    coef = np.linalg.lstsq(gram, weighted @ difference, rcond=None)[0]
    return np.asarray(x @ coef, dtype=float)


def _estimate(
    design: Design, difference: np.ndarray, counts: np.ndarray, level: float
) -> tuple[float, float, float]:
    """The value from one design, with its basic bootstrap interval over the resamples ``counts``.

    The basic (reverse-percentile) interval ``(2v - q_hi, 2v - q_lo)`` corrects for the
    upward bias that refitting a maximum adds on each resample; it is clipped at 0, below which
    no value of information lies.
    """
    alpha = choose_penalty(design, difference)
    value = decision_value(fitted_values(design, difference, alpha, np.ones(len(difference))))
    if not len(counts):
        return value, np.nan, np.nan
    boot = np.array([decision_value(fitted_values(design, difference, alpha, w), w) for w in counts])
    q_lo, q_hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return value, max(0.0, 2 * value - float(q_hi)), max(0.0, 2 * value - float(q_lo))


def estimate_evppi(
    difference: np.ndarray,
    parameters: pd.DataFrame,
    rng: np.random.Generator,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    names: Sequence[str] | None = None,
) -> Evppi:
    """EVPI and each parameter's EVPPI for ``difference`` = V_B - V_A (one value per row of
    ``parameters``, one column per uncertain parameter), with bootstrap intervals.

    Every parameter (and EVPI) is resampled on the same bootstrap rows, drawn
    from ``rng``. Rows where ``difference`` is not finite must be removed first.
    """
    require_regression()
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the systems are small, and threads fighting for busy cores (or beside
    # worker processes) make each solve many times slower.
    with threadpool_limits(limits=1):
        return _estimate_all(difference, parameters, rng, resamples, level, names)


def _estimate_all(
    difference: np.ndarray,
    parameters: pd.DataFrame,
    rng: np.random.Generator,
    resamples: int,
    level: float,
    names: Sequence[str] | None,
) -> Evppi:
    difference = np.asarray(difference, dtype=float)
    columns = list(names) if names is not None else list(parameters.columns)
    values = parameters[columns].to_numpy(dtype=float)
    n = len(difference)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    evpi = _estimate(make_design(values, KNOTS_ALL, interactions=True), difference, counts, level)
    out = []
    for k, name in enumerate(columns):
        value, lo, hi = _estimate(make_design(values[:, [k]]), difference, counts, level)
        out.append({"parameter": name, "evppi": value, "lo": lo, "hi": hi})
    table = pd.DataFrame(out, columns=["parameter", "evppi", "lo", "hi"])
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table["share_of_evpi"] = table["evppi"] / evpi[0] if evpi[0] > 0 else np.nan
    return Evppi(table, *evpi, naive_evpi(difference), float(difference.mean()), n, resamples, level)
