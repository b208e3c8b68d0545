"""Load scenario files: TOML, ``extends`` inheritance, validation, readable errors.

A variant states only what it changes::

    extends = "baseline.toml"
    name = "cap-500k"
    [schemes.manufacturing_plus]
    max_grant_hkd = 500_000

Tables merge key by key; any other value, a distribution table included,
replaces the inherited one. The
``name`` is never inherited (it defaults to the file's stem).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.spec import scenario as schema
from sim.spec.scenario import Scenario
from sim.spec.suggest import did_you_mean

__all__ = ["ScenarioError", "LoadedScenario", "load_scenario", "scenario_from_dict", "merge"]


class ScenarioError(Exception):
    """A scenario file that cannot be used; ``str()`` is the message for the user."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the merged table it came from and its hash."""

    scenario: Scenario
    source: dict[str, Any]
    path: str
    texts: dict[str, str]

    @property
    def hash(self) -> str:
        """SHA-256 of the merged scenario table (formatting and comments do not count)."""
        return scenario_hash(self.source)

    @property
    def name(self) -> str:
        return self.scenario.name


def scenario_hash(source: dict[str, Any]) -> str:
    canonical = json.dumps(source, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base``: tables merge, other values replace.

    A distribution table (one with a ``dist`` key) is a value, not a section: it
    replaces the inherited one whole, so a variant never mixes two distributions.
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and "dist" not in value and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path, origin: Path) -> tuple[dict[str, Any], str]:
    if not path.exists():
        raise ScenarioError(origin, [f"file not found: {path}"])
    if path.is_dir():
        raise ScenarioError(origin, [f"{path} is a directory, not a scenario file (.toml)"])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, ["not a text file; a scenario is a TOML file"]) from None
    if not text.strip():
        raise ScenarioError(
            path,
            [
                "the file is empty; a scenario needs at least name, start_date, "
                "horizon_weeks, [segments] and [schemes] (or 'extends')"
            ],
        )
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, [f"not valid TOML: {err}"]) from None


def _resolve(path: Path, chain: tuple[Path, ...], texts: dict[str, str]) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(chain[0], [f"extends: cycle of extends ({cycle}); a file cannot extend itself"])
    data, text = _read_toml(path, chain[-1] if chain else path)
    texts[str(path)] = text
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, [f'extends: must be a file name such as "baseline.toml" (got {parent!r})'])
    parent_path = path.parent / parent
    if not parent_path.exists():
        raise ScenarioError(path, [f"extends: file not found: {parent_path}"])
    base = _resolve(parent_path, (*chain, path), texts)
    base.pop("name", None)
    return merge(base, data)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read, merge and validate a scenario file. Raises :class:`ScenarioError`."""
    path = Path(path)
    texts: dict[str, str] = {}
    source = _resolve(path, (), texts)
    source.setdefault("name", path.stem)
    scenario = scenario_from_dict(source, path)
    return LoadedScenario(scenario=scenario, source=_jsonable(source), path=str(path), texts=texts)


def scenario_from_dict(source: dict[str, Any], path: str | Path = "<scenario>") -> Scenario:
    """Validate a merged scenario table; errors name ``path`` and the field."""
    try:
        return Scenario.model_validate(source)
    except ValidationError as err:
        raise ScenarioError(path, [_describe(e) for e in err.errors()]) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _field_names() -> list[str]:
    names: set[str] = {"extends"}
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    return sorted(names)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema class whose fields are allowed at ``loc`` (dict keys skipped)."""
    model: Any = Scenario
    expect_key = False
    for part in loc:
        if expect_key:
            expect_key = False
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if origin is dict:
            model = ann.__args__[1]
            expect_key = True
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = sorted(owner.model_fields) if owner else _field_names()
        hint = did_you_mean(str(loc[-1]), allowed)
        return f"{where}: unknown key{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return f"{where}: required field is missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "value_error" and message.startswith("schemes."):
        return message
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or "(got" in message else f" (got {got!r})"
    return f"{where}: {message}{shown}"
