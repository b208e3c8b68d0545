"""The nowcast (``sim.experiments.nowcast``): weighted whole replications given the observed history.

- an observation every replication makes certain (at least 0 applications) leaves the weights
  exactly equal, so the forecast as at the date is the prior forecast;
- observations taken from one replication's own history (a replication outside the weighted
  set) move the forecast towards that replication's outcomes;
- a variant identical to the base differs from it by exactly 0 on every row (common random
  numbers, the base's weights); a variant with a top-up after the as-at date shares the base's
  history; one that changes vetting from the start is refused;
- one seed gives identical files on 1 and on 2 workers.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.nowcast import (
    NowcastTask,
    VariantChangesHistory,
    as_at_of,
    nowcast,
    quarter_ends,
)
from sim.experiments.observed import ObservationModel, series_index
from sim.experiments.pipeline import Execution
from sim.experiments.replicate import replicate
from sim.outputs.nowcast_folder import save_nowcast
from sim.outputs.nowcast_tables import headline_table
from sim.spec.loader import LoadedScenario, load_scenario
from sim.spec.observations import Observation, ObservedData
from tests.conftest import DATA

SMALL = DATA / "small.toml"
SEED = 7
SCHEME = "manufacturing_plus"


@pytest.fixture(scope="module")
def small() -> LoadedScenario:
    return load_scenario(SMALL)


def _observation(start: date, week: int, quantity: str, value: float, bound: str = "exact") -> Observation:
    return Observation(0, SCHEME, start + timedelta(weeks=week), week, quantity, value, bound)


def _task(loaded: LoadedScenario, observed: ObservedData, *variants: LoadedScenario) -> NowcastTask:
    as_at = as_at_of(observed, loaded.scenario)
    return NowcastTask(
        loaded.scenario, tuple(v.scenario for v in variants), observed, ObservationModel(), as_at
    )


def _variant(tmp_path: Path, name: str, body: str) -> LoadedScenario:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'extends = "{SMALL}"\n{body}')
    return load_scenario(path)


def test_quarter_ends_run_from_the_as_at_date_to_the_scheme_end() -> None:
    assert quarter_ends(date(2026, 10, 31), date(2027, 11, 16)) == [
        date(2026, 12, 31),
        date(2027, 3, 31),
        date(2027, 6, 30),
        date(2027, 9, 30),
        date(2027, 11, 16),
    ]
    assert quarter_ends(date(2026, 12, 31), date(2027, 2, 1)) == [date(2027, 2, 1)]
    assert quarter_ends(date(2028, 1, 5), date(2027, 11, 16)) == [date(2027, 11, 16)]


def test_an_uninformative_observation_gives_the_prior_forecast(small: LoadedScenario) -> None:
    start = small.scenario.start_date
    observed = ObservedData("none.csv", (_observation(start, 20, "applications_received", 0, "at_least"),))
    result = nowcast(_task(small, observed), ("small",), 300, SEED, "batch", Execution(workers=1))
    assert np.all(result.weights == result.weights[0])  # every likelihood is exactly 1
    assert result.ess == pytest.approx(300)
    head = headline_table(result)
    np.testing.assert_allclose(head["as_at"], head["prior"], rtol=1e-12, atol=1e-12)
    awards = result.outcome(0, SCHEME, "awarded")
    row = head[(head["scheme"] == SCHEME) & (head["key"] == "awarded")].iloc[0]
    assert row["as_at_se"] == pytest.approx(awards.std() / np.sqrt(300), rel=1e-9)  # equal weights
    assert result.as_at == start + timedelta(weeks=20)


def _history_of(loaded: LoadedScenario, rep: int, weeks: range) -> tuple[ObservedData, dict[str, float]]:
    """Exact applications and awards of replication ``rep`` at ``weeks``, and its outcomes."""
    one = replicate(loaded.scenario, SEED, [rep])
    series = one.weekly[SCHEME][0]
    start = loaded.scenario.start_date
    obs = []
    for week in weeks:
        for quantity in ("applications_received", "awarded"):
            obs.append(_observation(start, week, quantity, float(series[series_index(quantity), week])))
    row = one.table[(one.table["scheme"] == SCHEME) & (one.table["segment"] == "all")].iloc[0]
    return ObservedData("own.csv", tuple(obs)), {k: float(row[k]) for k in ("applications", "awarded")}


def test_a_replications_own_history_moves_the_forecast_towards_its_outcomes(small: LoadedScenario) -> None:
    # replication 5_000 lies outside the 600 weighted ones (0..599): it is a "real" history the
    # nowcast never saw; chosen among 5_000..5_019 as the one whose applications lie farthest
    # from the prior mean, so that "towards" is a clear direction (fixed seed: deterministic)
    prior = replicate(small.scenario, SEED, np.arange(600)).table
    prior_mean = prior[(prior["scheme"] == SCHEME) & (prior["segment"] == "all")]["applications"].mean()
    candidates = replicate(small.scenario, SEED, np.arange(5_000, 5_020)).table
    mine = candidates[(candidates["scheme"] == SCHEME) & (candidates["segment"] == "all")]
    rep = int(mine.loc[(mine["applications"] - prior_mean).abs().idxmax(), "replication"])
    observed, target = _history_of(small, rep, range(8, 53, 8))
    result = nowcast(_task(small, observed), ("small",), 600, SEED, "batch", Execution(workers=1))
    head = headline_table(result)
    for key in ("applications", "awarded"):
        row = head[(head["scheme"] == SCHEME) & (head["key"] == key)].iloc[0]
        gap_prior, gap_now = abs(row["prior"] - target[key]), abs(row["as_at"] - target[key])
        assert gap_now < 0.5 * gap_prior, (key, row["prior"], row["as_at"], target[key])


def test_a_variant_identical_to_the_base_changes_nothing(small: LoadedScenario, tmp_path: Path) -> None:
    start = small.scenario.start_date
    observed = ObservedData("one.csv", (_observation(start, 26, "applications_received", 15, "approx"),))
    same = _variant(tmp_path, "same", "")
    result = nowcast(
        _task(small, observed, same), ("small", "same"), 300, SEED, "batch", Execution(workers=1)
    )
    head = headline_table(result)
    variant = head[head["scenario"] == "same"]
    assert len(variant) == len(head) / 2
    assert (variant["change_as_at"] == 0).all()
    assert (variant["change_prior"] == 0).all()
    base = head[head["scenario"] == "small"]
    assert list(variant["as_at"]) == list(base["as_at"])


def test_a_top_up_or_an_early_close_after_the_as_at_date_shares_the_history(
    small: LoadedScenario, tmp_path: Path
) -> None:
    start = small.scenario.start_date
    observed = ObservedData("one.csv", (_observation(start, 26, "awarded", 10, "approx"),))
    top_up = _variant(
        tmp_path, "topup", "[schemes.manufacturing_plus]\nchanges = [{ week = 40, places = 20 }]\n"
    )
    close = _variant(
        tmp_path, "close", "[schemes.manufacturing_plus]\nchanges = [{ week = 40, closes = true }]\n"
    )
    names = ("small", "topup", "close")
    result = nowcast(_task(small, observed, top_up, close), names, 200, SEED, "batch", Execution(workers=1))
    head = headline_table(result).set_index(["scenario", "scheme", "key", "date"])
    awards = (SCHEME, "awarded", "")
    # more places never fund fewer files; closing early funds fewer (those arriving later are
    # turned away, still counted among the applications received)
    assert head.loc[("topup", *awards), "change_prior"] >= 0
    assert head.loc[("close", *awards), "change_prior"] < 0
    assert head.loc[("close", *awards), "change_as_at"] <= 0


def test_a_variant_that_changes_the_history_is_refused(small: LoadedScenario, tmp_path: Path) -> None:
    start = small.scenario.start_date
    observed = ObservedData("one.csv", (_observation(start, 26, "awarded", 10, "approx"),))
    faster = _variant(tmp_path, "faster", "[schemes.manufacturing_plus.vetting]\ncapacity = 12\n")
    with pytest.raises(
        VariantChangesHistory, match=r"faster: the variant changes the scheme before the as-at"
    ):
        nowcast(_task(small, observed, faster), ("small", "faster"), 100, SEED, "batch")


def test_one_seed_gives_identical_files_on_one_and_two_workers(small: LoadedScenario, tmp_path: Path) -> None:
    start = small.scenario.start_date
    observed = ObservedData("one.csv", (_observation(start, 30, "applications_received", 18, "approx"),))
    folders = []
    for workers in (1, 2):
        execution = Execution(workers=workers, chunk_size=100)
        result = nowcast(_task(small, observed), ("small",), 400, SEED, "batch", execution)
        folders.append(save_nowcast([small], observed, result, tmp_path / f"w{workers}"))
    one, two = folders
    assert (one / "headline.csv").read_bytes() == (two / "headline.csv").read_bytes()
    for name in ("bands.parquet", "weights.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(one / name), pd.read_parquet(two / name))
