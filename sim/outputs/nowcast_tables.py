"""The tables of a nowcast: its headline "as at" (prior forecast beside it, variants beside the base)
and the bands of the observed series, from a finished :class:`~sim.experiments.nowcast.Nowcast`.

Words come from :mod:`sim.outputs.labels` (:func:`~sim.outputs.labels.nowcast_label`,
:data:`~sim.outputs.labels.NOWCAST_HEADERS`), so one label stands for one statistic.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.experiments.calibrate import weighted_quantiles
from sim.experiments.nowcast import Nowcast
from sim.outputs.labels import NOWCAST_HEADERS, nowcast_label, scheme_label
from sim.outputs.numbers import format_count, format_hkd, format_share
from sim.spec.scenario import Scenario

__all__ = [
    "BANDS",
    "HEADLINE_COLUMNS",
    "MEANS",
    "band_table",
    "headline_shown",
    "headline_table",
    "intermediary_of",
    "monte_carlo_error",
    "nowcast_day",
    "shown",
    "signed",
]

#: Headline rows that are means over runs (with a 5-95% range), after the shares of runs.
MEANS: tuple[str, ...] = ("applications", "awarded", "unused_budget_hkd")
#: The columns of ``headline.csv``.
HEADLINE_COLUMNS: tuple[str, ...] = (
    "scenario",
    "scheme",
    "key",
    "date",
    "label",
    "prior",
    "as_at",
    "as_at_se",
    "as_at_p05",
    "as_at_p95",
    "change_prior",
    "change_as_at",
)
#: Quantiles of the fan charts' bands: 5-95% and 25-75%, and the median.
BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)


def nowcast_day(day: date, scheme_end: date | None = None) -> str:
    """A date in a label: '31 Dec 2026', or '16 Nov 2027 (scheme end)'."""
    text = f"{day.day} {day:%b %Y}"
    return f"{text} (scheme end)" if day == scheme_end else text


def _rows_of(nowcast: Nowcast, k: int, scheme: str) -> list[tuple[str, date | None, np.ndarray]]:
    """(key, date, per-run values) of scenario ``k``'s headline rows for ``scheme``, in order."""
    rows: list[tuple[str, date | None, np.ndarray]] = [
        ("places_fill_by", day, nowcast.places_fill_by(k, scheme, day)) for day in nowcast.quarters
    ]
    rows.append(("exhausted_by_money", None, nowcast.outcome(k, scheme, "exhausted_by_money")))
    rows += [(key, None, nowcast.outcome(k, scheme, key)) for key in MEANS]
    return rows


def _row(nowcast: Nowcast, key: str, values: np.ndarray, base: np.ndarray | None) -> dict[str, float]:
    """The numbers of one headline row: prior and weighted mean, weighted 5-95%, change from base."""
    w = nowcast.weights
    out = {"prior": float(values.mean()), "as_at": float(np.dot(w, values))}
    out["as_at_se"] = monte_carlo_error(values, w)
    out["as_at_p05"] = out["as_at_p95"] = float("nan")
    if key in MEANS:
        low, high = weighted_quantiles(values[:, None], w, (0.05, 0.95))[:, 0]
        out["as_at_p05"], out["as_at_p95"] = float(low), float(high)
    out["change_prior"] = out["change_as_at"] = float("nan")
    if base is not None:
        diff = values - base
        out["change_prior"], out["change_as_at"] = float(diff.mean()), float(np.dot(w, diff))
    return out


def monte_carlo_error(values: np.ndarray, weights: np.ndarray) -> float:
    """The Monte Carlo standard error of the weighted mean ``sum w x`` (weights summing to 1):
    ``sqrt(sum w**2 (x - mean)**2)``, the delta method for self-normalised importance sampling;
    with equal weights the standard error of a plain mean, ``sd / sqrt(N)``."""
    mean = float(np.dot(weights, values))
    return float(np.sqrt(np.dot(np.square(weights), np.square(values - mean))))


def headline_table(nowcast: Nowcast, intermediary: Collection[str] = ()) -> pd.DataFrame:
    """One row per scenario (base first), scheme and statistic: the prior forecast (every run
    equally), the forecast as at the date (runs weighted by the observations) with the 5-95% range
    of the weighted runs for means, and for a variant its change from the base on the same runs.
    The rows of the ``intermediary`` schemes are labelled in their own words (operators funded)."""
    records = []
    for k, name in enumerate(nowcast.names):
        for scheme in nowcast.outcomes[0]:
            base_rows = _rows_of(nowcast, 0, scheme) if k else None
            for i, (key, day, values) in enumerate(_rows_of(nowcast, k, scheme)):
                base = base_rows[i][2] if base_rows else None
                day_text = nowcast_day(day, nowcast.scheme_end) if day else ""
                records.append(
                    {"scenario": name, "scheme": scheme, "key": key, "date": day.isoformat() if day else ""}
                    | {"label": nowcast_label(key, day_text, scheme in intermediary)}
                    | _row(nowcast, key, values, base)
                )
    return pd.DataFrame(records, columns=list(HEADLINE_COLUMNS))


def intermediary_of(scenario: Scenario) -> frozenset[str]:
    """The intermediary schemes of ``scenario`` (MODEL.md 6b), whose nowcast rows speak of operators."""
    return frozenset(name for name, s in scenario.schemes.items() if s.kind == "intermediary")


def band_table(nowcast: Nowcast) -> pd.DataFrame:
    """Per observed scheme, quantity and week: its date, the prior's and the weighted runs' quantiles."""
    frames = []
    for key in nowcast.series:
        frames.append(_band_frame(nowcast, key))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _band_frame(nowcast: Nowcast, key: tuple[str, str]) -> pd.DataFrame:
    prior = nowcast.quantiles(key, BANDS, weighted=False)
    weighted = nowcast.quantiles(key, BANDS, weighted=True)
    weeks = np.arange(prior.shape[1])
    frame = pd.DataFrame(
        {
            "scheme": key[0],
            "quantity": key[1],
            "week": weeks,
            "date": [(nowcast.start + timedelta(weeks=int(w))).isoformat() for w in weeks],
        }
    )
    for i, q in enumerate(BANDS):
        frame[f"prior_q{round(100 * q):02d}"] = prior[i]
        frame[f"as_at_q{round(100 * q):02d}"] = weighted[i]
    return frame


def shown(value: float, key: str) -> str:
    """A headline value in words: 'HK$12.3M', '1,234' or '20%' ('' where undefined)."""
    if not np.isfinite(value):
        return ""
    if key in MEANS:
        return format_hkd(value) if key.endswith("_hkd") else format_count(value)
    return format_share(value)


def headline_shown(head: pd.DataFrame, as_at: str, labels: dict[str, str]) -> pd.DataFrame:
    """The headline in words for the workbook and the screen: labelled columns, rounded values."""
    columns = {key: NOWCAST_HEADERS[key].format(date=as_at) for key in NOWCAST_HEADERS}
    rows = []
    for _, r in head.iterrows():
        row = {
            "Scenario": r["scenario"],
            "Scheme": scheme_label(r["scheme"], labels),
            "Statistic": r["label"],
        }
        row[columns["prior"]] = shown(r["prior"], r["key"])
        row[columns["as_at"]] = shown(r["as_at"], r["key"])
        low, high = shown(r["as_at_p05"], r["key"]), shown(r["as_at_p95"], r["key"])
        row[columns["range"]] = f"{low} - {high}" if low else ""
        row[columns["change_as_at"]] = signed(r["change_as_at"], r["key"])
        rows.append(row)
    return pd.DataFrame(rows)


def signed(value: float, key: str) -> str:
    """A change from the base: '+12', '-HK$3.0M', '0' where it rounds to nothing ('' where undefined)."""
    text = shown(abs(value), key)
    if not text:
        return ""
    if not any(c in "123456789" for c in text):
        return "0"
    return ("-" if value < 0 else "+") + text
