"""Use cases on in-memory repositories (tests/fakes.py): what each actor gets, with no AWS and no network."""

from __future__ import annotations

import socket
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pytest_socket import SocketBlockedError

from healthcode.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized, Unavailable
from healthcode.messages import Daily, FullRunSegment, HoldersListed, RecomputeMessage, RegionChanged
from healthcode.models import (
    ApplicationRequest,
    CaseListRequest,
    CheckinRequest,
    ContactReport,
    Partner,
    RegionLevelRequest,
    RegionRisk,
    RescoringRequest,
    RulesetPublishRequest,
    VerificationRequest,
)
from healthcode.scoring.ruleset import load_ruleset
from healthcode.usecases.authority import Authority
from healthcode.usecases.changes import Changes
from healthcode.usecases.checkpoints import Checkpoints
from healthcode.usecases.codecheck import CodeCheck
from healthcode.usecases.partners import PartnerCities
from healthcode.usecases.recompute import Outcome, Recompute
from healthcode.usecases.residents import Residents
from tests.fakes import World
from tests.people import application, resident_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI)


def declare(**overrides) -> ApplicationRequest:
    return ApplicationRequest.model_validate(application(**overrides))


@pytest.fixture
def w() -> World:
    return World()


def residents(w: World) -> Residents:
    return Residents(w.recolor, w.holders, w.stays, w.rulesets, w.registry, w.keys)


def own(w: World, sub: str, req: ApplicationRequest, now: datetime = NOW):
    """An honest resident: verified as the person the declaration names."""
    return residents(w).apply(sub, (req.id_type, req.id_number), req, now)


def changes(w: World) -> Changes:
    return Changes(w.regions, w.registry, w.recolor, w.keys)


def recompute(w: World, margin_s: float = 20.0) -> Recompute:
    return Recompute(
        w.recolor, w.holders, w.stays, w.regions, w.registry, w.rulesets, w.queue, w.runs, segments=2, margin_s=margin_s
    )


def drain(w: World, first: RecomputeMessage, now: datetime, time_left=None) -> Outcome:
    """Process ``first`` and every message it leads to, as the queue's workers would; the totals."""
    worker = recompute(w)
    w.queue.send(first)
    changed = failed = 0
    while w.queue.sent:
        message = w.queue.sent.pop(0)
        w.queue.delays.pop(0)
        out = worker.handle(message, now, time_left) if time_left else worker.handle(message, now)
        changed, failed = changed + out.changed, failed + out.failed
    return Outcome(changed, failed)


def codecheck(w: World) -> CodeCheck:
    return CodeCheck(w.holders, w.scans, w.keys, w.partners)


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_unit_tests_cannot_reach_the_network():
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


# ----------------------------------------------------------------------------- residents


def test_a_resident_with_a_fever_gets_a_yellow_code_with_its_reason_and_history(w):
    # Given a declaration with 38.2 °C
    # When the resident applies
    view = own(w, "u1", declare(temperature=38.2), NOW)
    w.deliver()  # what follows from the holders table's stream
    # Then the code is yellow (fever 30 points), the change is in History and published once
    assert view.color == "yellow" and view.score == 30
    assert [r.factor for r in view.reasons] == ["fever"]
    assert view.quarantine is not None and view.quarantine.checkins_required == 7
    assert [c.new_color for c in w.history.changes] == ["yellow"]
    assert len(w.events.published) == 1 and w.events.published[0][1] == "u1"


def test_re_applying_adds_to_the_declaration_and_never_duplicates_the_holder(w):
    # Given an application with a stay in 西湖区
    stay = {"region": "330106", "arrived_on": "2020-02-10", "left_on": "2020-02-12"}
    own(w, "u1", declare(travel_history=[stay]), NOW)
    # When the same person applies again without it
    own(w, "u1", declare(travel_history=[]), NOW)
    # Then there is one holder, still with the stay, and the stays index knows it
    assert len(w.holders.items) == 1
    (holder,) = w.holders.items.values()
    assert [s.region for s in holder.stays] == ["330106"]
    assert ("330106", holder.holder_id, date(2020, 2, 10), "330106") in w.stays.entries


def test_one_identity_cannot_be_bound_to_a_second_account(w):
    own(w, "u1", declare(), NOW)
    with pytest.raises(Conflict):
        own(w, "u2", declare(), NOW)  # the same verified person, from another account
    assert {h.sub for h in w.holders.items.values()} == {"u1"}


def test_nobody_applies_with_an_id_number_that_is_not_their_verified_identity(w):
    # Given a stranger verified as someone else, declaring another person's ID number
    stranger = (declare().id_type, resident_id(seq="999"))
    # When they apply, Then they are refused and nothing is stored, whether or not that number has a code
    with pytest.raises(Forbidden):
        residents(w).apply("stranger", stranger, declare(), NOW)
    with pytest.raises(Forbidden):
        residents(w).apply("nobody", None, declare(), NOW)
    assert w.holders.items == {} and w.stays.entries == {}


def test_a_resident_without_a_code_is_told_to_apply(w):
    with pytest.raises(NotFound, match="apply first"):
        residents(w).code("nobody", NOW)


def test_a_second_check_in_on_the_same_day_replaces_the_first(w):
    r = residents(w)
    own(w, "u1", declare())
    r.check_in("u1", CheckinRequest(temperature=36.4, symptoms=[]), NOW + timedelta(days=1))
    r.check_in("u1", CheckinRequest(temperature=36.6, symptoms=[]), NOW + timedelta(days=1, hours=2))
    (holder,) = w.holders.items.values()
    assert [c.temperature for c in holder.checkins] == [36.6]


def test_a_write_that_keeps_losing_to_concurrent_writers_is_shed_not_lost(w):
    # Given a holder store where every save loses a race
    w.holders.conflicts_to_raise = 99
    # When a resident applies, Then the answer is "try again" and nothing was written
    with pytest.raises(Unavailable):
        own(w, "u1", declare(), NOW)
    assert w.holders.items == {} and w.history.changes == []


def test_a_write_that_loses_once_is_re_read_and_saved(w):
    w.holders.conflicts_to_raise = 1
    assert own(w, "u1", declare(temperature=38.0), NOW).color == "yellow"
    w.deliver()
    assert len(w.history.changes) == 1


# ----------------------------------------------------------------------------- authority


def authority(w: World) -> Authority:
    return Authority(changes(w), w.rulesets, w.runs, w.queue, segments=3)


def test_setting_a_level_queues_the_rescoring_of_that_region(w):
    view = authority(w).set_region_level("330106", RegionLevelRequest(name="西湖区", level=5), "officer", NOW)
    assert view.level == 5 and w.regions.levels == {"330106": 5}
    assert w.queue.sent == []  # one write: its rescoring follows from the regions table's stream
    w.deliver()
    assert w.queue.sent == [RegionChanged(code="330106", at=NOW)]


def test_an_unknown_region_is_refused_and_nothing_is_stored_or_queued(w):
    with pytest.raises(NotFound):
        authority(w).set_region_level("999999", RegionLevelRequest(name="x", level=5), "officer", NOW)
    assert w.regions.levels == {} and w.queue.sent == []


def test_a_case_list_rescores_only_people_who_applied_in_batches(w):
    # Given two residents who applied, and a list naming them and one person who has not applied
    for n, seq in enumerate(("101", "102")):
        own(w, f"u{n}", declare(id_number=resident_id(seq=seq)), NOW)
    cases = [
        {"id_type": "resident_id", "id_number": resident_id(seq=s), "status": "confirmed"}
        for s in ("101", "102", "103")
    ]
    # When the authority records the list, and the holders table's stream is followed
    a = Authority(changes(w), w.rulesets, w.runs, w.queue)
    view = a.record_cases(CaseListRequest.model_validate({"cases": cases}), "officer", NOW)
    w.queue.take()
    w.deliver()
    # Then all three listings are kept, two holders are queued, one per message
    assert view.accepted == 3 and view.known_holders == 2
    assert all(isinstance(m, HoldersListed) and len(m.holder_ids) == 1 for m in w.queue.sent) and len(w.queue.sent) == 2
    assert sum(1 for h in w.holders.items.values() if h.authority.case == "confirmed") == 3


def test_a_full_run_starts_one_message_per_segment(w):
    view = authority(w).start_rescoring(RescoringRequest(scope="all"), "officer", NOW)
    assert view.run_id in w.runs.runs and w.queue.sent == []  # one write; its messages follow from the stream
    w.deliver()
    assert w.queue.sent == [FullRunSegment(run=view.run_id, segment=i, total=3) for i in range(3)]


def test_due_rescoring_queues_the_daily_job(w):
    authority(w).start_rescoring(RescoringRequest(scope="due"), "officer", NOW)
    assert w.queue.sent == [Daily(by="officer", at=NOW)]


def test_a_ruleset_that_is_not_one_is_refused_and_a_version_is_never_replaced(w):
    with pytest.raises(InvalidInput):
        authority(w).publish_ruleset(RulesetPublishRequest(document={"version": "v9"}), "officer", NOW)
    ahead = (NOW + timedelta(days=3)).isoformat()  # announced in time (48 h)
    doc = load_ruleset("v1").document | {"version": "v2", "effective_from": ahead}
    authority(w).publish_ruleset(RulesetPublishRequest(document=doc), "officer", NOW)
    authority(w).publish_ruleset(RulesetPublishRequest(document=doc), "officer", NOW)  # a retry: accepted
    with pytest.raises(Conflict):
        other = RulesetPublishRequest(document=doc | {"description": "other"})
        authority(w).publish_ruleset(other, "officer", NOW)


# ----------------------------------------------------------------------------- recompute


def stayed_in(w: World, n: int, region: str = "330108") -> None:
    for i in range(n):
        stay = {"region": region, "arrived_on": "2020-02-10", "left_on": "2020-02-15"}
        own(w, f"s{i}", declare(id_number=resident_id(seq=f"{200 + i}"), travel_history=[stay]), NOW)


def test_a_region_change_rescores_exactly_those_who_stayed_there(w):
    # Given 3 holders who stayed in 滨江区 and one who did not
    stayed_in(w, 3)
    own(w, "elsewhere", declare(id_number=resident_id(seq="299")), NOW)
    w.regions.levels["330108"] = 5
    # When the region message is processed
    changed = drain(w, RegionChanged(code="330108"), NOW).changed
    # Then the three turned red, the fourth was not touched
    assert changed == 3
    assert sorted(h.color.value for h in w.holders.items.values()) == ["green", "red", "red", "red"]


def test_a_region_worker_near_its_timeout_hands_the_rest_to_a_continuation(w):
    stayed_in(w, 5)
    w.stays.page = 2
    w.stays.parts = 1  # one walker for the county, to follow its pages
    w.regions.levels["330108"] = 5
    # the region's message fans out, one per county (part) under it
    recompute(w).handle(RegionChanged(code="330108"), NOW)
    assert w.queue.take() == [RegionChanged(code="330108", county=0)]
    # a county's walker hands each page on, and its continuation when time runs short
    budget = iter([100.0, 0.0])
    recompute(w).handle(RegionChanged(code="330108", county=0), NOW, lambda: next(budget, 0.0))
    page, continuation = w.queue.take()
    assert isinstance(page, HoldersListed) and len(page.holder_ids) == 2
    assert isinstance(continuation, RegionChanged) and continuation.start_key is not None
    assert drain(w, page, NOW).changed == 2
    assert drain(w, continuation, NOW).changed == 3
    assert all(h.color == "red" for h in w.holders.items.values())


def test_the_daily_job_rescores_due_holders_only(w):
    # Given a holder whose fever leaves the window after 14 days
    own(w, "u1", declare(temperature=38.2), NOW)
    (holder,) = w.holders.items.values()
    assert holder.due_on == date(2020, 3, 2)
    # When the daily job runs the day before and on the due day
    assert drain(w, Daily(), NOW + timedelta(days=13)).changed == 0
    assert drain(w, Daily(), NOW + timedelta(days=14)).changed == 1
    assert next(iter(w.holders.items.values())).color == "green"


def test_a_full_run_segment_counts_each_holder_once_even_when_delivered_twice(w):
    stayed_in(w, 5)
    w.holders.page = 2
    w.runs.create("r", 1, "v1", "t", NOW)
    message = FullRunSegment(run="r", segment=0, total=1)
    recompute(w).handle(message, NOW)
    recompute(w).handle(message, NOW)  # a duplicate delivery
    run = w.runs.get("r")
    assert run is not None and run["segments_done"] == 1 and run["holders_read"] == 5


# ----------------------------------------------------------------------------- checkpoints and partners


def test_a_checkpoint_sees_the_colour_now_not_the_colour_in_the_code(w):
    # Given a green code shown, and the holder listed as confirmed since
    token = own(w, "u1", declare(), NOW).token.value
    changes(w).record_listings(
        CaseListRequest.model_validate(
            {"cases": [{"id_type": "resident_id", "id_number": resident_id(), "status": "confirmed"}]}
        ).cases,
        NOW,
    )
    w.queue.take()
    w.deliver()
    recompute(w).handle(w.queue.take()[0], NOW)
    # When a checkpoint scans it
    seen = Checkpoints(codecheck(w)).verify(
        VerificationRequest(token=token, checkpoint_id="gate-1"), "gate-account", {"gate-1"}, NOW
    )
    # Then it stops the holder, says why, and logs the scan with the colour seen
    assert seen.decision == "stop" and seen.color == "red" and "says green" in seen.instruction
    assert w.scans.scans[-1] == ("gate-1", seen_code_id(token), "red", "valid", "gate-account")


def test_garbage_is_a_stop_with_a_status_not_an_error(w):
    seen = Checkpoints(codecheck(w)).verify(
        VerificationRequest(token="not-a-token", checkpoint_id="g"), "a", {"g"}, NOW
    )
    assert (seen.decision, seen.code_status) == ("stop", "malformed")


def seen_code_id(token: str) -> str:
    import base64
    import json

    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["cid"]


def test_a_checkpoint_account_scans_only_for_its_own_checkpoints(w):
    token = own(w, "u1", declare()).token.value
    with pytest.raises(Forbidden, match="gate-2"):
        Checkpoints(codecheck(w)).verify(VerificationRequest(token=token, checkpoint_id="gate-2"), "a", {"gate-1"}, NOW)
    assert w.scans.scans == []


def ningbo() -> Partner:
    return Partner("ningbo", "宁波", "3302", frozenset({"push_risk", "push_contacts"}), 10, None, None)


def test_a_partner_sets_levels_only_inside_its_jurisdiction(w):
    cities = PartnerCities(codecheck(w), changes(w), w.registry, w.rulesets)
    out = cities.region_risks(
        [RegionRisk(region="330203", level=4), RegionRisk(region="330106", level=4)], ningbo(), NOW
    )
    assert out.accepted == ["330203"] and [r.region for r in out.rejected] == ["330106"]
    assert w.regions.levels == {"330203": 4} and w.regions.writes[0][3] == "partner:ningbo"


def test_a_partner_contact_report_with_a_bad_id_number_records_nothing(w):
    cities = PartnerCities(codecheck(w), changes(w), w.registry, w.rulesets)
    report = ContactReport(
        id_type="resident_id", id_number="330102198503121230", kind="close_contact", on=date(2020, 2, 16)
    )
    with pytest.raises(InvalidInput):
        cities.contact_reports([report], ningbo(), NOW)
    assert w.holders.items == {} and w.queue.sent == []


def test_the_partner_gate_refuses_replays_and_over_rate_callers():
    from healthcode.api.partner_auth import PartnerGate
    from healthcode.api.signing import sign

    w = World()
    partner = Partner("ningbo", "宁波", "3302", frozenset({"verify"}), 2, None, None)
    w.partners.put(partner)
    w.partners.secrets["ningbo"] = ["s3cret"]
    gate = PartnerGate(w.partners, w.nonces)
    ts = str(int(NOW.timestamp()))

    def event(nonce: str) -> dict:
        sig = sign("s3cret", "POST", "/partner/v1/verifications", ts, nonce, b"{}")
        headers = {"X-HC-Partner": "ningbo", "X-HC-Timestamp": ts, "X-HC-Nonce": nonce, "X-HC-Signature": sig}
        return {
            "headers": headers,
            "body": "{}",
            "rawPath": "/partner/v1/verifications",
            "requestContext": {"http": {"method": "POST"}},
        }

    assert gate.admit(event("n1"), NOW) == partner
    with pytest.raises(Unauthorized, match="replay"):
        gate.admit(event("n1"), NOW)
    with pytest.raises(RateLimited):
        gate.admit(event("n2"), NOW)
    assert ("ningbo", "n2") not in w.nonces.spent  # refused with 429: the documented retry can reuse it
    w.nonces.counts.clear()  # the next minute
    assert gate.admit(event("n2"), NOW) == partner


def test_a_cough_reported_at_a_check_in_stands_when_a_clean_check_in_follows_the_same_day(w):
    # Given a green holder who reports a cough at 08:00 and checks in clean at 09:00 the same day
    r = residents(w)
    own(w, "u1", declare())
    day1 = NOW + timedelta(days=1)
    r.check_in("u1", CheckinRequest(temperature=36.6, symptoms=["cough"]), day1.replace(hour=8))
    view = r.check_in("u1", CheckinRequest(temperature=36.5, symptoms=[]), day1.replace(hour=9))
    # Then the cough still counts (10 points) and the stored check-in keeps it with the later temperature
    assert view.score == 10 and any("cough" in reason.detail for reason in view.reasons)
    (holder,) = w.holders.items.values()
    assert [(c.temperature, c.symptoms) for c in holder.checkins] == [(36.5, ["cough"])]


def test_one_holder_that_cannot_be_written_never_stops_a_job(w):
    # Given 5 holders who stayed in 滨江区, one of whom can no longer be written
    stayed_in(w, 5)
    w.deliver()
    broken = sorted(w.holders.items)[2]
    w.holders.unwritable.add(broken)
    w.regions.levels["330108"] = 5
    # When the region's rescoring runs
    outcome = drain(w, RegionChanged(code="330108"), NOW)
    # Then the four others turned red, and the fifth is recorded with its reason, not lost
    assert outcome == (4, 1)
    assert [h.color.value for i, h in sorted(w.holders.items.items()) if i != broken] == ["red"] * 4
    assert w.runs.failures == [
        (
            "risk level of region 330108 changed",
            broken,
            "RuntimeError: ValidationException: Item size has exceeded the maximum allowed size",
        )
    ]


def test_a_case_list_answers_per_entry_and_records_the_others(w):
    for n, seq in enumerate(("101", "102", "103")):
        own(w, f"u{n}", declare(id_number=resident_id(seq=seq)))
    broken = next(h for h in w.holders.items.values() if h.sub == "u1").holder_id
    w.holders.unwritable.add(broken)
    cases = [
        {"id_type": "resident_id", "id_number": resident_id(seq=s), "status": "confirmed"}
        for s in ("101", "102", "103")
    ]
    view = authority(w).record_cases(CaseListRequest.model_validate({"cases": cases}), "officer", NOW)
    assert (view.accepted, view.known_holders) == (2, 2)
    assert [(f.index, "Item size" in f.reason) for f in view.failed] == [(1, True)]
    assert sorted(h.authority.case or "-" for h in w.holders.items.values()) == ["-", "confirmed", "confirmed"]


def test_the_code_view_and_a_check_in_read_the_holder_once(w):
    own(w, "u1", declare(temperature=38.2))
    reads = []
    original = w.holders.get
    w.holders.get = lambda hid: reads.append(hid) or original(hid)
    residents(w).code("u1", NOW + timedelta(days=1))
    residents(w).check_in("u1", CheckinRequest(temperature=36.5, symptoms=[]), NOW + timedelta(days=1))
    assert len(reads) == 2  # one per request
