"""The console script's entry module is light, so spawned workers do not import the command line."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.conftest import DATA, ROOT

_LOADED = """
import sys
import sim.console
heavy = sorted(m for m in ("sim.cli", "scipy", "pandas", "numba", "typer") if m in sys.modules)
print(",".join(heavy) or "none")
"""


def test_the_console_script_calls_the_light_entry_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["schemesim"] == "sim.console:main"


def test_importing_the_entry_module_loads_no_command_line_nor_engine() -> None:
    done = subprocess.run([sys.executable, "-c", _LOADED], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "none"


def test_the_entry_module_runs_the_command_line() -> None:
    command = [
        sys.executable,
        "-c",
        "from sim.console import main; main()",
        "validate",
        str(DATA / "small.toml"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "small.toml: ok" in done.stdout
    bad = subprocess.run([*command[:4], "no-such-file.toml"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "no-such-file.toml" in bad.stderr
