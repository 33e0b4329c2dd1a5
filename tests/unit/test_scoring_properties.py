"""Properties of the rules that must hold for any holder (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode.scoring import Checkin, Contact, Facts, State, Stay, SymptomReport, evaluate, rank
from tests.unit.scoring_helpers import RULES, at, d

REGIONS = ["330102", "330105", "420111", "420102", "110101"]
levels_st = st.fixed_dictionaries({r: st.integers(1, 5) for r in REGIONS})


@st.composite
def stays(draw):
    arrived = draw(st.integers(-30, 0))
    ongoing = draw(st.booleans())
    left = None if ongoing else draw(st.integers(arrived, 0))
    return Stay(draw(st.sampled_from(REGIONS)), d(arrived), None if left is None else d(left))


contacts = st.builds(Contact, st.sampled_from(["close_contact", "secondary_contact"]), st.integers(-20, 0).map(d))
reports = st.builds(
    SymptomReport,
    st.integers(-20, 0).map(d),
    st.lists(st.sampled_from(sorted(RULES.symptoms_accepted)), max_size=3).map(tuple),
    st.one_of(st.none(), st.floats(35.0, 41.0)),
)
checkins = st.builds(
    Checkin,
    st.integers(-20, 0).map(d),
    st.floats(35.5, 39.0),
    st.lists(st.sampled_from(sorted(RULES.symptom_kinds)), max_size=2).map(tuple),
)
facts_st = st.builds(
    Facts,
    st.lists(stays(), max_size=4).map(tuple),
    st.lists(contacts, max_size=2).map(tuple),
    st.lists(reports, max_size=2).map(tuple),
    st.lists(checkins, max_size=5, unique_by=lambda c: c.on).map(tuple),
    st.sampled_from([None, None, None, "confirmed", "suspected"]),
)


def more(facts: Facts, extra: Facts) -> Facts:
    return Facts(
        stays=facts.stays + extra.stays,
        contacts=facts.contacts + extra.contacts,
        reports=facts.reports + extra.reports,
        checkins=facts.checkins,
        case=facts.case or extra.case,
    )


@settings(max_examples=300, deadline=None)
@given(facts_st, facts_st, levels_st)
def test_more_risk_never_gives_a_better_colour(facts, extra, levels):
    base = evaluate(facts, State(), levels, RULES, at(0))
    riskier = evaluate(more(facts, extra), State(), levels, RULES, at(0))
    assert rank(riskier.color) >= rank(base.color)
    assert riskier.score >= base.score


@settings(max_examples=200, deadline=None)
@given(facts_st, levels_st, st.sampled_from(REGIONS), st.integers(1, 5))
def test_a_higher_region_level_never_gives_a_better_colour(facts, levels, region, bump):
    raised = dict(levels, **{region: max(levels[region], bump)})
    assert rank(evaluate(facts, State(), raised, RULES, at(0)).color) >= rank(
        evaluate(facts, State(), levels, RULES, at(0)).color
    )


@settings(max_examples=200, deadline=None)
@given(facts_st, levels_st, st.randoms())
def test_the_result_does_not_depend_on_the_order_of_stays(facts, levels, rnd):
    shuffled = list(facts.stays)
    rnd.shuffle(shuffled)
    a = evaluate(facts, State(), levels, RULES, at(0))
    b = evaluate(
        Facts(tuple(shuffled), facts.contacts, facts.reports, facts.checkins, facts.case), State(), levels, RULES, at(0)
    )
    assert (a.color, a.score, sorted(a.reasons, key=repr), a.due_on, a.green_eligible_on) == (
        b.color,
        b.score,
        sorted(b.reasons, key=repr),
        b.due_on,
        b.green_eligible_on,
    )


@settings(max_examples=200, deadline=None)
@given(facts_st, levels_st, st.integers(0, 20))
def test_evaluation_is_deterministic_for_a_fixed_now_and_carries_on_day_by_day(facts, levels, days):
    first = evaluate(facts, State(), levels, RULES, at(0))
    assert first == evaluate(facts, State(), levels, RULES, at(0))
    state = first.state
    for n in range(1, days + 1):
        a = evaluate(facts, state, levels, RULES, at(n))
        assert a == evaluate(facts, state, levels, RULES, at(n))
        assert sum(r.points for r in a.reasons) == a.score
        assert (a.quarantine is None) == (a.color.value == "green")
        if a.due_on is not None:
            assert a.due_on > a.today
        state = a.state


def test_a_holder_with_no_facts_is_green_forever():
    for n in range(0, 30, 7):
        a = evaluate(Facts(), State(), {}, RULES, at(n) + timedelta(hours=5))
        assert a.color.value == "green" and a.due_on is None
