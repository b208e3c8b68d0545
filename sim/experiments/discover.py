"""Scenario discovery: which ranges of the inputs make a condition on the outputs likely.

Given cases (replications of a run with their drawn parameters, or points of a
sweep with their values) and where a condition holds in each, PRIM (the
Patient Rule Induction Method, Friedman and Fisher 1999, as used for scenario
discovery by Bryant and Lempert 2010) peels the input space down to a box of
parameter ranges in which the condition is frequent. Along the way it trades
*coverage* (the share of all cases where the condition holds that lie in the
box) against *density* (the share of the box's cases where it holds).

PRIM comes from EMA Workbench's ``ema_workbench.analysis.prim`` (the
``discover`` extra): the most used Python implementation of scenario
discovery, maintained, with pasting and each restriction's quasi-p-value.
It is imported only here, on use. A CART tree (scikit-learn's
``DecisionTreeClassifier``, installed with it) is fitted on the same cases as
a cross-check: its best leaf should restrict the same parameters.

Which box of the peeling trajectory is chosen: with a density target, the box
of largest coverage among those at least that dense; without one, the box with
the best balance of the two (the largest harmonic mean of coverage and
density). The caller may choose another from :attr:`Discovery.trajectory`.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.discover_cart import CartLeaf, best_leaf, leaves

__all__ = [
    "Discovery",
    "DiscoveryError",
    "MissingExtra",
    "INSTALL_HINT",
    "choose_box",
    "discover",
    "require_extra",
]

#: How to install what discovery needs, in every message that asks for it.
INSTALL_HINT = "pip install -e '.[discover]' (EMA Workbench and scikit-learn)"

#: A restriction whose quasi-p-value is below this is called significant.
SIGNIFICANT = 0.05


class DiscoveryError(ValueError):
    """Cases that discovery cannot explain (the condition holds in none or all, nothing varies)."""


class MissingExtra(ImportError):
    """The optional packages of scenario discovery are not installed."""


@dataclass(frozen=True)
class Discovery:
    """The result of :func:`discover`.

    ``trajectory``: one row per box of the peeling trajectory (``box``,
    ``coverage``, ``density``, ``mass``, ``restricted``: how many parameters it
    restricts). ``restrictions``: the chosen box, one row per restricted
    parameter (``parameter``, ``low``, ``high``, the data's ``data_low`` and
    ``data_high``, ``qp_low`` and ``qp_high``: the quasi-p-values of its lower
    and upper limit, NaN for a side left free, and ``significant``).
    ``cart``: the CART cross-check's chosen leaf among ``leaves``, all of its tree's.
    """

    cases: int
    hits: int
    trajectory: pd.DataFrame
    chosen: int
    restrictions: pd.DataFrame
    limits: list[pd.DataFrame]
    cart: CartLeaf | None
    density_target: float | None
    leaves: tuple[CartLeaf, ...] = ()

    @property
    def box(self) -> pd.Series:
        """The chosen box's row of the trajectory."""
        return self.trajectory.iloc[self.chosen]

    @property
    def base_rate(self) -> float:
        """The share of all cases where the condition holds."""
        return self.hits / self.cases


def require_extra() -> None:
    """Stop with :class:`MissingExtra` (how to install it) unless the optional packages are there."""
    _prim_module()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtra(f"scenario discovery needs its optional packages: {INSTALL_HINT}") from None


def _prim_module() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise MissingExtra(f"scenario discovery needs its optional packages: {INSTALL_HINT}") from None
    return prim


def check_cases(inputs: pd.DataFrame, hit: np.ndarray) -> pd.DataFrame:
    """The inputs that vary, as floats; :class:`DiscoveryError` when there is nothing to explain."""
    hit = np.asarray(hit, dtype=bool)
    if len(hit) != len(inputs):
        raise ValueError(f"{len(hit)} outcomes for {len(inputs)} cases")
    n, k = len(hit), int(hit.sum())
    if k == 0 or k == n:
        where, advice = ("none", "loosen it") if k == 0 else ("every one", "tighten it")
        raise DiscoveryError(
            f"the condition holds in {where} of the {n:,} cases, so no range of the inputs can set them "
            f"apart; {advice}"
        )
    varying = [c for c in inputs.columns if np.nanmax(inputs[c]) > np.nanmin(inputs[c])]
    if not varying:
        raise DiscoveryError(
            "no input varies from case to case (the scenario gives no parameter as a distribution, "
            "or the sweep has one point); nothing can explain the outcome"
        )
    return inputs[varying].astype(float).reset_index(drop=True)


def discover(
    inputs: pd.DataFrame,
    hit: np.ndarray,
    *,
    density: float | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    cart: bool = True,
) -> Discovery:
    """Find the box of ``inputs`` (one column per parameter) where ``hit`` is frequent.

    ``density``: the density target that chooses the box (see the module's
    text); ``peel_alpha``: the share of cases peeled at each step;
    ``mass_min``: the smallest box, as a share of all cases; ``cart``: also fit
    the CART cross-check.
    """
    x = check_cases(inputs, hit)
    y = np.asarray(hit, dtype=int)
    box = _find_box(x, y, peel_alpha, mass_min)
    trajectory = _trajectory(box)
    limits = [lims.copy() for lims in box.box_lims]
    chosen = choose_box(trajectory, density)
    restrictions = _restrictions(box, chosen, x)
    tree = tuple(leaves(x, y.astype(bool), mass_min)) if cart else ()
    leaf = best_leaf(list(tree), density)
    return Discovery(len(y), int(y.sum()), trajectory, chosen, restrictions, limits, leaf, density, tree)


def _find_box(x: pd.DataFrame, y: np.ndarray, peel_alpha: float, mass_min: float) -> Any:
    """One PRIM box with its peeling and pasting trajectory (EMA Workbench 2.5 or 3)."""
    prim = _prim_module()
    options: dict[str, Any] = {"peel_alpha": peel_alpha, "mass_min": mass_min}
    algorithm = prim.Prim
    if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
        algorithm = _binary_prim(prim.Prim)
        options["threshold"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return algorithm(x, y, **options).find_box()


def _binary_prim(base: type) -> type:
    """EMA Workbench 2.x's Prim, counting the cases where the condition holds (y = 1) as the cases
    of interest and keeping the box whatever its density. 2.x counts cases at or above its
    ``threshold`` and swaps a box less dense than the threshold for the whole space, which loses
    the trajectory; 3.x does neither and is used as it is."""

    class BinaryPrim(base):
        def determine_coi(self, indices: np.ndarray) -> int:
            return int(np.count_nonzero(self.y[indices] == 1))

    return BinaryPrim


def _trajectory(box: Any) -> pd.DataFrame:
    t = box.peeling_trajectory
    return pd.DataFrame(
        {
            "box": np.arange(len(t), dtype=np.int64),
            "coverage": t["coverage"].to_numpy(dtype=float),
            "density": t["density"].to_numpy(dtype=float),
            "mass": t["mass"].to_numpy(dtype=float),
            "restricted": t["res_dim"].to_numpy(dtype=np.int64),
        }
    )


def choose_box(trajectory: pd.DataFrame, density: float | None = None) -> int:
    """The index of the chosen box (see the module's text); boxes that restrict nothing are skipped."""
    rows = trajectory[trajectory["restricted"] > 0]
    if rows.empty:
        return 0
    cov, den = rows["coverage"].to_numpy(), rows["density"].to_numpy()
    if density is not None and (den >= density).any():
        score = np.where(den >= density, cov + 1e-9 * den, -np.inf)
    elif density is not None:
        score = den
    else:
        score = 2 * cov * den / np.maximum(cov + den, 1e-300)
    return int(rows.index[int(np.argmax(score))])


def _restrictions(box: Any, i: int, x: pd.DataFrame) -> pd.DataFrame:
    """The chosen box's restricted parameters with their limits and quasi-p-values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, table = box.inspect(i, style="data")[0]
    lims, first = box.box_lims[i], box.box_lims[0]
    rows = []
    for name in table.index:
        low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        qp = table.loc[name].to_numpy(dtype=float)[2:4]
        free_low, free_high = low <= float(first[name].iloc[0]), high >= float(first[name].iloc[1])
        rows.append(
            {
                "parameter": str(name),
                "low": low,
                "high": high,
                "data_low": float(x[name].min()),
                "data_high": float(x[name].max()),
                "restricts_low": not free_low,
                "restricts_high": not free_high,
                "qp_low": np.nan if free_low else qp[0],
                "qp_high": np.nan if free_high else qp[1],
            }
        )
    out = pd.DataFrame(
        rows,
        columns=["parameter", "low", "high", "data_low", "data_high", "restricts_low", "restricts_high"]
        + ["qp_low", "qp_high"],
    )
    out["significant"] = np.fmin(out["qp_low"], out["qp_high"]) < SIGNIFICANT
    return out
