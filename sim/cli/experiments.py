"""Commands for experiments over many scenarios: sweep, sensitivity, compare."""

from __future__ import annotations

import math
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.table import Table

from sim.cli.app import _check_out, _fail, _load, _progress, app, err, out
from sim.cli.faults import Interrupted, exit_interrupted, refusals
from sim.spec.loader import LoadedScenario
from sim.spec.suggest import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.pipeline import Execution

#: Exit code when some points of a sweep failed (their errors are in failures.csv).
EXIT_POINTS_FAILED = 1

Replications = Annotated[
    int | None,
    typer.Option("--replications", "-n", min=1, help="Replications per point (default: the file's)."),
]
Seed = Annotated[int | None, typer.Option(min=0, help="Seed of every random stream (default: the file's).")]
Workers = Annotated[int, typer.Option(min=0, help="Worker processes (0 = all cores).")]
Dispersion = Annotated[
    float,
    typer.Option(min=0.001, help="Size k of the negative binomial around simulated counts (inf: Poisson)."),
]
Engine = Annotated[str | None, typer.Option(help="Simulation engine: batch (the default) or des (SimPy).")]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address (tcp://HOST:8786) to run on a cluster, or 'local'."),
]
OutDir = Annotated[Path | None, typer.Option("--out", help="Result folder (default under results/).")]
Resume = Annotated[bool, typer.Option("--resume", help="Finish an interrupted run: only missing points.")]
Chunk = Annotated[int | None, typer.Option("--chunk-size", min=1, help="Replications per task.")]


def _engine(choice: str | None) -> str:
    """The engine's name (None: the default engine); an unknown name stops with the allowed ones."""
    from sim.engines.registry import UnknownEngine, get_engine

    try:
        return get_engine(choice).name
    except UnknownEngine as problem:
        raise _fail(f"--engine: {problem}") from None


def check_engine(engine: str, *scenarios: LoadedScenario) -> None:
    """Stop before running anything if the engine is unknown or cannot run a scenario."""
    from sim.engines.contract import UnsupportedScenario
    from sim.engines.registry import get_engine, require_supported

    simulator = get_engine(_engine(engine))
    for loaded in scenarios:
        try:
            require_supported(simulator, loaded.scenario)
        except UnsupportedScenario as problem:
            raise _fail(f"{loaded.path}: {problem}") from None


def check_memory(
    engine: str, scenarios: Sequence[LoadedScenario], seed: int, replications: int, execution: Execution
) -> None:
    """Stop before any work (and before the progress bar) if the run would not fit in memory."""
    from sim.experiments.pipeline import plan_chunks

    with refusals():
        for loaded in scenarios:
            plan_chunks(loaded.scenario, seed, replications, engine, execution)


def _sweep(path: Path):
    from sim.experiments.designs import load_sweep
    from sim.spec.loader import ScenarioError

    try:
        return load_sweep(path)
    except ScenarioError as problem:
        raise _fail(str(problem)) from None


def _run_points(sweep, design, folder: Path, kind: dict[str, Any], **options: Any):
    """Run a design's points into ``folder`` with a progress bar; Ctrl-C leaves a resumable folder.

    ``kind`` holds what sets this folder apart (``{"kind": "sweep"}``, or the
    sensitivity method and samples); the rest of its definition comes from the
    sweep and the run options, so a resumed folder is checked against both.
    """
    from dataclasses import replace

    from sim.experiments.executors import default_workers
    from sim.experiments.pipeline import Execution
    from sim.experiments.sweep import SweepOptions, run_sweep
    from sim.outputs.experiments import FolderError, SweepStore

    definition = {
        **kind,
        **sweep.definition(),
        "replications": options["replications"],
        "seed": options["seed"],
        "engine": options["engine"],
    }
    reps = options["replications"]
    chosen = SweepOptions(reps, options["seed"], options["engine"])
    workers = options["workers"] or default_workers()
    execution = Execution(workers, options["scheduler"], options["chunk"])
    check_memory(options["engine"], [sweep.base], options["seed"], reps, execution)
    try:
        sink = SweepStore(folder, definition, resume=options["resume"])
    except FolderError as problem:
        raise _fail(str(problem)) from None
    done = len(sink.done() & set(range(len(design))))
    if done:
        err.print(f"resuming: {done:,} of {len(design):,} points already done", highlight=False)
    with refusals(), _progress() as bar:
        task = bar.add_task(f"{sweep.name}: {len(design):,} points", total=len(design) * reps)
        bar.advance(task, done * reps)
        watched = replace(execution, progress=lambda n: bar.advance(task, n))
        try:
            result = run_sweep(sweep, design, sink, chosen, execution=watched)
        except (KeyboardInterrupt, Interrupted) as stop:
            bar.stop()
            signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
            advice = f"finish with the same command and --resume (folder {folder})"
            raise exit_interrupted(Interrupted(signum), advice) from None
    return result


def _report_run(result, folder: Path) -> None:
    rate = f", {result.reps_per_second:,.0f} replications per second" if result.replications_run else ""
    out.print(
        f"{result.completed:,} of {len(result.design):,} points done"
        + (f" ({result.resumed:,} from an earlier run)" if result.resumed else "")
        + f", {len(result.failures):,} failed, {result.elapsed_s:.1f} s elapsed{rate}; "
        f"{result.replications:,} replications per point on {_where(result)}",
        highlight=False,
    )
    if result.failures:
        shown = sorted(result.failures)[:10]
        for p in shown:
            err.print(f"[red]point {p} failed:[/] {result.failures[p]}", highlight=False, soft_wrap=True)
        if len(result.failures) > len(shown):
            err.print(f"... and {len(result.failures) - len(shown)} more (failures.csv)")
    out.print(f"results in [bold]{folder}[/]")


def _where(result) -> str:
    return f"Dask cluster {result.scheduler}" if result.scheduler else f"{result.workers} worker(s)"


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (scenarios/sweeps/*.toml).")],
    replications: Replications = None,
    points: Annotated[
        int | None, typer.Option(min=1, help="Points (lhs, sobol) or trajectories (morris); not for grid.")
    ] = None,
    seed: Seed = None,
    workers: Workers = 0,
    engine: Engine = None,
    scheduler: Scheduler = None,
    chunk_size: Chunk = None,
    out_dir: OutDir = None,
    resume: Resume = False,
) -> None:
    """Run every point of a sweep file; stream each point's replications to Parquet."""
    from dataclasses import replace

    from sim.experiments.designs import make_design
    from sim.outputs.experiments import finish_sweep, sweep_folder
    from sim.spec.loader import ScenarioError

    spec = _sweep(sweep_file)
    if points is not None:
        if spec.design == "grid":
            raise _fail("--points: a grid's points are the product of its parameters' levels")
        if spec.design == "sobol" and points & (points - 1):
            raise _fail(f"--points: a Sobol' design needs a power of two such as 256 (got {points})")
        spec = replace(spec, points=points)
    _check_out(out_dir)
    engine_name = _engine(engine or spec.engine)
    check_engine(engine_name, spec.base)
    reps = replications or spec.replications
    seed = spec.seed if seed is None else seed
    spec = replace(spec, seed=seed)
    try:
        design = make_design(spec)
    except ScenarioError as problem:
        raise _fail(str(problem)) from None
    folder = out_dir or sweep_folder(spec, reps, seed, engine_name)
    result = _run_points(
        spec,
        design,
        folder,
        {"kind": "sweep"},
        replications=reps,
        seed=seed,
        engine=engine_name,
        workers=workers,
        scheduler=scheduler,
        chunk=chunk_size,
        resume=resume,
    )
    finish_sweep(folder, result)
    _report_run(result, folder)
    if result.failures:
        raise typer.Exit(EXIT_POINTS_FAILED)


def _check_method(method: str, samples: int | None) -> None:
    """Refuse an unknown sensitivity method, or Sobol' samples that are not a power of two."""
    from sim.experiments.sensitivity import METHODS

    if method not in METHODS:
        raise _fail(
            f"--method: must be one of {', '.join(METHODS)}{did_you_mean(method, METHODS)} (got '{method}')"
        )
    if method == "sobol" and samples is not None and samples & (samples - 1):
        raise _fail(f"--samples: Sobol' needs a power of two such as 64 (got {samples})")


@app.command()
def sensitivity(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file naming the parameters and their ranges.")],
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (variance shares).")] = "morris",
    samples: Annotated[
        int | None,
        typer.Option(min=2, help="Morris trajectories, or Sobol' base samples (a power of two)."),
    ] = None,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = 0,
    engine: Engine = None,
    scheduler: Scheduler = None,
    chunk_size: Chunk = None,
    out_dir: OutDir = None,
    resume: Resume = False,
) -> None:
    """Morris or Sobol' indices (SALib, bootstrap intervals) of the named outputs, with the noise level."""
    from dataclasses import replace

    from sim.experiments.sensitivity import analyze, sensitivity_design
    from sim.outputs.experiments import save_sensitivity, sensitivity_folder
    from sim.spec.loader import ScenarioError

    _check_method(method, samples)
    spec = _sweep(sweep_file)
    if len(spec.parameters) < 2:
        raise _fail(f"{sweep_file}: parameters: a sensitivity analysis needs at least two parameters")
    _check_out(out_dir)
    engine_name = _engine(engine or spec.engine)
    check_engine(engine_name, spec.base)
    reps = replications or spec.replications
    seed = spec.seed if seed is None else seed
    spec = replace(spec, seed=seed)
    n = samples or (spec.morris_trajectories if method == "morris" else spec.sobol_samples)
    try:
        design = sensitivity_design(spec, method, n)
    except ScenarioError as problem:  # a design over the documented size
        raise _fail(str(problem)) from None
    folder = out_dir or sensitivity_folder(spec, method, n, reps, seed, engine_name)
    result = _run_points(
        spec,
        design,
        folder,
        {"kind": "sensitivity", "method": method, "samples": n},
        replications=reps,
        seed=seed,
        engine=engine_name,
        workers=workers,
        scheduler=scheduler,
        chunk=chunk_size,
        resume=resume,
    )
    indices = analyze(result, method)
    save_sensitivity(folder, result, indices, method, n)
    _print_indices(indices, method)
    _report_run(result, folder)
    if result.failures:
        err.print("[red]indices need every point: outputs with failed points are NaN[/]")
        raise typer.Exit(EXIT_POINTS_FAILED)


def _print_indices(indices, method: str) -> None:
    """Each output's indices as a table, then the warning of a design too small for them, if any."""
    from sim.experiments.sensitivity import design_warning

    for (scheme, output), rows in indices.table.groupby(["scheme", "output"], sort=False):
        noise = indices.noise[scheme][output]
        note = f"noise se {_num(noise['noise_se'])}"
        if noise.get("mu_star_noise") is not None:
            note += f", mu* of pure noise {_num(noise['mu_star_noise'])}"
        if noise.get("noise_share_of_variance") is not None:
            note += f", {100 * noise['noise_share_of_variance']:.2g}% of the variance across points"
        t = Table(title=f"{scheme}: {output} ({method}; {note})", title_justify="left")
        t.add_column("parameter")
        if method == "morris":
            rows = rows.sort_values("mu_star", ascending=False)
            for c in ("mu*", "+-95%", "sigma"):
                t.add_column(c, justify="right")
            for _, r in rows.iterrows():
                t.add_row(r["parameter"], *(f"{r[c]:.4g}" for c in ("mu_star", "mu_star_conf", "sigma")))
        else:
            rows = rows.sort_values("ST", ascending=False)
            for c in ("S1", "+-95%", "ST", "+-95% "):
                t.add_column(c, justify="right")
            for _, r in rows.iterrows():
                t.add_row(r["parameter"], *(f"{r[c]:.3f}" for c in ("S1", "S1_conf", "ST", "ST_conf")))
        out.print(t)
    if (warning := design_warning(indices.table)) is not None:
        err.print(f"[yellow]{warning}[/]")


@app.command()
def compare(
    scenario_a: Annotated[Path, typer.Argument(help="Scenario A (the reference).")],
    scenario_b: Annotated[Path, typer.Argument(help="Scenario B (the variant).")],
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=2, help="Replications of each scenario.")
    ] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Workers = 0,
    engine: Engine = None,
    scheduler: Scheduler = None,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999, help="Interval confidence.")] = 0.95,
    out_dir: OutDir = None,
) -> None:
    """Run A and B on common random numbers; print A, B and B - A with paired and unpaired intervals."""
    from sim.experiments.compare import run_compare
    from sim.experiments.pipeline import Execution
    from sim.outputs.experiments import save_compare

    a, b = _load(scenario_a), _load(scenario_b)
    _check_out(out_dir)
    engine_name = _engine(engine)
    check_engine(engine_name, a, b)
    check_memory(engine_name, [a, b], seed, replications, Execution(workers or None, scheduler))
    _check_aligned(a, b)
    with refusals(), _progress() as bar:
        task = bar.add_task(f"{a.name} vs {b.name} ({engine_name})", total=2 * replications)
        execution = Execution(workers or None, scheduler, progress=lambda n: bar.advance(task, n))
        result = run_compare(
            a, b, replications, seed, engine_name, confidence=confidence, execution=execution
        )
    folder = save_compare(result, out_dir)
    _print_comparison(result.comparison, a.name, b.name, replications, f"{100 * confidence:g}%")
    out.print(f"{2 * replications:,} replications in {result.elapsed_s:.1f} s; results in [bold]{folder}[/]")


def _print_comparison(comparison: pd.DataFrame, a: str, b: str, replications: int, level: str) -> None:
    """One table per scheme: A, B, the mean difference with its confidence interval, the range of the
    per-run difference and how often B is better, then what the columns mean."""
    from sim.outputs.compare_words import operator_schemes, reader_cells, reader_rows
    from sim.outputs.labels import COMPARE_NOTE, compare_header

    operators = operator_schemes(comparison)
    for scheme, rows in reader_rows(comparison).groupby("scheme", sort=False):
        title = f"{scheme}: A = {a}, B = {b}, {replications:,} paired runs"
        t = Table(title=title, title_justify="left")
        t.add_column("metric")
        for key in ("a", "b", "diff", "spread", "better"):
            t.add_column(compare_header(key, level), justify="right")
        for _, r in rows.iterrows():
            t.add_row(*reader_cells(r, scheme in operators))
        out.print(t)
    out.print(COMPARE_NOTE, highlight=False)


def _check_aligned(a: LoadedScenario, b: LoadedScenario) -> None:
    """Refuse, with one message and exit 2, scenarios whose horizons or follow-ups differ."""
    from sim.experiments.compare import MisalignedScenarios, check_aligned

    try:
        check_aligned(a.scenario, b.scenario, (f"A ({a.name})", f"B ({b.name})"))
    except MisalignedScenarios as problem:
        raise _fail(str(problem)) from None


def _num(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3g}"


def run_extended(
    loaded: LoadedScenario,
    replications: int,
    seed: int,
    engine: str,
    workers: int,
    precision: float | None,
    metrics: str,
    max_replications: int,
    scheduler: str | None,
    bar,
    task,
):
    """``run`` with ``--precision`` (adaptive replications) or ``--scheduler`` (a Dask cluster).

    With a precision target, ``replications`` is the first batch; the bar's
    total grows as batches are added.
    """
    from sim.engines.metrics import METRICS
    from sim.experiments.adaptive import Precision, run_to_precision
    from sim.experiments.pipeline import Execution
    from sim.experiments.runner import run_plan

    execution = Execution(workers or None, scheduler, progress=lambda n: bar.advance(task, n))
    if precision is None:
        return run_plan(loaded, replications, seed, engine, execution)
    chosen = tuple(m.strip() for m in metrics.split(",") if m.strip())
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise _fail(
            f"--precision-metrics: unknown metric(s) {', '.join(unknown)}; allowed: {', '.join(METRICS)}"
        )
    if not 0 < precision < 1:
        raise _fail(f"--precision: a relative half-width between 0 and 1 such as 0.01 (got {precision})")
    rule = Precision(
        target=precision, metrics=chosen, initial=replications, max_replications=max(max_replications, 2)
    )
    planned = lambda total: bar.update(task, total=total)  # noqa: E731
    result = run_to_precision(loaded, seed, rule, engine, execution=execution, planned=planned)
    reached = cast(dict[str, Any], result.extra["precision"])
    state = "met" if reached["met"] else "not met (maximum reached)"
    err.print(
        f"precision {precision:g} {state}: worst relative half-width {reached['reached']} "
        f"after {result.replications:,} replications",
        highlight=False,
    )
    return result
