"""The results workbook of a run (``results.xlsx``) and the CSV twins of its sheets.

A reader opens one file and finds the headline, what each headline statistic
means, the monthly cumulative series, money by financial year, the
assumptions with their sources and the provenance, and who is funded (by size
band, and grants against the cap; :mod:`sim.outputs.funded`). Sheets hold numbers
rounded for reading, with units in the headers; the tables scripts read keep
full precision in CSV (``headline.csv``, ``money_by_year.csv``, and the
``definitions``, ``monthly``, ``assumptions`` and ``provenance`` CSVs written
here). Each ``*_sheet`` function turns a script table into its sheet, so a
test can check that a sheet holds the CSV's numbers after the same rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs import funded, labels, tables
from sim.outputs.folders import sourced_defaults
from sim.outputs.store import write_csv
from sim.outputs.timeline import policy_changes

__all__ = [
    "WORKBOOK",
    "SHEET_CSV",
    "RunTables",
    "run_tables",
    "headline_sheet",
    "money_sheet",
    "monthly_sheet",
    "definitions_table",
    "assumptions_table",
    "provenance_table",
    "sheets",
    "write_workbook",
    "write_run_workbook",
]

#: The workbook's file name in a result folder.
WORKBOOK = "results.xlsx"

#: The CSV files written beside the workbook for the sheets that have no CSV of their own.
SHEET_CSV: dict[str, str] = {
    "Definitions": "definitions.csv",
    "Monthly": "monthly.csv",
    "Assumptions": "assumptions.csv",
    "Provenance": "provenance.csv",
}

#: HK$ in sheets: millions, three decimals (HK$1,000).
MILLION = 1e6

#: Words and units of the monthly series' headers.
_MONTHLY_WORDS: dict[str, str] = {
    "applications": "Applications",
    "awards": "Awards (firms; operators of an intermediary scheme)",
    "committed_hkd": "Money committed (HK$M)",
    "paid_hkd": "Money paid (HK$M)",
}


@dataclass(frozen=True)
class RunTables:
    """The script tables of a run the workbook shows (full precision, machine column names)."""

    headline: pd.DataFrame
    money_by_year: pd.DataFrame
    monthly: pd.DataFrame
    definitions: pd.DataFrame
    assumptions: pd.DataFrame
    provenance: pd.DataFrame
    who_is_funded: pd.DataFrame | None = None  # who_is_funded.csv (runs that recorded it)
    grant_distribution: pd.DataFrame | None = None  # grant_distribution.csv


def run_tables(
    head: pd.DataFrame, money: pd.DataFrame, timeseries: pd.DataFrame, meta: Mapping[str, Any]
) -> RunTables:
    """Gather a run's tables: the headline, money by year and weekly quantiles it already has, and
    the definitions, monthly series, assumptions and provenance derived from them and the manifest."""
    return RunTables(
        headline=head,
        money_by_year=money,
        monthly=tables.monthly_series(timeseries),
        definitions=definitions_table(),
        assumptions=assumptions_table(meta),
        provenance=provenance_table(meta),
    )


def definitions_table() -> pd.DataFrame:
    """Label and definition of each headline statistic (a direct scheme's, then an intermediary
    scheme's own), then of the names figures give the
    statistics they show in place of a headline one (the README's table)."""
    keys = tuple(dict.fromkeys(row.key for row in tables.HEADLINE + tables.INTERMEDIARY_HEADLINE))
    return pd.DataFrame(labels.definitions(keys, shown_as=True), columns=["label", "definition"])


def assumptions_table(meta: Mapping[str, Any]) -> pd.DataFrame:
    """Each default of the run's scenario files with its value as written and its source comment,
    then each dated policy change (its date and what it changes)."""
    texts = meta.get("scenario_texts")
    found = sourced_defaults(list(texts.values())) if isinstance(texts, dict) else {}
    rows = [(a.path, a.value, a.source) for a in found.values()]
    rows += [  # the dated policy changes (R-CHANGE), one row each
        (f"schemes.{scheme}.changes.{k}", f"{when:%Y-%m-%d}: {text}", "scenario")
        for scheme, marks in policy_changes(meta).items()
        for k, (when, text) in enumerate(marks)
    ]
    return pd.DataFrame(rows, columns=["path", "value", "source"])


def provenance_table(meta: Mapping[str, Any]) -> pd.DataFrame:
    """What was run, how and when: one (field, value) row each, package versions last."""
    fields = ("scenario", "scenario_path", "scenario_hash", "seed", "replications", "engine") + (
        "start_date",
        "horizon_weeks",
        "follow_up_weeks",
        "date",
        "created",
    )
    rows = [(name, str(meta.get(name, ""))) for name in fields]
    versions = meta.get("versions") or {}
    rows += [(f"version of {name}", str(version)) for name, version in versions.items()]
    return pd.DataFrame(rows, columns=["field", "value"])


def _round_for_unit(value: float, unit: str) -> float:
    """A headline value rounded for reading: HK$ to the dollar, shares to 0.1%, ratios to 0.01,
    counts and weeks to 0.1."""
    if unit.startswith("HK$") and "per HK$" not in unit:
        return round(float(value), 0)
    if unit.startswith("share"):
        return round(float(value), 3)
    return round(float(value), 2 if "per" in unit else 1)


def _scheme_words(frame: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.Series:
    return frame["scheme"].map(lambda s: scheme_labels.get(s) or s)


def headline_sheet(head: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.DataFrame:
    """The headline table for reading: scheme and statistic in words, unit, rounded values."""
    units = head["key"].map(lambda k: labels.STATISTICS[k].unit)
    out = pd.DataFrame(
        {"Scheme": _scheme_words(head, scheme_labels), "Statistic": head["label"], "Unit": units}
    )
    for column, header in (("value", "Value"), ("p05", "Low"), ("p95", "High")):
        out[header] = [_round_for_unit(v, u) for v, u in zip(head[column], units, strict=True)]
    # a quantity's range over runs or a share's confidence interval, said row by row
    out["Low to high"] = head["statistic"].map(labels.interval_words)
    out["Runs counted"] = head["n"].astype(int)
    return out


def _iso_dates(values: pd.Series) -> pd.Series:
    """Dates as 'YYYY-MM-DD' text (the same from a table in memory and from its CSV)."""
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


def money_sheet(money: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.DataFrame:
    """Money by financial year for reading: HK$ millions to HK$1,000."""
    out = pd.DataFrame(
        {"Scheme": _scheme_words(money, scheme_labels), "Financial year": money["financial_year"]}
    )
    out["First week ending"] = _iso_dates(money["first_week_end"])
    out["Last week ending"] = _iso_dates(money["last_week_end"])
    for series, words in (("committed_hkd", "committed"), ("paid_hkd", "paid")):
        for stat, name in (("mean", "mean"), ("p05", "5% of runs"), ("p95", "95% of runs")):
            out[f"Money {words} (HK$M), {name}"] = (money[f"{series}_{stat}"] / MILLION).round(3)
    out["Runs"] = money["runs"].astype(int)
    return out


def monthly_sheet(monthly: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.DataFrame:
    """Monthly cumulative series for reading: one row per scheme and month end, columns per series."""
    frames = []
    for series, words in _MONTHLY_WORDS.items():
        part = monthly[monthly["series"] == series].set_index(["scheme", "month_end"])
        scale, digits = (MILLION, 3) if series.endswith("_hkd") else (1.0, 1)
        stats = part[["mean", "q05", "q50", "q95"]] / scale
        stats.columns = [f"{words}, {name}" for name in ("mean", "5%", "median", "95%")]
        frames.append(stats.round(digits))
    wide = pd.concat(frames, axis=1).reset_index()
    out = wide.drop(columns=["scheme", "month_end"])
    out.insert(0, "Month end", _iso_dates(wide["month_end"]))
    out.insert(0, "Scheme", _scheme_words(wide, scheme_labels))
    return out


def sheets(run: RunTables, scheme_labels: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """The workbook's sheets, in order, by name."""
    book = {
        "Headline": headline_sheet(run.headline, scheme_labels),
        "Definitions": run.definitions.rename(columns={"label": "Label", "definition": "Definition"}),
        "Monthly": monthly_sheet(run.monthly, scheme_labels),
        "Money by year": money_sheet(run.money_by_year, scheme_labels),
        "Assumptions": run.assumptions.rename(
            columns={"path": "Setting", "value": "Value", "source": "Source"}
        ),
        "Provenance": run.provenance.rename(columns={"field": "Field", "value": "Value"}),
    }
    if run.who_is_funded is not None:
        book["Who is funded"] = funded.who_is_funded_sheet(run.who_is_funded, scheme_labels)
    if run.grant_distribution is not None:
        book["Grant distribution"] = funded.grant_distribution_sheet(run.grant_distribution, scheme_labels)
    return book


def _fit_columns(sheet: Any, frame: pd.DataFrame) -> None:
    """Widen each column to its header or longest value (at most 80 characters)."""
    for i, column in enumerate(frame.columns, start=1):
        longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
        sheet.column_dimensions[_column_letter(i)].width = min(80, longest + 2)
    sheet.freeze_panes = "A2"


def _column_letter(number: int) -> str:
    """Spreadsheet column name of 1-based column ``number``: 1 -> 'A', 27 -> 'AA'."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def write_workbook(path: Path, book: Mapping[str, pd.DataFrame]) -> None:
    """Write ``book`` (sheet name -> table) as an .xlsx file with openpyxl, headers frozen."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in book.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            _fit_columns(writer.sheets[name], frame)


def write_run_workbook(folder: Path, run: RunTables, scheme_labels: Mapping[str, str]) -> list[str]:
    """Write ``results.xlsx`` and the CSVs of its sheets that have none yet; return the file names."""
    write_workbook(folder / WORKBOOK, sheets(run, scheme_labels))
    scripts = {
        "Definitions": run.definitions,
        "Monthly": run.monthly,
        "Assumptions": run.assumptions,
        "Provenance": run.provenance,
    }
    for sheet, frame in scripts.items():
        write_csv(folder / SHEET_CSV[sheet], frame)
    return [WORKBOOK, *SHEET_CSV.values()]
