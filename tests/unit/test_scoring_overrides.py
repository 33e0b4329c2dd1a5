"""Overrides in the pure rules: an approved override sets the colour through its last day and says so
first among the reasons; the rules' own episode goes on underneath; it never makes a case green."""

from __future__ import annotations

from dataclasses import replace

from healthcode.scoring import Color, Contact, Facts, Override, State, evaluate
from tests.unit.scoring_helpers import RULES, Holder, at, clean, d


def test_an_override_sets_the_colour_through_its_last_day_then_the_rules_colour_returns():
    facts = Facts(overrides=(Override(Color.RED, "under investigation", d(3)),))
    a = evaluate(facts, State(), {}, RULES, at(0))
    assert a.color is Color.RED and a.score == 0
    assert a.reasons[0].factor == "override" and a.reasons[0].detail.endswith(f"until {d(3).isoformat()}")
    assert (a.green_eligible_on, a.due_on) == (d(4), d(4))  # the scheduler comes back when it ends
    assert evaluate(facts, a.state, {}, RULES, at(3)).color is Color.RED
    after = evaluate(facts, a.state, {}, RULES, at(4))
    assert after.color is Color.GREEN and after.reasons == ()


def test_the_rules_episode_goes_on_under_an_override_and_check_ins_still_count():
    contact = Facts(contacts=(Contact("close_contact", d(0)),))
    plain = Holder(contact)
    overridden = Holder(replace(contact, overrides=(Override(Color.GREEN, "cleared by a test", d(20)),)))
    for day in range(0, 9):
        if day:
            plain.facts = replace(plain.facts, checkins=(*plain.facts.checkins, clean(day)))
            overridden.facts = replace(overridden.facts, checkins=(*overridden.facts.checkins, clean(day)))
        p, o = plain.evaluate(day), overridden.evaluate(day)
        assert o.color is Color.GREEN and o.quarantine is None
        assert o.state == p.state  # the same episode underneath, whatever the override shows
    assert [r.factor for r in o.reasons][:1] == ["override"]


def test_a_green_override_never_applies_to_a_listed_case_and_the_last_approved_wins():
    case = Facts(case="confirmed", overrides=(Override(Color.GREEN, "mistake", d(5)),))
    a = evaluate(case, State(), {}, RULES, at(0))
    assert a.color is Color.RED and all(r.factor != "override" for r in a.reasons)
    two = Facts(overrides=(Override(Color.RED, "first", d(5)), Override(Color.YELLOW, "second", d(2))))
    assert evaluate(two, State(), {}, RULES, at(1)).color is Color.YELLOW
    assert evaluate(two, State(), {}, RULES, at(3)).color is Color.RED  # the second ended, the first goes on
