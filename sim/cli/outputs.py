"""Commands that turn result folders into figures and a one-page brief: plot, brief."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.app import _fail, app, out

#: Vector formats written beside each PNG.
VECTOR_FORMATS = ("svg", "pdf")

#: ``--force``: replace a same-named file that schemesim did not write (refused without it).
Force = Annotated[
    bool, typer.Option("--force", help="Replace a file of the same name that schemesim did not write.")
]


@app.command()
def plot(
    results_dir: Annotated[
        Path, typer.Argument(help="A result folder (run, compare, sweep or sensitivity).")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the figures (default: RESULTS_DIR/figures).")
    ] = None,
    vector: Annotated[
        str, typer.Option("--format", help="Vector format beside each PNG: svg or pdf.")
    ] = "svg",
    output: Annotated[
        list[str] | None,
        typer.Option("--output", "-o", help="Output to draw for sweeps and sensitivity (repeatable)."),
    ] = None,
    force: Force = False,
) -> None:
    """Draw every figure that fits a result folder: PNG (200 dpi) and SVG or PDF."""
    from sim.outputs.figures import plot_folder
    from sim.outputs.folders import FolderError
    from sim.outputs.store import check_writable

    if vector not in VECTOR_FORMATS:
        raise _fail(f"--format: must be one of {', '.join(VECTOR_FORMATS)} (got '{vector}')")
    try:
        if out_dir is not None:
            check_writable(out_dir)
        paths = plot_folder(results_dir, out_dir, ("png", vector), output or None, force)
    except (FolderError, ValueError) as problem:
        raise _fail(str(problem)) from None
    except OSError as problem:
        raise _fail(f"{problem.filename}: cannot be written ({problem.strerror})") from None
    names = sorted({p.stem for p in paths})
    folder = paths[0].parent if paths else out_dir
    out.print(f"{len(names)} figure(s) in [bold]{folder}[/]: {', '.join(names)}", highlight=False)


@app.command()
def brief(
    results_dir: Annotated[Path, typer.Argument(help="A run folder, or a compare folder.")],
    compare: Annotated[
        Path | None, typer.Option("--compare", help="Another run folder to compare RESULTS_DIR (A) with (B).")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="PDF file (default: RESULTS_DIR/brief.pdf).")
    ] = None,
    force: Force = False,
    discovery: Annotated[
        Path | None,
        typer.Option(
            "--discovery", help="A folder 'schemesim discover' made from this run: adds a page on it."
        ),
    ] = None,
    value_of_information: Annotated[
        Path | None,
        typer.Option(
            "--value-of-information",
            help="A folder 'schemesim value-of-information' wrote: adds a page on it.",
        ),
    ] = None,
) -> None:
    """Write a one-page A4 brief (PDF): headline numbers, key figures, assumptions, provenance."""
    from sim.outputs.brief import write_brief
    from sim.outputs.folders import FolderError
    from sim.outputs.store import check_writable

    try:
        if out_file is not None:
            check_writable(out_file.parent)
        path = write_brief(results_dir, compare, out_file, force, discovery, value_of_information)
    except (FolderError, ValueError) as problem:
        raise _fail(str(problem)) from None
    except OSError as problem:
        raise _fail(f"{problem.filename}: cannot be written ({problem.strerror})") from None
    out.print(f"brief: [bold]{path}[/]", highlight=False)
    if compare is not None:
        from sim.outputs.brief import compared_replications

        note = compared_replications(results_dir, compare)
        if note:
            out.print(note, highlight=False)
