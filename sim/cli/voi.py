"""``schemesim value-of-information RESULTS --decide A.toml B.toml``: what learning each uncertain
parameter before choosing between A and B is worth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.app import _check_out, _fail, _load, _progress, app, out
from sim.cli.experiments import Engine, Workers, _check_aligned, _engine, check_engine, check_memory
from sim.cli.faults import refusals
from sim.spec.loader import LoadedScenario

if TYPE_CHECKING:
    from sim.experiments.pipeline import Execution
    from sim.experiments.voi import DecisionOptions, ValueOfInformation

#: Replications of each option unless asked otherwise (a regression over about ten parameters).
DEFAULT_REPLICATIONS = 2000


@app.command("value-of-information")
def value_of_information(
    results: Annotated[
        Path, typer.Argument(help="Folder to write (new or empty, or an earlier result of this command).")
    ],
    decide: Annotated[
        tuple[Path, Path],
        typer.Option("--decide", help="The two options: scenario A (the reference) and scenario B."),
    ],
    metric: Annotated[
        str, typer.Option(help="Decision metric: net_benefit, or any metric of replications.parquet.")
    ] = "net_benefit",
    scheme: Annotated[
        list[str] | None, typer.Option("--scheme", help="Scheme whose metric counts (repeat; default: all).")
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=50, help="Replications of each option.")
    ] = DEFAULT_REPLICATIONS,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Workers = 0,
    engine: Engine = None,
    resamples: Annotated[int, typer.Option(min=10, max=10_000, help="Bootstrap resamples.")] = 200,
    better: Annotated[
        str | None,
        typer.Option(
            help="Which way the metric is better: higher or lower (default: as compare says, else higher)."
        ),
    ] = None,
) -> None:
    """Run A and B on common random numbers; EVPI and each uncertain parameter's EVPPI, ranked."""
    from sim.experiments.pipeline import Execution
    from sim.experiments.voi import DecisionOptions
    from sim.outputs.voi_folder import save_value_of_information

    a, b = _load(decide[0]), _load(decide[1])
    options = DecisionOptions(metric, tuple(scheme or ()), resamples, better=better)
    _check_decision(options, a, b)
    _check_out(results)
    engine_name = _engine(engine)
    check_engine(engine_name, a, b)
    check_memory(engine_name, [a, b], seed, replications, Execution(workers or None))
    _check_aligned(a, b)
    with refusals(), _progress() as bar:
        task = bar.add_task(f"{a.name} or {b.name} ({engine_name})", total=2 * replications)
        execution = Execution(workers or None, progress=lambda n: bar.advance(task, n))
        result = _run(a, b, replications, seed, engine_name, execution, options)
    folder, sentence = save_value_of_information(result, a, b, results)
    _print_table(folder, result.decision.metric, round(100 * result.evppi.level))
    out.print(sentence, highlight=False)
    out.print(
        f"{2 * replications:,} replications and {resamples:,} bootstrap resamples "
        f"in {result.elapsed_s:.1f} s; "
        f"results in [bold]{escape(str(folder))}[/]",
        highlight=False,
    )


def _check_decision(options: DecisionOptions, a: LoadedScenario, b: LoadedScenario) -> None:
    """Refuse, before any work, an unknown metric or scheme, or a missing regression library."""
    from sim.experiments.evppi import MissingRegression, require_regression
    from sim.experiments.voi import DecisionError, check_metric, choose_schemes

    try:
        check_metric(options.metric, a, b)
        choose_schemes(options.metric, options.schemes, a, b)
        options.direction()
        require_regression()
    except (DecisionError, MissingRegression) as problem:
        raise _fail(str(problem)) from None


def _run(
    a: LoadedScenario,
    b: LoadedScenario,
    replications: int,
    seed: int,
    engine: str,
    execution: Execution,
    options: DecisionOptions,
) -> ValueOfInformation:
    """The analysis; a decision that cannot be analysed (too few defined runs) exits 2."""
    from sim.experiments.voi import DecisionError, run_value_of_information

    try:
        return run_value_of_information(a, b, replications, seed, engine, execution, options)
    except DecisionError as problem:
        raise _fail(str(problem)) from None


def _print_table(folder: Path, metric: str, level: int) -> None:
    """The ranked parameters as written to ``evppi.csv``: EVPPI, its interval and its share of EVPI."""
    import pandas as pd

    from sim.outputs.labels import VOI_STATISTICS
    from sim.outputs.voi_words import decision_metric_label, format_amount

    title = f"{VOI_STATISTICS['evppi'].label}: {decision_metric_label(metric)}"
    table = pd.read_csv(folder / "evppi.csv")
    t = Table(title=title, title_justify="left")
    for name in ("rank", "parameter", "value", f"{level}% interval", "share of EVPI"):
        t.add_column(name, justify="left" if name == "parameter" else "right")
    for _, r in table.iterrows():
        share = r["share_of_evpi"]
        t.add_row(
            str(int(r["rank"])),
            str(r["label"]),
            format_amount(r["evppi"], metric),
            f"{format_amount(r['lo'], metric)} - {format_amount(r['hi'], metric)}",
            "-" if share != share else f"{100 * share:.0f}%",
        )
    out.print(t)
