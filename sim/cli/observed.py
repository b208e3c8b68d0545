"""Commands for observed data: ``schemesim observed check SCENARIO OBSERVED.csv``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.app import _fail, _load, app, out
from sim.spec.observations import (
    COUNT_QUANTITIES,
    ObservedData,
    ObservedDataError,
    last_observable_day,
    read_observed,
)

observed_app = typer.Typer(
    no_args_is_help=True,
    help="Observed data: dated cumulative figures per scheme (CSV), checked against a scenario.",
)
app.add_typer(observed_app, name="observed")


@observed_app.command("check")
def check(
    scenario: Annotated[Path, typer.Argument(help="Scenario file the observations are compared with.")],
    observed: Annotated[Path, typer.Argument(help="Observed-data file (CSV).")],
) -> None:
    """Check an observed-data file against a scenario and list its observations; exit code 2 if wrong."""
    loaded = _load(scenario)
    try:
        data = read_observed(observed, loaded.scenario)
    except ObservedDataError as problem:
        raise _fail(str(problem)) from None
    first, last = loaded.scenario.start_date, last_observable_day(loaded.scenario)
    count = f"{len(data)} observation{'' if len(data) == 1 else 's'}"
    out.print(
        escape(f"{observed}: ok, {count} against {loaded.name} ({first} to {last})"),
        highlight=False,
        soft_wrap=True,
    )
    out.print(escape(observations_table(data)), highlight=False, soft_wrap=True)


#: Columns of the printed table, and whether each is right-aligned.
_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("scheme", False),
    ("date", False),
    ("week", True),
    ("quantity", False),
    ("value", True),
    ("bound", False),
    ("row", True),
)


def observations_table(data: ObservedData) -> str:
    """The observations as plain aligned text (never cut to the terminal's width): scheme, date,
    week of the simulated grid, quantity, value, bound (an approximate figure's tolerance) and row."""
    rows = [[name for name, _ in _COLUMNS]]
    for o in data.observations:
        bound = f"approx {o.tolerance:.0%}" if o.bound == "approx" else o.bound
        value = f"{o.value:,.0f}" if o.quantity in COUNT_QUANTITIES else f"HK${o.value:,.0f}"
        rows.append([o.scheme, str(o.day), str(o.week), o.quantity, value, bound, str(o.row)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(
            cell.rjust(w) if right else cell.ljust(w)
            for cell, w, (_, right) in zip(r, widths, _COLUMNS, strict=True)
        ).rstrip()
        for r in rows
    ]
    return "\n".join(lines)
