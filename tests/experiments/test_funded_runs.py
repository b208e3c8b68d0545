"""Who is funded through the run pipeline: the same files on one process and on two, in any chunks,
and the tables across runs computed by hand from a few made-up runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engines.funded import grant_bin_columns
from sim.experiments.adaptive import Precision, run_to_precision
from sim.experiments.pipeline import Execution
from sim.experiments.runner import run_scenario
from sim.outputs import funded
from sim.outputs.manifest import read_manifest
from sim.outputs.report import save_run
from sim.spec.loader import LoadedScenario

FILES = ("funded.parquet", "grants.parquet", "who_is_funded.csv", "grant_distribution.csv")


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / name) if name.endswith(".parquet") else pd.read_csv(folder / name)


def test_one_process_and_two_write_identical_who_is_funded_files(
    small: LoadedScenario, tmp_path: Path
) -> None:
    one = save_run(run_scenario(small, 700, 3, engine="batch", workers=1, chunk_size=256), tmp_path / "one")
    two = save_run(run_scenario(small, 700, 3, engine="batch", workers=2, chunk_size=512), tmp_path / "two")
    for name in FILES:
        pd.testing.assert_frame_equal(_read(one, name), _read(two, name), check_exact=True)
    bands = _read(one, "funded.parquet")
    assert len(bands) == 700 * 7  # three bands of Manufacturing+ and of NIFS, one of the I&T Accelerator
    assert (np.diff(bands["replication"].to_numpy()) >= 0).all()
    # read a column at a time from the file, or from the table in memory: the same numbers
    pd.testing.assert_frame_equal(funded.who_is_funded(one / "funded.parquet"), funded.who_is_funded(bands))
    grants = _read(one, "grants.parquet")
    pd.testing.assert_frame_equal(
        funded.grant_distribution(one / "grants.parquet"), funded.grant_distribution(grants)
    )
    files = read_manifest(one).files
    assert set(FILES) | {"who_is_funded.png"} <= set(files)


def test_a_precision_run_records_who_is_funded_for_the_replications_it_ran(small: LoadedScenario) -> None:
    rule = Precision(target=0.2, metrics=("awarded",), initial=8, max_replications=200)
    result = run_to_precision(small, 9, rule, "batch", execution=Execution(workers=1))
    assert result.spool is not None
    path = result.spool.funded_path("grants")
    assert path is not None
    grants = pd.read_parquet(path)
    assert sorted(set(grants["replication"])) == list(range(result.replications))


def _bands(awards: list[list[int]]) -> pd.DataFrame:
    """Made-up runs of one scheme with bands a and b: applications twice the awards, HK$100 each."""
    rows = [
        (r, "s", "seg", band, 2 * n, n, 100.0 * n)
        for r, run in enumerate(awards)
        for band, n in zip("ab", run, strict=True)
    ]
    return pd.DataFrame(
        rows, columns=["replication", "scheme", "segment", "band", "applications", "awards", "committed_hkd"]
    )


def test_who_is_funded_by_hand() -> None:
    # three runs: awards (a, b) = (3, 1), (1, 1), (0, 0); band a's share 0.75, 0.5, undefined
    table = funded.who_is_funded(_bands([[3, 1], [1, 1], [0, 0]]))
    a = table[table["band"] == "a"].iloc[0]
    assert a["runs"] == 3
    assert a["awards_mean"] == pytest.approx(4 / 3)
    assert a["applications_mean"] == pytest.approx(8 / 3)
    assert a["committed_hkd_mean"] == pytest.approx(400 / 3)
    assert a["award_share_mean"] == pytest.approx(0.625)  # runs with awards only
    assert a["award_share_p05"] == pytest.approx(0.5 + 0.05 * 0.25)  # linear between 0.5 and 0.75
    assert a["awards_p95"] == pytest.approx(1 + 0.9 * 2)


def test_grant_distribution_by_hand() -> None:
    # two runs: 4 awards (bins 50-60% x1, 90-100% x3, of which 2 at the cap) and 1 award (at the cap)
    columns = grant_bin_columns()
    counts = np.zeros((2, len(columns)), dtype=int)
    counts[0, 5], counts[0, 9], counts[1, 9] = 1, 3, 1
    grants = pd.DataFrame(counts, columns=columns)
    grants.insert(0, "replication", [0, 1])
    grants.insert(1, "scheme", "s")
    grants.insert(2, "cap_hkd", [100.0, 200.0])
    grants.insert(3, "awards", [4, 1])
    grants.insert(4, "awards_at_cap", [2, 1])
    table = funded.grant_distribution(grants).set_index("bin")
    assert len(table) == 11
    assert table.loc["90-100% of the cap", "share_pooled"] == pytest.approx(4 / 5)
    assert table.loc["90-100% of the cap", "share_mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert table.loc[funded.AT_CAP, "share_pooled"] == pytest.approx(3 / 5)
    assert table.loc[funded.AT_CAP, "share_mean"] == pytest.approx(0.75)
    assert table.loc[funded.AT_CAP, "share_p95"] == pytest.approx(0.5 + 0.95 * 0.5)
    assert table.loc["50-60% of the cap", "low_share_of_cap"] == 0.5
    assert table["cap_hkd_mean"].eq(150.0).all()
    words = funded.at_cap_words(table.reset_index(), "s")
    assert words == "at the cap: 60% of awards (5-95% of runs: 52-98%)"


def test_a_scheme_that_funds_no_one_says_so() -> None:
    columns = grant_bin_columns()
    grants = pd.DataFrame(0, index=range(3), columns=["awards", "awards_at_cap", *columns])
    grants.insert(0, "replication", range(3))
    grants.insert(1, "scheme", "s")
    grants.insert(2, "cap_hkd", 100.0)
    table = funded.grant_distribution(grants)
    assert table["runs"].eq(0).all()
    assert table["share_pooled"].isna().all()
    assert funded.at_cap_words(table, "s") == "no awards in any run"
