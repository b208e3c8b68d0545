"""Value of information, piece by piece: the decision value by hand, the penalised regression
against scikit-learn's Ridge, the decision metric from a hand-made table, and the refusals of an
unknown metric or scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from sim.experiments.evppi import choose_penalty, decision_value, fitted_values, make_design
from sim.experiments.voi import DecisionError, DecisionOptions, check_metric, choose_schemes, metric_values
from sim.spec.loader import LoadedScenario


def test_decision_value_by_hand() -> None:
    # B now (mean 0.5 > 0); knowing g, B where g > 0: mean of [2, 0, 0, 1.5] = 0.875
    assert decision_value(np.array([2.0, -1.0, -0.5, 1.5])) == pytest.approx(0.875 - 0.5)
    assert decision_value(np.array([2.0, 0.0, 0.0, 0.5])) == pytest.approx(0.0)  # never below 0
    assert decision_value(np.array([-3.0, 1.0])) == pytest.approx(0.5)  # A chosen now; B once
    weights = np.array([2.0, 0.0, 1.0, 1.0])  # a resample: row 1 twice, row 2 never
    assert decision_value(np.array([1.0, 9.0, -2.0, -3.0]), weights) == pytest.approx(0.5)


def test_fitted_values_are_sklearn_ridge_on_the_partialled_out_problem() -> None:
    """Free columns unpenalised: the same fit as Ridge on the penalised columns and the response
    once the free ones are projected out (Frisch-Waugh), plus the projection itself."""
    rng = np.random.default_rng(np.random.SeedSequence(3))
    params = rng.normal(size=(400, 2))
    y = np.sin(params[:, 0]) + params[:, 1] * params[:, 0] + rng.normal(0, 0.3, 400)
    design = make_design(params, interactions=True)
    alpha = choose_penalty(design, y)
    ours = fitted_values(design, y, alpha, np.ones(400))
    q, _ = np.linalg.qr(design.free)
    project = lambda x: q @ (q.T @ x)  # noqa: E731
    z, r = design.penalised - project(design.penalised), y - project(y)
    model = Ridge(alpha=alpha, fit_intercept=False).fit(z, r)
    theirs = project(y) + model.predict(z)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


def test_weights_are_repeated_rows() -> None:
    """A bootstrap resample as counts gives the fit of the resampled rows themselves."""
    rng = np.random.default_rng(np.random.SeedSequence(4))
    params = rng.uniform(size=(200, 1))
    y = 3 * params[:, 0] ** 2 + rng.normal(0, 0.1, 200)
    design = make_design(params)
    counts = np.bincount(rng.integers(0, 200, 200), minlength=200).astype(float)
    rows = np.repeat(np.arange(200), counts.astype(int))
    weighted = fitted_values(design, y, 0.5, counts)
    from sim.experiments.evppi import Design

    repeated = Design(design.free[rows], design.penalised[rows])
    direct = fitted_values(repeated, y[rows], 0.5, np.ones(len(rows)))
    np.testing.assert_allclose(weighted[rows], direct, rtol=1e-6, atol=1e-9)


def _table() -> pd.DataFrame:
    rows = []
    for rep in (0, 1, 2):
        rows.append(
            {"replication": rep, "scheme": "mp", "segment": "all", "pv_benefit_hkd_follow_up": 10.0 * rep}
        )
        rows[-1] |= {"public_cost_hkd_follow_up": 4.0, "awarded": rep}
        rows.append(
            {"replication": rep, "scheme": "acc", "segment": "all", "pv_benefit_hkd_follow_up": np.nan}
        )
        rows[-1] |= {"public_cost_hkd_follow_up": 7.0, "awarded": 2}
    rows.append({"replication": 0, "scheme": "mp", "segment": "micro", "pv_benefit_hkd_follow_up": 99.0})
    return pd.DataFrame(rows)


def test_metric_values_sum_whole_scheme_rows() -> None:
    reps = np.array([0, 1, 2])
    np.testing.assert_array_equal(metric_values(_table(), "net_benefit", ["mp"], reps), [-4.0, 6.0, 16.0])
    np.testing.assert_array_equal(metric_values(_table(), "awarded", ["mp", "acc"], reps), [2.0, 3.0, 4.0])
    # a scheme the run does not have adds nothing; a missing value is missing
    np.testing.assert_array_equal(metric_values(_table(), "awarded", ["mp", "nope"], reps), [0.0, 1.0, 2.0])
    assert np.isnan(metric_values(_table(), "net_benefit", ["acc"], reps)).all()


def test_unknown_metric_and_scheme_are_refused(small: LoadedScenario) -> None:
    with pytest.raises(
        DecisionError, match=r"--metric: unknown metric 'net_benefits' \(did you mean 'net_benefit'\?\)"
    ):
        check_metric("net_benefits", small, small)
    with pytest.raises(DecisionError, match=r"--scheme: unknown scheme 'manufacturing' \(did you mean"):
        choose_schemes("net_benefit", ("manufacturing",), small, small)
    # net benefit: only the direct schemes (no benefit is assumed for the accelerator)
    assert choose_schemes("net_benefit", (), small, small) == ("manufacturing_plus", "nifs")
    with pytest.raises(DecisionError, match="does not add up across schemes; name one with --scheme"):
        choose_schemes("wait_median_weeks", (), small, small)
    assert choose_schemes("wait_median_weeks", ("it_accelerator",), small, small) == ("it_accelerator",)


def test_which_way_is_better() -> None:
    assert DecisionOptions().direction() == 1  # net benefit: more is better
    assert DecisionOptions(metric="cost_per_additional_hkd").direction() == -1  # as compare says
    assert DecisionOptions(metric="public_cost_hkd").direction() == 1  # compare says nothing: higher
    assert DecisionOptions(metric="public_cost_hkd", better="lower").direction() == -1
    with pytest.raises(DecisionError, match="--better: must be higher or lower"):
        DecisionOptions(better="less").direction()
