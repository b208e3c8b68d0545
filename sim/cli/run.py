"""Commands for single scenarios: run, validate, trace, bench."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.app import EXIT_BAD_INPUT, _check_out, _fail, _load, _progress, app, err, out, print_headline
from sim.cli.faults import refusals
from sim.engines.limits import UNDERSUBSCRIBED_BELOW
from sim.engines.registry import DEFAULT_ENGINE
from sim.spec.loader import ScenarioError, load_scenario

PrecisionTarget = Annotated[
    float | None,
    typer.Option(
        help="Add batches (the first of -n) until each 95% interval is within this share of its mean."
    ),
]
UndersubscribedBelow = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Headline and brief: a scheme is under-subscribed with fewer applications than places "
        "or less than this share of its budget committed (recorded in the manifest).",
    ),
]


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (scenarios/*.toml).")],
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=1, help="Replications to run.")
    ] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Annotated[int, typer.Option(min=0, help="Worker processes (0 = all cores).")] = 0,
    engine: Annotated[
        str, typer.Option(help="Simulation engine: batch (numpy, many replications at once) or des (SimPy).")
    ] = DEFAULT_ENGINE,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Result folder (default: results/NAME-HASH).")
    ] = None,
    precision: PrecisionTarget = None,
    precision_metrics: Annotated[
        str, typer.Option(help="Metrics --precision applies to, comma-separated.")
    ] = "awarded,completed",
    max_replications: Annotated[
        int, typer.Option(min=2, help="Most replications --precision may run.")
    ] = 20_000,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://HOST:8786) to run on a cluster, or 'local'."),
    ] = None,
    undersubscribed_below: UndersubscribedBelow = UNDERSUBSCRIBED_BELOW,
) -> None:
    """Run a scenario; write tables and figures under results/ and print the headline numbers."""
    from sim.cli.experiments import check_engine, check_memory, run_extended
    from sim.experiments.pipeline import Execution
    from sim.outputs.report import run_folder, save_run, scheme_labels

    loaded = _load(scenario)
    if out_dir is None and precision is None:  # the default folder is known before the run: check it now
        out_dir = run_folder(loaded, seed, replications, engine)
    _check_out(out_dir)
    check_engine(engine, loaded)
    check_memory(engine, [loaded], seed, replications, Execution(workers or None, scheduler))
    with refusals(), _progress() as bar:
        task = bar.add_task(f"{loaded.name} ({engine})", total=replications)
        options = (precision, precision_metrics, max_replications, scheduler)
        result = run_extended(loaded, replications, seed, engine, workers, *options, bar, task)
    replications = result.replications
    result.extra["undersubscribed_below"] = undersubscribed_below
    folder = save_run(result, out_dir)
    title = f"{loaded.name}, {replications:,} replications"
    follow_up = loaded.scenario.follow_up_weeks > 0
    print_headline(result.table, scheme_labels(result), title, undersubscribed_below, follow_up)
    out.print(
        f"{replications:,} replications in {result.elapsed_s:.1f} s on {result.workers} worker(s) "
        f"({replications / result.elapsed_s:,.1f} per second); results in [bold]{folder}[/]"
    )


@app.command()
def validate(scenarios: Annotated[list[Path], typer.Argument(help="Scenario files to check.")]) -> None:
    """Check scenario files; print what is wrong, or 'ok'."""
    bad = 0
    for path in scenarios:
        try:
            loaded = load_scenario(path)
        except ScenarioError as problem:
            bad += 1
            err.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        else:
            out.print(escape(f"{path}: ok ({loaded.name}, hash {loaded.hash[:10]})"), highlight=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario file.")],
    replication: Annotated[int, typer.Option("--replication", "-k", min=0, help="Replication index.")] = 0,
    seed: Annotated[int, typer.Option(min=0)] = 20251118,
    out_file: Annotated[Path | None, typer.Option("--out", help="CSV file (default under results/).")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file of the same name that schemesim did not write.")
    ] = False,
) -> None:
    """Write one replication's per-firm trace (every timestamp and outcome) as CSV."""
    from sim.engines.des import simulate_replication
    from sim.engines.programme_trace import with_programmes
    from sim.outputs import outfiles, store
    from sim.outputs.manifest import FolderError

    loaded = _load(scenario)
    path = (
        out_file or store.RESULTS / f"{store.run_id(loaded.name, loaded.hash, seed)}-trace-{replication}.csv"
    )
    try:
        outfiles.check_targets([path], force=force)
        store.check_writable(path.parent)
    except (FolderError, OSError) as problem:
        raise _fail(f"--out: {problem}") from None
    records, table = simulate_replication(loaded.scenario, seed, replication, trace=True)
    assert table is not None  # asked for with trace=True
    table = with_programmes(table, loaded.scenario, seed, replication, records)
    path.parent.mkdir(parents=True, exist_ok=True)
    outfiles.write_file(path, lambda tmp: table.to_csv(tmp, index=False))
    applied = int(table["status"].ne("").sum())
    out.print(f"{len(table):,} firms ({applied:,} applied) in replication {replication}: {path}")


@app.command()
def bench(
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=1, help="SimPy-engine replications timed.")
    ] = 40,
    scenario: Annotated[Path, typer.Option(help="Scenario to time.")] = Path("scenarios/baseline.toml"),
    seed: Annotated[int, typer.Option(min=0)] = 1,
    memory: Annotated[
        bool, typer.Option(help="Also measure peak memory of runs of 1,000 and 100,000 replications.")
    ] = True,
    calibration: Annotated[
        bool, typer.Option(help="Also time calibrating baseline to the synthetic example (default -n).")
    ] = True,
    discovery: Annotated[
        bool, typer.Option(help="Also time scenario discovery on a 1,000-replication run of baseline.")
    ] = True,
    nowcast: Annotated[
        bool, typer.Option(help="Also time a nowcast of baseline and a variant, 10,000 replications.")
    ] = True,
    value_of_information: Annotated[
        bool, typer.Option(help="Also time EVPI and EVPPI over ten parameters (2,000 paired runs).")
    ] = True,
) -> None:
    """Time the engines side by side in one run and print their ratios."""
    from sim.bench import bench_batch, bench_des
    from sim.bench.calibrate import bench_calibrate

    loaded = _load(scenario)
    for line in bench_des(loaded.scenario, replications, seed):
        out.print(line, highlight=False)
    for line in bench_batch(loaded, seed, des_replications=replications, memory=memory):
        out.print(line, highlight=False)
    if calibration:
        for line in bench_calibrate():
            out.print(line, highlight=False)
    if discovery:
        from sim.bench.discover import bench_discover

        for line in bench_discover():
            out.print(line, highlight=False)
    if nowcast:
        from sim.bench.nowcast import bench_nowcast

        for line in bench_nowcast():
            out.print(line, highlight=False)
    if value_of_information:
        from sim.bench.voi import bench_value_of_information

        for line in bench_value_of_information():
            out.print(line, highlight=False)
