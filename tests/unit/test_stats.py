"""The pure statistics: which (place, colour) a change moves a holder between, sums, prefixes, the map."""

from __future__ import annotations

from types import SimpleNamespace

from healthcode.stats import (
    LevelSet,
    apply,
    county_levels,
    delta,
    formula,
    index_row,
    map_svg,
    merge,
    per_level,
    prefix_of,
    within,
)


def holder(color="green", place="330106", applied=True):
    return SimpleNamespace(color=color, residence_region=place, applied=applied)


def test_a_change_moves_one_holder_between_place_and_colour_or_does_nothing():
    assert delta(None, holder()) == (None, "330106|green")  # a code issued
    assert delta(holder(), holder("red")) == ("330106|green", "330106|red")
    assert delta(holder(), holder(place="330108")) == ("330106|green", "330108|green")  # moved county
    assert delta(holder(), holder()) is None  # a check-in that changed nothing counted
    assert delta(None, holder(applied=False)) is None  # listed by the authority before applying
    assert delta(holder(), None) == ("330106|green", None)  # deleted


def test_sums_over_deltas_and_prefixes():
    counts = apply(
        {},
        [(None, "330106|green"), (None, "330106|green"), (None, "330108|yellow"), (None, "420111|green")]
        + [("330106|green", "330106|red")],
    )
    assert counts == {
        "330106": {"green": 1, "yellow": 0, "red": 1, "new_green": 2, "to_red": 1},
        "330108": {"green": 0, "yellow": 1, "red": 0, "new_yellow": 1},
        "420111": {"green": 1, "yellow": 0, "red": 0, "new_green": 1},
    }
    assert within(counts, "330100") == {"green": 1, "yellow": 1, "red": 1}
    assert within(counts, "330000") == within(counts, "330100")
    assert within(counts, None) == {"green": 2, "yellow": 1, "red": 1}
    assert (prefix_of("330000"), prefix_of("330100"), prefix_of("330106"), prefix_of(None)) == (
        "33",
        "3301",
        "330106",
        "",
    )
    assert within(apply(counts, [("420111|green", None)]), "420000")["green"] == 0  # deleted
    moved = apply({}, [("420111|green", "330106|green")])  # moved county, same colour: no turn
    assert moved == {"420111": {"green": -1, "yellow": 0, "red": 0}, "330106": {"green": 1, "yellow": 0, "red": 0}}
    assert merge(counts, {"330106": {"green": 2}})["330106"]["green"] == 3


def test_a_county_shows_its_own_level_else_its_citys_else_its_provinces_else_1():
    counties = [
        ("330106", "西湖区", 120.13, 30.26),
        ("330108", "滨江区", 120.21, 30.21),
        ("330302", "鹿城区", 120.65, 28.02),
    ]
    ancestors = {
        "330106": ("330106", "330100", "330000"),
        "330108": ("330108", "330100", "330000"),
        "330302": ("330302", "330300", "330000"),
    }
    levels = {
        "330106": LevelSet(5, "2020-02-17T09:00:00+08:00", "officer"),
        "330100": LevelSet(2, None, "partner:ningbo"),
    }
    shown = {c.code: c for c in county_levels(counties, levels, ancestors)}
    assert (shown["330106"].level, shown["330106"].color, shown["330106"].set_on) == (5, "red", "330106")
    assert (shown["330108"].color, shown["330108"].set_by, shown["330108"].set_on) == (
        "blue",
        "partner:ningbo",
        "330100",
    )
    assert (shown["330302"].level, shown["330302"].color, shown["330302"].set_on) == (1, "green", None)
    assert per_level(shown.values()) == {"green": 1, "blue": 1, "yellow": 0, "orange": 0, "red": 1}
    svg = map_svg(list(shown.values()), "浙江省 风险等级", "2020-02-17")
    assert svg.startswith("<svg") and svg.count("<circle") == 3 and "2020-02-17" in svg
    assert 'data-code="330106" data-level="5"' in svg and "#d62c1f" in svg  # red, with its name and a legend
    assert all(name in svg for name in ("西湖区", "高风险", "较低风险"))
    assert "<script" not in map_svg([], "<script>", "x") and "&lt;script&gt;" in map_svg([], "<script>", "x")


def test_the_index_of_a_county_day_from_the_published_formula():
    doc = formula()
    row = index_row(doc, {"new_green": 3, "new_yellow": 1}, {"green": 3, "yellow": 1, "red": 0}, level=3)
    values = {i["id"]: (i["value"], i["score"]) for i in row["indicators"]}
    assert values == {
        "new_red_per_100k": (0.0, 100.0),
        "new_yellow_per_100k": (25000.0, 0.0),  # 1 of 4 holders: far past the worst (200)
        "non_green_share": (0.25, 0.0),
        "green_rate": (0.75, 0.0),
        "returned_green_per_100k": (0.0, 0.0),  # new green codes are not people released
        "risk_level": (3.0, 50.0),
    }
    assert (row["holders"], row["control"], row["smoothness"], row["index"]) == (4, 40.0, 20.0, 30.0)
    calm = index_row(doc, {}, {"green": 100_000}, level=1)
    assert (calm["control"], calm["smoothness"], calm["index"]) == (100.0, 80.0, 90.0)


def test_small_numbers_are_suppressed_by_the_people_behind_a_rate_and_its_complement():
    from healthcode.stats import formula, index_row, suppress

    doc = formula("index-v1")
    # 35 holders, 2 not green (one turned red today): "2 of 35" is a small number, and so is "33 of 35 green"
    row = suppress(index_row(doc, {"to_red": 1}, {"green": 33, "yellow": 1, "red": 1}, 2))
    values = {i["id"]: i["value"] for i in row["indicators"]}
    assert row["holders"] == 35
    assert values["non_green_share"] is None and values["green_rate"] is None and values["new_red_per_100k"] is None
    assert values["new_yellow_per_100k"] == 0.0 and values["returned_green_per_100k"] == 0.0  # zero is published
    assert values["risk_level"] == 2.0 and row["index"] is None and row["control"] is None
    # 1,000 holders, 50 not green, none turned: every figure published
    full = suppress(index_row(doc, {}, {"green": 950, "yellow": 50}, 1))
    assert full["index"] is not None and all(i["value"] is not None for i in full["indicators"])
    assert "people" not in full
    # a county of 7 holders: "<10", nothing about its people
    tiny = suppress(index_row(doc, {}, {"green": 7}, 1))
    assert tiny["holders"] == "<10" and tiny["index"] is None
