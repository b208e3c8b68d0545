"""The shared pieces of the command line: the Typer app, consoles, errors, progress."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.spec.loader import LoadedScenario, ScenarioError, load_scenario

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    help="Simulate the impact of public support schemes on firms (Monte Carlo, SimPy and numpy engines).",
)
out = Console()
err = Console(stderr=True)

#: Exit code for a scenario or argument the user must fix.
EXIT_BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _load(path: Path) -> LoadedScenario:
    try:
        return load_scenario(path)
    except ScenarioError as problem:
        raise _fail(str(problem)) from None


def _check_out(folder: Path | None) -> None:
    """Refuse, before any work, an --out that exists and is not a result folder."""
    from sim.outputs.store import OutputFolderError, check_replaceable

    if folder is not None:
        try:
            check_replaceable(folder)
        except OutputFolderError as problem:
            raise _fail(f"--out: {problem}") from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _fmt(value: float, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if metric.endswith("_hkd"):
        from sim.outputs.style import format_hkd

        return format_hkd(value, 0 if abs(value) < 1e6 else 2 if abs(value) < 1e7 else 1)
    if metric == "exhausted":
        return f"{100 * value:.{1 if value < 0.1 else 0}f}%"
    if metric == "benefit_cost_ratio" or metric.endswith("_weeks") or metric == "exhaustion_week":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def print_headline(table, labels: dict[str, str], title: str) -> None:
    """The closing table: each headline number with its 90% interval."""
    from sim.outputs.tables import headline

    head = headline(table)
    for scheme in [s for s in labels if s in set(head["scheme"])]:
        rows = head[head["scheme"] == scheme]
        t = Table(title=f"{title}: {labels.get(scheme, scheme)}", title_justify="left")
        t.add_column("")
        t.add_column("value", justify="right")
        t.add_column("90% interval", justify="right")
        for _, row in rows.iterrows():
            interval = "-"
            if math.isfinite(row["p05"]):
                interval = f"{_fmt(row['p05'], row['metric'])} - {_fmt(row['p95'], row['metric'])}"
            value = _fmt(row["value"], row["metric"])
            if row["statistic"] == "median" and row["metric"] == "exhaustion_week" and row["n"] == 0:
                value = "never"
            t.add_row(row["label"], value, interval)
        out.print(t)
