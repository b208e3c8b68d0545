"""The shared pieces of the command line: the Typer app, consoles, errors, progress."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Annotated

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

from sim.engines.limits import UNDERSUBSCRIBED_BELOW
from sim.spec.loader import LoadedScenario, ScenarioError, load_scenario
from sim.spec.reading import ALLOW_OUTSIDE_ENV

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
    """Refuse, before any work, an --out that is not ours to replace or cannot be written.

    First restores or cleans what an interrupted replace of that folder left
    (so the check sees the previous result, not debris); without --out the
    results folder is checked for writability.
    """
    from sim.outputs.store import RESULTS, FolderError, check_replaceable, check_writable, recover

    try:
        if folder is None:
            check_writable(RESULTS)
            return
        recover(folder)
        check_replaceable(folder)
        check_writable(folder)
    except FolderError as problem:
        raise _fail(f"--out: {problem}") from None
    except OSError as problem:
        raise _fail(f"--out: {folder}: cannot be used ({problem.strerror})") from None


@app.callback()
def _start(
    allow_outside: Annotated[
        bool,
        typer.Option(
            "--allow-outside",
            help="Let extends and a sweep's base name files outside the project folder of the file named.",
        ),
    ] = False,
) -> None:
    """Simulate the impact of public support schemes on firms (Monte Carlo, SimPy and numpy engines)."""
    if allow_outside:  # read by the loader here and in worker processes, which inherit it
        os.environ[ALLOW_OUTSIDE_ENV] = "1"
    _recover_results()


def _recover_results() -> None:
    """On start, restore or clean what interrupted replaces left, under results/ or beside any
    --out folder noted in the temporary folder (see ``store.recover``)."""
    from sim.outputs.store import RESULTS, recover_journaled, recover_root

    try:
        recover_journaled()
        recover_root(RESULTS)
    except OSError as problem:  # a results folder we cannot tidy is reported when it is written
        err.print(f"warning: {RESULTS}: could not tidy interrupted results ({problem.strerror})")


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
    """A headline cell, formatted by the one number formatter (:func:`sim.outputs.numbers.format_cell`)."""
    from sim.outputs.numbers import format_cell

    return format_cell(value, metric)


def print_headline(
    table,
    labels: dict[str, str],
    title: str,
    undersubscribed_below: float = UNDERSUBSCRIBED_BELOW,
    follow_up: bool = False,
) -> None:
    """The closing table: each headline number with its range over runs, or a share of runs with
    its confidence interval (:data:`~sim.outputs.labels.INTERVAL_WORDS`; under-subscription at the
    given share of the budget committed, ``run --undersubscribed-below``; outcomes by the end of
    the follow-up too if there is one)."""
    from sim.outputs.labels import INTERVAL_NOTE, SHARE_INTERVAL_MARK
    from sim.outputs.tables import headline, headline_shown

    head = headline_shown(headline(table, undersubscribed_below, follow_up))
    for scheme in [s for s in labels if s in set(head["scheme"])]:
        rows = head[head["scheme"] == scheme]
        t = Table(title=f"{title}: {labels.get(scheme, scheme)}", title_justify="left")
        t.add_column("")
        t.add_column("value", justify="right")
        t.add_column("range", justify="right")
        for _, row in rows.iterrows():
            interval = "-"
            if math.isfinite(row["p05"]):
                interval = f"{_fmt(row['p05'], row['metric'])} - {_fmt(row['p95'], row['metric'])}"
                if row["statistic"] == "share":
                    interval = f"{SHARE_INTERVAL_MARK} {interval}"
            value = _fmt(row["value"], row["metric"])
            if row["statistic"] == "median" and row["metric"] == "exhaustion_week" and row["n"] == 0:
                value = "never"
            t.add_row(row["label"], value, interval)
        t.caption = INTERVAL_NOTE[0].upper() + INTERVAL_NOTE[1:] + "."
        t.caption_justify = "left"
        out.print(t)
