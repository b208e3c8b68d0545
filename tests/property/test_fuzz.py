"""Fuzz: mutated shipped scenarios and sweep files give exit 2 with the file and a field, or they run.

Each case takes a shipped file (``scenarios/*.toml``, ``tests/data/small.toml``,
``scenarios/sweeps/*.toml``), changes one to three things in it (a value
replaced by another type or an extreme, a key deleted, an unknown key added,
deep nesting, ``extends``/``base`` pointed at odd targets), writes it into a
copy of the project folder and checks it:

* ``schemesim validate`` exits 0 or 2, never with a traceback; on 2 the message
  names the file and a field (or says what is wrong with the file as a whole);
* a scenario that validates runs 2 replications on the batch engine in this process;
* a sweep that loads makes its design (at most 100,000 points) and its first point validates or
  is refused by name;
* no case takes more than :data:`CASE_SECONDS` (``signal.alarm``) and the
  process's peak memory grows by less than :data:`MEMORY_GROWTH_MIB` over all cases.

The number of inputs tried is printed (``-s`` or ``-rP`` shows it) and checked.
"""

from __future__ import annotations

import copy
import json
import math
import os
import resource
import shutil
import signal
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments.designs import MAX_POINTS, load_sweep, make_design, point_source
from sim.experiments.runner import run_scenario
from sim.spec.distributions import DISTRIBUTIONS
from sim.spec.loader import ScenarioError, load_scenario, scenario_from_dict
from tests.conftest import DATA, ROOT, SCENARIOS

pytestmark = pytest.mark.slow

#: Longest any one case may take (validation, and a 2-replication run).
CASE_SECONDS = 30
#: Largest growth of the process's peak memory over all cases.
MEMORY_GROWTH_MIB = 1024
#: Mutated scenarios and sweep files tried.
SCENARIO_CASES = 800
SWEEP_CASES = 300
#: Most firms of a scenario run here (a larger one is the run pipeline's memory check, not the loader's).
MAX_FIRMS_RUN = 50_000

#: Words of a refusal that concerns the file as a whole rather than one field.
FILE_LEVEL = (
    "not valid TOML",
    "nested too deep",
    "extends",
    "not a text file",
    "empty",
    "base",
    "required field is missing",
)

EXTREMES: list[Any] = [
    0,
    -1,
    1,
    1e-300,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
    2**63,
    10**30,
    -(10**30),
    True,
    False,
    "",
    "x" * 5000,
    "[/bold] [red]",
    [],
    {},
    [1, "a", {}],
    date(9999, 12, 1),
    date(1, 1, 1),
    {"dist": "beta", "mean": 0.5, "sd": 1e-200},
    {"dist": "lognormal", "mean": 5, "sd": 1e200},
    {"dist": "lognormal", "median": 1e300, "sigma": 50},
    {"dist": "poisson", "mean": 1e300},
    {"dist": "uniform", "low": 0, "high": math.inf},
    {"dist": "uniform", "low": -1e308, "high": 1e308},
    {"dist": "empirical", "values": [1, 2], "weights": [1e308, 1e308]},
    {"dist": "gamma", "mean": 1, "sd": 1e-300},
    {"dist": "normal", "mean": 0.5, "sd": 1e-320, "low": 0, "high": 1},
    {"dist": "triangular", "low": 0, "mode": 1e300, "high": 1e301},
    {"dist": ["beta"]},
]

ODD_TARGETS = [
    "fifo.toml",
    "/dev/zero",
    ".",
    "fuzz.toml",
    "nope.toml",
    "/etc/hostname",
    "../../../../../../etc/passwd",
    "loop-a.toml",
    "x" * 3000,
    "",
    5,
    ["baseline.toml"],
]


def _numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-2.0, max_value=2.0),
    )


def _distributions() -> st.SearchStrategy[dict[str, Any]]:
    keys = ("value", "low", "high", "mode", "mean", "sd", "median", "sigma", "a", "b")
    return st.fixed_dictionaries(
        {"dist": st.sampled_from(DISTRIBUTIONS)},
        optional={k: _numbers() for k in keys} | {"values": st.lists(_numbers(), max_size=4)},
    )


def _values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(EXTREMES),
        st.integers(min_value=0, max_value=100),  # plausible values: the run is reached too
        st.floats(min_value=0.0, max_value=1.0),
        _numbers(),
        st.booleans(),
        st.text(max_size=80),
        st.lists(_numbers(), max_size=4),
        _distributions(),
    )


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# ------------------------------------------------------------------ writing TOML


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"


def to_toml(table: dict[str, Any]) -> str:
    """A TOML text for ``table``: one line per top-level key, nested tables written inline."""
    return "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in table.items())


# ------------------------------------------------------------------ mutations


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _parent(table: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = table
    for part in path[:-1]:
        node = node[part]
    return node


def mutate(data: st.DataObject, table: dict[str, Any], link: str) -> tuple[Any, ...]:
    """Change ``table`` in place once; the path changed (for the field the message must name)."""
    path = data.draw(st.sampled_from(list(_paths(table))))
    parent = _parent(table, path)
    kind = data.draw(st.sampled_from(["set", "set", "scale", "scale", "delete", "unknown", "nest", "link"]))
    current = parent[path[-1]]
    if kind == "scale" and isinstance(current, int | float) and not isinstance(current, bool):
        factor = data.draw(st.sampled_from([0, -1, 0.1, 0.5, 2, 10, 1e3, 1e6, 1e12]))
        parent[path[-1]] = type(current)(current * factor) if math.isfinite(current * factor) else current
    elif kind == "delete":
        del parent[path[-1]]
    elif kind == "unknown" and isinstance(parent, dict):
        key = data.draw(st.sampled_from(["zz_unknown", "Budget_hkd", "dist", "extends", "bands"]))
        parent[key] = 1
        return (*path[:-1], key)
    elif kind == "nest":
        parent[path[-1]] = _nested(data.draw(st.integers(min_value=2, max_value=60)))
    elif kind == "link":
        table[link] = data.draw(st.sampled_from(ODD_TARGETS))
        return (link,)
    else:
        parent[path[-1]] = copy.deepcopy(data.draw(_values()))  # EXTREMES stay as they are
    return path


# ------------------------------------------------------------------ the project copy and checks


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's scenario files, a FIFO and a symlink loop beside them."""
    root = tmp_path_factory.mktemp("fuzz-project")
    (root / "pyproject.toml").write_text("")
    shutil.copytree(SCENARIOS, root / "scenarios")
    (root / "tests" / "data").mkdir(parents=True)
    shutil.copy(DATA / "small.toml", root / "tests" / "data" / "small.toml")
    for folder in (root / "scenarios", root / "scenarios" / "sweeps", root / "tests" / "data"):
        os.mkfifo(folder / "fifo.toml")
        (folder / "loop-a.toml").symlink_to(folder / "loop-b.toml")
        (folder / "loop-b.toml").symlink_to(folder / "loop-a.toml")
    load_scenario(root / "tests" / "data" / "small.toml")  # the compiled loops are built before timing
    return root


class CaseTimeout(Exception):
    """A case ran longer than CASE_SECONDS."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def stop(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"a case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_refusal(message: str, path: Path, changed: tuple[Any, ...]) -> None:
    """A refusal names the file, and a field (a part of the changed path) or what is wrong with the file."""
    assert "Traceback" not in message, message
    assert str(path) in message, message
    named = any(str(part) in message for part in changed if isinstance(part, str))
    assert named or any(word in message for word in FILE_LEVEL), message


def validate(path: Path, changed: tuple[Any, ...]) -> bool:
    """``schemesim validate``: True if ok; else exit 2 with a message naming file and field."""
    result = CliRunner().invoke(app, ["validate", str(path)], catch_exceptions=True)
    text = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert result.exit_code in (0, 2), text
    if result.exit_code == 2:
        check_refusal(text, path, changed)
    return result.exit_code == 0


def run_small(path: Path) -> None:
    """Two replications on the batch engine, in this process."""
    loaded = load_scenario(path)
    result = run_scenario(loaded, 2, seed=1, engine="batch", workers=1)
    assert len(result.table) > 0
    if result.spool is not None:
        result.spool.remove()


def fuzz(check: Callable[[st.DataObject], str], cases: int) -> Counter[str]:
    """Run ``check`` on ``cases`` drawn inputs; the count of each outcome."""
    counts: Counter[str] = Counter()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def case(data: st.DataObject) -> None:
        with time_limit(CASE_SECONDS):
            counts[check(data)] += 1

    case()
    return counts


SCENARIO_SEEDS = [*sorted(SCENARIOS.glob("*.toml")), DATA / "small.toml"]


def test_mutated_scenarios_are_refused_by_name_or_run(project: Path) -> None:
    start = peak_mib()

    def check(data: st.DataObject) -> str:
        seed = data.draw(st.sampled_from(SCENARIO_SEEDS))
        folder = project / seed.relative_to(ROOT).parent
        table = tomllib.loads(seed.read_text())
        changed = [mutate(data, table, "extends") for _ in range(data.draw(st.integers(1, 3)))]
        path = folder / "fuzz.toml"
        path.write_text(to_toml(table))
        if not validate(path, tuple(p for c in changed for p in c)):
            return "refused"
        if sum(s.count for s in load_scenario(path).scenario.segments.values()) > MAX_FIRMS_RUN:
            return "validated, too many firms to run here"  # the run pipeline's memory check
        run_small(path)
        return "ran"

    counts = fuzz(check, SCENARIO_CASES)
    print(f"fuzz: {sum(counts.values())} mutated scenarios tried: {dict(counts)}")
    assert sum(counts.values()) >= SCENARIO_CASES
    assert counts["refused"] > 0
    assert counts["ran"] > 0
    assert peak_mib() - start < MEMORY_GROWTH_MIB


def test_mutated_sweep_files_are_refused_by_name_or_make_their_design(project: Path) -> None:
    start = peak_mib()
    seeds = sorted((SCENARIOS / "sweeps").glob("*.toml"))

    def check(data: st.DataObject) -> str:
        table = tomllib.loads(data.draw(st.sampled_from(seeds)).read_text())
        changed = [mutate(data, table, "base") for _ in range(data.draw(st.integers(1, 3)))]
        path = project / "scenarios" / "sweeps" / "fuzz.toml"
        path.write_text(to_toml(table))
        try:
            sweep = load_sweep(path)
            design = make_design(sweep)
        except ScenarioError as problem:
            check_refusal(str(problem), path, tuple(p for c in changed for p in c))
            return "refused"
        assert 0 < len(design) <= MAX_POINTS
        first = dict(zip(sweep.paths, design.values[sweep.paths].to_numpy()[0], strict=True))
        try:
            scenario_from_dict(point_source(sweep.base.source, first), path)
        except ScenarioError as problem:
            check_refusal(str(problem), path, tuple(sweep.paths))
        return "designed"

    counts = fuzz(check, SWEEP_CASES)
    print(f"fuzz: {sum(counts.values())} mutated sweep files tried: {dict(counts)}")
    assert sum(counts.values()) >= SWEEP_CASES
    assert counts["refused"] > 0
    assert counts["designed"] > 0
    assert peak_mib() - start < MEMORY_GROWTH_MIB
