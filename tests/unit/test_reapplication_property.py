"""Re-applying never washes a colour: whatever a resident re-declares, in any order, the colour never
drops below what the earlier declarations alone give (no time passes, no check-ins: nothing else can
lower it), and a refused re-application changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.errors import InvalidInput
from healthcode.models import ApplicationRequest
from healthcode.scoring import rank
from healthcode.usecases.residents import Residents
from tests.fakes import World
from tests.people import application, resident_id

NOW = datetime(2020, 2, 17, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()
REGIONS = ["420111", "330102", "330106"]


def day(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


@st.composite
def declarations(draw, trips):
    """A declaration re-using the same trips (region, arrival) with any end: extended, ended, or
    taken back — as a washer would try."""
    stays = []
    for region, arrived in draw(st.lists(st.sampled_from(trips), max_size=3, unique=True)):
        left = draw(st.one_of(st.none(), st.integers(0, arrived)))
        stays.append({"region": region, "arrived_on": day(arrived), "left_on": None if left is None else day(left)})
    contact = draw(
        st.one_of(
            st.just({"kind": "none"}),
            st.builds(
                lambda k, n: {"kind": k, "on": day(n)},
                st.sampled_from(["close_contact", "secondary_contact"]),
                st.integers(0, 16),
            ),
        )
    )
    temperature = draw(st.one_of(st.none(), st.sampled_from([36.5, 38.2])))
    return ApplicationRequest.model_validate(
        application(resident_id(), travel_history=stays, contact=contact, temperature=temperature)
    )


@st.composite
def sequences(draw):
    trips = draw(st.lists(st.tuples(st.sampled_from(REGIONS), st.integers(0, 20)), min_size=1, max_size=3, unique=True))
    return draw(st.lists(declarations(trips), min_size=2, max_size=6))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences(), st.fixed_dictionaries({r: st.integers(1, 5) for r in REGIONS}))
def test_a_sequence_of_re_applications_never_lowers_the_colour(sequence, levels):
    w = World()
    w.regions.levels.update(levels)
    residents = Residents(w.recolor, w.holders, w.stays, w.rulesets, w.registry, w.keys)
    identity = (sequence[0].id_type, sequence[0].id_number)
    floor = -1
    for req in sequence:
        before = dict(w.holders.items)
        try:
            view = residents.apply("me", identity, req, NOW)
        except InvalidInput as refused:
            assert all(e.field.startswith("travel_history[") for e in refused.errors)
            assert w.holders.items == before  # refused: nothing changed
            continue
        assert rank(view.color) >= floor, (view.color, view.reasons)
        floor = rank(view.color)
    assert isinstance(TODAY, date)
