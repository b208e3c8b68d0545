"""Broken scenarios: each gets one clear message naming the file, the field and what is
allowed, exit code 2, no traceback, and nothing written under results/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, SCENARIOS

DATA_SMALL = DATA / "small.toml"

BASE = f'extends = "{SCENARIOS / "baseline.toml"}"\n'

# id -> (file text, field named in the message, words saying what is allowed)
BROKEN: dict[str, tuple[str, str, str]] = {
    "unknown-kind": (
        BASE + '[schemes.it_accelerator]\nkind = "broker"\n',
        "schemes.it_accelerator.kind",
        "'direct' or 'intermediary'",
    ),
    "unknown-cohort-segment": (
        BASE + '[schemes.it_accelerator.programme]\ncohort_segment = "startups"\n',
        "schemes.it_accelerator.programme.cohort_segment",
        "did you mean 'startup'",
    ),
    "cohorts-from-the-operators": (
        BASE + '[schemes.it_accelerator.programme]\ncohort_segment = "accelerator_operator"\n',
        "schemes.it_accelerator.programme.cohort_segment",
        "cohorts come from another",
    ),
    "programme-of-a-direct-scheme": (
        BASE
        + '[schemes.manufacturing_plus.programme]\ncohort_segment = "startup"\ncohort_size_mean = 5\n'
        + "relocated_share = 0.1\nsurvival_probability = 0.5\nfollow_on_probability = 0.1\n",
        "schemes.manufacturing_plus.programme",
        "only an intermediary scheme",
    ),
    "impact-of-an-intermediary-scheme": (
        BASE + "[schemes.it_accelerator.impact]\ndeadweight = 0.5\n",
        "schemes.it_accelerator.impact",
        "value its start-ups in its programme's impact section",
    ),
    "start-up-impact-values-nothing": (
        BASE + "[schemes.it_accelerator.programme.impact]\ndeadweight = 0.5\ndiscount_rate = 0.04\n",
        "schemes.it_accelerator.programme.impact",
        "at least one of surviving_value_hkd, relocated_value_hkd or follow_on_value_hkd",
    ),
    "start-up-impact-without-deadweight": (
        BASE + "[schemes.it_accelerator.programme.impact]\nsurviving_value_hkd = 1e6\ndiscount_rate = 0.04\n",
        "schemes.it_accelerator.programme.impact.deadweight",
        "required",
    ),
    "start-up-value-negative": (
        BASE
        + "[schemes.it_accelerator.programme.impact]\nsurviving_value_hkd = -1\ndeadweight = 0.5\n"
        + "discount_rate = 0.04\n",
        "schemes.it_accelerator.programme.impact.surviving_value_hkd",
        "between 0 and",
    ),
    "unknown-key-in-start-up-impact": (
        BASE + "[schemes.it_accelerator.programme.impact]\nsurviving_value = 1e6\n",
        "schemes.it_accelerator.programme.impact.surviving_value",
        "allowed here: deadweight, discount_rate, follow_on_value_hkd, relocated_value_hkd, surviving_value_hkd",
    ),
    "unknown-key-in-programme": (
        BASE + "[schemes.it_accelerator.programme]\ncohort_size = 5\n",
        "schemes.it_accelerator.programme.cohort_size",
        "did you mean 'cohort_size_mean'",
    ),
    "unknown-key": (
        BASE + "[schemes.manufacturing_plus]\nbudget_hdk = 1\n",
        "schemes.manufacturing_plus.budget_hdk",
        "did you mean 'budget_hkd'",
    ),
    "wrong-type": (
        BASE + '[schemes.manufacturing_plus]\nplaces = "many"\n',
        "schemes.manufacturing_plus.places",
        "a number or a distribution table",
    ),
    "negative-budget": (
        BASE + "[schemes.manufacturing_plus]\nbudget_hkd = -5\n",
        "schemes.manufacturing_plus.budget_hkd",
        "between 0 and 10_000_000_000_000",
    ),
    "probability-above-1": (
        BASE + "[schemes.manufacturing_plus.vetting]\nwithdraw_probability = 1.5\n",
        "schemes.manufacturing_plus.vetting.withdraw_probability",
        "between 0 and 1",
    ),
    "beta-sd-impossible": (
        BASE
        + '[schemes.manufacturing_plus.vetting]\napproval_probability = {dist = "beta", mean = 0.85, sd = 0.5}\n',
        "schemes.manufacturing_plus.vetting.approval_probability",
        "sqrt(mean*(1-mean))",
    ),
    "missing-distribution-parameter": (
        BASE + '[schemes.manufacturing_plus.vetting]\nreview_weeks = {dist = "lognormal", median = 6}\n',
        "schemes.manufacturing_plus.vetting.review_weeks",
        "missing parameter sigma",
    ),
    "unknown-distribution": (
        BASE
        + '[schemes.manufacturing_plus.vetting]\nreview_weeks = {dist = "lognormale", median = 6, sigma = 1}\n',
        "schemes.manufacturing_plus.vetting.review_weeks",
        "did you mean 'lognormal'",
    ),
    "unbounded-probability": (
        BASE
        + '[schemes.manufacturing_plus.vetting]\napproval_probability = {dist = "normal", mean = 0.9, sd = 0.1}\n',
        "schemes.manufacturing_plus.vetting.approval_probability",
        "between 0 and 1",
    ),
    "extends-missing-file": ('extends = "no-such-base.toml"\nname = "x"\n', "extends", "file not found"),
    "not-toml": ("name = = 'x'\n[[[\n", "", "not valid TOML"),
    "empty-file": ("\n  \n", "", "the file is empty"),
    "unknown-scheme-segment": (
        BASE + '[schemes.manufacturing_plus]\nsegments = ["manufacturing_smes"]\n',
        "schemes.manufacturing_plus.segments",
        "did you mean 'manufacturing_sme'",
    ),
    "horizon-not-positive": (BASE + "horizon_weeks = 0\n", "horizon_weeks", "between 1 and 2_600"),
    "band-shares": (
        BASE + "[segments.manufacturing_sme.bands.micro]\nshare = 0.5\n",
        "segments.manufacturing_sme",
        "band shares must add up to 1",
    ),
    "fractional-places": (
        BASE + "[schemes.manufacturing_plus]\nplaces = 400.5\n",
        "schemes.manufacturing_plus.places",
        "whole number",
    ),
    "bass-p-zero": (
        BASE + "[schemes.manufacturing_plus.uptake]\nbass_p = 0\n",
        "schemes.manufacturing_plus.uptake.bass_p",
        "must be between 1e-06 and 10",
    ),
}


def _check(result, path: Path, field: str, allowed: str, cwd: Path) -> None:
    text = result.stdout + result.stderr
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert str(path) in text, text
    assert field in text, text
    assert allowed in text, text
    assert not (cwd / "results").exists(), "nothing may be written for a bad scenario"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_scenario_exits_2_with_a_clear_message(case: str, cli, tmp_path: Path) -> None:
    text, field, allowed = BROKEN[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    _check(cli("run", path, "-n", "2"), path, field, allowed, tmp_path)
    _check(cli("validate", path), path, field, allowed, tmp_path)


def test_cycle_of_extends(cli, tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    _check(cli("run", tmp_path / "a.toml"), tmp_path / "a.toml", "extends", "cycle of extends", tmp_path)


def test_missing_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    _check(cli("run", path), path, "", "file not found", tmp_path)


def test_not_a_text_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00\x81")
    _check(cli("validate", path), path, "", "not a text file", tmp_path)


def test_validate_reports_ok_for_every_shipped_scenario(cli) -> None:
    files = sorted(SCENARIOS.glob("*.toml"))
    result = cli("validate", *files)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(": ok") == len(files)


def test_normal_bounds_without_mass_are_refused_before_running(cli, tmp_path: Path) -> None:
    path = tmp_path / "no-mass.toml"
    path.write_text(
        BASE + "[segments.manufacturing_sme]\n"
        'eligible_share = {dist = "normal", mean = 0.5, sd = 0.01, low = 0.9, high = 1}\n'
    )
    _check(
        cli("validate", path),
        path,
        "segments.manufacturing_sme.eligible_share",
        "no probability mass",
        tmp_path,
    )


def test_out_folder_that_is_not_a_result_is_never_replaced(cli, tmp_path: Path) -> None:
    """--out pointing at a folder of the user's (no manifest.json) stops with exit 2, untouched."""
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for args in (
        ("run", DATA_SMALL, "-n", "2", "--out", mine),
        ("compare", DATA_SMALL, DATA_SMALL, "-n", "2", "--out", mine),
    ):
        result = cli(*args)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert "not a result folder" in result.stderr
        assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


# issue 10's loader tracebacks and "validates, then run crashes": id -> (text, field, allowed)
HOSTILE: dict[str, tuple[str, str, str]] = {
    "beta-sd-1e-200": (
        BASE
        + '[schemes.manufacturing_plus.vetting]\napproval_probability = {dist = "beta", mean = 0.5, sd = 1e-200}\n',
        "schemes.manufacturing_plus.vetting.approval_probability",
        "sd >= 1e-06",
    ),
    "lognormal-sd-1e200": (
        BASE
        + '[schemes.manufacturing_plus.vetting]\nreview_weeks = {dist = "lognormal", mean = 5, sd = 1e200}\n',
        "schemes.manufacturing_plus.vetting.review_weeks",
        "sd <= 1e+15",
    ),
    "arrays-500-deep": (
        BASE + "x = " + "[" * 500 + "]" * 500 + "\n",
        "",
        "nested too deep; at most 16 levels",
    ),
    "capacity-1e19": (
        BASE + "[schemes.manufacturing_plus.vetting]\ncapacity = 1e19\n",
        "schemes.manufacturing_plus.vetting.capacity",
        "between 1 and 100_000",
    ),
    "count-true": (BASE + "[segments.startup]\ncount = true\n", "segments.startup.count", "must be a number"),
    "start-9999": (BASE + "start_date = 9999-12-01\n", "start_date", "between 1900-01-01 and 2200-12-31"),
    "markup-in-a-value": (
        BASE + '[schemes.manufacturing_plus]\nplaces = "[/bold] [red]"\n',
        "schemes.manufacturing_plus.places",
        "[/bold] [red]",
    ),
    "extends-etc": ('extends = "/etc/hostname"\n', "extends", "outside the allowed folder tree"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_scenario_exits_2_with_one_clear_message(
    case: str, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCHEMESIM_ALLOW_OUTSIDE", raising=False)
    text, field, allowed = HOSTILE[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    _check(cli("validate", path), path, field, allowed, tmp_path)
    _check(cli("run", path, "-n", "2"), path, field, allowed, tmp_path)


def test_fifo_symlink_loop_long_chain_and_device_exit_2_without_blocking(cli, tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "extends-pipe.toml").write_text('extends = "pipe.toml"\n')
    (tmp_path / "l1.toml").symlink_to(tmp_path / "l2.toml")
    (tmp_path / "l2.toml").symlink_to(tmp_path / "l1.toml")
    (tmp_path / "extends-loop.toml").write_text('extends = "l1.toml"\n')
    for i in range(1000):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    cases = {
        "pipe.toml": ("", "not a regular file"),
        "extends-pipe.toml": ("extends", "not a regular file"),
        "extends-loop.toml": ("extends", "loop of symbolic links"),
        "c0.toml": ("extends", "at most 16 files long"),
    }
    for name, (field, allowed) in cases.items():
        _check(cli("validate", tmp_path / name), tmp_path / name, field, allowed, tmp_path)
    _check(cli("validate", "/dev/zero"), Path("/dev/zero"), "", "not a regular file", tmp_path)


def test_extends_outside_the_project_runs_only_with_allow_outside(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file outside the named file's project is refused, unless ``--allow-outside`` is given."""
    from sim.spec.reading import ALLOW_OUTSIDE_ENV

    monkeypatch.setenv(ALLOW_OUTSIDE_ENV, "0")  # restored after the test: the option sets it
    elsewhere = tmp_path / "elsewhere"
    project = tmp_path / "project"
    for folder in (elsewhere, project / "scenarios"):
        folder.mkdir(parents=True)
    (elsewhere / "base.toml").write_text((DATA / "small.toml").read_text().replace("../../", f"{ROOT}/"))
    variant = project / "scenarios" / "variant.toml"
    variant.write_text(f'extends = "{elsewhere / "base.toml"}"\n')
    refused = cli("validate", variant)
    assert refused.exit_code == 2
    assert "outside" in refused.stderr
    assert "--allow-outside" in " ".join(refused.stderr.split())
    allowed = cli("--allow-outside", "validate", variant)
    assert allowed.exit_code == 0, allowed.stderr
