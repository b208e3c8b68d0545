"""Numbers in words: the one place that formats HK$, counts, shares, weeks and ratios.

The command line, the tables, the figures and the brief all format through
these functions, so an amount reads the same everywhere (``HK$2.5M``) and a
change of convention is made once. No plotting or printing happens here.
"""

from __future__ import annotations

import math

from sim.engines.metrics import FOLLOW_UP_SUFFIX

__all__ = [
    "MISSING",
    "NOT_GIVEN",
    "missing",
    "format_hkd",
    "format_hkd_short",
    "format_count",
    "format_share",
    "count_words",
    "agrees",
    "format_share_range",
    "format_weeks",
    "format_ratio",
    "format_number",
    "format_value",
    "format_cell",
    "is_share",
    "is_weeks",
]

#: What a value that is not defined (NaN, infinite, None) reads as.
MISSING = "-"
#: An undefined benefit-cost ratio: no impact section values the outcomes (never shown as 0).
NOT_GIVEN = "not given"


#: Per-run 0/1 metrics: their mean over runs is a share of runs.
SHARE_METRICS = frozenset(
    ("exhausted", "exhausted_by_money", "exhausted_by_places", "undersubscribed", "applications_below_places")
)


def is_share(metric: str) -> bool:
    """Whether a metric reads as a percentage: a share of runs or a share of something (``*_share``)."""
    return metric in SHARE_METRICS or metric.endswith("_share")


def is_weeks(metric: str) -> bool:
    """Whether a metric is a number of weeks (a duration or a week counted from the start date)."""
    return metric.endswith("_weeks") or metric.endswith("_week")


def _defined(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def format_hkd(value: float, decimals: int = 1) -> str:
    """HK$ with a readable unit: 2_500_000 -> 'HK$2.5M', 250_000 -> 'HK$250k'."""
    if not _defined(value):
        return MISSING
    sign = "-" if value < 0 else ""
    v = abs(value)
    units = (("", 1.0), ("k", 1e3), ("M", 1e6), ("B", 1e9))
    k = max(i for i, (_, scale) in enumerate(units) if i == 0 or v >= scale)
    digits = decimals if k else 0
    if float(f"{v / units[k][1]:.{digits}f}") >= 1000 and k + 1 < len(units):
        k, digits = k + 1, decimals  # 999_999 reads 'HK$1M', not 'HK$1000k'
    text = f"{v / units[k][1]:.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{sign}HK${text}{units[k][0]}"


def format_hkd_short(value: float, digits: int = 3) -> str:
    """HK$ to ``digits`` significant figures: 'HK$452k', 'HK$1.51M', 'HK$23.4M'."""
    if not _defined(value):
        return MISSING
    v = abs(value)
    scale = next((s for s in (1e9, 1e6, 1e3) if v >= s), 1.0)
    magnitude = math.floor(math.log10(v / scale)) if v >= 1 else 0
    return format_hkd(value, max(0, digits - 1 - magnitude))


def format_count(value: float, sign: str = "") -> str:
    """A count of firms, applications or runs: '1,234'."""
    return f"{sign}{value:,.0f}" if _defined(value) else MISSING


def count_words(value: float, noun: str, plural: str = "") -> str:
    """A count and its noun in agreement, as the count prints: '1 upgrade', '0 upgrades',
    '1,234 firms' (``plural`` where it is not the noun plus 's': 'start-ups' is)."""
    text = format_count(value)
    return f"{text} {noun if text in ('1', '-1') else (plural or noun + 's')}"


def agrees(value: float, singular: str, plural: str) -> str:
    """The verb that agrees with a count as it prints: 'is' for 1, 'are' otherwise."""
    return singular if format_count(value) in ("1", "-1") else plural


def format_share(value: float, decimals: int = 0, sign: str = "") -> str:
    """A share (0-1) as a percentage: 0.2 -> '20%'."""
    return f"{sign}{100 * value:.{decimals}f}%" if _defined(value) else MISSING


def format_share_range(low: float, high: float) -> str:
    """Two shares as one range of percentages: '18-23%'."""
    if not (_defined(low) and _defined(high)):
        return MISSING
    return f"{100 * low:.0f}-{100 * high:.0f}%"


def format_weeks(value: float, decimals: int = 1, unit: bool = True, sign: str = "") -> str:
    """A duration or a week number: '6.4 weeks' (or '6.4' without the unit)."""
    if not _defined(value):
        return MISSING
    return f"{sign}{value:.{decimals}f}" + (" weeks" if unit else "")


def format_ratio(value: float, decimals: int = 2, sign: str = "") -> str:
    """A ratio such as the benefit-cost ratio: '1.43'."""
    return f"{sign}{value:.{decimals}f}" if _defined(value) else MISSING


def format_number(value: float, significant: int = 4) -> str:
    """A plain number to ``significant`` figures, thousands grouped: '0.05', '12,500'."""
    return f"{value:,.{significant}g}" if _defined(value) else MISSING


def missing(metric: str) -> str:
    """What an undefined value of ``metric`` reads as: 'not given' for a benefit-cost ratio (an
    intermediary scheme without an impact section has none, MODEL.md 6b), '-' otherwise."""
    return NOT_GIVEN if metric.startswith("benefit_cost_ratio") else MISSING


def format_value(value: float, metric: str, signed: bool = False) -> str:
    """A metric's value as it is read aloud: HK$2.5M, 35%, 6.1 weeks, 1.4, 296.

    An outcome counted to the end of the follow-up reads like the same outcome by the scheme's end.
    """
    if not _defined(value):
        return missing(metric)
    metric = metric.removesuffix(FOLLOW_UP_SUFFIX)
    sign = "+" if signed and value > 0 else ""
    if metric.endswith("_hkd"):
        return sign + format_hkd_short(value)
    if is_share(metric):
        return format_share(value, sign=sign)
    if is_weeks(metric):
        return format_weeks(value, sign=sign)
    if metric in ("benefit_cost_ratio", "leverage"):
        return format_ratio(value, sign=sign)
    return format_count(value, sign=sign)


def format_cell(value: float, metric: str) -> str:
    """A metric in a table cell (the command line's headline): units in the row label, not the cell."""
    if not _defined(value):
        return missing(metric)
    metric = metric.removesuffix(FOLLOW_UP_SUFFIX)
    if metric.endswith("_hkd"):
        return format_hkd(value, 0 if abs(value) < 1e6 else 2 if abs(value) < 1e7 else 1)
    if is_share(metric):
        return format_share(value, 1 if value < 0.1 else 0)
    if metric == "benefit_cost_ratio":
        return format_ratio(value, 1)
    if is_weeks(metric):
        return format_weeks(value, unit=False)
    return format_count(value)
