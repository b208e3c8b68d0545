"""Broken uptake timing and windows (MODEL.md 3c-d): one clear message naming the file, the field and
what is allowed, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_bad_input import BASE, _check

MP = "schemes.manufacturing_plus"

# id -> (file text, field named in the message, words saying what is allowed)
BROKEN: dict[str, tuple[str, str, str]] = {
    "share-above-1": (
        BASE + f"[{MP}.uptake]\nlaunch_share = 1.5\nlaunch_weeks = 6\n",
        f"{MP}.uptake.launch_share",
        "between 0 and 1",
    ),
    "shares-add-up-above-1": (
        BASE
        + f"[{MP}]\ncloses_week = 13\n[{MP}.uptake]\nlaunch_share = 0.6\nlaunch_weeks = 4\n"
        + "rush_share = 0.5\nrush_weeks = 1\n",
        f"{MP}.uptake",
        "launch_share + rush_share must be at most 1",
    ),
    "share-without-weeks": (
        BASE + f"[{MP}]\ncloses_week = 52\n[{MP}.uptake]\nrush_share = 0.2\n",
        f"{MP}.uptake",
        "rush_share needs rush_weeks",
    ),
    "weeks-not-positive": (
        BASE + f"[{MP}.uptake]\nlaunch_share = 0.15\nlaunch_weeks = 0\n",
        f"{MP}.uptake.launch_weeks",
        "above 0 and at most 2_600",
    ),
    "rush-without-close": (
        BASE + f"[{MP}.uptake]\nrush_share = 0.26\nrush_weeks = 1\n",
        f"{MP}.uptake.rush_share",
        "a deadline rush needs a closing date (closes_week)",
    ),
    "rush-longer-than-window": (
        BASE
        + f"[{MP}]\nopens_week = 10\ncloses_week = 13\n[{MP}.uptake]\nrush_share = 0.2\nrush_weeks = 4\n"
        + "launch_share = 0\n",  # the baseline's launch burst (6 weeks) would not fit a 3-week window either
        f"{MP}.uptake.rush_weeks",
        "at most the window's length, 3 weeks",
    ),
    "closes-before-opens": (
        BASE + f"[{MP}]\nopens_week = 20\ncloses_week = 13\n",
        f"{MP}.closes_week",
        "must be after opens_week (20) and at most the horizon (104 weeks)",
    ),
    "closes-after-horizon": (
        BASE + f"[{MP}]\ncloses_week = 120\n",
        f"{MP}.closes_week",
        "at most the horizon (104 weeks)",
    ),
    "opens-at-horizon": (
        BASE + f"[{MP}]\nopens_week = 104\n",
        f"{MP}.opens_week",
        "must be before the horizon (104 weeks)",
    ),
    "window-contradicts-close": (
        BASE + f"[{MP}]\nopens_week = 4\ncloses_week = 13\napplication_window_weeks = 13\n",
        f"{MP}.closes_week",
        "contradicts application_window_weeks = 13",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_timing_exits_2_with_a_clear_message(case: str, cli, tmp_path: Path) -> None:
    text, field, allowed = BROKEN[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    _check(cli("validate", path), path, field, allowed, tmp_path)


def test_a_window_length_that_agrees_with_the_close_is_accepted(cli, tmp_path: Path) -> None:
    """application_window_weeks is the length from the opening: 4 + 9 = 13 agrees with closes_week."""
    path = tmp_path / "agrees.toml"
    path.write_text(BASE + f"[{MP}]\nopens_week = 4\ncloses_week = 13\napplication_window_weeks = 9\n")
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
