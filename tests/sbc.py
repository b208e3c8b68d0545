"""Simulation-based calibration of ``calibrate`` and its forecasts (``python -m tests.sbc``).

Each *truth* is one replication of a small scenario (``tests/data/sbc.toml``),
so its parameters are a draw from the priors. Its figures up to a cut (week
26: applications at weeks 13 and 26, awards at week 26) are reported with the
observation model's scatter (a negative binomial around the simulated counts,
the model the calibration assumes), and calibrated on with importance
sampling from the prior, over a bank of prior replications of its own (no two
truths share a replication). Then the posterior of each uncertain parameter and
the forecast of a later quantity (the awards at week 52) are compared with the
truth: the truth's simulated value, against the weighted replications' values;
and the truth's value as reported (with the observation model's scatter),
against the backtest's forecast of a reported figure
(:func:`sim.experiments.backtest.forecast_draws`).

If the method is right, the truth's rank in its posterior is uniform: the
probability integral transform ``u = P(X < truth) + V P(X = truth)`` (``V``
uniform, to break the ties of a count) is uniform on (0, 1), and the central
50% and 90% intervals (``0.25 < u < 0.75``, ``0.05 < u < 0.95``) cover the
truth at exactly those rates. Each of the checks (three parameters, the later
quantity and its reported figure, at two levels) is a two-sided binomial test
of its coverage count; the family of ten tests has a false-alarm rate of
:data:`FAMILY_ALPHA` (Bonferroni: each test at ``FAMILY_ALPHA / 10``).

Importance sampling from a bank of ``B`` replications is itself an
approximation (its effective sample size is reported); with too small a bank
the posteriors come out too wide or too narrow and the coverage shows it.

``python -m tests.sbc --truths 500 --bank 2000`` runs a larger check than the
test suite's (``tests/statistical/test_sbc.py``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

from sim.engines.parameters import draw_parameters
from sim.experiments.backtest import forecast_draws, reported_draws
from sim.experiments.calibrate import effective_sample_size, importance_weights, uncertain_paths
from sim.experiments.observed import ObservationModel, observation_log_likelihood, series_index
from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario
from sim.spec.observations import Observation, ObservedData
from sim.spec.scenario import Scenario
from tests.conftest import DATA

SCENARIO = DATA / "sbc.toml"
SCHEME = "pilot"
#: The figures calibrated on: (week, quantity), all up to the cut at week 26.
FIGURES = ((13, "applications_received"), (26, "applications_received"), (26, "awarded"))
#: The later quantity forecast: the awards at week 52 (the truth's simulated value).
LATER = (52, "awarded")
#: The later figure as an observation (its value is not used: only its quantity and week).
LATER_FIGURE = Observation(0, SCHEME, date(2025, 12, 29), LATER[0], LATER[1], 0.0, "exact")
LEVELS = (0.5, 0.9)
#: False-alarm rate of the whole family of coverage tests.
FAMILY_ALPHA = 0.01
#: Replications simulated per call (bounded memory).
CHUNK = 16_384


@dataclass
class Simulated:
    """Per replication: the uncertain parameters, the figures at the observed weeks and the later value."""

    parameters: dict[str, np.ndarray]
    figures: np.ndarray
    later: np.ndarray


def simulate(scenario: Scenario, seed: int, count: int) -> Simulated:
    """Replications 0 .. count-1: their parameters and simulated values, in chunks."""
    figures, later = [], []
    for start in range(0, count, CHUNK):
        reps = np.arange(start, min(count, start + CHUNK))
        weekly = replicate(scenario, seed, reps, "batch").weekly[SCHEME]
        figures.append(np.stack([weekly[:, series_index(q), w] for w, q in FIGURES], axis=1))
        later.append(weekly[:, series_index(LATER[1]), LATER[0]])
    draws = draw_parameters(scenario, seed, np.arange(count))
    paths = uncertain_paths(scenario)
    return Simulated({p: draws[p] for p in paths}, np.concatenate(figures), np.concatenate(later))


def reported(
    scenario: Scenario, values: np.ndarray, rng: np.random.Generator, model: ObservationModel
) -> ObservedData:
    """The truth's figures as reported: negative binomial scatter around its simulated counts."""
    k = model.dispersion
    mean = np.maximum(values, model.count_floor)
    scattered = rng.negative_binomial(k, k / (k + mean))
    observations = tuple(
        Observation(i + 2, SCHEME, scenario.start_date + timedelta(weeks=w), w, q, float(v), "exact")
        for i, ((w, q), v) in enumerate(zip(FIGURES, scattered, strict=True))
    )
    return ObservedData("synthetic", observations)


def pit(values: np.ndarray, weights: np.ndarray, truth: float, rng: np.random.Generator) -> float:
    """The randomised probability integral transform of ``truth`` under the weighted sample."""
    below = weights[values < truth].sum()
    at = weights[values == truth].sum()
    return float(below + rng.random() * at)


@dataclass
class SbcResult:
    """Per check (a parameter path, or ``later``), the truths' PIT values; the ESS of each calibration."""

    pits: dict[str, np.ndarray]
    ess: np.ndarray
    bank: int
    elapsed_s: float

    @property
    def truths(self) -> int:
        return len(self.ess)

    def checks(self) -> list[tuple[str, float, int, float]]:
        """(check, level, truths covered, two-sided binomial p-value) of every coverage test."""
        out = []
        for name, u in self.pits.items():
            for level in LEVELS:
                covered = int(((u > (1 - level) / 2) & (u < (1 + level) / 2)).sum())
                out.append((name, level, covered, float(stats.binomtest(covered, len(u), level).pvalue)))
        return out

    @property
    def alpha(self) -> float:
        """Each test's false-alarm rate: the family's over the number of tests (Bonferroni)."""
        return FAMILY_ALPHA / (len(self.pits) * len(LEVELS))


def run_sbc(truths: int, bank: int, seed: int = 1, bias: float = 1.0) -> SbcResult:
    """Truths are replications 0 .. truths-1; truth t's bank the next ``bank`` replications after them.

    ``bias`` multiplies the truths' simulated figures before they are reported: 1 is the method;
    another value is a series misreported by that factor (the control that shows the tests can fail).
    """
    began = time.perf_counter()
    scenario = load_scenario(SCENARIO).scenario
    sim = simulate(scenario, seed, truths * (bank + 1))
    model = ObservationModel()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    pits: dict[str, list[float]] = {name: [] for name in [*sim.parameters, "later", "reported"]}
    ess = np.empty(truths)
    for t in range(truths):
        own = slice(truths + t * bank, truths + (t + 1) * bank)
        observed = reported(scenario, bias * sim.figures[t], rng, model)
        weights = importance_weights(
            observation_log_likelihood(observed, sim.figures[own], model).sum(axis=1)
        )
        ess[t] = effective_sample_size(weights)
        for path, values in sim.parameters.items():
            pits[path].append(pit(values[own], weights, values[t], rng))
        pits["later"].append(pit(sim.later[own], weights, sim.later[t], rng))
        truth_reported = reported_draws(sim.later[t : t + 1], LATER_FIGURE, model, rng)[0]
        predictive = forecast_draws(weights, sim.later[own], LATER_FIGURE, model, rng)[1]
        pits["reported"].append(
            pit(predictive, np.full(len(predictive), 1 / len(predictive)), truth_reported, rng)
        )
    return SbcResult({k: np.array(v) for k, v in pits.items()}, ess, bank, time.perf_counter() - began)


def report(result: SbcResult) -> str:
    """The coverage table, with each test's p-value against its threshold."""
    lines = [
        f"simulation-based calibration: {result.truths} truths, a bank of {result.bank:,} prior replications "
        f"each, {result.elapsed_s:.0f} s; effective sample size median {np.median(result.ess):.0f} "
        f"(5% {np.quantile(result.ess, 0.05):.0f})",
        f"each test two-sided binomial at {result.alpha:.5f} (family-wise false-alarm rate {FAMILY_ALPHA})",
        f"{'check':58} {'nominal':>7} {'covered':>9} {'rate':>6} {'p-value':>8}  result",
    ]
    for name, level, covered, p in result.checks():
        label = {"later": "later quantity: awards at week 52", "reported": "the same, as reported"}.get(
            name, name
        )
        verdict = "ok" if p >= result.alpha else "MISCALIBRATED"
        lines.append(
            f"{label:58} {level:>7.0%} {covered:>4}/{result.truths:<4} {covered / result.truths:>6.1%} {p:>8.4f}  {verdict}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Simulation-based calibration of calibrate and its forecasts."
    )
    parser.add_argument("--truths", type=int, default=500)
    parser.add_argument("--bank", type=int, default=2000, help="prior replications per truth")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(report(run_sbc(args.truths, args.bank, args.seed)))


if __name__ == "__main__":
    main()
