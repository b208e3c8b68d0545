"""``schemesim backtest SCENARIO OBSERVED.csv --cut DATE``: calibrate on the figures up to a date,
forecast the later ones, and say whether each interval contains the published figure."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.app import _fail, _load, _progress, app, err, out
from sim.cli.experiments import Dispersion, Workers, check_memory
from sim.cli.faults import refusals

if TYPE_CHECKING:
    from sim.experiments.backtest import Backtest

#: Prior replications of a backtest unless asked otherwise.
BACKTEST_REPLICATIONS = 20_000


@app.command()
def backtest(
    scenario: Annotated[Path, typer.Argument(help="Scenario whose distributions are the priors.")],
    observed: Annotated[
        Path, typer.Argument(help="Observed-data file (CSV) with figures on both sides of the cut.")
    ],
    cut: Annotated[str, typer.Option(help="Calibrate on figures dated up to this day (YYYY-MM-DD).")],
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=2, help="Prior replications to weight.")
    ] = BACKTEST_REPLICATIONS,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Workers = 0,
    dispersion: Dispersion = 100.0,
) -> None:
    """Calibrate on the figures up to --cut, forecast every later figure (50% and 90% intervals)."""
    from sim.experiments.backtest import BacktestError, run_backtest
    from sim.experiments.calibrate import CalibrationError
    from sim.experiments.observed import ObservationModel
    from sim.experiments.pipeline import Execution
    from sim.spec.observations import ObservedDataError, read_observed

    loaded = _load(scenario)
    try:
        day = date.fromisoformat(cut)
    except ValueError:
        raise _fail(f"--cut: must be a date YYYY-MM-DD (got {cut!r})") from None
    try:
        data = read_observed(observed, loaded.scenario)
    except ObservedDataError as problem:
        raise _fail(str(problem)) from None
    check_memory("batch", [loaded], seed, replications, Execution(workers or None))
    with refusals(), _progress() as bar:
        task = bar.add_task(f"backtest {loaded.name}", total=replications)
        execution = Execution(workers or None, progress=lambda n: bar.advance(task, n))
        try:
            model = ObservationModel(dispersion=dispersion)
            result = run_backtest(loaded.scenario, data, day, replications, seed, execution, model)
        except (BacktestError, CalibrationError) as problem:
            raise _fail(f"{observed}: {problem}") from None
    print_backtest(loaded.name, result)


def print_backtest(name: str, result: Backtest) -> None:
    """The forecasts as one table (median, 50% and 90% intervals of the reported figure, whether the
    published one is inside the 90% interval, and the 90% interval of the simulated value alone),
    then one line per figure (inside its 90% interval or outside) and one counting them."""
    fitted = ", ".join(f"{o.quantity} {o.value:,.0f} ({o.day:%b %Y})" for o in result.fitted.observations)
    t = Table(
        title=f"{name}: calibrated on the figures up to {result.cut:%d %b %Y}: {fitted}",
        title_justify="left",
    )
    for column in ("figure", "date", "observed", "median", "50%", "90%", "in 90%", "90% simulated"):
        t.add_column(column, justify="left" if column in ("figure", "date") else "right")
    for f in result.forecasts:
        o = f.observation
        shown = f"{o.value:,.0f}" + {"at_least": " or more", "approx": f" +-{o.tolerance:.0%}"}.get(
            o.bound, ""
        )
        t.add_row(
            f"{o.scheme} {o.quantity}",
            o.day.isoformat(),
            shown,
            f"{f.median:,.0f}",
            "{:,.0f} - {:,.0f}".format(*f.intervals[0.5]),
            "{:,.0f} - {:,.0f}".format(*f.intervals[0.9]),
            "yes" if f.contains(0.9) else "no",
            "{:,.0f} - {:,.0f}".format(*f.simulated[0.9]),
        )
    out.print(t)
    for f in result.forecasts:
        o, (low, high) = f.observation, f.intervals[0.9]
        out.print(
            f"{o.scheme} {o.quantity} on {o.day.isoformat()}: published {o.value:,.0f}, 90% interval "
            f"{low:,.0f} - {high:,.0f}: {'inside' if f.contains(0.9) else 'outside'}",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"{result.replications:,} prior replications, effective sample size {result.ess:,.0f}; "
        f"{sum(f.contains(0.9) for f in result.forecasts)} of {len(result.forecasts)} figures inside "
        "their 90% interval",
        highlight=False,
        soft_wrap=True,
    )
    if result.ess < 100:
        err.print(
            f"[bold yellow]warning:[/] {escape(f'effective sample size {result.ess:.1f} is below 100')}",
            highlight=False,
        )
