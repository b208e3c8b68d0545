"""The README's limits table is the one the validator uses (generated, never typed by hand)."""

from __future__ import annotations

from sim.spec.scenario import field_limits
from tests.conftest import ROOT


def test_readme_limits_table_equals_the_declared_field_limits() -> None:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- limits:start -->", 1)[1].split("<!-- limits:end -->", 1)[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    assert rows == [f"| `{field}` | {allowed} |" for field, allowed in field_limits()]
