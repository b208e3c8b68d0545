"""Fan charts mark each dated policy change of a scheme (R-CHANGE) with a line and a short label."""

from __future__ import annotations

from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.outputs import plots, timeline  # noqa: E402

META = {
    "start_date": "2025-11-18",
    "scenario_source": {
        "schemes": {
            "manufacturing_plus": {
                "changes": [
                    {"week": 52, "budget_hkd": 50_000_000, "places": 200},
                    {"week": 78, "closes": True},
                ]
            },
            "other": {},
        }
    },
}


def test_each_change_becomes_a_dated_label() -> None:
    changes = plots.policy_changes(META)
    assert list(changes) == ["manufacturing_plus"]
    (first, first_text), (second, second_text) = changes["manufacturing_plus"]
    assert first == date(2026, 11, 17)
    assert second == date(2027, 5, 18)
    assert "+200 places" in first_text
    assert first_text.startswith("+HK$50")
    assert second_text == "closes"


def test_no_scenario_in_the_manifest_means_no_marks() -> None:
    assert plots.policy_changes({"start_date": "2025-11-18"}) == {}


def test_a_mark_is_a_vertical_line_with_its_label() -> None:
    fig, ax = plt.subplots()
    plots.mark_changes(ax, plots.policy_changes(META)["manufacturing_plus"])
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.texts] == [
        plots.policy_changes(META)["manufacturing_plus"][0][1],
        "closes",
    ]
    plt.close(fig)


def test_the_workbook_lists_each_change_with_its_date() -> None:
    from sim.outputs.workbook import assumptions_table

    rows = assumptions_table(META)
    changes = rows[rows["path"].str.contains(".changes.")]
    assert list(changes["path"]) == [
        "schemes.manufacturing_plus.changes.0",
        "schemes.manufacturing_plus.changes.1",
    ]
    assert list(changes["value"]) == [
        "2026-11-17: "
        + timeline.change_text(META["scenario_source"]["schemes"]["manufacturing_plus"]["changes"][0]),
        "2027-05-18: closes",
    ]


def test_a_new_cap_is_named() -> None:
    assert timeline.change_text({"week": 60, "max_grant_hkd": 300_000}).startswith("cap HK$300")


def test_the_places_and_budget_drawn_include_every_top_up() -> None:
    from sim.outputs.folders import scheme_limits

    source = {
        "schemes": {
            "m": {
                "budget_hkd": 100.0,
                "places": 4,
                "changes": [{"week": 5, "budget_hkd": 50.0}, {"week": 9, "places": 2, "closes": True}],
            }
        }
    }
    assert scheme_limits(source) == {"m": {"places": 6.0, "budget_hkd": 150.0}}


def test_a_swept_change_is_named_as_a_change_not_as_the_schemes_own_field() -> None:
    from sim.outputs.labels import parameter_label

    names = {"manufacturing_plus": "Manufacturing+"}
    label = parameter_label("schemes.manufacturing_plus.changes.0.budget_hkd", names)
    assert label == "Manufacturing+: money added (HK$) of dated change 1"
    assert parameter_label("schemes.manufacturing_plus.changes.1.week", names).endswith(
        "week of dated change 2"
    )


def test_a_compared_scenarios_changes_are_described_in_words() -> None:
    from sim.outputs.brief import _describe

    changes = [{"week": 52, "places": 200}, {"week": 78, "closes": True}]
    assert _describe(changes, "schemes.m.changes") == "week 52: +200 places; week 78: closes"


def test_more_assessors_are_named_on_the_marks_in_the_workbook_and_in_a_comparison() -> None:
    from sim.outputs.brief import _describe
    from sim.outputs.labels import parameter_label
    from sim.outputs.workbook import assumptions_table

    assert timeline.change_text({"week": 56, "assessors": 2}) == "+2 assessors"
    assert timeline.change_text({"week": 56, "assessors": 1, "places": 10}) == "+10 places, +1 assessor"
    assert timeline.change_text({"week": 56, "assessors": 0, "closes": True}) == "closes"
    meta = {
        "start_date": "2025-11-18",
        "scenario_source": {"schemes": {"m": {"changes": [{"week": 56, "assessors": 2}]}}},
    }
    assert plots.policy_changes(meta) == {"m": [(date(2026, 12, 15), "+2 assessors")]}
    rows = assumptions_table(meta)
    assert list(rows[rows["path"] == "schemes.m.changes.0"]["value"]) == ["2026-12-15: +2 assessors"]
    assert _describe([{"week": 56, "assessors": 2}], "schemes.m.changes") == "week 56: +2 assessors"
    assert (
        parameter_label("schemes.m.changes.0.assessors", {"m": "M"}) == "M: assessors added of dated change 1"
    )
