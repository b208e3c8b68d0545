"""``schemesim calibrate SCENARIO OBSERVED.csv``: the posterior of the uncertain parameters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.app import _check_out, _fail, _load, _progress, app, err, out
from sim.cli.experiments import Dispersion, Engine, OutDir, Workers, _engine, check_engine, check_memory
from sim.cli.faults import refusals
from sim.experiments.calibrate import DEFAULT_REPLICATIONS

if TYPE_CHECKING:
    from sim.experiments.calibrate import Calibration


@app.command()
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario whose distributions are the priors.")],
    observed: Annotated[Path, typer.Argument(help="Observed-data file (CSV), as for 'observed check'.")],
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=2, help="Prior replications to weight.")
    ] = DEFAULT_REPLICATIONS,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Workers = 0,
    engine: Engine = None,
    out_dir: OutDir = None,
    dispersion: Dispersion = 100.0,
) -> None:
    """Weight prior replications by how likely they make the observations; save and print the posterior."""
    from sim.experiments.calibrate import CalibrationError, require_kept_memory
    from sim.experiments.calibrate import calibrate as run_calibration
    from sim.experiments.observed import ObservationModel
    from sim.experiments.pipeline import Execution
    from sim.outputs.calibration import owner_labels, save_calibration
    from sim.spec.observations import ObservedDataError, read_observed

    loaded = _load(scenario)
    try:
        data = read_observed(observed, loaded.scenario)
    except ObservedDataError as problem:
        raise _fail(str(problem)) from None
    _check_out(out_dir)
    engine_name = _engine(engine)
    check_engine(engine_name, loaded)
    check_memory(engine_name, [loaded], seed, replications, Execution(workers or None))
    with refusals():
        require_kept_memory(loaded.scenario, data, replications)
    with refusals(), _progress() as bar:
        task = bar.add_task(f"calibrate {loaded.name} ({engine_name})", total=replications)
        execution = Execution(workers or None, progress=lambda n: bar.advance(task, n))
        try:
            model = ObservationModel(dispersion=dispersion)
            result = run_calibration(loaded.scenario, data, replications, seed, engine_name, execution, model)
        except CalibrationError as problem:
            raise _fail(f"{observed}: {problem}; check the observations against the scenario") from None
    folder = save_calibration(loaded, data, result, out_dir)
    print_posterior(result, owner_labels(loaded.scenario))
    if result.warning:
        err.print(f"[bold yellow]warning:[/] {escape(result.warning)}", highlight=False, soft_wrap=True)
    out.print(
        f"{result.replications:,} replications in {result.elapsed_s:.1f} s; "
        f"effective sample size {result.ess:,.0f}; results in [bold]{escape(str(folder))}[/]",
        highlight=False,
    )


def print_posterior(result: Calibration, labels: dict[str, str]) -> None:
    """One table: each uncertain parameter's prior and posterior median and 90% interval."""
    from sim.experiments.calibrate import summary_table
    from sim.outputs.labels import parameter_label

    t = Table(
        title=f"Posterior of the uncertain parameters (ESS {result.ess:,.0f} of {result.replications:,})",
        title_justify="left",
    )
    t.add_column("parameter")
    for name in ("prior median", "prior 90%", "posterior median", "posterior 90%"):
        t.add_column(name, justify="right")
    for _, row in summary_table(result).iterrows():
        t.add_row(
            parameter_label(row["parameter"], labels),
            _num(row["prior_p50"]),
            f"{_num(row['prior_p05'])} - {_num(row['prior_p95'])}",
            _num(row["posterior_p50"]),
            f"{_num(row['posterior_p05'])} - {_num(row['posterior_p95'])}",
        )
    out.print(t)


def _num(value: float) -> str:
    return f"{value:.3g}"
