"""The one-page brief (A4 PDF): headline numbers in words and in a table, the key
figures, the main assumptions with their sources, and the provenance footer.

A brief is made from result folders only: a run, a comparison folder, or a run
compared with another run (paired on common random numbers when both used the
same seed and replications).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.engines.metrics import FOLLOW_UP_SUFFIX, UNDERSUBSCRIBED_BELOW
from sim.experiments.compare import COMPARED_INTERMEDIARY, SUBSET_METRICS
from sim.outputs import figures, outfiles, plots, store, tables
from sim.outputs.compare_words import compared_words, operator_schemes, reader_cells, reader_rows
from sim.outputs.experiments import replication_note
from sim.outputs.folders import FolderError, ResultFolder, read_folder, sourced_defaults
from sim.outputs.labels import (
    COMPARE_NOTE,
    INTERVAL_NOTE,
    SHARE_INTERVAL_MARK,
    compare_header,
)
from sim.outputs.numbers import (
    agrees,
    count_words,
    format_count,
    format_number,
    format_ratio,
    format_share,
    format_share_range,
    format_weeks,
    is_share,
)
from sim.outputs.style import (
    FOOTER_COLOR,
    GREYS,
    INK,
    add_footer,
    format_hkd,
    format_value,
    metric_label,
    metric_unit,
    parameter_label,
    percent_axis,
    scheme_label,
    style_axes,
)
from sim.outputs.timeline import change_text, limit_steps, turn_away_words

__all__ = [
    "A4",
    "brief_figure",
    "compared_replications",
    "write_brief",
    "run_sentences",
    "compare_sentences",
    "main_assumptions",
]

#: A4 portrait, inches.
A4 = (8.27, 11.69)
_MARGIN = 0.55
_BODY = 8.0
#: Height of a table row (inches).
_ROW = 0.14

#: The assumptions a brief lists for its main scheme ({s}: scheme, {g}: its first segment).
ASSUMPTIONS: tuple[str, ...] = (
    "schemes.{s}.budget_hkd",
    "schemes.{s}.places",
    "schemes.{s}.max_grant_hkd",
    "segments.{g}.count",
    "segments.{g}.eligible_share",
    "segments.{g}.propensity",
    "schemes.{s}.vetting.capacity",
    "schemes.{s}.vetting.review_weeks",
    "schemes.{s}.vetting.approval_probability",
    "schemes.{s}.impact.deadweight",
    "schemes.{s}.impact.gain",
)


# ------------------------------------------------------------------ page layout


@dataclass
class _Page:
    """Places blocks on the page from the top down, in inches."""

    fig: Figure
    y: float = _MARGIN  # inches from the top already used

    @property
    def width(self) -> float:
        return self.fig.get_figwidth() - 2 * _MARGIN

    def axes(self, height: float, left: float = 0.0, width: float | None = None, advance: bool = True) -> Any:
        w, h = self.fig.get_size_inches()
        width = self.width - left if width is None else width
        rect = ((_MARGIN + left) / w, 1 - (self.y + height) / h, width / w, height / h)
        if advance:
            self.y += height
        return self.fig.add_axes(rect)

    def text(
        self, text: str, size: float = _BODY, gap: float = 0.06, chars: int | None = None, **kw: Any
    ) -> None:
        """Wrapped text at the cursor (``chars`` per line); moves the cursor below it."""
        chars = chars or int(self.width * 72 / (size * 0.52))
        lines = [line for para in text.split("\n") for line in (textwrap.wrap(para, chars) or [""])]
        w, h = self.fig.get_size_inches()
        self.fig.text(
            _MARGIN / w,
            1 - self.y / h,
            "\n".join(lines),
            fontsize=size,
            va="top",
            ha="left",
            linespacing=1.35,
            **kw,
        )
        self.y += len(lines) * size * 1.35 / 72 + gap

    def heading(self, text: str) -> None:
        self.y += 0.08
        self.text(text, size=10.5, gap=0.05, fontweight="bold", color=INK)


def _table(
    ax: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    header_lines: int = 1,
    size: float = 7,
) -> None:
    """A plain table on ``ax``: bold header (``header_lines`` rows high), light bands on every other
    row, text of ``size`` points."""
    ax.set_axis_off()
    n = len(rows) + header_lines
    edges = np.concatenate([[0.0], np.cumsum(widths) / np.sum(widths)])
    for j, cell in enumerate(header):
        ax.text(
            edges[j] + 0.005,
            1 - 0.5 * header_lines / n,
            cell,
            fontsize=size,
            va="center",
            ha="left",
            fontweight="bold",
            transform=ax.transAxes,
        )
    for i, row in enumerate(rows, start=1):
        top = 1 - (i - 1 + header_lines) / n
        if i % 2 == 0:
            ax.axhspan(top - 1 / n, top, color=GREYS[3], lw=0)
        for j, cell in enumerate(row):
            ax.text(
                edges[j] + 0.005,
                top - 0.5 / n,
                cell,
                fontsize=size,
                va="center",
                ha="left",
                transform=ax.transAxes,
            )
    ax.axhline(1 - header_lines / n, color=INK, lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


# ------------------------------------------------------------------ words


def _interval(lo: float, hi: float, metric: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    if is_share(metric):
        return format_share_range(lo, hi)
    return f"{format_value(lo, metric)} to {format_value(hi, metric)}"


def _headline(reps: pd.DataFrame, below: float, follow_up: bool) -> dict[str, dict[str, pd.Series]]:
    """Headline rows by scheme and statistic key (:data:`sim.outputs.tables.HEADLINE`)."""
    head = tables.headline(reps, below, follow_up)
    return {s: {r["key"]: r for _, r in g.iterrows()} for s, g in head.groupby("scheme", sort=False)}


def _runs(share: float) -> str:
    """'every run', 'no run' or '20% of runs'."""
    return "every run" if share == 1 else "no run" if share == 0 else f"{format_share(share)} of runs"


def _typically(h: dict[str, pd.Series], key: str, start: date) -> str:
    """'; when they do, typically by May 2027' from a median week of the runs where it happens."""
    week = float(h[key]["value"])
    if not math.isfinite(week):
        return ""
    return f", typically by {start + timedelta(weeks=week):%B %Y}"


def limit_sentence(h: dict[str, pd.Series], limit: Mapping[str, float], start: date, horizon: float) -> str:
    """Which limit binds, in words: how often the places fill, how often the money runs out (only
    said where it does), and the money left unused and under-subscription otherwise."""
    places = f"the {count_words(limit['places'], 'place')}" if limit.get("places") else "the places"
    budget = f"the {format_hkd(limit['budget_hkd'])}" if limit.get("budget_hkd") else "the money"
    within = format_weeks(horizon, 0)
    fill, money = float(h["exhausted_by_places"]["value"]), float(h["exhausted_by_money"]["value"])
    if fill > 0:
        text = f"{places} fill within {within} in {_runs(fill)}{_typically(h, 'places_fill_week', start)}"
    else:
        text = f"{places} do not fill within {within} in any run"
    if money > 0:
        text += f"; {budget} runs out in {_runs(money)}{_typically(h, 'money_runs_out_week', start)}"
    unused, share = h["unused_budget_hkd"], h["unused_budget_share"]
    text += (
        f". On average {format_hkd(float(unused['value']))} of {budget} "
        f"({format_share(float(share['value']))}) is left unused "
        f"(5-95% of runs: {_interval(unused['p05'], unused['p95'], 'unused_budget_hkd')})"
    )
    under = float(h["undersubscribed"]["value"])
    if math.isfinite(under) and under > 0:
        text += f", and the scheme is under-subscribed in {_runs(under)}"
    return text + "."


def run_sentences(
    reps: pd.DataFrame,
    labels: Mapping[str, str],
    limits: Mapping[str, Mapping[str, float]],
    meta: Mapping[str, Any],
) -> list[str]:
    """The headline of each scheme in a few plain sentences: which limit binds first, then outcomes.

    Under-subscription uses the run's threshold (``undersubscribed_below`` in
    the manifest; the default if the folder predates it).
    """
    start = date.fromisoformat(str(meta.get("start_date", "2025-01-01"))[:10])
    horizon = float(meta.get("horizon_weeks", 104))
    follow_up = float(meta.get("follow_up_weeks", 0.0))
    head = _headline(reps, float(meta.get("undersubscribed_below", UNDERSUBSCRIBED_BELOW)), follow_up > 0)
    out = []
    for scheme in [s for s in labels if s in head] + [s for s in head if s not in labels]:
        h = head[scheme]
        text = f"{scheme_label(scheme, labels)}: {limit_sentence(h, limits.get(scheme, {}), start, horizon)}"
        text += turned_away_sentence(h, turn_away_words(meta, scheme))
        if "operators_funded" in h:  # an intermediary scheme: operators and start-ups (MODEL.md 6b)
            out.append(text + intermediary_sentences(h, start, horizon, follow_up))
            continue
        awarded, grant = h["awarded"], h["average_grant_hkd"]
        text += (
            f" On average {count_words(awarded['value'], 'firm')} "
            f"{agrees(awarded['value'], 'receives', 'receive')} an award "
            f"(5-95% of runs: {_interval(awarded['p05'], awarded['p95'], 'awarded')}; average grant "
            f"{format_value(grant['value'], 'average_grant_hkd')})."
        )
        text += outcome_sentences(h, start, horizon, follow_up)
        wait = h["wait_median_weeks"]
        if math.isfinite(wait["value"]):
            text += f" The typical firm waits {format_weeks(wait['value'], 0)} for a decision."
        out.append(text)
    return out


def turned_away_sentence(h: Mapping[str, pd.Series], when: str) -> str:
    """The applications a scheme turns away and when ('after its applications close on ...',
    'while it is exhausted'); nothing for a scheme that turns none away."""
    row = h.get("turned_away")
    if row is None or not float(row["value"]) >= 0.5:  # as tables.turns_away: shown as at least 1
        return ""
    count, interval = format_count(row["value"]), _interval(row["p05"], row["p95"], "turned_away")
    noun = "application is" if count == "1" else "applications are"
    return f" On average {count} {noun} turned away {when} ({interval})."


def outcome_sentences(h: Mapping[str, pd.Series], start: date, horizon: float, follow_up: float) -> str:
    """Completions and value for money, each counted to a stated date (MODEL.md: every outcome says
    which window it covers): the scheme's end and, with a follow-up, the follow-up's end, over which
    value for money is then given (the table has both)."""
    scheme_end = start + timedelta(weeks=horizon)
    done = h["completed"]["value"]
    text = f" By the scheme's end ({scheme_end:%d %B %Y}), {count_words(done, 'upgrade')} "
    text += f"{agrees(done, 'is', 'are')} complete"
    suffix = ""
    if follow_up > 0:
        suffix = FOLLOW_UP_SUFFIX
        end = start + timedelta(weeks=horizon + follow_up)
        later = format_count(h["completed" + suffix]["value"])
        text += f" and {later} by the end of the follow-up ({end:%d %B %Y})"
    extra, cost, ratio = (
        h[key + suffix] for key in ("additional_upgrades", "cost_per_additional_hkd", "benefit_cost_ratio")
    )
    text += f", of which {format_count(extra['value'])} would not have happened without the grant"
    if math.isfinite(cost["value"]):
        text += (
            f"; {'counted to then, ' if follow_up > 0 else ''}each costs "
            f"{format_value(cost['value'], 'cost_per_additional_hkd')} of public money and benefits are "
            f"{format_ratio(ratio['value'], 1)} times the public cost "
            f"({_interval(ratio['p05'], ratio['p95'], 'benefit_cost_ratio')})"
        )
    return text + "."


def intermediary_sentences(h: Mapping[str, pd.Series], start: date, horizon: float, follow_up: float) -> str:
    """An intermediary scheme's outcomes in words: operators funded, the start-ups their cohorts
    accelerate, relocate and keep alive, and the public cost per start-up, each to a stated date.
    No value-added gain is claimed for start-ups (MODEL.md 6b)."""
    funded, grant = h["operators_funded"], h["average_grant_hkd"]
    text = (
        f" On average {count_words(funded['value'], 'operator')} {agrees(funded['value'], 'is', 'are')} "
        "funded to run accelerator "
        f"programmes (5-95% of runs: {_interval(funded['p05'], funded['p95'], 'operators_funded')}; "
        f"average grant {format_value(grant['value'], 'average_grant_hkd')})."
    )
    suffix, when = "", start + timedelta(weeks=horizon)
    if follow_up > 0:
        suffix, when = FOLLOW_UP_SUFFIX, start + timedelta(weeks=horizon + follow_up)
    accelerated, relocated, surviving, follow_on, cost, per_surviving = (
        h[key + suffix]
        for key in (
            "startups_accelerated",
            "startups_relocated",
            "startups_surviving",
            "startups_follow_on",
            "cost_per_startup_hkd",
            "cost_per_surviving_startup_hkd",
        )
    )
    text += (
        f" By {when:%d %B %Y} their cohorts have accelerated {count_words(accelerated['value'], 'start-up')} "
        f"({_interval(accelerated['p05'], accelerated['p95'], 'startups_accelerated')}), "
        f"{format_count(relocated['value'])} of them relocated to Hong Kong; "
        f"{format_count(surviving['value'])} {agrees(surviving['value'], 'survives', 'survive')} and "
        f"{format_count(follow_on['value'])} {agrees(follow_on['value'], 'raises', 'raise')} "
        f"follow-on funding"
    )
    if math.isfinite(cost["value"]):
        text += (
            f". Each start-up accelerated costs {format_value(cost['value'], 'cost_per_startup_hkd')} of "
            f"public money, each surviving one {format_value(per_surviving['value'], 'cost_per_startup_hkd')}"
        )
    return text + startup_value_sentence(h.get("benefit_cost_ratio" + suffix))


def startup_value_sentence(ratio: pd.Series | None) -> str:
    """The value of the start-ups' outcomes: their benefit-cost ratio where the scenario's impact
    section gives one (R-PROGRAMME-IMPACT), else that none is claimed (never a ratio of 0)."""
    if ratio is None or not math.isfinite(ratio["value"]):
        return (
            "; no value-added gain is claimed for them: the scenario gives no impact section valuing "
            "their outcomes."
        )
    return (
        f"; valued as the scenario's impact section says, their outcomes are worth "
        f"{format_ratio(ratio['value'], 1)} times the public cost "
        f"({_interval(ratio['p05'], ratio['p95'], 'benefit_cost_ratio')})."
    )


def compare_sentences(comparison: pd.DataFrame, labels: Mapping[str, str], a: str, b: str) -> list[str]:
    """The main differences between A and B, scheme by scheme, in words."""
    out = []
    present = list(dict.fromkeys(comparison["scheme"]))
    operators = operator_schemes(comparison)
    for scheme in [s for s in labels if s in present] + [s for s in present if s not in labels]:
        rows = comparison[comparison["scheme"] == scheme]
        if scheme in operators:  # its operators and start-ups, not awards and upgrades (MODEL.md 6b)
            rows = reader_rows(rows)
        presence = str(rows["presence"].iloc[0]) if "presence" in rows.columns else "both"
        if presence != "both":
            side = a if presence == "only in A" else b
            out.append(f"{scheme_label(scheme, labels)}: only in {side} ({presence}); nothing to compare.")
            continue
        moved = rows[
            ((rows["diff_mean"].abs() > 0) | _given_in_one(rows))
            & rows["metric"].isin(figures.COMPARE_METRICS)
        ]
        if moved.empty:
            out.append(
                f"{scheme_label(scheme, labels)}: no difference between {a} and {b} in any headline number."
            )
            continue
        level = format_share(float(rows["confidence"].iloc[0]))
        parts = []
        order = compared_order(scheme in operators)
        for metric in [m for m in order if m in set(moved["metric"])][:5]:
            r = moved[moved["metric"] == metric].iloc[0]
            clear = math.isfinite(r["diff_lo"]) and (r["diff_lo"] > 0 or r["diff_hi"] < 0)
            change = (
                f"{100 * r['diff_mean']:+.0f} percentage points"
                if is_share(metric)
                else format_value(r["diff_mean"], metric, signed=True)
            )
            if not math.isfinite(r["diff_mean"]):  # given in one run only (a start-up impact section)
                change, clear = f"given only in {a if math.isfinite(r['a_mean']) else b}", True
            runs = (
                f", over the {count_words(r['n'], 'run')} where both do" if metric in SUBSET_METRICS else ""
            )
            words = compared_words(metric, scheme in operators).lower()
            parts.append(
                f"{words} {format_value(r['a_mean'], metric)} → "
                f"{format_value(r['b_mean'], metric)} ({change}{'' if clear else ', within noise'}{runs})"
            )
        out.append(
            f"{scheme_label(scheme, labels)}, from {a} to {b}: "
            + "; ".join(parts)
            + f". Differences are paired "
            f"run by run on common random numbers; 'within noise' means the {level} confidence interval "
            "of the mean difference includes zero."
        )
    return out


def compared_order(intermediary: bool) -> tuple[str, ...]:
    """The order in which a comparison's sentence names what moved: an intermediary scheme's
    operators and start-ups first, where a direct scheme's awards and upgrades come first."""
    if not intermediary:
        return figures.COMPARE_METRICS
    return COMPARED_INTERMEDIARY + tuple(m for m in figures.COMPARE_METRICS if m not in COMPARED_INTERMEDIARY)


def _given_in_one(rows: pd.DataFrame) -> pd.Series:
    """Rows of a benefit-cost ratio given in one run and not the other (an intermediary scheme whose
    start-ups only one scenario values, R-PROGRAMME-IMPACT): a difference, though not a number."""
    ratio = rows["metric"].str.startswith("benefit_cost_ratio")
    return ratio & (rows["a_mean"].isna() != rows["b_mean"].isna())


# ------------------------------------------------------------------ assumptions


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "dist" not in value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _describe(value: Any, path: str) -> str:
    """A scenario value in words: 'HK$100M', 'beta: mean 0.65, sd 0.08', '40', 'week 52: +HK$50M'."""
    if isinstance(value, list) and value and all(isinstance(c, dict) and "week" in c for c in value):
        return "; ".join(f"week {format_number(c['week'], 4)}: {change_text(c)}" for c in value)  # R-CHANGE
    if isinstance(value, dict):
        numbers = {k: v for k, v in value.items() if k != "dist" and isinstance(v, int | float)}
        money = path.endswith("_hkd")
        shown = {
            k: format_hkd(v) if money and k not in ("sigma", "sd") else format_number(v, 6)
            for k, v in numbers.items()
        }
        if value.get("dist") in ("triangular", "uniform"):  # low, (mode,) high read without names
            return f"{value['dist']}({', '.join(shown.values())})"
        return f"{value.get('dist', '?')}({', '.join(f'{k}={v}' for k, v in shown.items())})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_hkd(value) if path.endswith("_hkd") else format_number(value, 4)


def calibrated_value(source: Mapping[str, Any], path: str) -> tuple[str, str] | None:
    """(value, source) of a parameter drawn from the scenario's posterior sample, or None if it is not."""
    posterior = source.get("posterior")
    if not isinstance(posterior, dict) or path not in posterior.get("parameters", []):
        return None
    draws = count_words(int(posterior.get("draws", 0)), "draw")
    return f"posterior sample ({draws})", Path(str(posterior.get("file"))).name


def calibrated_line(source: Mapping[str, Any]) -> str:
    """The line a calibrated scenario's brief opens with (its posterior rows may sit among the
    assumptions left out for room): 'Calibrated: posterior sample of N draws from FILE covering P
    parameters.'; '' for a scenario without a posterior."""
    posterior = source.get("posterior")
    if not isinstance(posterior, dict):
        return ""
    draws = count_words(int(posterior.get("draws", 0)), "draw")
    covered = count_words(len(posterior.get("parameters", [])), "parameter")
    name = Path(str(posterior.get("file"))).name
    return f"Calibrated: posterior sample of {draws} from {name} covering {covered}."


def main_assumptions(
    folder: ResultFolder, scheme: str, templates: Sequence[str] | None = None
) -> list[tuple[str, str, str]]:
    """(parameter, value, source) of the main assumptions about ``scheme``: those of ``templates``
    (default :data:`ASSUMPTIONS`) that the scenario sets."""
    source = _flatten(folder.source)
    sourced = folder.assumptions()
    segments = folder.source.get("schemes", {}).get(scheme, {}).get("segments", [""])
    rows = []
    for template in templates or ASSUMPTIONS:
        path = template.format(s=scheme, g=segments[0])
        if path in source:
            note = sourced[path].source if path in sourced else ""
            names = {**folder.segment_labels, **folder.labels}
            label = parameter_label(path, names).removeprefix(f"{scheme_label(scheme, folder.labels)}: ")
            value, note = calibrated_value(folder.source, path) or (_describe(source[path], path), note)
            rows.append((label, value, note))
    for when, text in plots.policy_changes(folder.meta).get(scheme, []):  # dated changes (R-CHANGE)
        rows.append((f"Policy change on {when:%d %b %Y}", text, "scenario"))
    return rows


def changed_assumptions(
    a: Mapping[str, Any], b: Mapping[str, Any], texts_b: Sequence[str], labels: Mapping[str, str]
) -> list[tuple[str, str, str]]:
    """(parameter, 'A value → B value', source) of every scenario value that differs.

    The source is the comment on the line in B's files, else B's description.
    """
    fa, fb = _flatten(a), _flatten(b)
    sourced = sourced_defaults(list(texts_b))
    rows = []
    for path in sorted(set(fa) | set(fb)):
        if path in ("name", "description") or fa.get(path) == fb.get(path):
            continue
        was = _describe(fa[path], path) if path in fa else "(not set)"
        now = _describe(fb[path], path) if path in fb else "(not set)"
        note = sourced[path].source if path in sourced else ""
        rows.append((parameter_label(path, labels), f"{was} → {now}", note or str(b.get("description", ""))))
    return rows


# ------------------------------------------------------------------ the page


def _title_block(page: _Page, title: str, subtitle: str) -> None:
    page.text(title, size=15, gap=0.04, fontweight="bold", color="#111111", chars=70)
    page.text(subtitle, size=8.5, gap=0.1, color=FOOTER_COLOR)


#: Inches kept free below the assumptions table: the line naming the scenario file, and the footer
#: (0.25 inches from the bottom of the page).
_BELOW_TABLE = 0.62


def _assumption_table(page: _Page, rows: Sequence[tuple[str, str, str]]) -> None:
    """The assumptions, as many as fit above the page's last line (the rest are named as a count:
    every value is in the scenario file that the last line names)."""
    if not rows:
        page.text("(no sourced defaults recorded in this result folder)", size=7.5)
        return
    fit = int((page.fig.get_figheight() - _BELOW_TABLE - page.y) / _ROW) - 1
    if len(rows) > fit:
        rows = [
            *rows[: max(fit - 1, 0)],
            (f"... and {len(rows) - max(fit - 1, 0)} more", "", "in the scenario file"),
        ]
    wrapped = [(p, v, textwrap.shorten(s or "-", 62, placeholder="...")) for p, v, s in rows]
    _table(
        page.axes(_ROW * (len(rows) + 1)), ["Parameter", "Value", "Source or basis"], wrapped, (2.9, 2.8, 4.3)
    )


def _main_scheme(folder: ResultFolder, reps: pd.DataFrame) -> str:
    present = list(dict.fromkeys(reps["scheme"]))
    return next((s for s in folder.labels if s in present), present[0])


def _headline_rows(
    reps: pd.DataFrame, schemes: Sequence[str], below: float, follow_up: bool
) -> list[list[str]]:
    """The brief's headline table: one row per number of :data:`_BRIEF_ROWS`, one 'value (range)'
    column per scheme.

    The rows on the money running out are left out when it runs out in no
    run of any scheme shown ("the money runs out" is said only where it does).
    """
    head = tables.headline(reps, below, follow_up)
    shown = head[head["scheme"].isin(schemes)]
    money_binds = (shown.loc[shown["key"] == "exhausted_by_money", "value"] > 0).any()
    rows = []
    # direct schemes' rows, then an intermediary's own (MODEL.md 6b); '-' where a scheme has none
    every = {row.key: row for row in tables.HEADLINE + tables.INTERMEDIARY_HEADLINE}
    for row in every.values():
        if row.key not in _BRIEF_ROWS or (row.key in tables.MONEY_ROWS and not money_binds):
            continue
        if row.key not in set(shown["key"]):  # an outcome by the end of the follow-up, without one
            continue
        cells = []
        for s in schemes:
            found = head[(head["scheme"] == s) & (head["key"] == row.key)]
            cells.append(_headline_cell(found.iloc[0], row) if len(found) else "-")
        rows.append([row.label, *cells])
    return rows


def _headline_cell(r: pd.Series, row: tables.HeadlineRow) -> str:
    """'value  (range)' of one headline number; 'never' for a week of runs where it never happens."""
    value = "never" if row.given is not None and r["n"] == 0 else format_value(r["value"], row.metric)
    interval = _interval(r["p05"], r["p95"], row.metric).replace(" weeks", "")
    if interval and row.statistic == "share":  # the confidence interval of a share, not a range
        interval = f"{SHARE_INTERVAL_MARK} {interval}"
    return f"{value}  ({interval})" if interval else value


#: Headline numbers the brief's table shows (awards, applications turned away, upgrades completed
#: and additional upgrades are in its sentences, with their ranges).
_BRIEF_ROWS = frozenset(row.key for row in tables.HEADLINE + tables.INTERMEDIARY_HEADLINE) - {
    "operators_funded",
    "cost_per_surviving_startup_hkd",
    *(
        key + suffix
        for key in (
            "operator_paid_hkd",
            "startups_accelerated",
            "startups_relocated",
            "startups_surviving",
            "startups_follow_on",
        )
        for suffix in ("", FOLLOW_UP_SUFFIX)
    ),
    "awarded",
    "turned_away",
    *(
        key + suffix
        for key in ("paid_hkd", "completed", "additional_upgrades")
        for suffix in ("", FOLLOW_UP_SUFFIX)
    ),
}


#: Title of the brief's panel on which limit binds (the full figure's title, shortened to fit).
_LIMIT_PANEL = "Which limit binds, and when?"


def _small_axes(ax: Any, title: str, xlabel: str, ylabel: str = "") -> None:
    ax.set_title(title, fontsize=8, loc="left")
    ax.set_xlabel(xlabel, fontsize=7)
    ax.set_ylabel(ylabel, fontsize=7)
    ax.tick_params(labelsize=6.5)
    for text in ax.texts:
        text.set_fontsize(min(text.get_fontsize(), 6.5))
    legend = ax.get_legend()
    if legend is not None and legend.get_texts() and "in that" in legend.get_texts()[0].get_text():
        legend.remove()


def _run_figures(page: _Page, folder: ResultFolder, scheme: str, schemes: Sequence[str]) -> None:
    """Money paid over time and which limit binds when (main scheme); value for money (every scheme)."""
    reps, series, labels, limits, meta = (
        folder.table("replications"),
        folder.table("timeseries"),
        folder.labels,
        folder.limits,
        folder.meta,
    )
    whole = reps[reps["segment"] == "all"]
    half = page.width / 2
    budget = limits.get(scheme, {}).get("budget_hkd")
    page.y += 0.25  # panel titles
    ax = page.axes(1.75, left=0.6, width=half - 0.8, advance=False)
    frame = series[(series["scheme"] == scheme) & (series["series"] == "paid_hkd")]
    steps = None if budget is None else limit_steps(meta, scheme, "budget_hkd", budget)
    plots.draw_fan(ax, frame, "paid_hkd", steps, plots.scheme_end(meta))
    plots.mark_timeline(ax, meta, scheme)
    _small_axes(
        ax, f"{scheme_label(scheme, labels)}: money paid (median, 50% and 90% of runs)", "date", "HK$ paid"
    )
    ax = page.axes(1.75, left=half + 0.55, width=half - 0.55)
    start = date.fromisoformat(str(meta["start_date"])[:10])
    plots.draw_exhaustion(ax, whole[whole["scheme"] == scheme], start, float(meta["horizon_weeks"]))
    _small_axes(ax, _LIMIT_PANEL, "date (dotted: end of horizon)", "share of runs")
    page.y += 0.6
    groups = [(scheme_label(s, labels), whole[whole["scheme"] == s]) for s in schemes]
    # upgrades' value for money is a direct scheme's (an intermediary's is in the table, per start-up)
    groups = [g for g in groups if not tables.is_intermediary(g[1])] or groups
    # value for money over the longest window counted: to the end of the follow-up if there is one
    follow_up = float(meta.get("follow_up_weeks", 0.0)) > 0
    suffix, when = (FOLLOW_UP_SUFFIX, "by follow-up end") if follow_up else ("", "by scheme end")
    height = 0.25 * max(len(groups), 2) + 0.2  # a bar per scheme drawn (at least two bars' room)
    ax = page.axes(height, left=1.15, width=half - 1.35, advance=False)
    cost = "cost_per_additional_hkd"
    plots.draw_intervals(ax, [(n, g[cost + suffix]) for n, g in groups], cost, False)
    ax.xaxis.set_major_locator(MaxNLocator(4))  # HK$ ticks on a narrow panel would run together
    _small_axes(ax, metric_label(cost + suffix), "HK$ per upgrade (diamond: mean; bars: 50%, 90% of runs)")
    ax = page.axes(height, left=half + 1.1, width=half - 1.1)
    ratio = "benefit_cost_ratio"
    plots.draw_intervals(ax, [(n, g[ratio + suffix]) for n, g in groups], ratio, False)
    ax.axvline(1.0, color="black", ls="--", lw=0.8)
    ax.set_xlim(0, max(ax.get_xlim()[1], 1.2))
    _small_axes(ax, metric_label(ratio + suffix), f"{metric_unit(ratio)} (dashed: benefits = costs)")
    page.y += 0.45


def _run_page(page: _Page, folder: ResultFolder) -> None:
    reps, labels, meta = folder.table("replications"), folder.labels, folder.meta
    scheme = _main_scheme(folder, reps)
    schemes = [s for s in labels if s in set(reps["scheme"])]
    start = date.fromisoformat(str(meta["start_date"])[:10])
    _title_block(
        page,
        f"What the {folder.name} scenario shows",
        f"{folder.description}. Simulated over {_period_words(meta)} "
        f"from {start:%d %B %Y}, {count_words(int(meta['replications']), 'run')}; "
        f"in brackets, {INTERVAL_NOTE}.",
    )
    calibrated = calibrated_line(folder.source)
    if calibrated:
        page.text(calibrated, size=8.5, gap=0.1, fontweight="bold", color=INK)
    page.heading("The headline")
    sentences = run_sentences(reps, labels, folder.limits, meta)
    size = _sentence_size(page, sentences)
    for sentence in sentences:
        page.text(sentence, size=size, gap=0.06)
    page.y += 0.04
    header = ["", *(scheme_label(s, labels) for s in schemes)]  # what brackets hold: the subtitle
    below = float(meta.get("undersubscribed_below", UNDERSUBSCRIBED_BELOW))
    rows = _headline_rows(reps, schemes, below, float(meta.get("follow_up_weeks", 0.0)) > 0)
    widths, size = fitted_columns([header, *rows], page.width)
    row = max(0.11, _ROW * size / 7.0)  # rows as high as their text needs
    _table(page.axes(row * (len(rows) + 1)), header, rows, widths, size=size)
    page.heading("Key figures")
    _run_figures(page, folder, scheme, schemes)
    page.heading(f"Main assumptions about {scheme_label(scheme, labels)}")
    _assumption_table(page, main_assumptions(folder, scheme))
    page.text(f"Every value and its source: {meta.get('scenario_path', 'the scenario file')}.", size=7, gap=0)


#: Width of a character of the brief's tables, in points per point of font size (DejaVu Sans's
#: digits and capitals are about 0.6 em; a little room is kept between columns).
_CHAR_EM = 0.6


def fitted_columns(
    cells: Sequence[Sequence[str]], width: float, largest: float = 7.0
) -> tuple[list[float], float]:
    """Column widths (inches) in proportion to each column's longest line, and the largest font size
    up to ``largest`` points at which every column fits in ``width`` inches (no cell runs into the
    next column)."""
    chars = [
        max(len(line) for row in cells for line in (str(row[j]).split("\n") or [""])) + 2
        for j in range(len(cells[0]))
    ]
    size = min(largest, width * 72 / (sum(chars) * _CHAR_EM))
    return [c * size * _CHAR_EM / 72 for c in chars], size


#: Most height the headline sentences take (inches): with many schemes they are set smaller, down to
#: :data:`_SMALLEST_SENTENCE` points, so that the main scheme's assumptions keep their room.
_SENTENCE_ROOM = 2.1
_SMALLEST_SENTENCE = 6.5


def _sentence_size(page: _Page, sentences: Sequence[str]) -> float:
    """The largest font size (8 points down to :data:`_SMALLEST_SENTENCE`) at which the headline
    sentences fit in :data:`_SENTENCE_ROOM` inches."""
    for size in (8.0, 7.5, 7.0, _SMALLEST_SENTENCE):
        chars = int(page.width * 72 / (size * 0.52))
        lines = sum(len(textwrap.wrap(s, chars) or [""]) for s in sentences)
        if lines * size * 1.35 / 72 + 0.06 * len(sentences) <= _SENTENCE_ROOM:
            return size
    return _SMALLEST_SENTENCE


def _period_words(meta: Mapping[str, Any]) -> str:
    """'104 weeks' or '104 weeks and a follow-up of 104 weeks' (the windows outcomes are counted over)."""
    text = format_weeks(float(meta["horizon_weeks"]), 0)
    follow_up = float(meta.get("follow_up_weeks", 0.0))
    return text + (f" and a follow-up of {format_weeks(follow_up, 0)}" if follow_up > 0 else "")


def _comparison_of(folder: ResultFolder, other: ResultFolder | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The comparison table and a manifest-like dict, from a compare folder or from two runs."""
    if folder.kind == "compare":
        return _compare_folder_table(folder), dict(folder.meta)
    if other is None or other.kind != "run" or folder.kind != "run":
        raise FolderError(
            "a comparison brief needs a compare folder, or two run folders (RESULTS_DIR --compare OTHER)"
        )
    from sim.experiments.compare import CONFIDENCE, check_aligned, compared_metrics, paired_differences

    a, b = folder.meta, other.meta
    check_aligned(folder.source or a, other.source or b, (f"A ({folder.path})", f"B ({other.path})"))
    paired = a.get("seed") == b.get("seed") and a.get("engine") == b.get("engine")
    metrics = compared_metrics(float(a.get("follow_up_weeks", 0.0)) > 0)
    table = paired_differences(folder.table("replications"), other.table("replications"), metrics, CONFIDENCE)
    if not paired:  # different random numbers: only the unpaired interval is honest
        table["diff_lo"], table["diff_hi"] = table["unpaired_lo"], table["unpaired_hi"]
    meta = {
        "kind": "compare",
        "scenario_a": a.get("scenario"),
        "scenario_b": b.get("scenario"),
        "scenario_hash_a": a.get("scenario_hash"),
        "scenario_hash_b": b.get("scenario_hash"),
        "seed": a.get("seed") if paired else f"{a.get('seed')} / {b.get('seed')}",
        "replications": min(int(a.get("replications", 0)), int(b.get("replications", 0))),
        "engine": a.get("engine"),
        "date": max(str(a.get("date", "")), str(b.get("date", ""))),
        "paired": paired,
        "replication_note": replication_note(int(a.get("replications", 0)), int(b.get("replications", 0))),
    }
    return table, meta


def _compare_folder_table(folder: ResultFolder) -> pd.DataFrame:
    """A compare folder's table; recomputed from its replications if it was written before the
    table had the spread of the per-run difference and the share of runs where B is better."""
    from sim.experiments.compare import COLUMNS, paired_differences

    table = folder.table("comparison")
    if set(COLUMNS) <= set(table.columns) or not folder.has("replications_a.parquet"):
        return table
    a, b = folder.table("replications_a"), folder.table("replications_b")
    level = float(table["confidence"].iloc[0]) if len(table) else 0.95
    metrics = list(dict.fromkeys(table["metric"]))
    return paired_differences(a, b, metrics, level, list(dict.fromkeys(table["scheme"])))


def _sources(
    folder: ResultFolder, other: ResultFolder | None
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    if folder.kind == "compare":
        m = folder.meta
        return (
            m.get("scenario_source_a") or {},
            m.get("scenario_source_b") or {},
            list((m.get("scenario_texts_b") or {}).values()),
        )
    assert other is not None
    return folder.source, other.source, list((other.meta.get("scenario_texts") or {}).values())


def _ordered(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows a comparison shows on its one page, in order (:func:`figures.compared_rows`),
    without the week a limit binds where it binds in no run of A or B.

    With a follow-up, outcomes that accrue are shown counted to its end only (labelled so; the
    comparison table written by ``compare`` has them by the scheme's end too)."""
    rows = figures.compared_rows(rows)
    never = rows["metric"].isin(SUBSET_METRICS) & rows["a_mean"].isna() & rows["b_mean"].isna()
    later = {
        str(m).removesuffix(FOLLOW_UP_SUFFIX) for m in rows["metric"] if str(m).endswith(FOLLOW_UP_SUFFIX)
    }
    return rows[~never & ~rows["metric"].isin(later)]


def _compare_labels(folder: ResultFolder, other: ResultFolder | None) -> dict[str, str]:
    if folder.labels:
        return folder.labels
    return other.labels if other is not None else {}


def _compare_figures(
    page: _Page,
    mine: pd.DataFrame,
    scheme: str,
    names: tuple[str, str],
    level: str,
    folder: ResultFolder,
    other: ResultFolder | None,
    labels: Mapping[str, str],
) -> None:
    """The paired differences of the main scheme, and which of its limits binds when, under A and B."""
    rows = _ordered(mine)
    rows = rows[~rows["metric"].isin(SUBSET_METRICS)]  # in the table, over the runs where both bind
    height = 0.16 * len(rows) + 0.3
    page.y += 0.25
    ax = page.axes(height, left=2.0, width=page.width - 2.0 - 1.75)
    figures.draw_differences(ax, rows)
    _small_axes(
        ax,
        f"{scheme_label(scheme, labels)}: change from A to B (dot: mean; bar: {level} paired "
        "interval; band: unpaired)",
        "change from A to B (% of A; share of runs: percentage points)",
    )
    ax.tick_params(labelsize=6)
    page.y += 0.55
    pair = _replication_pair(folder, other)
    if pair is not None:
        ax = page.axes(1.25, left=0.5, width=page.width - 0.5)
        _draw_exhaustion_pair(ax, pair, scheme, names, folder, other)
        page.y += 0.4


def _compare_page(page: _Page, folder: ResultFolder, other: ResultFolder | None) -> dict[str, Any]:
    comparison, meta = _comparison_of(folder, other)
    labels = _compare_labels(folder, other)
    a, b = str(meta.get("scenario_a", "A")), str(meta.get("scenario_b", "B"))
    source_a, source_b, texts_b = _sources(folder, other)
    level = format_share(float(comparison["confidence"].iloc[0]))
    _title_block(
        page,
        f"What changes from {a} to {b}?",
        f"A: {source_a.get('description', a)}. B: {source_b.get('description', b)}. "
        f"{count_words(int(meta.get('replications') or 0), 'run')} each; intervals are {level}.",
    )
    page.heading("The headline")
    for sentence in compare_sentences(comparison, labels, a, b):
        page.text(sentence, size=8, gap=0.06)
    if not meta.get("paired", True):
        page.text("The two runs used different seeds, so intervals are unpaired (wider).", size=7.5)
    if meta.get("replication_note"):
        page.text(str(meta["replication_note"]), size=7.5)
    changed = [s for s, g in comparison.groupby("scheme", sort=False) if (g["diff_mean"].abs() > 0).any()]
    present = [s for s in labels if s in set(comparison["scheme"])] or list(
        dict.fromkeys(comparison["scheme"])
    )
    scheme = next((s for s in present if s in changed), present[0])
    mine = comparison[comparison["scheme"] == scheme]
    _comparison_table(page, mine, scheme_label(scheme, labels), level)
    page.heading("Key figures")
    _compare_figures(page, mine, scheme, (a, b), level, folder, other, labels)
    page.heading("What differs between the scenarios")
    _assumption_table(page, changed_assumptions(source_a, source_b, texts_b, labels)[:10])
    return meta


def _comparison_table(page: _Page, rows: pd.DataFrame, scheme: str, level: str) -> None:
    """A, B, the mean difference with its confidence interval (precision), the range of the per-run
    difference (spread) and how often B is better, with a note saying which is which."""
    operators = operator_schemes(rows)
    cells = [reader_cells(r, r["scheme"] in operators) for _, r in _ordered(rows).iterrows()]
    header = [scheme] + [
        textwrap.fill(compare_header(key, level), width)
        for key, width in (("a", 8), ("b", 8), ("diff", 36), ("spread", 22), ("better", 14))
    ]
    page.y += 0.04
    widths, size = fitted_columns([header, *cells], page.width, largest=6.0)  # no cell runs into the next
    _table(page.axes(_ROW * (len(cells) + 2)), header, cells, widths, header_lines=2, size=size)
    page.text(COMPARE_NOTE, size=6.5, gap=0.02)


def _replication_pair(
    folder: ResultFolder, other: ResultFolder | None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    if folder.kind == "compare":
        if folder.has("replications_a.parquet") and folder.has("replications_b.parquet"):
            return folder.table("replications_a"), folder.table("replications_b")
        return None
    assert other is not None
    return folder.table("replications"), other.table("replications")


def _draw_exhaustion_pair(
    ax: Any,
    pair: tuple[pd.DataFrame, pd.DataFrame],
    scheme: str,
    names: tuple[str, str],
    folder: ResultFolder,
    other: ResultFolder | None,
) -> None:
    """Share of runs in which the places have filled, and (where it happens) the money has run out,
    by week, for A and B."""
    source = folder.source or (other.source if other else {})
    horizon = float(source.get("horizon_weeks", folder.meta.get("horizon_weeks", 104)))
    for k, (name, table) in enumerate(zip((f"A: {names[0]}", f"B: {names[1]}"), pair, strict=True)):
        rows = table[(table["scheme"] == scheme) & (table["segment"] == "all")]
        for limit, (words, dash) in _PAIR_LIMITS.items():
            profile = tables.exhaustion_profile(plots.limit_weeks(rows)[limit], horizon)
            if limit == "exhausted_by_money" and profile.never == 1.0:
                continue  # the money is named only where it runs out
            style = {"color": INK if k == 0 else GREYS[1], "ls": dash}
            share = format_share(1 - profile.never)
            label = f"{name}: {words} in {share} of runs by week {format_count(horizon)}"
            ax.step(profile.weeks, profile.cumulative, where="post", lw=1.6 - 0.4 * k, label=label, **style)
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.05)
    percent_axis(ax.yaxis)
    ax.legend(fontsize=6.5, frameon=False, loc="upper left")
    style_axes(ax)
    _small_axes(ax, f"{_LIMIT_PANEL} A against B", "weeks from the start date", "runs where it has (%)")


#: Limits drawn by :func:`_draw_exhaustion_pair`: words and line style (solid places, dashed money).
_PAIR_LIMITS: dict[str, tuple[str, str]] = {
    "exhausted_by_places": ("places fill", "-"),
    "exhausted_by_money": ("money runs out", "--"),
}


def brief_figure(folder: ResultFolder, other: ResultFolder | None = None) -> Figure:
    """The brief as one A4 Figure: a run's brief, or a comparison's."""
    fig = Figure(figsize=A4)
    fig.set_facecolor("white")
    page = _Page(fig)
    if folder.kind == "compare" or other is not None:
        meta = _compare_page(page, folder, other)
    elif folder.kind == "run":
        _run_page(page, folder)
        meta = folder.meta
    elif folder.kind == "nowcast":
        from sim.outputs.nowcast_brief import nowcast_folder_brief  # the "as at" brief

        return nowcast_folder_brief(folder)
    elif folder.kind == "value-of-information":
        from sim.outputs.voi_brief import voi_page

        meta = voi_page(page, folder)
    else:
        raise FolderError(
            f"{folder.path}: a brief is made from a run, a comparison, a nowcast or a value of information, "
            f"not a {folder.kind} folder; "
            + (
                "its figures are in it"
                if folder.kind in ("calibrate", "discover")
                else "use 'schemesim plot' for its figures"
            )
        )
    add_footer(fig, meta)
    for text in fig.texts[-1:]:
        text.set_position((_MARGIN / A4[0], 0.25 / A4[1]))
    return fig


def _save_pages(pages: Sequence[Figure], path: Path, meta: dict[str, str]) -> None:
    """Write the brief's pages to one PDF (one page unless an optional page was asked for)."""
    if len(pages) == 1:
        pages[0].savefig(path, format="pdf", metadata=meta)
        return
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path, metadata=meta) as pdf:
        for page in pages:
            pdf.savefig(page)


def compared_replications(path: str | Path, other: str | Path) -> str | None:
    """What a brief of run ``path`` compared with run ``other`` does when their replication counts
    differ (see :func:`sim.outputs.experiments.replication_note`); None when they agree."""
    a, b = read_folder(path).meta, read_folder(other).meta
    return replication_note(int(a.get("replications", 0)), int(b.get("replications", 0)))


def write_brief(
    path: str | Path,
    compare: str | Path | None = None,
    out: str | Path | None = None,
    force: bool = False,
    discovery: str | Path | None = None,
    value_of_information: str | Path | None = None,
) -> Path:
    """Write ``brief.pdf`` (one A4 page) for a result folder, optionally compared with another run;
    with ``discovery`` (a folder ``discover`` made from this run) a second page on which
    assumptions decide its condition (:mod:`sim.outputs.discover_brief`); with
    ``value_of_information`` (a folder ``value-of-information`` made) a page on what is worth
    learning before choosing (:mod:`sim.outputs.voi_brief`).

    An existing file of that name that the tool did not write is refused before
    anything is drawn, unless ``force`` (see :mod:`sim.outputs.outfiles`).
    """
    folder = read_folder(path)
    other = read_folder(compare) if compare is not None else None
    pages = []
    if discovery is not None:
        from sim.outputs.discover_brief import discovery_page, read_discovery

        pages.append(discovery_page(read_discovery(discovery, folder), A4))
    if value_of_information is not None:
        from sim.outputs.voi_brief import read_value_of_information

        pages.append(brief_figure(read_value_of_information(value_of_information)))
    target = (
        Path(out)
        if out is not None
        else folder.path / ("brief.pdf" if other is None else f"brief-vs-{other.path.name}.pdf")
    )
    outfiles.check_targets([target], folder.path, force)
    fig = brief_figure(folder, other)
    if folder.kind == "run" and other is None:  # every scheme's key figures and assumptions
        from sim.outputs.brief_schemes import scheme_pages

        pages[:0] = scheme_pages(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    title = fig.texts[0].get_text() if fig.texts else "schemesim brief"
    meta = {"Title": title, "Creator": "schemesim"}
    outfiles.write_file(target, lambda tmp: _save_pages([fig, *pages], tmp, meta))
    store.record_derived(folder.path, [target, outfiles.record_of(target)])
    return target
