"""Every row of ruleset v1 (product.md, "The scoring layer") and its worked examples."""

from __future__ import annotations

import pytest

from healthcode.scoring import Color, Contact, Facts, State, Stay, SymptomReport, evaluate
from tests.unit.scoring_helpers import RULES, at, d


def score(facts: Facts, levels: dict[str, int] | None = None, day: int = 0):
    return evaluate(facts, State(), levels or {}, RULES, at(day))


def test_no_risk_is_green_with_no_reasons():
    a = score(Facts(stays=(Stay("330102", d(-20), d(-16)),)))
    assert (a.color, a.score, a.reasons, a.quarantine, a.due_on) == (Color.GREEN, 0, (), None, None)


def test_confirmed_and_suspected_cases_score_100_and_are_red():
    for status in ("confirmed", "suspected"):
        a = score(Facts(case=status))
        assert (a.color, a.score) == (Color.RED, 100)
        assert a.reasons[0].factor == status
        assert a.quarantine.kind == "medical" and a.quarantine.checkins_required is None
        assert a.green_eligible_on is None


@pytest.mark.parametrize(
    ("kind", "points", "color"), [("close_contact", 100, Color.RED), ("secondary_contact", 50, Color.YELLOW)]
)
def test_contacts_within_14_days(kind, points, color):
    a = score(Facts(contacts=(Contact(kind, d(-14)),)))
    assert (a.score, a.color) == (points, color)
    assert score(Facts(contacts=(Contact(kind, d(-15)),))).color is Color.GREEN


@pytest.mark.parametrize(
    ("level", "days", "points"),
    [(1, 3, 0), (2, 10, 0), (3, 1, 12), (3, 3, 16), (4, 2, 30), (4, 14, 90), (5, 1, 65), (5, 3, 75), (5, 20, 130)],
)
def test_stay_points_are_base_plus_per_day_times_days(level, days, points):
    a = score(Facts(stays=(Stay("420111", d(-days), d(0)),)), {"420111": level})
    assert a.score == points
    if points:
        assert a.reasons[0].factor == "stay" and a.reasons[0].points == points


def test_a_stay_counts_at_least_one_day_and_while_today_minus_left_on_is_at_most_14():
    same_day = Stay("420111", d(-3), d(-3))
    assert score(Facts(stays=(same_day,)), {"420111": 5}).score == 65
    assert score(Facts(stays=(Stay("420111", d(-17), d(-14)),)), {"420111": 5}).score == 75
    assert score(Facts(stays=(Stay("420111", d(-18), d(-15)),)), {"420111": 5}).score == 0


def test_an_ongoing_stay_counts_to_today_and_is_due_tomorrow():
    a = score(Facts(stays=(Stay("330102", d(-2), None),)), {"330102": 3})
    assert a.score == 14 and a.color is Color.GREEN
    assert a.due_on == d(1)


def test_stays_add_up_three_level3_stays_are_48_yellow():
    stays = tuple(Stay(code, d(-12 + 4 * i), d(-9 + 4 * i)) for i, code in enumerate(["330102", "330105", "330106"]))
    a = score(Facts(stays=stays), {"330102": 3, "330105": 3, "330106": 3})
    assert (a.score, a.color) == (48, Color.YELLOW)
    assert [r.points for r in a.reasons] == [16, 16, 16]


def test_worked_examples_from_product_md():
    assert score(Facts(stays=(Stay("420111", d(-5), d(-2)),)), {"420111": 5}).score == 75
    a = score(Facts(stays=(Stay("330102", d(-4), d(-2)),)), {"330102": 4})
    assert (a.score, a.color) == (30, Color.YELLOW)
    a = score(Facts(reports=(SymptomReport(d(0), (), 38.2),)))
    assert (a.score, a.color) == (30, Color.YELLOW)
    a = score(Facts(contacts=(Contact("secondary_contact", d(-1)),)))
    assert (a.score, a.color) == (50, Color.YELLOW)


def test_fever_by_declaration_or_temperature_counts_once():
    assert score(Facts(reports=(SymptomReport(d(0), ("fever",), None),))).score == 30
    assert score(Facts(reports=(SymptomReport(d(0), (), 37.3),))).score == 30
    assert score(Facts(reports=(SymptomReport(d(0), (), 37.2),))).score == 0
    twice = Facts(reports=(SymptomReport(d(-1), ("fever",), 38.0), SymptomReport(d(0), (), 38.5)))
    assert score(twice).score == 30


def test_other_symptoms_are_10_each_at_most_30_together():
    assert score(Facts(reports=(SymptomReport(d(0), ("cough",)),))).score == 10
    assert score(Facts(reports=(SymptomReport(d(0), ("cough", "fatigue")),))).score == 20
    all_kinds = tuple(sorted(RULES.symptom_kinds))
    a = score(Facts(reports=(SymptomReport(d(0), all_kinds),)))
    assert (a.score, a.color) == (30, Color.YELLOW)
    assert a.reasons[0].factor == "symptoms" and a.reasons[0].points == 30


def test_a_symptom_counts_for_14_days_from_the_day_it_was_reported():
    report = Facts(reports=(SymptomReport(d(0), ("fever",)),))
    assert score(report, day=13).score == 30
    assert score(report, day=14).score == 0


def test_thresholds_60_red_30_yellow():
    assert score(Facts(stays=(Stay("420111", d(-1), d(0)),)), {"420111": 4}).color is Color.GREEN  # 25
    assert score(Facts(stays=(Stay("420111", d(-2), d(0)),)), {"420111": 4}).color is Color.YELLOW  # 30
    assert score(Facts(stays=(Stay("420111", d(-7), d(0)),)), {"420111": 4}).color is Color.YELLOW  # 55
    assert score(Facts(stays=(Stay("420111", d(-8), d(0)),)), {"420111": 4}).color is Color.RED  # 60


def test_reasons_add_up_to_the_score():
    facts = Facts(
        stays=(Stay("420111", d(-6), d(-3)),),
        contacts=(Contact("secondary_contact", d(-2)),),
        reports=(SymptomReport(d(0), ("cough", "fever")),),
    )
    a = score(facts, {"420111": 3})
    assert sum(r.points for r in a.reasons) == a.score == 16 + 50 + 30 + 10


def test_the_bundled_ruleset_is_read_once_per_environment():
    # every code view asks for the ruleset in force, and with nothing published that is the bundled v1: it
    # must come from memory, not be read and parsed from the layer again on each request
    from healthcode.scoring.ruleset import load_ruleset

    assert load_ruleset() is load_ruleset()
