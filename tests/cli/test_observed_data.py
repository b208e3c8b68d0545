"""Broken observed-data files: each gets one clear message naming the file, the row (as a
spreadsheet counts it), the field and what is allowed, and exit code 2; a good one is listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA, SCENARIOS

SMALL = DATA / "small.toml"  # starts 2025-11-18; horizon 104 + follow-up 104 weeks: last day 2029-11-13
HEAD = "scheme,date,quantity,value,bound,tolerance\n"
MP = "manufacturing_plus"


def _row(
    date: str = "2026-03-31",
    quantity: str = "awarded",
    value: str = "10",
    bound: str = "exact",
    tol: str = "",
):
    return f"{MP},{date},{quantity},{value},{bound},{tol}\n"


# id -> (file text, "row N, field" named in the message, words saying what is allowed)
BROKEN: dict[str, tuple[str, str, str]] = {
    "wrong-scheme": (
        HEAD + "manufacturing_plu,2026-03-31,awarded,10,exact,\n",
        "row 2, scheme",
        "'manufacturing_plus'",
    ),
    "wrong-quantity": (HEAD + _row(quantity="awards"), "row 2, quantity", "did you mean 'awarded'"),
    "date-before-start": (HEAD + _row(date="2025-11-17"), "row 2, date", "from 2025-11-18 (start_date)"),
    "date-after-end": (HEAD + _row(date="2029-11-14"), "row 2, date", "to 2029-11-13 (end of the follow-up)"),
    "date-not-iso": (HEAD + _row(date="31/03/2026"), "row 2, date", "a date YYYY-MM-DD"),
    "date-impossible": (HEAD + _row(date="2026-02-30"), "row 2, date", "not a date"),
    "decreasing": (
        HEAD + _row("2026-02-28", value="12") + _row(value="8"),
        "row 3, value",
        "never decreases",
    ),
    "decreasing-unsorted": (
        HEAD + _row(value="8") + _row("2026-02-28", value="12"),
        "row 2, value",
        "(row 3)",
    ),
    "below-at-least": (
        HEAD + _row("2026-02-28", value="12", bound="at_least") + _row(value="8"),
        "row 3, value",
        "never decreases",
    ),
    "non-numeric": (HEAD + _row(value="ten"), "row 2, value", "a whole number, at least 0"),
    "not-finite": (HEAD + _row(quantity="paid_hkd", value="inf"), "row 2, value", "a number of HK$"),
    "negative": (HEAD + _row(value="-3"), "row 2, value", "at least 0"),
    "fractional-count": (HEAD + _row(value="2.5"), "row 2, value", "a whole number"),
    "bad-bound": (HEAD + _row(bound="lower"), "row 2, bound", "allowed: exact, approx, at_least"),
    "tolerance-on-exact": (HEAD + _row(tol="0.1"), "row 2, tolerance", "only approx"),
    "tolerance-too-big": (HEAD + _row(bound="approx", tol="1.5"), "row 2, tolerance", "at most 1"),
    "tolerance-not-number": (HEAD + _row(bound="approx", tol="ten%"), "row 2, tolerance", "not a number"),
    "duplicate": (HEAD + _row(value="9") + _row(value="10"), "row 3, date", "given twice (also row 2)"),
    "missing-column": (
        "scheme,date,quantity,value\n" + f"{MP},2026-03-31,awarded,10\n",
        "row 1 (header)",
        "bound",
    ),
    "unknown-column": (
        HEAD.strip() + ",colour\n" + _row().strip() + ",red\n",
        "row 1 (header), column",
        "colour",
    ),
    "semicolons": (
        HEAD.replace(",", ";") + _row().replace(",", ";"),
        "row 1 (header)",
        "with commas, not ';'",
    ),
    "short-row": (HEAD + f"{MP},2026-03-31,awarded\n", "row 2, (the row)", "the header has 6 columns"),
    "comment-rows-count": ("# made up\n\n" + HEAD + _row(value="x"), "row 4, value", "not a number"),
    "no-observations": ("# nothing\n" + HEAD, "no observations", "the columns are scheme, date"),
}


def _check(result, path: Path, field: str, allowed: str) -> None:
    text = result.stdout + result.stderr
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert str(path) in text, text
    assert field in text, text
    assert allowed in text, text
    assert not Path("results").exists(), "nothing may be written for a bad file"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_observed_file_exits_2_naming_file_row_and_field(case: str, cli, tmp_path: Path) -> None:
    text, field, allowed = BROKEN[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    _check(cli("observed", "check", SMALL, path), path, field, allowed)


def test_every_problem_of_a_file_is_listed(cli, tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(HEAD + _row(quantity="awards") + _row(value="ten"))
    result = cli("observed", "check", SMALL, path)
    assert result.exit_code == 2
    assert "row 2, quantity" in result.stderr, result.stderr
    assert "row 3, value" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfe\x00bad", "not a text file"),
        (None, "is a directory"),
        (b"x" * ((1 << 20) + 1), "at most 1 MiB"),
    ],
)
def test_unreadable_files_are_refused(cli, tmp_path: Path, content: bytes | None, words: str) -> None:
    path = tmp_path / "obs.csv"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    _check(cli("observed", "check", SMALL, path), path, "", words)


def test_a_device_is_never_read(cli) -> None:
    _check(cli("observed", "check", SMALL, "/dev/zero"), Path("/dev/zero"), "", "not a regular file")


def test_a_bad_scenario_is_named_first(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon_weeks = 0\n")
    path = tmp_path / "obs.csv"
    path.write_text(HEAD + _row())
    _check(cli("observed", "check", bad, path), bad, "", "required field is missing")


def test_a_good_file_is_listed_with_its_weeks(cli, tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(
        HEAD + _row("2025-11-18", value="0") + _row("2025-11-25", value="3", bound="approx") + _row()
    )
    result = cli("observed", "check", SMALL, path)
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "3 observations" in lines[0]
    assert lines[1].split() == ["scheme", "date", "week", "quantity", "value", "bound", "row"]
    assert lines[2].split() == [MP, "2025-11-18", "0", "awarded", "0", "exact", "2"]
    assert lines[3].split() == [MP, "2025-11-25", "1", "awarded", "3", "approx", "10%", "3"]
    assert lines[4].split()[:3] == [MP, "2026-03-31", "19"]


def test_the_shipped_example_checks_against_the_baseline(cli) -> None:
    example = SCENARIOS / "observed" / "manufacturing-plus-synthetic.csv"
    result = cli("observed", "check", SCENARIOS / "baseline.toml", example)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "24 observations" in result.stdout
