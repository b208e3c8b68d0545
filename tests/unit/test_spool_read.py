"""A long run's result folder is written from its spool one scheme at a time: reading one scheme's
rows, and the headline and money-by-year tables built scheme by scheme, give what the whole table
gives."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.engines.programme_metrics import has_intermediary
from sim.experiments.runner import run_scenario
from sim.outputs import report, tables
from sim.spec.loader import load_scenario


@pytest.fixture(scope="module")
def run():
    result = run_scenario(load_scenario("tests/data/small.toml"), 1_100, 3, engine="batch", workers=1)
    yield result
    result.spool.remove()


def test_one_schemes_rows_are_those_of_the_whole_table(run) -> None:
    spool = run.spool
    whole = spool.read_table(["replication", "scheme", "segment", "applications"], categories=False)
    for name in spool.schemes:
        mine = spool.read_table(["replication", "segment", "applications"], categories=False, scheme=name)
        expected = whole[whole["scheme"] == name][["replication", "segment", "applications"]]
        pd.testing.assert_frame_equal(mine, expected.reset_index(drop=True))
        assert len(mine) > 0


def test_the_headline_and_money_tables_built_scheme_by_scheme_are_the_whole_tables(run) -> None:
    scenario, spool = run.loaded.scenario, run.spool
    columns = tables.headline_columns(has_intermediary(scenario))
    whole = tables.headline(
        spool.read_table(columns), report.undersubscribed_below(run), scenario.follow_up_weeks > 0
    )
    pd.testing.assert_frame_equal(report.headline(spool, run), whole)
    runs = tables.money_by_year_runs(
        spool.cells_of, spool.schemes, spool.replications, spool.n_weeks, scenario.start_date
    )
    pd.testing.assert_frame_equal(
        report.money_by_year(spool, scenario.start_date), tables.money_by_year(runs)
    )
