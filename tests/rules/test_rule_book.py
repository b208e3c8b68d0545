"""The rule book itself: one statement per id, each used in code and pinned by worked examples."""

from __future__ import annotations

import re
from pathlib import Path

from sim.engines.rules import RULE_BOOK, RULES

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"\bR-[A-Z]+(?:-[A-Z]+)*\b")


def _ids_in(paths: list[Path]) -> set[str]:
    return {match for path in paths for match in RULE_ID.findall(path.read_text())}


def test_every_rule_has_one_id_and_one_statement() -> None:
    assert len(RULES) == len(RULE_BOOK)
    assert all(rule.statement and rule.title for rule in RULE_BOOK)


def test_every_rule_id_named_in_the_engines_or_the_model_is_in_the_rule_book() -> None:
    named = _ids_in([*(ROOT / "sim" / "engines").glob("*.py"), ROOT / "MODEL.md"])
    assert named <= set(RULES), named - set(RULES)


def test_every_rule_has_worked_examples_and_the_same_statement_in_the_model() -> None:
    here = Path(__file__)
    examples = _ids_in([p for p in here.parent.glob("test_*.py") if p != here])
    assert set(RULES) <= examples, set(RULES) - examples
    model = (ROOT / "MODEL.md").read_text()
    for rule in RULE_BOOK:
        assert f"| {rule.id} | {rule.title} | {rule.statement} |" in model, rule.id
