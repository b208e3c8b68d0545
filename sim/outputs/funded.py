"""Who is funded, across runs: ``who_is_funded.csv`` and ``grant_distribution.csv`` and their sheets.

They summarise the per-replication tables of :mod:`sim.engines.funded`
(``funded.parquet``: applications, awards and HK$ committed by size band;
``grants.parquet``: awarded grants against the cap), all counted by the
scheme horizon. The CSVs keep full precision and machine column names for
scripts; the ``*_sheet`` functions give the workbook's rounded sheets with
units in the headers, so a test can check that a sheet holds the CSV's numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.engines.funded import BAND_VALUES, grant_bin_columns, grant_bin_edges
from sim.outputs.numbers import format_share, format_share_range

__all__ = [
    "AT_CAP",
    "at_cap_words",
    "who_is_funded",
    "grant_distribution",
    "who_is_funded_sheet",
    "grant_distribution_sheet",
]

#: The ``bin`` of the grant-distribution row that counts awards at the cap (within HK$1 of it).
AT_CAP = "at the cap"

#: HK$ in sheets: millions, three decimals (HK$1,000), as the workbook's other sheets.
MILLION = 1e6


def _spread(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 5% / 95% quantiles of the defined values (NaN if none)."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    lo, hi = np.quantile(x, [0.05, 0.95])
    return float(x.mean()), float(lo), float(hi)


class _Columns:
    """A per-replication table read one column at a time: a DataFrame, or a Parquet file (then
    memory holds one column, not the table). Every replication has the same rows, in the same order."""

    def __init__(self, table: pd.DataFrame | Path):
        self._frame = table if isinstance(table, pd.DataFrame) else None
        self._file = None if isinstance(table, pd.DataFrame) else pq.ParquetFile(table)

    def column(self, name: str) -> np.ndarray:
        if self._frame is not None:
            return self._frame[name].to_numpy()
        assert self._file is not None
        return self._file.read(columns=[name]).column(0).to_numpy()

    def first(self, names: list[str]) -> pd.DataFrame:
        """The labels of one replication's rows (those of the first)."""
        if self._frame is not None:
            head = self._frame
        else:
            assert self._file is not None
            head = self._file.read_row_group(0, columns=["replication", *names]).to_pandas()
        rep = head["replication"].to_numpy()
        if len(rep) == 0:
            return pd.DataFrame(columns=names)
        return head.loc[rep == rep[0], names].astype(str).reset_index(drop=True)

    def by_replication(self, name: str, width: int) -> np.ndarray:
        """Column ``name`` as (replications, ``width``): one row per replication."""
        return self.column(name).astype(float).reshape(-1, width)


def who_is_funded(bands: pd.DataFrame | Path) -> pd.DataFrame:
    """Per scheme, segment and size band: mean and 5-95% across runs of applications, awards,
    HK$ committed and the band's share of the scheme's awards (runs with awards only).

    ``bands`` is ``funded.parquet`` (or its table): one row per replication, scheme, segment
    and band, the same rows in every replication.
    """
    source = _Columns(bands)
    cells = source.first(["scheme", "segment", "band"])
    if cells.empty:
        return pd.DataFrame()
    values = {key: source.by_replication(key, len(cells)) for key in BAND_VALUES}
    awards = values["awards"]
    scheme_awards = np.empty_like(awards)
    for scheme in dict.fromkeys(cells["scheme"]):
        mine = (cells["scheme"] == scheme).to_numpy()
        scheme_awards[:, mine] = awards[:, mine].sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        values["award_share"] = np.where(scheme_awards > 0, awards / scheme_awards, np.nan)
    rows = []
    for k, cell in cells.iterrows():
        row: dict[str, object] = {**cell.to_dict(), "runs": len(awards)}
        for key, x in values.items():
            mean, lo, hi = _spread(x[:, k])
            row |= {f"{key}_mean": mean, f"{key}_p05": lo, f"{key}_p95": hi}
        rows.append(row)
    return pd.DataFrame(rows)


def grant_distribution(grants: pd.DataFrame | Path) -> pd.DataFrame:
    """Per scheme: each bin of grant / cap, and the awards at the cap, as shares of the awards.

    ``share_pooled`` is the bin's share of all awards of all runs; ``share_mean``,
    ``share_p05`` and ``share_p95`` are the mean and 5-95% across runs (with at
    least one award) of each run's share. ``grants`` is ``grants.parquet`` (or its table).
    """
    source = _Columns(grants)
    schemes = source.first(["scheme"])["scheme"].tolist()
    if not schemes:
        return pd.DataFrame()
    awards, caps = (
        source.by_replication("awards", len(schemes)),
        source.by_replication("cap_hkd", len(schemes)),
    )
    edges = grant_bin_edges()
    bins = [(c, f"{100 * lo:.0f}-{100 * hi:.0f}% of the cap", lo, hi) for c, lo, hi in _bins(edges)]
    bins.append(("awards_at_cap", AT_CAP, 1.0, 1.0))
    rows: list[dict[str, object]] = [{} for _ in range(len(schemes) * len(bins))]
    for b, (column, words, lo, hi) in enumerate(bins):
        counts = source.by_replication(column, len(schemes))
        for s, scheme in enumerate(schemes):
            count, total, funded = counts[:, s], awards[:, s], awards[:, s] > 0
            mean, p05, p95 = _spread(count[funded] / total[funded])
            rows[s * len(bins) + b] = {
                "scheme": scheme,
                "bin": words,
                "low_share_of_cap": lo,
                "high_share_of_cap": hi,
                "runs": int(funded.sum()),
                "cap_hkd_mean": float(caps[:, s].mean()),
                "awards_pooled": count.sum(),
                "share_pooled": count.sum() / total.sum() if total.sum() > 0 else np.nan,
                "share_mean": mean,
                "share_p05": p05,
                "share_p95": p95,
            }
    return pd.DataFrame(rows)


def _bins(edges: np.ndarray) -> list[tuple[str, float, float]]:
    return list(zip(grant_bin_columns(), edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def _scheme_words(frame: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.Series:
    return frame["scheme"].map(lambda s: scheme_labels.get(s) or s)


#: Sheet headers of who_is_funded's values: (column, words with unit, scale, decimals).
_BAND_WORDS: tuple[tuple[str, str, float, int], ...] = (
    ("applications", "Applications", 1.0, 1),
    ("awards", "Awards (firms; operators of an intermediary scheme)", 1.0, 1),
    ("committed_hkd", "Money committed (HK$M)", MILLION, 3),
    ("award_share", "Share of the scheme's awards", 1.0, 3),
)

_STATS = (("mean", "mean"), ("p05", "5% of runs"), ("p95", "95% of runs"))


def who_is_funded_sheet(table: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.DataFrame:
    """``who_is_funded.csv`` for reading: words, HK$ millions to HK$1,000, counts to 0.1, shares to 0.1%."""
    out = pd.DataFrame(
        {
            "Scheme": _scheme_words(table, scheme_labels),
            "Segment": table["segment"].astype(str),
            "Size band": table["band"].astype(str),
        }
    )
    for column, words, scale, digits in _BAND_WORDS:
        for stat, name in _STATS:
            out[f"{words}, {name}"] = (table[f"{column}_{stat}"] / scale).round(digits)
    out["Runs"] = table["runs"].astype(int)
    return out


def grant_distribution_sheet(table: pd.DataFrame, scheme_labels: Mapping[str, str]) -> pd.DataFrame:
    """``grant_distribution.csv`` for reading: shares of awards to 0.1%, the cap in HK$ millions."""
    out = pd.DataFrame(
        {
            "Scheme": _scheme_words(table, scheme_labels),
            "Grant (share of the cap)": table["bin"].astype(str),
            "Cap, mean of runs (HK$M)": (table["cap_hkd_mean"] / MILLION).round(3),
            "Share of awards, all runs pooled": table["share_pooled"].round(3),
        }
    )
    for stat, name in _STATS:
        out[f"Share of awards, {name}"] = table[f"share_{stat}"].round(3)
    out["Runs with awards"] = table["runs"].astype(int)
    return out


def at_cap_words(table: pd.DataFrame, scheme: str) -> str:
    """'at the cap: 41% of awards (5-95% of runs: 25-55%)' for one scheme of ``grant_distribution``
    ('no awards in any run' when no run awarded a grant)."""
    row = table[(table["scheme"] == scheme) & (table["bin"] == AT_CAP)]
    if row.empty:
        return ""
    r = row.iloc[0]
    if not r["share_pooled"] >= 0:  # NaN: no run awarded anything
        return "no awards in any run"
    return (
        f"at the cap: {format_share(r['share_pooled'])} of awards "
        f"(5-95% of runs: {format_share_range(r['share_p05'], r['share_p95'])})"
    )
