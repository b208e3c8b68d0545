"""``schemesim discover RESULTS --where CONDITION``: scenario discovery on a run or a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.app import _check_out, _fail, app, err, out
from sim.cli.experiments import OutDir

if TYPE_CHECKING:
    from sim.outputs.discover import DiscoverResult


#: The options of ``discover``, declared apart so the command reads as its steps.
Where = Annotated[
    str,
    typer.Option(
        "--where", help="Condition on the outputs, such as 'exhaustion_week < 78 and exhausted_by == places'."
    ),
]
Scheme = Annotated[
    str | None, typer.Option(help="The scheme whose outputs the condition reads (default: the first).")
]
Density = Annotated[
    float | None,
    typer.Option(min=0.0, max=1.0, help="Density target: the box of largest coverage at least this dense."),
]
PeelAlpha = Annotated[float, typer.Option(min=0.001, max=0.5, help="Share of the cases peeled at each step.")]
MinMass = Annotated[float, typer.Option(min=0.001, max=0.5, help="Smallest box, as a share of the cases.")]
Words = Annotated[
    str | None,
    typer.Option(
        "--words", help="The condition in words for the sentence, e.g. 'The places fill before month 18'."
    ),
]


@app.command()
def discover(
    results_dir: Annotated[
        Path, typer.Argument(help="A run folder (replications and their drawn parameters) or a sweep folder.")
    ],
    where: Where,
    scheme: Scheme = None,
    density: Density = None,
    peel_alpha: PeelAlpha = 0.05,
    min_mass: MinMass = 0.05,
    words: Words = None,
    out_dir: OutDir = None,
) -> None:
    """Find the ranges of the uncertain parameters where a condition on the outputs holds (PRIM)."""
    from sim.experiments.condition import ConditionError
    from sim.experiments.discover import DiscoveryError, MissingExtra
    from sim.outputs.discover import DiscoverRequest, find_box, save_discovery, variant_warning
    from sim.outputs.folders import FolderError

    if out_dir is not None and out_dir.resolve() == results_dir.resolve():
        raise _fail(f"--out: {out_dir} is the folder discovery reads; choose another")
    _check_out(out_dir)
    request = DiscoverRequest(results_dir, where, scheme, density, peel_alpha, min_mass, words)
    try:
        with err.status("scenario discovery: PRIM and CART"):
            result = find_box(request)
    except ConditionError as problem:
        raise _fail(f"--where: {problem}") from None
    except (FolderError, DiscoveryError, MissingExtra) as problem:
        raise _fail(str(problem)) from None
    if result.cases.note:
        err.print(f"note: {escape(result.cases.note)}", highlight=False, soft_wrap=True)
    folder = save_discovery(result, out_dir)
    print_discovery(result)
    if warning := variant_warning(result):
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    out.print(
        f"{result.found.cases:,} {result.cases.unit} in {result.elapsed_s:.1f} s; "
        f"results in [bold]{escape(str(folder))}[/]",
        highlight=False,
    )


def print_discovery(result: DiscoverResult) -> None:
    """The box in words, its restrictions as a table, and the CART cross-check."""
    from sim.outputs.discover_words import format_qp, restrictions_table

    sentence, cart = result.sentences()
    out.print(sentence, highlight=False, soft_wrap=True)
    t = Table(title="The box's restrictions", title_justify="left")
    for name in ("parameter", "restriction", "quasi-p-value", "significant"):
        t.add_column(name, justify="right" if name == "quasi-p-value" else "left")
    for _, row in restrictions_table(result.found, result.labels).iterrows():
        qp = float(np.fmin(row["qp_low"], row["qp_high"]))
        t.add_row(row["label"], row["restriction"], format_qp(qp), "yes" if row["significant"] else "no")
    out.print(t)
    out.print(cart, highlight=False, soft_wrap=True)
