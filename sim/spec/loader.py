"""Load scenario files: TOML, ``extends`` inheritance, validation, readable errors.

A variant states only what it changes::

    extends = "baseline.toml"
    name = "cap-500k"
    [schemes.manufacturing_plus]
    max_grant_hkd = 500_000

Tables merge key by key; any other value, a distribution table included,
replaces the inherited one. The
``name`` is never inherited (it defaults to the file's stem).

Every file is read under the bounds of :mod:`sim.spec.reading` (a regular file
of at most 1 MiB, nesting at most 16 deep, at most 16 files in a chain of
``extends``, no cycles or symlink loops), and ``extends`` may name only files
in the allowed folder tree described there, unless ``allow_outside=True`` or
``SCHEMESIM_ALLOW_OUTSIDE=1``. Every refusal is a :class:`ScenarioError` naming
the file the user gave; a problem with a value set in a file it extends says
which file, and does not quote the value when that file lies outside the tree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.spec import scenario as schema
from sim.spec.posterior import PosteriorError, posterior_problems, posterior_reference
from sim.spec.reading import (
    ALLOW_OUTSIDE_ENV,
    MAX_EXTENDS,
    ReadError,
    allowed_roots,
    inside,
    outside_allowed,
    read_toml_file,
    resolved,
)
from sim.spec.scenario import Scenario, field_limits, written_section
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
    """SHA-256 of ``source`` in canonical JSON. A posterior counts by its content digest, not by where
    it lies, so a calibrated scenario's hash (and result folder) is the same in every checkout."""
    posterior = source.get("posterior")
    if isinstance(posterior, dict) and "file" in posterior:
        source = {**source, "posterior": {k: v for k, v in posterior.items() if k != "file"}}
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


@dataclass
class _Chain:
    """The files read for one scenario: the named file first, then each file it extends."""

    named: Path
    roots: tuple[Path, ...]
    allow_outside: bool
    files: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def fail(self, problem: str) -> ScenarioError:
        """A refusal that names the file the user named."""
        return ScenarioError(self.named, [problem])

    def label(self, path: Path) -> str:
        """How a file of the chain is named in messages (relative to the named file's folder if possible)."""
        try:
            return str(path.relative_to(resolved(self.named).parent))
        except (ValueError, ReadError):
            return str(path)


def _read(path: Path, chain: _Chain) -> dict[str, Any]:
    """Read one file of the chain under the reading bounds; problems name the file that failed."""
    try:
        data, text = read_toml_file(path)
    except ReadError as err:
        if not chain.files:
            raise ScenarioError(chain.named, [str(err)]) from None
        raise chain.fail(f"extends: {chain.label(path)}: {err}") from None
    chain.texts[str(path)] = text
    chain.files.append((path, data))
    return data


def _parent_of(path: Path, data: dict[str, Any], chain: _Chain) -> Path | None:
    """The file ``path`` extends, checked: a file name, inside the allowed tree, not yet in the chain."""
    parent = data.pop("extends", None)
    if parent is None:
        return None
    where = "extends" if len(chain.files) == 1 else f"extends (in {chain.label(path)})"
    if not isinstance(parent, str) or not parent or len(parent) > 1000 or "\0" in parent:
        raise chain.fail(f'{where}: must be a file name such as "baseline.toml"')
    target = path.parent / parent
    try:
        target = resolved(target)
    except ReadError as err:
        raise chain.fail(f"{where}: {err}") from None
    if not chain.allow_outside and not inside(target, chain.roots):
        raise chain.fail(
            f"{where}: {parent} lies outside the allowed folder tree {chain.roots[0]}; "
            f"run schemesim --allow-outside (or set {ALLOW_OUTSIDE_ENV}=1) to allow it"
        )
    if any(target == seen for seen, _ in chain.files):
        cycle = " -> ".join(p.name for p, _ in (*chain.files, (target, {})))
        raise chain.fail(f"{where}: cycle of extends ({cycle}); a file cannot extend itself")
    if len(chain.files) >= MAX_EXTENDS:
        raise chain.fail(f"{where}: a chain of extends is at most {MAX_EXTENDS} files long")
    if not target.exists():
        raise chain.fail(f"{where}: file not found: {path.parent / parent}")
    return target


def _resolve(chain: _Chain) -> dict[str, Any]:
    """Read the named file and every file it extends, in turn, and merge them (no recursion)."""
    path: Path | None = resolved(chain.named)
    tables: list[dict[str, Any]] = []
    while path is not None:
        data = dict(_read(path, chain))
        path = _parent_of(path, data, chain)
        tables.append(data)
    merged = tables.pop()
    while tables:
        merged.pop("name", None)
        merged = merge(merged, tables.pop())
    return merged


def load_scenario(
    path: str | Path, *, allow_outside: bool | None = None, roots: tuple[Path, ...] | None = None
) -> LoadedScenario:
    """Read, merge and validate a scenario file. Raises :class:`ScenarioError`.

    ``extends`` may name only files inside the allowed tree (see
    :mod:`sim.spec.reading`): the project folder of ``path``, or ``roots`` when
    given (a sweep passes its own allowed tree for its base). ``allow_outside`` lifts
    that rule; ``None`` reads it from the environment (``SCHEMESIM_ALLOW_OUTSIDE=1``).
    """
    path = Path(path)
    try:
        roots = allowed_roots(path) if roots is None else roots
    except ReadError as err:
        raise ScenarioError(path, [str(err)]) from None
    chain = _Chain(named=path, roots=roots, allow_outside=outside_allowed(allow_outside))
    source = _resolve(chain)
    source.setdefault("name", path.stem)
    if "posterior" in source:
        source["posterior"] = _posterior(source["posterior"], chain)
    try:
        scenario = Scenario.model_validate(source)
    except ValidationError as err:
        raise ScenarioError(path, [_describe(e, chain) for e in err.errors()]) from None
    problems = posterior_problems(scenario)
    if problems:
        raise ScenarioError(path, [f"{_posterior_field(chain)}: {p}" for p in problems])
    return LoadedScenario(scenario=scenario, source=_jsonable(source), path=str(path), texts=chain.texts)


def _posterior_field(chain: _Chain) -> str:
    """How the ``posterior`` field is named in messages: with the file that set it, if inherited."""
    origin = _origin(("posterior",), chain)
    if origin is None or origin == chain.files[0][0]:
        return "posterior"
    return f"posterior (set in {chain.label(origin)})"


def _posterior(value: Any, chain: _Chain) -> dict[str, Any]:
    """The checked reference to the posterior file ``value`` names, relative to the file naming it."""
    origin = _origin(("posterior",), chain) or chain.files[0][0]
    try:
        return posterior_reference(value, origin, chain.roots, chain.allow_outside)
    except PosteriorError as problem:
        raise chain.fail(f"{_posterior_field(chain)}: {problem}") from None


def scenario_from_dict(source: dict[str, Any], path: str | Path = "<scenario>") -> Scenario:
    """Validate a merged scenario table; errors name ``path`` and the field."""
    try:
        return Scenario.model_validate(source)
    except ValidationError as err:
        raise ScenarioError(path, [_describe(e) for e in err.errors()]) from None


def _origin(loc: tuple[Any, ...], chain: _Chain) -> Path | None:
    """The file of the chain that set the value at ``loc``: the first (child-most) to define it."""
    for path, data in chain.files:
        node: Any = data
        for part in loc:
            if not isinstance(node, dict) or "dist" in node:
                break
            if part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return path
    return None


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
    """The schema class whose fields are allowed at ``loc`` (dict keys and list indices skipped)."""
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
        if origin in (dict, list):  # a table of named entries, or a list of entries (its index skipped)
            model = ann.__args__[-1]
            expect_key = True
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:  # an optional section (``Programme | None``), else a value with no fields
            args = getattr(ann, "__args__", ())
            sections = [
                a for a in args if isinstance(a, type) and issubclass(a, BaseModel) and written_section(a)
            ]
            if not sections:
                return None
            model = sections[0]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _describe(error: ErrorDetails, chain: _Chain | None = None) -> str:
    """One problem in words: the field, what is wrong and what is allowed.

    A value set in a file the scenario extends is named with that file; when the
    file lies outside the allowed tree, the message does not quote its values.
    """
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # a name of a segment, scheme or band: the table holding it
        loc = loc[:-2]
    where = ".".join(str(p) for p in loc) or "(top level)"
    origin = _origin(loc, chain) if chain is not None else None
    if chain is None or origin is None:
        return _explain(error, loc, where)
    if origin != chain.files[0][0]:
        where = f"{where} (set in {chain.label(origin)})"
    if not inside(origin, chain.roots):
        return f"{where}: {_redacted(error, loc)}"
    return _explain(error, loc, where)


def _redacted(error: ErrorDetails, loc: tuple[Any, ...]) -> str:
    """What is wrong, without any value from the file (it lies outside the allowed tree)."""
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required field is missing"
    allowed = next(
        (text for pattern, text in field_limits() if _matches(pattern.split("."), loc)),
        "see the limits of this field",
    )
    return f"the value there is not allowed; allowed: {allowed} (values from outside the tree are not shown)"


def _matches(pattern: list[str], loc: tuple[Any, ...]) -> bool:
    return len(pattern) == len(loc) and all(
        p in ("*", str(part)) for p, part in zip(pattern, loc, strict=True)
    )


def _explain(error: ErrorDetails, loc: tuple[Any, ...], where: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = sorted(owner.model_fields) if owner else _field_names()
        hint = did_you_mean(str(loc[-1]), allowed)
        return f"{where}: unknown key{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return f"{where}: required field is missing"
    message = "must be true or false" if kind == "bool_type" else error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "value_error" and message.startswith("schemes."):
        return message
    got = error.get("input")
    text = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
    shown = "" if isinstance(got, dict | list) or "(got" in message else f" (got {text})"
    return f"{where}: {message}{shown}"
