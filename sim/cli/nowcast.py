"""``schemesim nowcast SCENARIO OBSERVED.csv``: the forecast as at the last observation, given the history."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.app import _check_out, _fail, _load, _progress, app, err, out
from sim.cli.experiments import Dispersion, Engine, OutDir, Workers, _engine, check_engine, check_memory
from sim.cli.faults import refusals
from sim.experiments.nowcast import DEFAULT_REPLICATIONS

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.nowcast import Nowcast
    from sim.spec.loader import LoadedScenario
    from sim.spec.observations import ObservedData


def _as_at(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--as-at {text!r}: not an ISO date (YYYY-MM-DD)") from None


def _variants(paths: list[Path] | None, base: LoadedScenario) -> list[LoadedScenario]:
    """Load the variants; refuse two of one name (their rows would be mixed) or the base's name."""
    loaded = [_load(path) for path in paths or []]
    names = [base.name] + [v.name for v in loaded]
    for path, variant in zip(paths or [], loaded, strict=True):
        if names.count(variant.name) > 1:
            raise _fail(
                f"{path}: variant name {variant.name!r} is used twice; give each variant its own name"
            )
    return loaded


@app.command()
def nowcast(
    scenario: Annotated[Path, typer.Argument(help="Scenario whose replications are weighted.")],
    observed: Annotated[Path, typer.Argument(help="Observed-data file (CSV), as for 'observed check'.")],
    variant: Annotated[
        list[Path] | None,
        typer.Option(
            "--variant", help="A policy variant (scenario file) that changes only after the as-at date."
        ),
    ] = None,
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="The as-at date (default: the last observation's).")
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=2, help="Replications to weight.")
    ] = DEFAULT_REPLICATIONS,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 20251118,
    workers: Workers = 0,
    engine: Engine = None,
    out_dir: OutDir = None,
    dispersion: Dispersion = 100.0,
) -> None:
    """The forecast as at a date, given the observed history: places, money, applications, awards."""
    from sim.experiments.calibrate import CalibrationError, require_kept_memory
    from sim.experiments.compare import MisalignedScenarios
    from sim.experiments.nowcast import NowcastTask, VariantChangesHistory
    from sim.experiments.nowcast import nowcast as run_nowcast
    from sim.experiments.observed import ObservationModel
    from sim.experiments.pipeline import Execution
    from sim.outputs.nowcast_folder import save_nowcast

    base = _load(scenario)
    variants = _variants(variant, base)
    data, day = _observed(observed, base, as_at)
    _check_out(out_dir)
    engine_name = _engine(engine)
    scenarios = [base, *variants]
    check_engine(engine_name, *scenarios)
    check_memory(engine_name, scenarios, seed, replications, Execution(workers or None))
    with refusals():
        require_kept_memory(base.scenario, data, replications)  # the observed series, as calibrate keeps
    model = ObservationModel(dispersion=dispersion)
    task = NowcastTask(base.scenario, tuple(v.scenario for v in variants), data, model, day)
    with refusals(), _progress() as bar:
        progress = bar.add_task(f"nowcast {base.name} as at {day} ({engine_name})", total=replications)
        execution = Execution(workers or None, progress=lambda n: bar.advance(progress, n))
        try:
            names = tuple(s.name for s in scenarios)
            result = run_nowcast(task, names, replications, seed, engine_name, execution)
        except (VariantChangesHistory, MisalignedScenarios) as problem:
            bad = _variant_path(str(problem), variant or [], variants)
            raise _fail(f"{bad}: {problem}") from None
        except CalibrationError as problem:
            raise _fail(f"{observed}: {problem}; check the observations against the scenario") from None
    folder = save_nowcast(scenarios, data, result, out_dir)
    _report(result, base, folder)


def _observed(path: Path, base: LoadedScenario, as_at: str | None) -> tuple[ObservedData, date]:
    """The observed file, checked against the base, and the as-at date; exit 2 on bad input."""
    from sim.experiments.nowcast import as_at_of
    from sim.spec.observations import ObservedDataError, read_observed

    try:
        data = read_observed(path, base.scenario)
        return data, as_at_of(data, base.scenario, _as_at(as_at))
    except ObservedDataError as problem:
        raise _fail(str(problem)) from None
    except ValueError as problem:
        raise _fail(f"{path}: {problem}") from None


def _report(result: Nowcast, base: LoadedScenario, folder: Path) -> None:
    """The headline tables, the ESS warning if any, and where the folder is."""
    from sim.outputs.calibration import owner_labels
    from sim.outputs.nowcast_tables import headline_table, intermediary_of

    head = headline_table(result, intermediary_of(base.scenario))
    print_headline(result.as_at, head, owner_labels(base.scenario))
    if result.warning:
        err.print(f"[bold yellow]warning:[/] {escape(result.warning)}", highlight=False, soft_wrap=True)
    out.print(
        f"{result.replications:,} replications of each of {len(result.names)} scenario(s) in "
        f"{result.elapsed_s:.1f} s; effective sample size {result.ess:,.0f}; "
        f"results in [bold]{escape(str(folder))}[/]",
        highlight=False,
    )


def _variant_path(message: str, paths: list[Path], variants: list[LoadedScenario]) -> str:
    """The file of the variant a refusal names (the first variant if it names none)."""
    for path, loaded in zip(paths, variants, strict=True):
        if message.startswith(f"{loaded.name}:") or f"variant {loaded.name}" in message:
            return str(path)
    return str(paths[0]) if paths else "variant"


def print_headline(as_at: date, head: pd.DataFrame, labels: dict[str, str]) -> None:
    """Per scheme, a table of each statistic's prior forecast and forecast as at the date and, with
    variants, a table of each variant's change from the base on the same runs; then what the
    columns mean."""
    from sim.outputs.labels import NOWCAST_HEADERS, NOWCAST_NOTE, NOWCAST_SHORT_HEADERS, scheme_label
    from sim.outputs.nowcast_tables import nowcast_day

    day = nowcast_day(as_at)
    names = list(dict.fromkeys(head["scenario"]))
    for scheme, rows in head.groupby("scheme", sort=False):
        title = f"{scheme_label(str(scheme), labels)}: as at {day}"
        headers = [NOWCAST_SHORT_HEADERS[key] for key in ("prior", "as_at", "range")]
        values, changes = _cells(rows, names)
        out.print(_table(title, headers, values))
        if len(names) > 1:
            headers = [NOWCAST_SHORT_HEADERS["change_as_at"].format(name=name) for name in names[1:]]
            out.print(_table(f"{title}: variants", headers, changes))
    meaning = "; ".join(
        f"{NOWCAST_SHORT_HEADERS[k].format(name='variant')}: {NOWCAST_HEADERS[k].format(date=day)}"
        for k in ("prior", "as_at", "range", "change_as_at")
    )
    out.print(f"{meaning}. {NOWCAST_NOTE}", highlight=False)


def _table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("statistic")
    for header in headers:
        t.add_column(header, justify="right")
    for cells in rows:
        t.add_row(*cells)
    return t


def _cells(rows: pd.DataFrame, names: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """The printed cells of one scheme's rows: the base's values, and each variant's change."""
    from sim.outputs.nowcast_tables import shown, signed

    base = rows[rows["scenario"] == names[0]].reset_index(drop=True)
    values, changes = [], []
    for i, r in base.iterrows():
        low, high = shown(r["as_at_p05"], r["key"]), shown(r["as_at_p95"], r["key"])
        values.append([r["label"], shown(r["prior"], r["key"]), shown(r["as_at"], r["key"])])
        values[-1].append(f"{low} - {high}" if low else "")
        changes.append([r["label"]])
        for name in names[1:]:
            mine = rows[rows["scenario"] == name].reset_index(drop=True)
            changes[-1].append(signed(float(mine.loc[i, "change_as_at"]), str(r["key"])))
    return values, changes
