"""The README's generated parts: the worked example, the headline definitions and the limits.

``make readme`` (``python -m tests.readme``) rewrites each part between its
markers from the tool itself; ``tests/unit/test_readme.py`` fails when the
README differs from what the tool gives, so its numbers cannot go stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: The worked example's command, run from the repository at the default seed.
EXAMPLE = ("run", "scenarios/baseline.toml")
#: The example's last line reports the run's speed, which varies: it is shown but not compared.
TIMING_PREFIX = "1,000 replications in "


def _between(text: str, part: str) -> tuple[str, str, str]:
    start, end = f"<!-- {part}:start -->", f"<!-- {part}:end -->"
    head, rest = text.split(start, 1)
    body, tail = rest.split(end, 1)
    return head + start, body, end + tail


def example_text(out: Path | None = None) -> str:
    """The console block of the worked example, as the tool prints it now.

    ``out`` sends the result folder there instead of ``results/`` (the tests
    do; the block shows the command without it, and its last line, which
    names the folder and the speed, is not compared).
    """
    env = dict(os.environ, COLUMNS="110", NO_COLOR="1", TERM="dumb")
    schemesim = Path(sys.executable).parent / "schemesim"
    done = subprocess.run(
        [str(schemesim), *EXAMPLE, *(["--out", str(out)] if out else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    return "```console\n$ .venv/bin/schemesim " + " ".join(EXAMPLE) + "\n" + "\n".join(lines) + "\n```"


def definitions_table() -> str:
    """Each headline statistic's label and definition, in the headline's order; then the names
    figures, comparisons and sweeps give the statistics they show in place of a headline one."""
    from sim.outputs.labels import definitions
    from sim.outputs.tables import HEADLINE, INTERMEDIARY_HEADLINE

    keys = tuple(dict.fromkeys(r.key for r in HEADLINE + INTERMEDIARY_HEADLINE))
    rows = [f"| {label} | {meaning} |" for label, meaning in definitions(keys, shown_as=True)]
    return "\n".join(["| statistic | definition |", "| --- | --- |", *rows])


def limits_table() -> str:
    """Every scenario field's allowed values, from the declarations the validator uses."""
    from sim.spec.scenario import field_limits

    rows = [f"| `{field}` | {allowed} |" for field, allowed in field_limits()]
    return "\n".join(["| field | allowed |", "| --- | --- |", *rows])


#: The shipped backtests (README "Backtests"): scenario, observed figures, cut date.
BACKTESTS = (
    ("scenarios/observed/nifs-2020.toml", "scenarios/observed/nifs.csv", "2024-07-31"),
    ("scenarios/observed/tvp-2016.toml", "scenarios/observed/tvp.csv", "2017-04-30"),
)


def backtests_text() -> str:
    """The console block of the shipped backtests, as the tool prints them now (default seed and -n)."""
    env = dict(os.environ, COLUMNS="110", NO_COLOR="1", TERM="dumb")
    schemesim = Path(sys.executable).parent / "schemesim"
    blocks = []
    for scenario, observed, cut in BACKTESTS:
        command = ("backtest", scenario, observed, "--cut", cut)
        done = subprocess.run(
            [str(schemesim), *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        lines = [line.rstrip() for line in done.stdout.splitlines()]
        blocks.append("$ .venv/bin/schemesim " + " ".join(command) + "\n" + "\n".join(lines))
    return "```console\n" + "\n".join(blocks) + "\n```"


def parts(with_example: bool = True) -> dict[str, str]:
    made = {"definitions": definitions_table(), "limits": limits_table()}
    if with_example:
        made["example"] = example_text()
        made["backtests"] = backtests_text()
    return made


def shown(part: str) -> str:
    """The part as the README shows it now."""
    return _between(README.read_text(), part)[1].strip("\n")


def update() -> None:
    """Rewrite every generated part of the README."""
    text = README.read_text()
    for part, body in parts().items():
        head, _, tail = _between(text, part)
        text = f"{head}\n{body}\n{tail}"
    README.write_text(text)


if __name__ == "__main__":
    update()
