"""The result never depends on when, or how often, a holder is evaluated (product.md, "Settled details").

A random history: an application on day 0 (stays, contacts, symptoms), then events on later days —
check-ins (clean or not), region level changes, an ongoing stay ended on the day, a new contact or a
reported symptom. As in the service, every event is followed by an evaluation; besides those, the
holder is evaluated at 00:05 on a schedule: every day, every other day, or only when its due date has
come. On every day two schedules both evaluated, the colour at the end of the day is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.scoring import Assessment, Checkin, Color, Contact, Facts, State, Stay, SymptomReport, evaluate
from tests.unit.scoring_helpers import RULES, SHANGHAI, d

REGIONS = ["330102", "330105", "420111"]
HORIZON = 32


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d(day), time(hour, minute), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Event:
    day: int
    kind: str  # checkin | level | end_stay | contact | symptom
    clean: bool = True
    region: str = ""
    level: int = 1
    contact: str = ""


@dataclass
class Run:
    facts: Facts
    levels: dict[str, int]
    state: State = State()
    last: Assessment | None = None

    def evaluate(self, now: datetime) -> Assessment:
        self.last = evaluate(self.facts, self.state, self.levels, RULES, now)
        self.state = self.last.state
        return self.last

    def apply(self, e: Event) -> None:
        f = self.facts
        if e.kind == "checkin":
            ci = Checkin(d(e.day), 36.5) if e.clean else Checkin(d(e.day), 36.8, ("cough",))
            self.facts = replace(f, checkins=(*f.checkins, ci))
        elif e.kind == "level":
            self.levels[e.region] = e.level
        elif e.kind == "end_stay":
            stays = tuple(replace(s, left_on=d(e.day)) if s.left_on is None else s for s in f.stays)
            self.facts = replace(f, stays=stays)
        elif e.kind == "contact":
            self.facts = replace(f, contacts=(*f.contacts, Contact(e.contact, d(e.day))))
        elif e.kind == "symptom":
            self.facts = replace(f, reports=(*f.reports, SymptomReport(d(e.day), ("fatigue",), 38.0)))


@st.composite
def stays(draw):
    arrived = draw(st.integers(-16, 0))
    ongoing = draw(st.booleans())
    left = None if ongoing else draw(st.integers(arrived, 0))
    return Stay(draw(st.sampled_from(REGIONS)), d(arrived), None if left is None else d(left))


@st.composite
def histories(draw):
    facts = Facts(
        stays=tuple(draw(st.lists(stays(), max_size=2, unique_by=lambda s: (s.region, s.arrived_on)))),
        contacts=tuple(
            draw(
                st.lists(
                    st.builds(
                        Contact, st.sampled_from(["close_contact", "secondary_contact"]), st.integers(-14, 0).map(d)
                    ),
                    max_size=2,
                )
            )
        ),
        reports=tuple(draw(st.lists(st.builds(SymptomReport, st.just(d(0)), st.just(()), st.just(38.5)), max_size=1))),
    )
    levels = draw(st.fixed_dictionaries({r: st.integers(1, 5) for r in REGIONS}))
    checkin_days = draw(st.sets(st.integers(1, HORIZON - 1), max_size=HORIZON))
    events = [Event(day, "checkin", clean=draw(st.booleans()) or draw(st.booleans())) for day in sorted(checkin_days)]
    others = st.one_of(
        st.builds(
            Event,
            st.integers(1, HORIZON - 1),
            st.just("level"),
            st.just(True),
            st.sampled_from(REGIONS),
            st.integers(1, 5),
        ),
        st.builds(Event, st.integers(1, HORIZON - 1), st.just("end_stay")),
        st.builds(
            Event,
            st.integers(1, HORIZON - 1),
            st.just("contact"),
            contact=st.sampled_from(["close_contact", "secondary_contact"]),
        ),
        st.builds(Event, st.integers(1, HORIZON - 1), st.just("symptom")),
    )
    events += draw(st.lists(others, max_size=3))
    return facts, levels, sorted(events, key=lambda e: (e.day, e.kind != "checkin"))


def end_of_day_colours(facts: Facts, levels: dict[str, int], events: list[Event], schedule: str) -> dict[int, Color]:
    """Colour at the end of each day the holder was evaluated at all."""
    run = Run(facts, dict(levels))
    colours: dict[int, Color] = {0: run.evaluate(at(0, 10)).color}  # the application
    for day in range(1, HORIZON):
        last = run.last
        due = last is not None and last.due_on is not None and last.due_on <= d(day)
        if schedule == "daily" or (schedule == "every_other" and day % 2 == 0) or (schedule == "due" and due):
            colours[day] = run.evaluate(at(day, 0, 5)).color
        for minute, e in enumerate(ev for ev in events if ev.day == day):
            run.apply(e)
            colours[day] = run.evaluate(at(day, 9, minute)).color
    return colours


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_daily_every_other_day_and_due_only_evaluation_agree_on_every_day_they_share(history):
    facts, levels, events = history
    daily = end_of_day_colours(facts, levels, events, "daily")
    for schedule in ("every_other", "due"):
        other = end_of_day_colours(facts, levels, events, schedule)
        for day, colour in other.items():
            assert daily[day] is colour, (schedule, day, daily, other)


def first_green_under_daily_clean_check_ins(run: Run, today: int) -> int | None:
    """Simulate what green_eligible_on promises: a clean check-in every day that has none yet."""
    for day in range(today, today + 60):
        if not any(c.on == d(day) for c in run.facts.checkins):
            run.facts = replace(run.facts, checkins=(*run.facts.checkins, Checkin(d(day), 36.5)))
        if run.evaluate(at(day, 20)).color is Color.GREEN:
            return day
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(0, HORIZON - 2))
def test_green_eligible_on_is_exactly_the_first_green_day_under_daily_clean_check_ins(history, today):
    facts, levels, events = history
    run = Run(facts, dict(levels))
    run.evaluate(at(0, 10))
    for day in range(1, today + 1):
        run.evaluate(at(day, 0, 5))
        for minute, e in enumerate(ev for ev in events if ev.day == day):
            run.apply(e)
            run.evaluate(at(day, 9, minute))
    a = run.last
    assert a is not None
    if a.color is Color.GREEN:
        assert a.green_eligible_on is None
        return
    promised = a.green_eligible_on
    if promised is None:  # only a case or a stay still going on has no date
        assert run.facts.case or any(s.left_on is None for s in run.facts.stays), a
        return
    simulated = first_green_under_daily_clean_check_ins(run, today)
    assert simulated is not None and d(simulated) == promised, (promised, simulated, a)
    assert promised >= d(today) and promised - d(today) <= timedelta(days=28)


def test_a_quarantine_served_by_midnight_has_ended_even_when_the_day_s_first_evaluation_brings_new_risk():
    """Found by the property above: fever on day 2 and coughs on days 1-7 put the holder in a red episode
    from day 7; seven clean check-ins (days 8-14) meet its count once the day-0 stay leaves the window on
    day 15, when its risks score yellow. A cough at the day-15 check-in is new risk. Evaluated at 00:05
    the episode ends (green) and the cough alone is green; evaluated first at the check-in, the served
    risks used to be added to the cough and the holder turned yellow."""
    facts = Facts(stays=(Stay("330105", d(0), d(0)),))
    levels = {"330102": 1, "330105": 3, "420111": 1}
    events = [Event(day, "checkin", clean=8 <= day <= 14) for day in range(1, 16)]
    events = sorted([*events, Event(2, "symptom")], key=lambda e: (e.day, e.kind != "checkin"))
    daily = end_of_day_colours(facts, levels, events, "daily")
    skipping = end_of_day_colours(facts, levels, events, "every_other")
    assert daily[14] is skipping[14] is Color.RED
    assert daily[15] is skipping[15] is Color.GREEN
