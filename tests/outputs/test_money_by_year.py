"""Money committed and paid per Hong Kong financial year: a made-up spool by hand, and real runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sim.engines.metrics import SERIES
from sim.experiments.replicate import ChunkResult
from sim.experiments.runner import RunSpool, run_scenario
from sim.outputs import tables
from sim.outputs.manifest import read_manifest
from sim.spec.loader import load_scenario
from tests.outputs import builders

#: Four weeks ending 18 and 25 March, 1 and 8 April 2026: the week ending on 1 April opens 2026-27.
START = date(2026, 3, 18)
#: Cumulative money committed and paid in three runs at those four week ends.
COMMITTED = np.array([[0, 10, 30, 60], [0, 20, 20, 20], [5, 40, 50, 90]], dtype=float)
PAID = COMMITTED / 2


def _spool(tmp: Path) -> RunSpool:
    """A real spool of one scheme and three runs holding :data:`COMMITTED` and :data:`PAID`."""
    weekly = np.zeros((3, len(SERIES), 4))
    weekly[:, SERIES.index("committed_hkd")] = COMMITTED
    weekly[:, SERIES.index("paid_hkd")] = PAID
    table = pd.DataFrame(
        {"replication": [0, 1, 2], "scheme": "mp", "segment": "all", "paid_hkd": PAID[:, -1]}
    )
    spool = RunSpool({"mp": []}, 3, 4, folder=tmp)
    spool.write(ChunkResult(reps=np.arange(3), table=table, weekly={"mp": weekly}), 0)
    spool.close()
    return spool


def test_financial_years_start_on_the_first_of_april() -> None:
    assert tables.financial_year(date(2026, 3, 31)) == 2025
    assert tables.financial_year(date(2026, 4, 1)) == 2026
    assert tables.financial_year_label(2025) == "2025-26"
    assert tables.financial_year_label(1999) == "1999-00"


def test_money_by_year_of_a_made_up_spool_of_three_runs_by_hand(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    runs = tables.money_by_year_runs(spool.cells_of, spool.schemes, 3, 4, START)
    assert list(runs["financial_year"]) == ["2025-26", "2026-27"] * 3
    # the year's amount is the cumulative value at its last week minus that at the previous year's last
    assert_allclose(runs["committed_hkd"], [10, 50, 20, 0, 40, 50])
    assert_allclose(runs["paid_hkd"], [5, 25, 10, 0, 20, 25])
    money = tables.money_by_year(runs)
    assert list(money.columns) == [
        "scheme",
        "financial_year",
        "first_week_end",
        "last_week_end",
        "runs",
        "committed_hkd_mean",
        "committed_hkd_p05",
        "committed_hkd_p95",
        "paid_hkd_mean",
        "paid_hkd_p05",
        "paid_hkd_p95",
    ]
    assert list(money["first_week_end"]) == [date(2026, 3, 18), date(2026, 4, 1)]
    assert list(money["last_week_end"]) == [date(2026, 3, 25), date(2026, 4, 8)]
    first = money.iloc[0]
    # 10, 20, 40: mean 70/3; 5% at 10 + 0.1 * 10; 95% at 20 + 0.9 * 20 (linear interpolation)
    assert_allclose(
        [first["committed_hkd_mean"], first["committed_hkd_p05"], first["committed_hkd_p95"]],
        [70 / 3, 11, 38],
    )
    assert first["runs"] == 3
    spool.remove()


def test_each_runs_financial_years_add_up_to_its_money_at_the_end_of_the_follow_up() -> None:
    result = run_scenario(load_scenario(builders.SMALL), 6, builders.SEED, workers=1)
    spool, start = result.spool, result.loaded.scenario.start_date
    assert spool is not None
    runs = tables.money_by_year_runs(spool.cells_of, spool.schemes, spool.replications, spool.n_weeks, start)
    assert runs["financial_year"].nunique() >= 2  # the horizon spans several years, or the test proves little
    totals = runs.groupby(["scheme", "replication"])[["committed_hkd", "paid_hkd"]].sum()
    # the series run to the end of the follow-up: money paid then, money committed by the horizon
    columns = {"committed_hkd": "committed_hkd", "paid_hkd": "paid_hkd_follow_up"}
    table = spool.read_table(["replication", "scheme", "segment", *columns.values()], categories=False)
    table = table[table["segment"] == "all"].set_index(["scheme", "replication"])
    for money in tables.MONEY_SERIES:
        assert_allclose(totals[money], table.loc[totals.index, columns[money]], rtol=1e-12)
    assert (runs[list(tables.MONEY_SERIES)] >= -1e-6).all().all()  # cumulative series never fall
    spool.remove()


def test_a_run_folder_holds_money_by_year_whose_means_add_up_to_the_means_of_the_whole_run(
    folders: dict[str, Path],
) -> None:
    folder = folders["run"]
    money = pd.read_csv(folder / "money_by_year.csv")
    reps = pd.read_parquet(folder / "replications.parquet")
    whole = reps[reps["segment"] == "all"].groupby("scheme")[["committed_hkd", "paid_hkd_follow_up"]].mean()
    by_year = money.groupby("scheme")[["committed_hkd_mean", "paid_hkd_mean"]].sum()
    assert_allclose(by_year.loc[whole.index].to_numpy(), whole.to_numpy(), rtol=1e-9)
    assert "money_by_year.csv" in read_manifest(folder).files


@pytest.mark.parametrize("partial", [False, True])
def test_the_money_by_year_chart_has_one_panel_per_scheme(partial: bool) -> None:
    from sim.outputs import plots

    money = pd.DataFrame(
        {
            "scheme": ["a", "a", "b", "b"],
            "financial_year": ["2025-26", "2026-27"] * 2,
            "runs": 3,
            **{f"{s}_{q}": [1e6, 2e6, 3e6, 4e6] for s in tables.MONEY_SERIES for q in ("mean", "p05", "p95")},
        }
    )
    fig = plots.money_by_year_chart(money.iloc[:2] if partial else money, {"a": "A", "b": "B"}, {"seed": 1})
    assert len(fig.axes) == (1 if partial else 2)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2025-26", "2026-27"]


def test_a_year_the_run_covers_in_part_says_which_part_on_the_chart() -> None:
    from sim.outputs import plots

    money = pd.DataFrame(
        {
            "scheme": "a",
            "financial_year": ["2025-26", "2026-27", "2027-28"],
            "first_week_end": ["2025-11-18", "2026-04-07", "2027-04-06"],
            "last_week_end": ["2026-03-31", "2027-03-30", "2027-11-16"],
            "runs": 3,
            **{f"{s}_{q}": [1e6, 2e6, 3e6] for s in tables.MONEY_SERIES for q in ("mean", "p05", "p95")},
        }
    )
    fig = plots.money_by_year_chart(money, {"a": "A"}, {"seed": 1})
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2025-26\n(from 18 Nov 2025)", "2026-27", "2027-28\n(to 16 Nov 2027)"]
