"""Edge cases of how an episode carries from one evaluation to the next (product.md, "Settled details").

Day 0 = the day of the event; ruleset v1: close contact 100, secondary 50, fever 30, other symptoms 10
each (at most 30), a stay base[L] + per_day[L] x days with base {3:10, 4:20, 5:60}, per_day {3:2, 4:5,
5:5}; red >= 60, yellow >= 30; yellow needs 7 clean check-ins, red 14.
"""

from __future__ import annotations

import pytest

from healthcode.scoring import Checkin, Color, Contact, Facts, State, Stay, SymptomReport, evaluate
from tests.unit.scoring_helpers import RULES, Holder, at, d

FEVER = SymptomReport(d(0), (), 38.2)


# ----------------------------------------------------------------------------- issue item 1 / stepping down


def test_stepping_down_close_contact_day_minus_12_plus_fever_is_green_on_day_7_not_14():
    # day 0: contact (100) + fever (30) = 130 red. The contact counts while day - (-12) <= 14, so
    # until day 2; on day 3 only the fever (30) is left: yellow, 7 clean check-ins, counting days 1-2
    # done in the red episode. Days 1..7 clean -> the 7th on day 7: green on day 7.
    h = Holder(Facts(contacts=(Contact("close_contact", d(-12)),), reports=(FEVER,)))
    a = h.evaluate(0)
    assert (a.color, a.score) == (Color.RED, 130)
    assert a.green_eligible_on == d(7)
    for day in range(1, 3):
        assert h.check_in(day).color is Color.RED
    a = h.evaluate(3)
    assert (a.color, a.score) == (Color.YELLOW, 30)
    assert a.quarantine.checkins_required == 7 and a.quarantine.started_on == d(0)
    for day in range(3, 7):
        assert h.check_in(day).color is Color.YELLOW
    assert h.check_in(7).color is Color.GREEN


def test_stepping_down_close_contact_day_minus_10_plus_a_two_day_level4_stay_is_green_on_day_7():
    # contact 100 (until day 4) + stay 20 + 5x2 = 30 (until day 14) = 130 red; from day 5: 30 yellow;
    # 7 clean check-ins (days 1..7) are done on day 7.
    h = Holder(Facts(stays=(Stay("330102", d(-2), d(0)),), contacts=(Contact("close_contact", d(-10)),)), {"330102": 4})
    a = h.evaluate(0)
    assert (a.color, a.score, a.green_eligible_on) == (Color.RED, 130, d(7))


def test_stepping_down_level5_stay_ended_day_minus_13_plus_a_secondary_contact_is_green_on_day_7():
    # stay 60 + 5x1 = 65 (until day 1) + secondary contact on day 0 (50, until day 14) = 115 red;
    # from day 2: 50 yellow; 7 clean check-ins on days 1..7.
    h = Holder(
        Facts(stays=(Stay("420111", d(-14), d(-13)),), contacts=(Contact("secondary_contact", d(0)),)), {"420111": 5}
    )
    a = h.evaluate(0)
    assert (a.color, a.score, a.green_eligible_on) == (Color.RED, 115, d(7))


def test_stepping_down_counts_the_check_ins_already_done_and_yellow_means_at_least_7():
    # contact day -10 (until day 4) + fever day 0 = 130 red. Clean check-ins days 1-4 (4 done).
    # Day 5: yellow (30) needs 7: 4 done + day 5 = 5 -> still yellow; days 6, 7 -> green on day 7.
    h = Holder(Facts(contacts=(Contact("close_contact", d(-10)),), reports=(FEVER,)))
    h.evaluate(0)
    for day in range(1, 5):
        h.check_in(day)
    a = h.check_in(5)
    assert (a.color, a.quarantine.checkins_required, a.quarantine.checkins_done) == (Color.YELLOW, 7, 5)
    assert a.green_eligible_on == d(7)
    assert h.check_in(6).color is Color.YELLOW
    assert h.check_in(7).color is Color.GREEN


def test_stepping_down_a_holder_whose_count_is_already_met_turns_green_when_the_colour_drops():
    # contact day -5 (until day 9) + fever day 0: red; 9 clean check-ins days 1..9 (9 < 14).
    # Day 10: the contact left, 30 yellow needs 7 and 9 are done: green on day 10, without a check-in.
    h = Holder(Facts(contacts=(Contact("close_contact", d(-5)),), reports=(FEVER,)))
    h.evaluate(0)
    for day in range(1, 10):
        a = h.check_in(day)
    assert a.color is Color.RED and a.green_eligible_on == d(10) and a.due_on == d(10)
    assert h.evaluate(10).color is Color.GREEN


# ----------------------------------------------------------------------------- issue item 2 / discharged once


def test_discharged_stays_once_a_level_dip_does_not_bring_a_finished_quarantine_back():
    # 2 days at level 4, left day 0: 30 yellow; clean days 1-7 -> green day 7 (stay discharged at 30).
    # Day 8 the region is set to level 1 (the stay earns 0), day 9 back to 4 (30 again, not more than
    # discharged): green both days, whether or not day 8 was evaluated.
    def finished() -> Holder:
        h = Holder(Facts(stays=(Stay("330102", d(-2), d(0)),)), {"330102": 4})
        h.evaluate(0)
        for day in range(1, 8):
            a = h.check_in(day)
        assert a.color is Color.GREEN
        return h

    dipped = finished()
    dipped.levels["330102"] = 1
    assert dipped.evaluate(8).color is Color.GREEN
    dipped.levels["330102"] = 4
    skipped = finished()
    assert dipped.evaluate(9).color is Color.GREEN
    assert skipped.evaluate(9).color is Color.GREEN
    # but increased risk is new risk: level 5 makes it 70 -> red, a new 0/14 episode
    dipped.levels["330102"] = 5
    a = dipped.evaluate(10)
    assert (a.color, a.score, a.quarantine.started_on) == (Color.RED, 70, d(10))


# ----------------------------------------------------------------------------- new risk restarts


def test_new_risk_restarts_the_count_even_if_the_colour_does_not_change():
    # fever day 0: yellow, clean days 1-3 (3/7). Day 4 a secondary contact (50) is declared: 80 red,
    # a new episode from day 4 (0/14), at the worse colour.
    h = Holder(Facts(reports=(FEVER,)))
    h.evaluate(0)
    for day in range(1, 4):
        h.check_in(day)
    h.facts = Facts(reports=h.facts.reports, checkins=h.facts.checkins, contacts=(Contact("secondary_contact", d(4)),))
    a = h.evaluate(4)
    assert (a.color, a.quarantine.started_on, a.quarantine.checkins_done) == (Color.RED, d(4), 0)
    # and a cough on day 5 (+10) restarts a red episode while the colour stays red
    a = h.check_in(5, symptoms=("cough",))
    assert (a.color, a.quarantine.started_on) == (Color.RED, d(5))


# ----------------------------------------------------------------------------- issue item 4 / still exposed


def test_still_exposed_an_ongoing_level3_stay_has_no_green_date_and_says_why():
    # arrived day -2, still there: 10 + 2x2 = 14 on day 0 ... grows 2 a day; with a fever (30) 44 yellow.
    h = Holder(Facts(stays=(Stay("330102", d(-2), None),), reports=(FEVER,)), {"330102": 3})
    a = h.evaluate(0)
    assert (a.color, a.score) == (Color.YELLOW, 44)
    assert a.green_eligible_on is None
    assert any("still there" in r.detail and "cannot end" in r.detail for r in a.reasons)
    assert a.due_on == d(1)  # tomorrow the stay earns more
    a = h.evaluate(1)
    assert a.score == 46 and a.quarantine.started_on == d(1)  # increased risk: the episode restarts


def test_still_exposed_a_stay_at_its_14_day_maximum_still_cannot_end_the_episode():
    # 14 days (the maximum) at level 3, still there: 10 + 28 = 38 yellow; 7 clean check-ins do not end it.
    h = Holder(Facts(stays=(Stay("330102", d(-14), None),)), {"330102": 3})
    a = h.evaluate(0)
    assert (a.color, a.score, a.green_eligible_on) == (Color.YELLOW, 38, None)
    for day in range(1, 9):
        a = h.check_in(day)
    assert a.color is Color.YELLOW and a.quarantine.checkins_done == 8 and a.green_eligible_on is None


# ----------------------------------------------------------------------------- issue item 3 / symptoms stand


def test_reported_symptoms_stand_a_cough_then_a_clean_check_in_the_same_day_keeps_the_cough():
    # fever declared day 0 (30); a check-in at 08:00 with a cough (10), then a clean one at 09:00:
    # the cough stays reported: 40.
    cough = Checkin(d(0), 36.6, ("cough",))
    clean = Checkin(d(0), 36.5)
    a = evaluate(Facts(reports=(FEVER,), checkins=(cough, clean)), State(), {}, RULES, at(0))
    assert a.score == 40  # fever 30 + cough 10, still counted after the clean check-in
    assert any(r.factor == "symptoms" and "cough" in r.detail for r in a.reasons)


def test_reported_symptoms_stand_the_later_check_in_replaces_the_temperature():
    # 38.0 at 08:00, 36.5 at 09:00 (no symptoms named): the temperature is replaced -> no fever.
    a = evaluate(Facts(checkins=(Checkin(d(0), 38.0), Checkin(d(0), 36.5))), State(), {}, RULES, at(0))
    assert a.score == 0


def test_a_clean_check_in_on_the_day_an_episode_starts_does_not_count_and_the_answer_says_so():
    # fever declared day 0 after a clean check-in the same morning: yellow 0/7, a note explains.
    a = evaluate(Facts(reports=(FEVER,), checkins=(Checkin(d(0), 36.5),)), State(), {}, RULES, at(0))
    assert a.quarantine.checkins_done == 0
    assert a.quarantine.note is not None and "starts tomorrow" in a.quarantine.note
    assert a.green_eligible_on == d(7)


# ----------------------------------------------------------------------------- windows, cases, levels


def test_symptoms_count_on_the_day_reported_and_the_13_days_after():
    # reported day 0: counts days 0..13, gone on day 14
    assert evaluate(Facts(reports=(FEVER,)), State(), {}, RULES, at(13)).score == 30
    assert evaluate(Facts(reports=(FEVER,)), State(), {}, RULES, at(14)).score == 0


def test_stays_and_contacts_count_while_today_minus_their_date_is_at_most_14():
    facts = Facts(stays=(Stay("330102", d(-2), d(0)),), contacts=(Contact("secondary_contact", d(0)),))
    assert evaluate(facts, State(), {"330102": 4}, RULES, at(14)).score == 80  # 30 + 50
    assert evaluate(facts, State(), {"330102": 4}, RULES, at(15)).score == 0


def test_contacts_add_up_like_stays():
    # two secondary contacts on different days: 50 + 50 = 100 (red, where one alone is yellow)
    facts = Facts(contacts=(Contact("secondary_contact", d(-1)), Contact("secondary_contact", d(0))))
    a = evaluate(facts, State(), {}, RULES, at(0))
    assert (a.score, a.color) == (100, Color.RED)


def test_a_confirmed_case_is_red_with_medical_quarantine_and_no_green_date_until_cleared():
    h = Holder(Facts(case="confirmed"))
    a = h.evaluate(0)
    assert (a.color, a.quarantine.kind, a.green_eligible_on) == (Color.RED, "medical", None)
    for day in range(1, 20):
        a = h.check_in(day)
    assert a.color is Color.RED
    h.facts = Facts(checkins=h.facts.checkins)  # cleared by the authority
    assert h.evaluate(20).color is Color.GREEN


@pytest.mark.parametrize("level", [0, 6, -1, 99, True, 2.0, "3"])
def test_levels_outside_1_to_5_are_refused_by_the_layer_itself(level):
    facts = Facts(stays=(Stay("330102", d(-2), d(0)),))
    with pytest.raises(ValueError, match="outside 1..5"):
        evaluate(facts, State(), {"330102": level}, RULES, at(0))


# ----------------------------------------------------------------------------- issue item 6 / reasons


def test_an_unnamed_region_is_named_by_its_code_once():
    a = evaluate(Facts(stays=(Stay("330102", d(-2), d(0)),)), State(), {"330102": 4}, RULES, at(0))
    (reason,) = a.reasons
    assert reason.detail.count("330102") == 1 and "region 330102" in reason.detail


def test_ten_thousand_stays_give_a_few_grouped_reason_lines():
    # 10,000 one-day stays at level 3 (10 + 2x1 = 12 points each) in 1,000 regions on 10 days, all
    # in the window: one line, 10,000 stays, 10,000 days, 120,000 points.
    regions = [f"33{n:04d}" for n in range(1000)]
    stays = tuple(Stay(r, d(-k - 1), d(-k)) for r in regions for k in range(10))
    a = evaluate(Facts(stays=stays), State(), dict.fromkeys(regions, 3), RULES, at(0))
    stay_lines = [r for r in a.reasons if r.factor == "stay"]
    assert [(r.points, r.detail) for r in stay_lines] == [
        (120_000, "10000 stays in level-3 regions, 10000 days in all")
    ]
    assert a.score == 120_000
