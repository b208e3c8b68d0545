"""Tables from replication results: the summary, weekly quantiles, headline numbers.

Every statistic the outputs show is computed here (figures and the brief only
draw what these functions return): summaries, weekly quantiles, headline
numbers, when a limit binds across runs, interval summaries of a sample,
the spread of runs at each sweep point and linear effects of a sweep, money
by financial year and the monthly cumulative series.
Plain functions from DataFrames/arrays to DataFrames; nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.engines.metrics import (
    FOLLOW_UP_SUFFIX,
    METRICS,
    SERIES,
    UNDERSUBSCRIBED_BELOW,
    undersubscribed,
    weeks,
)
from sim.engines.programme_metrics import INTERMEDIARY_METRICS
from sim.outputs import labels
from sim.outputs.numbers import format_share, format_value

__all__ = [
    "summarize",
    "summarize_columns",
    "weekly_quantiles",
    "weekly_quantiles_cells",
    "headline",
    "headline_columns",
    "headline_shown",
    "turns_away",
    "MONEY_ROWS",
    "HEADLINE",
    "INTERMEDIARY_HEADLINE",
    "headline_rows",
    "is_intermediary",
    "HeadlineRow",
    "QUANTILES",
    "ExhaustionProfile",
    "exhaustion_profile",
    "IntervalSummary",
    "interval_summary",
    "point_spread",
    "linear_effects",
    "MONEY_SERIES",
    "financial_year",
    "financial_year_label",
    "money_by_year_runs",
    "money_by_year",
    "MONTHLY_SERIES",
    "monthly_series",
    "readable_indices",
]

#: Quantiles reported for the weekly series (the 50% and 90% bands and the median).
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Each metric by scheme and segment: mean, standard error, 5/50/95% across replications.

    ``n`` counts the replications where the metric is defined (e.g. the week the
    scheme is exhausted exists only in runs where it is).
    """
    rows = []
    metrics = METRICS + tuple(m for m in INTERMEDIARY_METRICS if m in table.columns)
    for (scheme, segment), group in table.groupby(["scheme", "segment"], sort=False):
        for metric in metrics:
            rows.append(_summary_row(scheme, segment, metric, group[metric].to_numpy(dtype=float)))
    return pd.DataFrame(rows)


def summarize_columns(
    read: Callable[[list[str]], pd.DataFrame], metrics: tuple[str, ...] = METRICS
) -> pd.DataFrame:
    """:func:`summarize` of a table read one column at a time (``read(columns)``), for large runs;
    ``metrics``: the table's metric columns (an intermediary scheme's too where it has one).

    Within each scheme and segment, rows must come in the same order as in the
    table :func:`summarize` would be given; the result is then the same.
    """
    groups = read(["scheme", "segment"]).groupby(["scheme", "segment"], sort=False).indices
    by_metric = {}
    for metric in metrics:
        x = read([metric])[metric].to_numpy(dtype=float)
        by_metric[metric] = [
            _summary_row(scheme, segment, metric, x[index]) for (scheme, segment), index in groups.items()
        ]
    return pd.DataFrame([by_metric[m][g] for g in range(len(groups)) for m in metrics])


def _summary_row(scheme: str, segment: str, metric: str, x: np.ndarray) -> dict[str, object]:
    x = x[np.isfinite(x)]
    n = len(x)
    q = np.quantile(x, [0.05, 0.5, 0.95]) if n else [np.nan] * 3
    return {
        "scheme": scheme,
        "segment": segment,
        "metric": metric,
        "n": n,
        "mean": x.mean() if n else np.nan,
        "se": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
        "p05": q[0],
        "p50": q[1],
        "p95": q[2],
    }


def weekly_quantiles(weekly: dict[str, np.ndarray], end: float, start: date) -> pd.DataFrame:
    """Long table: scheme, series, week, date, mean and the :data:`QUANTILES` of each series.

    ``end`` is the series' last week: the end of the follow-up (``Scenario.end_weeks``).
    """
    frames = []
    for scheme, arr in weekly.items():
        qs = np.quantile(arr, QUANTILES, axis=0)  # (q, series, weeks)
        mean = arr.mean(axis=0)
        for s, series in enumerate(SERIES):
            frames.append(_series_frame(scheme, series, end, start, mean[s], qs[:, s]))
    return pd.concat(frames, ignore_index=True)


def weekly_quantiles_cells(
    cells: Callable[[str, int, int], np.ndarray],
    schemes: list[str],
    replications: int,
    end: float,
    start: date,
    budget_bytes: int = 16 * 2**20,
) -> pd.DataFrame:
    """:func:`weekly_quantiles` from series-week cells kept on disk, a few at a time (``end``:
    the series' last week, the end of the follow-up).

    ``cells(scheme, first, count)`` returns cells ``first .. first+count-1`` as an
    array (count, replications), cell ``s * weeks + w`` holding series ``s`` at
    week ``w`` in every replication. At most ``budget_bytes`` of cells are in
    memory at once; quantiles are exact.
    """
    n_weeks = len(weeks(end))
    total = len(SERIES) * n_weeks
    step = max(1, min(total, budget_bytes // (8 * max(replications, 1))))
    frames = []
    for scheme in schemes:
        mean, qs = np.empty(total), np.empty((len(QUANTILES), total))
        for first in range(0, total, step):
            block = cells(scheme, first, min(step, total - first))
            mean[first : first + len(block)] = block.mean(axis=1)
            qs[:, first : first + len(block)] = np.quantile(block, QUANTILES, axis=1)
        for s, series in enumerate(SERIES):
            part = slice(s * n_weeks, (s + 1) * n_weeks)
            frames.append(_series_frame(scheme, series, end, start, mean[part], qs[:, part]))
    return pd.concat(frames, ignore_index=True)


def _series_frame(
    scheme: str, series: str, end: float, start: date, mean: np.ndarray, qs: np.ndarray
) -> pd.DataFrame:
    grid = weeks(end)
    frame = pd.DataFrame(
        {
            "scheme": scheme,
            "series": series,
            "week": grid,
            "date": [start + timedelta(weeks=float(w)) for w in grid],
            "mean": mean,
        }
    )
    for qi, q in enumerate(QUANTILES):
        frame[f"q{round(q * 100):02d}"] = qs[qi]
    return frame


@dataclass(frozen=True)
class HeadlineRow:
    """One headline number: its statistic's key in :data:`sim.outputs.labels.STATISTICS` (its label),
    the per-run metric it summarises, how, and over which runs.

    ``statistic`` "mean" reports the mean and the 5-95% range across runs;
    "share" the share of runs where the metric is 1, with its 90% (Wilson)
    interval; "median" the median over runs (5-95% range). ``given`` names a
    0/1 metric: only runs where it is 1 count (the week the places fill is
    a statistic of the runs where they fill).
    """

    key: str
    metric: str
    statistic: str
    given: str | None = None

    @property
    def label(self) -> str:
        return labels.label(self.key)


#: The headline numbers, in order (MODEL.md "Which limit binds": the places and the money apart).
HEADLINE: tuple[HeadlineRow, ...] = (
    HeadlineRow("applications", "applications", "mean"),
    HeadlineRow("turned_away", "turned_away", "mean"),
    HeadlineRow("awarded", "awarded", "mean"),
    HeadlineRow("exhausted_by_places", "exhausted_by_places", "share"),
    HeadlineRow("places_fill_week", "exhaustion_week", "median", given="exhausted_by_places"),
    HeadlineRow("exhausted_by_money", "exhausted_by_money", "share"),
    HeadlineRow("money_runs_out_week", "exhaustion_week", "median", given="exhausted_by_money"),
    HeadlineRow("undersubscribed", "undersubscribed", "share"),
    HeadlineRow("unused_budget_hkd", "unused_budget_hkd", "mean"),
    HeadlineRow("unused_budget_share", "unused_budget_share", "mean"),
    HeadlineRow("average_grant_hkd", "average_grant_hkd", "mean"),
    HeadlineRow("wait_median_weeks", "wait_median_weeks", "median"),
    *(
        HeadlineRow(key + suffix, key + suffix, "mean")
        for key in (
            "paid_hkd",
            "completed",
            "additional_upgrades",
            "cost_per_additional_hkd",
            "benefit_cost_ratio",
        )
        for suffix in ("", FOLLOW_UP_SUFFIX)
    ),
)

#: The headline numbers of an intermediary scheme (MODEL.md 6b), in order: operators and start-ups,
#: not upgrades; the rows of :data:`HEADLINE` on upgrades are left out for it, and its benefit-cost
#: ratio is that of its start-ups' outcomes, not given without an impact section (R-PROGRAMME-IMPACT).
INTERMEDIARY_HEADLINE: tuple[HeadlineRow, ...] = (
    *(row for row in HEADLINE[:12] if row.key != "awarded"),
    HeadlineRow("operators_funded", "operators_funded", "mean"),
    *(
        HeadlineRow(key + suffix, metric + suffix, "mean")
        for key, metric in (
            ("operator_paid_hkd", "paid_hkd"),
            ("startups_accelerated", "startups_accelerated"),
            ("startups_relocated", "startups_relocated"),
            ("startups_surviving", "startups_surviving"),
            ("startups_follow_on", "startups_follow_on"),
            ("cost_per_startup_hkd", "cost_per_startup_hkd"),
            ("cost_per_surviving_startup_hkd", "cost_per_surviving_startup_hkd"),
            ("benefit_cost_ratio", "benefit_cost_ratio"),
        )
        for suffix in ("", FOLLOW_UP_SUFFIX)
    ),
)


def is_intermediary(group: pd.DataFrame) -> bool:
    """Whether a scheme's rows of the replication table are an intermediary scheme's (its
    ``operators_funded`` is defined; a direct scheme's is empty or absent)."""
    return "operators_funded" in group.columns and bool(group["operators_funded"].notna().any())


def headline_rows(intermediary: bool) -> tuple[HeadlineRow, ...]:
    """The headline rows of a scheme of that kind."""
    return INTERMEDIARY_HEADLINE if intermediary else HEADLINE


#: Columns under-subscription is recomputed from at another threshold (:func:`headline`).
_UNDERSUBSCRIBED_FROM: tuple[str, ...] = ("applications_below_places", "unused_budget_share")


def headline_columns(intermediary: bool = False) -> list[str]:
    """The replication-table columns :func:`headline` reads (``intermediary``: the table has an
    intermediary scheme's columns, :data:`~sim.engines.programme_metrics.INTERMEDIARY_METRICS`)."""
    rows = HEADLINE + INTERMEDIARY_HEADLINE if intermediary else HEADLINE
    used = [c for row in rows for c in (row.metric, row.given) if c is not None]
    return ["scheme", "segment", *dict.fromkeys([*used, *_UNDERSUBSCRIBED_FROM])]


def headline(
    table: pd.DataFrame, undersubscribed_below: float = UNDERSUBSCRIBED_BELOW, follow_up: bool = False
) -> pd.DataFrame:
    """Headline numbers per scheme: value (mean, share or median) with an interval, p05 to p95,
    which ``interval`` names (:data:`sim.outputs.labels.INTERVAL_WORDS`): 5-95% of runs for a mean
    or median, the 90% confidence interval of the share for a share of runs.

    A run counts as under-subscribed with fewer applications than places, or
    less than ``undersubscribed_below`` of the budget committed (the table's
    ``undersubscribed`` column holds the default threshold's answer). The
    outcomes by the end of the follow-up are shown only if there is a
    ``follow_up`` (without one they repeat those by the scheme's end).
    """
    rows = []
    whole = table[table["segment"] == "all"]
    for scheme, group in whole.groupby("scheme", sort=False):
        rows_of_kind = headline_rows(is_intermediary(group))
        shown = [row for row in rows_of_kind if follow_up or not row.metric.endswith(FOLLOW_UP_SUFFIX)]
        for row in shown:
            x = _headline_sample(group, row, undersubscribed_below)
            value, lo, hi, n = _headline_value(x, row.statistic)
            rows.append(
                {
                    "scheme": scheme,
                    "key": row.key,
                    "label": row.label,
                    "metric": row.metric,
                    "statistic": row.statistic,
                    "value": value,
                    "p05": lo,
                    "p95": hi,
                    "interval": labels.interval_words(row.statistic),
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


#: Headline rows about the money running out (statistic keys).
MONEY_ROWS: frozenset[str] = frozenset(("exhausted_by_money", "money_runs_out_week"))


def headline_shown(head: pd.DataFrame) -> pd.DataFrame:
    """The :func:`headline` rows to show a reader: those on the money running out only for a
    scheme where it runs out in some run ("the money runs out" is said only where it does), and
    the applications turned away only for a scheme that turns some away."""
    money = head[head["key"] == "exhausted_by_money"].set_index("scheme")["value"]
    runs_out = head["scheme"].map(money.fillna(0) > 0).fillna(False).astype(bool)
    turned = head["scheme"].map(turns_away(head)).eq(True)
    return head[(~head["key"].isin(MONEY_ROWS) | runs_out) & ((head["key"] != "turned_away") | turned)]


def turns_away(head: pd.DataFrame) -> pd.Series:
    """Whether each scheme of a :func:`headline` table turns applications away, by scheme: its mean
    ``turned_away`` is at least one half (shown as at least 1; a rarer turn-away stays in
    ``summary.csv`` and ``headline.csv``)."""
    turned = head[head["key"] == "turned_away"].set_index("scheme")["value"]
    return turned.fillna(0) >= 0.5


def _headline_sample(group: pd.DataFrame, row: HeadlineRow, undersubscribed_below: float) -> np.ndarray:
    """The per-run values a headline row summarises: its metric, in the runs it is about."""
    if row.metric == "undersubscribed":
        below, share = (group[c].to_numpy(dtype=float) for c in _UNDERSUBSCRIBED_FROM)
        x = undersubscribed(below, share, undersubscribed_below)
    else:
        x = group[row.metric].to_numpy(dtype=float)
    if row.given is not None:
        x = x[group[row.given].to_numpy(dtype=float) == 1]
    return x


def _headline_value(x: np.ndarray, statistic: str) -> tuple[float, float, float, int]:
    """(value, low, high, runs counted) of a headline row's sample (NaN values are not counted)."""
    finite = x[np.isfinite(x)]
    n = len(finite)
    if not n:
        return np.nan, np.nan, np.nan, 0
    if statistic == "share":
        value = float(finite.mean())
        # Wilson 90% interval for the share of runs
        z = 1.6448536269514722
        centre = (value + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(value * (1 - value) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return value, max(0.0, centre - half), min(1.0, centre + half), n
    value = float(np.median(finite)) if statistic == "median" else float(finite.mean())
    lo, hi = np.quantile(finite, [0.05, 0.95])
    return value, float(lo), float(hi), n


@dataclass(frozen=True)
class ExhaustionProfile:
    """When an event (the places filling, the money running out) happens across runs.

    ``period_share[i]`` is the share of runs where it happens between
    ``edges[i]`` and ``edges[i + 1]``; the step curve ``(weeks, cumulative)``
    is the share of runs where it has happened by each week; ``never`` the
    share of runs where it does not within the horizon; ``median_week`` the
    median week among the runs where it does (NaN if none).
    """

    edges: np.ndarray
    period_share: np.ndarray
    weeks: np.ndarray
    cumulative: np.ndarray
    never: float
    median_week: float


def exhaustion_profile(
    exhaustion_weeks: np.ndarray, horizon_weeks: float, bin_weeks: float = 4.0
) -> ExhaustionProfile:
    """:class:`ExhaustionProfile` of the week of each run (NaN: never within the horizon)."""
    runs = np.asarray(exhaustion_weeks, dtype=float)
    n = max(len(runs), 1)
    done = np.sort(runs[np.isfinite(runs)])
    edges = np.arange(0.0, horizon_weeks + bin_weeks, bin_weeks)
    counts, _ = np.histogram(done, bins=edges)
    return ExhaustionProfile(
        edges=edges,
        period_share=counts / n,
        weeks=np.concatenate([[0.0], done, [horizon_weeks]]),
        cumulative=np.concatenate([[0.0], np.arange(1, len(done) + 1) / n, [len(done) / n]]),
        never=1.0 - len(done) / n,
        median_week=float(np.median(done)) if len(done) else float("nan"),
    )


@dataclass(frozen=True)
class IntervalSummary:
    """A sample's mean and its 5, 25, 75 and 95% quantiles (over the runs where it is defined)."""

    mean: float
    q05: float
    q25: float
    q75: float
    q95: float


def interval_summary(sample: np.ndarray) -> IntervalSummary | None:
    """:class:`IntervalSummary` of the finite values of ``sample``; None if there are none."""
    x = np.asarray(sample, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return None
    q05, q25, q75, q95 = np.quantile(x, [0.05, 0.25, 0.75, 0.95])
    return IntervalSummary(float(x.mean()), float(q05), float(q25), float(q75), float(q95))


def point_spread(replications: pd.DataFrame | None, scheme: str, output: str) -> pd.DataFrame | None:
    """5% and 95% of runs of ``output`` at each sweep point (whole scheme), or None if not known."""
    if replications is None or output not in replications:
        return None
    rows = replications[(replications["scheme"] == scheme) & (replications["segment"] == "all")]
    grouped = rows.groupby("point")[output]
    return pd.DataFrame({"q05": grouped.quantile(0.05), "q95": grouped.quantile(0.95)})


def linear_effects(rows: pd.DataFrame, paths: Sequence[str], column: str) -> pd.DataFrame:
    """Least-squares effect of moving each parameter from its lowest to its highest value.

    One row per parameter: its range, the fitted output at its low and high
    end (the others at mid-range), the mid-range output and the fit's R².
    """
    ok = np.isfinite(rows[column].to_numpy(dtype=float))
    x = rows.loc[ok, list(paths)].to_numpy(dtype=float)
    y = rows.loc[ok, column].to_numpy(dtype=float)
    lo, hi = x.min(axis=0), x.max(axis=0)
    unit = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    design = np.column_stack([np.ones(len(y)), unit])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coef
    r2 = 1 - np.sum((y - fitted) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-300)
    base = coef[0] + 0.5 * coef[1:].sum()
    return pd.DataFrame(
        {
            "path": list(paths),
            "low": lo,
            "high": hi,
            "at_low": base - 0.5 * coef[1:],
            "at_high": base + 0.5 * coef[1:],
            "base": base,
            "r2": r2,
        }
    )


#: The money series split by financial year: committed and paid (cumulative HK$ in the spool).
MONEY_SERIES: tuple[str, ...] = ("committed_hkd", "paid_hkd")


def financial_year(day: date) -> int:
    """The Hong Kong financial year (1 April - 31 March) holding ``day``, by the year it starts in."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year: int) -> str:
    """'2025-26' for the financial year starting on 1 April 2025."""
    return f"{year}-{(year + 1) % 100:02d}"


def _year_weeks(dates: Sequence[date]) -> pd.DataFrame:
    """Per financial year the weekly grid touches: its label, the index of its last grid week,
    and the dates its first and last grid weeks end (a year the grid covers only in part shows it)."""
    years = pd.Series([financial_year(d) for d in dates])
    first = years.groupby(years, sort=True).apply(lambda g: int(g.index.min()))
    last = years.groupby(years, sort=True).apply(lambda g: int(g.index.max()))
    return pd.DataFrame(
        {
            "financial_year": [financial_year_label(int(y)) for y in last.index],
            "last": last.to_numpy(),
            "first_week_end": [dates[i] for i in first],
            "last_week_end": [dates[i] for i in last],
        }
    )


def money_by_year_runs(
    cells: Callable[[str, int, int], np.ndarray],
    schemes: Sequence[str],
    replications: int,
    n_weeks: int,
    start: date,
) -> pd.DataFrame:
    """Money committed and paid in each financial year, per run and scheme.

    ``cells`` reads the spool's series-week cells (as :func:`weekly_quantiles_cells`);
    week ``w`` of the grid ends on ``start + w`` weeks and the cumulative value
    there counts everything up to that date. A year's amount is the cumulative
    value at the last grid week ending inside the year minus that at the last
    grid week ending inside the year before (zero before the first). So the week
    that straddles 1 April counts in the year in which it ends, and the years of
    a run add up to its value at the last week of the grid. ``first_week_end``
    and ``last_week_end`` give the part of each year the grid covers.
    """
    years = _year_weeks([start + timedelta(weeks=w) for w in range(n_weeks)])
    frames = []
    for scheme in schemes:
        # the years repeated run after run (taken by position: one frame, not one per run)
        frame = years.drop(columns="last").iloc[np.tile(np.arange(len(years)), replications)]
        frame = frame.reset_index(drop=True)
        frame.insert(0, "replication", np.repeat(np.arange(replications), len(years)))
        frame.insert(0, "scheme", scheme)
        for series in MONEY_SERIES:
            s = SERIES.index(series)
            # only the cells at each year's last week: memory grows with years x runs, not weeks x runs
            cumulative = np.vstack([cells(scheme, s * n_weeks + int(w), 1) for w in years["last"]])
            frame[series] = np.diff(cumulative, axis=0, prepend=0.0).T.ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def money_by_year(runs: pd.DataFrame) -> pd.DataFrame:
    """Per scheme and financial year: mean and 5/95% across runs of the money committed and paid.

    ``runs`` is :func:`money_by_year_runs`; the means of the years add up to
    the mean at the horizon (the 5-95% ranges do not add up).
    """
    rows = []
    keys = ["scheme", "financial_year", "first_week_end", "last_week_end"]
    for (scheme, year, first, last), group in runs.groupby(keys, sort=False):
        row: dict[str, object] = {"scheme": scheme, "financial_year": year, "first_week_end": first}
        row |= {"last_week_end": last, "runs": len(group)}
        for series in MONEY_SERIES:
            x = group[series].to_numpy(dtype=float)
            lo, hi = np.quantile(x, [0.05, 0.95])
            row |= {f"{series}_mean": x.mean(), f"{series}_p05": lo, f"{series}_p95": hi}
        rows.append(row)
    return pd.DataFrame(rows)


#: The series of the monthly table, in order.
MONTHLY_SERIES: tuple[str, ...] = ("applications", "awards", "committed_hkd", "paid_hkd")


def monthly_series(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The weekly quantiles at calendar month ends: per scheme, series and month, the values at the
    last grid week ending in the month (mean and 5/50/95% across runs; cumulative)."""
    frame = timeseries[timeseries["series"].isin(MONTHLY_SERIES)].copy()
    day = pd.to_datetime(frame["date"])
    frame["month_end"] = (day + pd.offsets.MonthEnd(0)).dt.date
    frame = frame.sort_values("week", kind="stable")
    last = frame.groupby(["scheme", "series", "month_end"], sort=False).tail(1)
    order = {name: i for i, name in enumerate(MONTHLY_SERIES)}
    last = last.assign(_order=last["series"].map(order))
    last = last.sort_values(["_order", "month_end"], kind="stable")
    columns = ["scheme", "series", "month_end", "week", "mean", "q05", "q50", "q95"]
    scheme_order = {name: i for i, name in enumerate(dict.fromkeys(timeseries["scheme"]))}
    last = last.assign(_scheme=last["scheme"].map(scheme_order)).sort_values("_scheme", kind="stable")
    return last[columns].reset_index(drop=True)


def _index_cells(row: pd.Series) -> dict[str, str]:
    """One sensitivity row's numbers in words: Morris effects in the output's unit (HK$, shares),
    Sobol' indices as shares of variance; each with its 95% interval half-width."""
    output = str(row["output"])
    if str(row["method"]).lower() == "morris":
        return {
            "Mean absolute effect (mu*)": format_value(row["mu_star"], output),
            "mu* 95% interval (+/-)": format_value(row["mu_star_conf"], output),
            "Spread of the effect (sigma)": format_value(row["sigma"], output),
        }
    return {
        "First order (share of variance)": format_share(row["S1"]),
        "First order 95% interval (+/-)": format_share(row["S1_conf"]),
        "Total order (share of variance)": format_share(row["ST"]),
        "Total order 95% interval (+/-)": format_share(row["ST_conf"]),
    }


def readable_indices(indices: pd.DataFrame, scheme_labels: dict[str, str]) -> pd.DataFrame:
    """Sensitivity indices for a reader: scheme, output and parameter in words, numbers formatted
    (HK$, %) and units named; ``indices.csv`` keeps the raw numbers for scripts."""
    rows = []
    for _, r in indices.iterrows():
        words = {
            "Scheme": labels.scheme_label(str(r["scheme"]), scheme_labels),
            "Output": labels.mean_label(r["output"])
            if r["output"] in labels.STATISTICS
            else str(r["output"]).replace("_", " ").capitalize(),
            "Parameter": labels.parameter_label(str(r["parameter"]), scheme_labels),
        }
        rows.append(words | _index_cells(r))
    return pd.DataFrame(rows)
