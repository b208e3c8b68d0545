"""The results workbook of a run: opens with pandas, every sheet non-empty, numbers equal to the CSVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.outputs import funded, workbook
from sim.outputs.folders import read_folder
from sim.outputs.manifest import read_manifest

SHEETS = [
    "Headline",
    "Definitions",
    "Monthly",
    "Money by year",
    "Assumptions",
    "Provenance",
    "Who is funded",
    "Grant distribution",
]


@pytest.fixture(scope="module")
def book(folders: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return pd.read_excel(folders["run"] / workbook.WORKBOOK, sheet_name=None)


def test_the_workbook_opens_with_pandas_and_every_sheet_has_rows(book: dict[str, pd.DataFrame]) -> None:
    assert list(book) == SHEETS
    for name, sheet in book.items():
        assert len(sheet) > 0, name
        assert len(sheet.columns) > 1, name


def test_the_workbook_and_its_csvs_are_listed_in_the_manifest(folders: dict[str, Path]) -> None:
    files = read_manifest(folders["run"]).files
    for name in (
        workbook.WORKBOOK,
        *workbook.SHEET_CSV.values(),
        "who_is_funded.csv",
        "grant_distribution.csv",
    ):
        assert name in files
        assert (folders["run"] / name).exists()


def test_the_number_sheets_equal_the_csv_tables_after_the_same_rounding(
    folders: dict[str, Path], book: dict[str, pd.DataFrame]
) -> None:
    folder = folders["run"]
    labels = read_folder(folder).labels
    expected = {
        "Headline": workbook.headline_sheet(pd.read_csv(folder / "headline.csv"), labels),
        "Money by year": workbook.money_sheet(pd.read_csv(folder / "money_by_year.csv"), labels),
        "Monthly": workbook.monthly_sheet(pd.read_csv(folder / "monthly.csv"), labels),
        "Who is funded": funded.who_is_funded_sheet(pd.read_csv(folder / "who_is_funded.csv"), labels),
        "Grant distribution": funded.grant_distribution_sheet(
            pd.read_csv(folder / "grant_distribution.csv"), labels
        ),
    }
    for name, frame in expected.items():
        assert_frame_equal(book[name], frame, check_dtype=False, obj=name)


def test_the_money_headers_carry_their_unit(book: dict[str, pd.DataFrame]) -> None:
    assert "Money committed (HK$M), mean" in book["Money by year"].columns
    assert "Last week ending" in book["Money by year"].columns
    assert "Money paid (HK$M), 95%" in book["Monthly"].columns
    assert set(book["Headline"]["Unit"]) >= {"HK$", "share of runs"}


def test_the_text_sheets_equal_their_csvs(folders: dict[str, Path], book: dict[str, pd.DataFrame]) -> None:
    folder = folders["run"]
    for sheet, csv in workbook.SHEET_CSV.items():
        if sheet == "Monthly":
            continue
        table = pd.read_csv(folder / csv, dtype=str, keep_default_na=False)
        shown = book[sheet].fillna("").astype(str)
        assert shown.shape == table.shape, sheet
        assert (shown.to_numpy() == table.to_numpy()).all(), sheet


def test_the_assumptions_keep_their_sources(book: dict[str, pd.DataFrame]) -> None:
    sourced = book["Assumptions"].dropna(subset=["Source"])
    assert len(sourced) > 0
    assert "start_date" in set(book["Assumptions"]["Setting"])


def test_provenance_names_the_seed_and_engine(book: dict[str, pd.DataFrame]) -> None:
    fields = dict(zip(book["Provenance"]["Field"], book["Provenance"]["Value"].astype(str), strict=True))
    assert fields["seed"] == "7"
    assert fields["engine"] == "batch"
    assert fields["replications"] == "16"


def test_the_who_is_funded_sheets_show_every_band_and_bin_with_units(book: dict[str, pd.DataFrame]) -> None:
    who, grants = book["Who is funded"], book["Grant distribution"]
    assert set(who["Size band"]) == {"micro", "small", "medium", "all"}
    assert "Money committed (HK$M), mean" in who.columns
    assert "Share of the scheme's awards, 95% of runs" in who.columns
    # the bins and the awards at the cap, per scheme: the bins' pooled shares add up to one
    assert (grants.groupby("Scheme")["Grant (share of the cap)"].count() == 11).all()
    bins = grants[grants["Grant (share of the cap)"] != funded.AT_CAP]
    assert np.allclose(bins.groupby("Scheme")["Share of awards, all runs pooled"].sum(), 1.0, atol=6e-3)
