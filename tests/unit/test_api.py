"""The public API: every advertised name resolves, and `import sim` stays light."""

from __future__ import annotations

import subprocess
import sys

import sim


def test_every_public_name_resolves() -> None:
    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_import_sim_does_not_import_the_engines() -> None:
    code = "import sys, sim; print('sim.engines.des' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_library_defaults_to_the_engine_of_the_command_line() -> None:
    import inspect

    from sim.cli.run import run as run_command

    assert sim.DEFAULT_ENGINE == "batch"
    assert inspect.signature(run_command).parameters["engine"].default == sim.DEFAULT_ENGINE
    for entry in (sim.run_scenario, sim.run_compare, sim.run_to_precision, sim.SweepOptions):
        assert inspect.signature(entry).parameters["engine"].default is None, entry.__name__
