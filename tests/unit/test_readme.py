"""The README's generated parts are what the tool gives now (``make readme`` rewrites them)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests import readme


@pytest.mark.parametrize("part", ["definitions", "limits"])
def test_readme_tables_equal_what_the_tool_declares(part: str) -> None:
    assert readme.shown(part) == readme.parts(with_example=False)[part]


def test_readme_worked_example_equals_a_fresh_run_at_the_same_seed(tmp_path: Path) -> None:
    """Every line up to the last one, which gives the speed and the folder (they vary)."""

    def comparable(block: str) -> list[str]:
        lines = block.splitlines()
        return lines[: next(i for i, line in enumerate(lines) if line.startswith(readme.TIMING_PREFIX))]

    assert comparable(readme.shown("example")) == comparable(readme.example_text(tmp_path / "run"))


def test_readme_nifs_pace_equals_a_fresh_run_of_the_baseline() -> None:
    """The NIFS figures the README compares with the observed pace come from the tool, not by hand."""
    assert readme.shown("nifs-pace") == readme.nifs_pace_text()


def test_readme_commands_read_only_folders_an_earlier_command_writes() -> None:
    """A command that reads a result folder (``discover``, ``brief``) names one that an earlier
    command of the README writes with ``--out``: a default folder's name carries the scenario's
    hash, which a reader's checkout need not share."""
    written: set[str] = set()
    read: list[str] = []
    for line in readme.README.read_text().replace("\\\n", " ").splitlines():
        command = line.removeprefix("$ ").split("  #")[0]
        if not command.startswith(("schemesim ", ".venv/bin/schemesim ")):
            continue
        words = shlex.split(command)
        if words[1] in ("discover", "brief") and words[2].startswith("results/"):
            read.append(words[2])
            assert words[2] in written, f"README: `{line.strip()}` reads a folder no earlier command writes"
        if "--out" in words:
            written.add(words[words.index("--out") + 1])
    assert "results/baseline-1000" in read  # the discovery example is among those checked
