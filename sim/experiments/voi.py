"""Value of information of a choice between two policy options (scenarios A and B).

Both options run the same replications with the same seed (common random
numbers, as ``compare``), so replication ``k`` of A and of B see the same draws
of every uncertain parameter both give as the same distribution, and the same
firms. Per replication the decision metric of each option is computed
(:func:`metric_values`); the decision is to choose the option with the larger
expected metric (the smaller, for a metric where less is better, such as a
cost: :data:`sim.experiments.compare.BETTER`). :mod:`sim.experiments.evppi`
then gives the expected value of perfect information (EVPI) and of partial
perfect information about each uncertain parameter (EVPPI).

The decision metric ``net_benefit`` is, per replication and scheme, the
present value of the benefits of additional upgrades completed by the end of
the follow-up minus the public cost (money paid plus administration) by then,
HK$ (``pv_benefit_hkd_follow_up - public_cost_hkd_follow_up``), summed over
the schemes that have a benefit (not an intermediary scheme, for which no
benefit is assumed). Any other numeric metric of ``replications.parquet`` may
be named instead; summed over schemes only where sums mean something (counts
and HK$ amounts), otherwise for one scheme.

The uncertain parameters are those either scenario gives as distributions;
their values are recomputed from the seed (:func:`draw_parameters`), so no
table of the run changes. A parameter both give as different distributions is
recorded as A draws it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.engines.metrics import COUNTS, FOLLOW_UP_SUFFIX
from sim.engines.parameters import draw_parameters
from sim.engines.programme_metrics import DIRECT_ONLY, INTERMEDIARY_METRICS
from sim.experiments.calibrate import uncertain_paths
from sim.experiments.compare import BETTER, check_aligned
from sim.experiments.evppi import LEVEL, RESAMPLES, Evppi, estimate_evppi
from sim.experiments.pipeline import Execution, plan_chunks
from sim.experiments.replicate import table_metrics
from sim.experiments.runner import run_plan
from sim.rng import bootstrap_stream
from sim.spec.loader import LoadedScenario
from sim.spec.suggest import did_you_mean

__all__ = [
    "NET_BENEFIT",
    "Decision",
    "DecisionError",
    "ValueOfInformation",
    "allowed_metrics",
    "choose_schemes",
    "decision_parameters",
    "metric_values",
    "run_value_of_information",
    "DecisionOptions",
    "analyse",
    "check_metric",
]

#: The default decision metric: present value of benefits minus public cost, to the follow-up's end.
NET_BENEFIT = "net_benefit"

#: Per-scheme metrics that add up across schemes (counts and HK$ amounts, not ratios or weeks).
_ADDITIVE = frozenset(
    {
        NET_BENEFIT,
        *COUNTS,
        "additional_upgrades",
        "committed_hkd",
        "unused_budget_hkd",
        "paid_hkd",
        "released_hkd",
        "private_hkd",
        "admin_cost_hkd",
        "public_cost_hkd",
        "additional_gva_hkd",
        "pv_benefit_hkd",
        "operators_funded",
        "startup_places",
        "startups_accelerated",
        "startups_relocated",
        "startups_surviving",
        "startups_follow_on",
    }
)


class DecisionError(ValueError):
    """A decision that cannot be analysed as asked: an unknown metric or scheme, too few runs."""


@dataclass
class Decision:
    """Per replication, the decision metric under A and B, and the uncertain parameters' values."""

    metric: str
    schemes: tuple[str, ...]
    direction: int
    replications: np.ndarray
    a: np.ndarray
    b: np.ndarray
    parameters: pd.DataFrame

    @property
    def difference(self) -> np.ndarray:
        """``direction * (B - A)``: positive where B is the better option."""
        return self.direction * (self.b - self.a)


@dataclass
class ValueOfInformation:
    """A decision, its EVPI and EVPPI, and how it was run."""

    decision: Decision
    evppi: Evppi
    seed: int
    engine: str
    replications: int
    elapsed_s: float
    dropped: int = 0
    workers: int = 1
    constant: list[str] = field(default_factory=list)
    #: Seconds spent running both options (the rest of ``elapsed_s`` is the regressions).
    simulated_s: float = 0.0

    @property
    def chosen(self) -> str:
        """The option chosen on current information: 'A' or 'B' (A on a tie)."""
        return "B" if self.evppi.mean_difference > 0 else "A"


def allowed_metrics(*loaded: LoadedScenario) -> list[str]:
    """The decision metrics: ``net_benefit`` and every numeric column of the replications tables."""
    names = dict.fromkeys([NET_BENEFIT])
    for one in loaded:
        names.update(dict.fromkeys(table_metrics(one.scenario)))
    return list(names)


def check_metric(metric: str, *loaded: LoadedScenario) -> None:
    """Refuse an unknown metric, naming the allowed ones."""
    allowed = allowed_metrics(*loaded)
    if metric not in allowed:
        raise DecisionError(
            f"--metric: unknown metric '{metric}'{did_you_mean(metric, allowed)}; "
            f"allowed: {', '.join(allowed)}"
        )


def choose_schemes(
    metric: str, given: Sequence[str], a: LoadedScenario, b: LoadedScenario
) -> tuple[str, ...]:
    """The schemes whose metric is summed: ``given``, else every scheme of A or B that has the
    metric (for ``net_benefit``: every direct scheme). A metric that does not add up across
    schemes (a ratio, a week) needs exactly one."""
    known = list(dict.fromkeys([*a.scenario.schemes, *b.scenario.schemes]))
    for name in given:
        if name not in known:
            raise DecisionError(
                f"--scheme: unknown scheme '{name}'{did_you_mean(name, known)}; allowed: {', '.join(known)}"
            )
    chosen = tuple(dict.fromkeys(given)) or tuple(s for s in known if _has_metric(metric, s, a, b))
    if not chosen:
        raise DecisionError(f"--metric: no scheme of A or B has '{metric}'")
    if len(chosen) > 1 and metric.removesuffix(FOLLOW_UP_SUFFIX) not in _ADDITIVE:
        raise DecisionError(
            f"--metric: '{metric}' does not add up across schemes; name one with --scheme "
            f"(one of {', '.join(chosen)})"
        )
    return chosen


def _has_metric(metric: str, scheme: str, a: LoadedScenario, b: LoadedScenario) -> bool:
    """Whether ``metric`` is defined for ``scheme``: an intermediary scheme has no benefit (so no
    net benefit, MODEL.md 6b), a direct scheme no start-ups."""
    kinds = {one.scenario.schemes[scheme].kind for one in (a, b) if scheme in one.scenario.schemes}
    if "intermediary" in kinds:
        return metric != NET_BENEFIT and metric not in DIRECT_ONLY
    return metric not in INTERMEDIARY_METRICS


def metric_values(table: pd.DataFrame, metric: str, schemes: Sequence[str], reps: np.ndarray) -> np.ndarray:
    """Per replication ``reps``, ``metric`` summed over ``schemes`` (whole-population rows; a scheme
    the run does not have adds 0; NaN where a present scheme's value is missing)."""
    rows = table[table["segment"] == "all"]
    total = np.zeros(len(reps))
    for scheme in schemes:
        one = rows[rows["scheme"] == scheme].set_index("replication")
        if one.empty:
            continue
        if metric == NET_BENEFIT:
            benefit = one["pv_benefit_hkd" + FOLLOW_UP_SUFFIX] - one["public_cost_hkd" + FOLLOW_UP_SUFFIX]
            values = benefit.reindex(reps)
        else:
            values = one[metric].reindex(reps)
        total = total + values.to_numpy(dtype=float)
    return total


def decision_parameters(a: LoadedScenario, b: LoadedScenario, seed: int, reps: np.ndarray) -> pd.DataFrame:
    """Each uncertain parameter's value per replication (A's draw where A gives it as a distribution,
    else B's): one column per dotted path, in schema order."""
    columns: dict[str, np.ndarray] = {}
    for one in (a, b):
        paths = [p for p in uncertain_paths(one.scenario) if p not in columns]
        if paths:
            draws = draw_parameters(one.scenario, seed, reps)
            columns.update({path: draws[path] for path in paths})
    return pd.DataFrame(columns, index=pd.Index(reps, name="replication"))


#: Fewest replications with a defined metric under both options for a regression to be fitted.
MIN_REPLICATIONS = 50


@dataclass(frozen=True)
class DecisionOptions:
    """What is decided on and how precisely: the metric, the schemes summed (empty: every scheme
    that has it), the bootstrap resamples and the level of their intervals."""

    metric: str = NET_BENEFIT
    schemes: tuple[str, ...] = ()
    resamples: int = RESAMPLES
    level: float = LEVEL
    #: "higher" or "lower": which way the metric is better; None: as ``compare`` says (higher
    #: where it says nothing, as for net benefit).
    better: str | None = None

    def direction(self) -> int:
        """+1 where more of the metric is better, -1 where less is."""
        if self.better is not None:
            if self.better not in BETTER_WORDS:
                raise DecisionError(f"--better: must be higher or lower (got '{self.better}')")
            return BETTER_WORDS[self.better]
        return -1 if BETTER.get(self.metric, 1) < 0 else 1


#: The words of ``--better``.
BETTER_WORDS = {"higher": 1, "lower": -1}


def analyse(decision: Decision, seed: int, options: DecisionOptions) -> tuple[Evppi, int, list[str]]:
    """EVPI and EVPPI of a decision; also the replications left out (metric undefined under A or
    B) and the parameters left out (constant over the replications kept)."""
    keep = np.isfinite(decision.a) & np.isfinite(decision.b)
    if keep.sum() < MIN_REPLICATIONS:
        raise DecisionError(
            f"--metric: '{decision.metric}' is defined under both options in {int(keep.sum())} "
            f"replications; a regression needs at least {MIN_REPLICATIONS} (run more with -n)"
        )
    params = decision.parameters.loc[keep]
    constant = [c for c in params.columns if params[c].nunique() < 2]
    varying = [c for c in params.columns if c not in constant]
    if not varying:
        raise DecisionError("A and B give no uncertain parameter (a distribution): nothing to learn")
    stream = bootstrap_stream(seed, "value-of-information")
    result = estimate_evppi(
        decision.difference[keep], params, stream, options.resamples, options.level, varying
    )
    return result, int((~keep).sum()), constant


def run_value_of_information(
    a: LoadedScenario,
    b: LoadedScenario,
    replications: int,
    seed: int,
    engine: str | None = None,
    execution: Execution | None = None,
    options: DecisionOptions | None = None,
) -> ValueOfInformation:
    """Run A and B on common random numbers and value information about their uncertain parameters.

    Metric and schemes are checked, and both runs planned (engine support,
    memory), before either starts.
    """
    options = options or DecisionOptions()
    check_aligned(a.scenario, b.scenario, (a.name, b.name))
    check_metric(options.metric, a, b)
    schemes = choose_schemes(options.metric, options.schemes, a, b)
    options.direction()
    execution = execution or Execution()
    for loaded in (a, b):
        plan_chunks(loaded.scenario, seed, replications, engine, execution)
    began = time.perf_counter()
    runs = [run_plan(loaded, replications, seed, engine, execution) for loaded in (a, b)]
    reps = np.arange(replications, dtype=np.int64)
    direction = options.direction()
    values = [metric_values(run.table, options.metric, schemes, reps) for run in runs]
    simulated = time.perf_counter() - began
    params = decision_parameters(a, b, seed, reps)
    decision = Decision(options.metric, schemes, direction, reps, values[0], values[1], params)
    result, dropped, constant = analyse(decision, seed, options)
    return ValueOfInformation(
        decision,
        result,
        seed,
        runs[0].engine,
        replications,
        time.perf_counter() - began,
        dropped,
        runs[0].workers,
        constant,
        simulated,
    )
