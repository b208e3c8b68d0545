"""Fuzz: posterior files built from good and bad columns are used or refused, never crash.

Each case is a Parquet table whose columns are drawn from the small scenario's uncertain parameter
paths, the bookkeeping columns, a parameter it gives as a number and made-up names, each column
numbers (sometimes missing, infinite or out of range), text or booleans, with 0 to 5 rows; or bytes
that are not Parquet at all. Loading a scenario that names it must either give a scenario whose
draws of the covered parameters all come from the file's rows, or raise :class:`ScenarioError`
naming the scenario file and the field ``posterior``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engines.parameters import draw_parameters
from sim.experiments.calibrate import uncertain_paths
from sim.spec.loader import LoadedScenario, ScenarioError, load_scenario
from tests.conftest import DATA

SMALL = DATA / "small.toml"
UNCERTAIN = uncertain_paths(load_scenario(SMALL).scenario)
NAMES = [*UNCERTAIN, "draw", "replication", "schemes.manufacturing_plus.places", "propensity", ""]
_NUMBER = st.one_of(
    st.floats(0, 1),
    st.sampled_from([float("nan"), float("inf"), -0.5, 2.0, 1e300]),
    st.integers(0, 3),
)


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame | bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64))
    rows = draw(st.integers(0, 5))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["number", "number", "number", "text", "bool"]))
        if kind == "number":
            columns[name] = draw(st.lists(_NUMBER, min_size=rows, max_size=rows))
        elif kind == "text":
            columns[name] = draw(st.lists(st.text(max_size=3), min_size=rows, max_size=rows))
        else:
            columns[name] = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    return pd.DataFrame(columns)


def _load(path: Path) -> tuple[LoadedScenario | None, str]:
    """The scenario, or None and the refusal's message."""
    try:
        return load_scenario(path), ""
    except ScenarioError as problem:
        return None, str(problem)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_posterior_files_are_used_or_refused(table: pd.DataFrame | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        posterior, scenario = Path(folder) / "p.parquet", Path(folder) / "s.toml"
        if isinstance(table, bytes):
            posterior.write_bytes(table)
        else:
            table.to_parquet(posterior)
        scenario.write_text(f'extends = "{SMALL}"\nposterior = "p.parquet"\n')
        loaded, refusal = _load(scenario)
        if loaded is None:
            assert refusal.startswith(f"{scenario}: posterior: "), refusal
            return
        assert isinstance(table, pd.DataFrame)
        draws = draw_parameters(loaded.scenario, 1, np.arange(20))
        covered = [c for c in table.columns if c not in ("draw", "replication")]
        assert covered
        for path in covered:
            assert path in UNCERTAIN
            assert np.isin(draws[path], table[path].to_numpy(dtype=float)).all()
