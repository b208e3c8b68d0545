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
effect is thus never shrunk; only the curvature is. The penalty is chosen once
on the data, then kept for the bootstrap resamples (cross-validation on a
resample with repeated rows would choose too little smoothing).

For EVPI (all parameters at once) effects interact (applications grow with
the eligible share times the propensity) and bend sharply (nothing changes
until a limit binds), which an additive spline misses and extrapolates
wildly. There the regression is gradient-boosted trees (scikit-learn's
``HistGradientBoostingRegressor``), cross-fitted over :data:`FOLDS` folds so
that no replication's noise predicts itself; their predictions stay within the
range of the data. As ``E max(0, D) >= E max(0, E[D | phi])`` for any
``phi``, EVPI and every EVPPI are capped at the naive value (a bound they may
exceed only by estimation error, where a smooth fit overshoots a sharp bend).

Intervals are basic bootstrap intervals: replications resampled with
replacement, the spline refitted (for EVPI, the cross-fitted predictions
kept), the estimate recomputed. Every random number comes from one Generator
built from a SeedSequence.
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
    "boosted_predictions",
    "choose_penalty",
    "fitted_values",
    "make_design",
    "naive_evpi",
    "require_regression",
]

#: Knots of each parameter's cubic spline (evenly spaced over its range: 11 basis functions).
KNOTS = 9
#: Folds of the cross-fitted regression on all parameters (EVPI).
FOLDS = 5
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


def boosted_predictions(values: np.ndarray, difference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cross-fitted predictions of ``difference`` from all the parameters: each fold of
    :data:`FOLDS` predicted by scikit-learn's ``HistGradientBoostingRegressor`` (early stopping)
    fitted on the other folds, so the noise of a replication never enters its own prediction."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold

    seed = int(rng.integers(2**31 - 1))
    predictions = np.empty(len(difference))
    for train, test in KFold(FOLDS, shuffle=True, random_state=seed).split(values):
        model = HistGradientBoostingRegressor(
            learning_rate=0.05, max_iter=300, min_samples_leaf=30, early_stopping=True, random_state=seed
        )
        predictions[test] = model.fit(values[train], difference[train]).predict(values[test])
    return predictions


def _estimate_evpi(
    values: np.ndarray, difference: np.ndarray, counts: np.ndarray, level: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    """EVPI from the cross-fitted predictions, with a basic bootstrap interval over ``counts``
    (the predictions kept; refitting the trees on every resample would take minutes). Each is
    capped at the naive value of the same rows, a bound EVPI never exceeds in expectation."""
    predictions = boosted_predictions(values, difference, rng)
    value = min(decision_value(predictions), naive_evpi(difference))
    if not len(counts):
        return value, np.nan, np.nan
    boot = np.array([min(decision_value(predictions, w), decision_value(difference, w)) for w in counts])
    q_lo, q_hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return value, max(0.0, 2 * value - float(q_hi)), max(0.0, 2 * value - float(q_lo))


def _estimate(
    design: Design, difference: np.ndarray, counts: np.ndarray, level: float
) -> tuple[float, float, float]:
    """The value from one design, with its basic bootstrap interval over the resamples ``counts``.

    The basic (reverse-percentile) interval ``(2v - q_hi, 2v - q_lo)`` corrects for the
    upward bias that refitting a maximum adds on each resample; it is clipped at 0, below which
    no value of information lies. Like EVPI, each value is capped at the naive value of its rows.
    """
    alpha = choose_penalty(design, difference)
    fitted = fitted_values(design, difference, alpha, np.ones(len(difference)))
    value = min(decision_value(fitted), naive_evpi(difference))
    if not len(counts):
        return value, np.nan, np.nan
    boot = np.array(
        [
            min(decision_value(fitted_values(design, difference, alpha, w), w), decision_value(difference, w))
            for w in counts
        ]
    )
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
    evpi = _estimate_evpi(values, difference, counts, level, rng)
    out = []
    for k, name in enumerate(columns):
        value, lo, hi = _estimate(make_design(values[:, [k]]), difference, counts, level)
        out.append({"parameter": name, "evppi": value, "lo": lo, "hi": hi})
    table = pd.DataFrame(out, columns=["parameter", "evppi", "lo", "hi"])
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table["share_of_evpi"] = table["evppi"] / evpi[0] if evpi[0] > 0 else np.nan
    return Evppi(table, *evpi, naive_evpi(difference), float(difference.mean()), n, resamples, level)
