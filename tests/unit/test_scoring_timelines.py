"""The worked timelines of product.md, day by day (day 0 = the day of the event)."""

from __future__ import annotations

from healthcode.scoring import Color, Contact, Facts, Stay, SymptomReport
from tests.unit.scoring_helpers import Holder, d


def test_fever_at_application_a_missed_day_restarts_the_count_green_on_day_11():
    h = Holder(Facts(reports=(SymptomReport(d(0), (), 38.2),)))
    a = h.evaluate(0)
    assert a.color is Color.YELLOW and a.quarantine.kind == "home"
    assert (a.quarantine.checkins_required, a.quarantine.checkins_done) == (7, 0)
    assert a.green_eligible_on == d(7)
    for day in (1, 2, 3):
        a = h.check_in(day)
    assert a.quarantine.checkins_done == 3
    a = h.evaluate(4)  # no check-in on day 4 (yet): the run is still alive today
    assert a.quarantine.checkins_done == 3
    a = h.evaluate(5)  # day 4 passed without a check-in
    assert a.quarantine.checkins_done == 0 and a.color is Color.YELLOW
    a = h.check_in(5)
    assert a.quarantine.checkins_done == 1
    assert a.green_eligible_on == d(11)
    for day in range(6, 11):
        a = h.check_in(day)
        assert a.color is Color.YELLOW
    assert a.quarantine.checkins_done == 6
    a = h.check_in(11)
    assert a.color is Color.GREEN and a.score == 0 and a.quarantine is None


def test_three_days_in_a_level5_district_red_then_green_on_day_14_after_14_check_ins():
    h = Holder(Facts(stays=(Stay("420111", d(-3), d(0)),)), {"420111": 5})
    a = h.evaluate(0)
    assert (a.color, a.score) == (Color.RED, 75)
    assert a.quarantine.kind == "centralized" and a.quarantine.checkins_required == 14
    assert a.green_eligible_on == d(14)
    for day in range(1, 14):
        a = h.check_in(day)
        assert a.color is Color.RED
    assert a.quarantine.checkins_done == 13
    a = h.check_in(14)
    assert a.color is Color.GREEN
    # discharged: the same stay does not turn the holder red again before it leaves the window
    assert h.evaluate(15).color is Color.GREEN


def test_region_raised_to_level5_on_day_3_turns_yellow_into_red_with_a_new_episode():
    h = Holder(Facts(stays=(Stay("330102", d(-4), d(-2)),)), {"330102": 4})
    a = h.evaluate(0)
    assert (a.color, a.score, a.quarantine.checkins_required) == (Color.YELLOW, 30, 7)
    for day in (1, 2):
        h.check_in(day)
    h.levels["330102"] = 5
    a = h.evaluate(3)
    assert (a.color, a.score) == (Color.RED, 70)
    assert a.quarantine.started_on == d(3)
    assert (a.quarantine.checkins_required, a.quarantine.checkins_done) == (14, 0)


def test_yellow_stay_without_any_check_in_turns_green_when_it_leaves_the_window_on_day_10():
    h = Holder(Facts(stays=(Stay("330102", d(-7), d(-5)),)), {"330102": 4})
    a = h.evaluate(0)
    assert a.color is Color.YELLOW
    assert a.green_eligible_on == d(7)  # by check-ins, had they been made
    assert a.due_on == d(10)  # the scheduler looks again when the stay leaves the window
    for day in range(1, 10):
        assert h.evaluate(day).color is Color.YELLOW
    a = h.evaluate(10)
    assert a.color is Color.GREEN and a.due_on is None


def test_close_contact_from_the_authority_green_on_day_12_before_the_14th_check_in():
    h = Holder(Facts(contacts=(Contact("close_contact", d(-3)),)))
    a = h.evaluate(0)
    assert a.color is Color.RED
    assert a.green_eligible_on == d(12)
    for day in range(1, 12):
        assert h.check_in(day).color is Color.RED
    a = h.check_in(12)
    assert a.color is Color.GREEN


def test_confirmed_case_stays_red_whatever_the_check_ins_until_cleared():
    h = Holder(Facts(case="confirmed"))
    assert h.evaluate(0).color is Color.RED
    for day in range(1, 30):
        a = h.check_in(day)
        assert a.color is Color.RED and a.green_eligible_on is None
    h.facts = Facts(checkins=h.facts.checkins, case=None)
    assert h.evaluate(30).color is Color.GREEN


def test_clearance_also_discharges_the_risk_the_case_episode_was_for():
    h = Holder(Facts(case="suspected", contacts=(Contact("close_contact", d(-1)),)))
    assert h.evaluate(0).score == 200
    h.facts = Facts(contacts=h.facts.contacts, case=None)
    a = h.evaluate(2)
    assert a.color is Color.GREEN


def test_a_check_in_with_symptoms_restarts_the_count_and_adds_the_symptom():
    h = Holder(Facts(stays=(Stay("330102", d(-4), d(-2)),)), {"330102": 4})
    h.evaluate(0)
    for day in (1, 2, 3):
        h.check_in(day)
    a = h.check_in(4, symptoms=("cough",))
    assert (a.color, a.score) == (Color.YELLOW, 40)
    assert a.quarantine.checkins_done == 0 and a.quarantine.started_on == d(4)
    a = h.check_in(5)
    assert a.quarantine.checkins_done == 1


def test_a_fever_at_a_check_in_during_a_yellow_episode_turns_red():
    h = Holder(Facts(stays=(Stay("330102", d(-4), d(-2)),)), {"330102": 4})
    h.evaluate(0)
    a = h.check_in(1, temperature=38.0)
    assert (a.color, a.score) == (Color.RED, 60)


def test_a_second_check_in_on_the_same_day_replaces_the_first_but_the_restart_it_caused_stands():
    h = Holder(Facts(reports=(SymptomReport(d(0), ("fever",)),)))
    h.evaluate(0)
    assert h.check_in(1, symptoms=("cough",)).score == 40
    a = h.check_in(1)
    assert a.score == 30  # the cough no longer counts
    assert a.quarantine.started_on == d(1) and a.quarantine.checkins_done == 0  # a reported symptom restarted the count
    assert h.check_in(2).quarantine.checkins_done == 1
