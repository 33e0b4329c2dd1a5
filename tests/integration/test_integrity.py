"""Integrity I: tried as a hostile resident would. Each attack is reproduced and refused, with nothing
changed; then the honest path still works."""

from __future__ import annotations

import json
from datetime import timedelta

from healthcode import wiring
from healthcode.identity import mask_name
from healthcode.models import Holder, LevelSnapshot, StoredCheckin, StoredContact, StoredReport, StoredStay
from healthcode.usecases.residents import MAX_STAYS_IN_WINDOW
from tests.people import application, resident_id

ALICE = resident_id("330106", seq="811")
BOB = resident_id("330106", seq="812")
CAROL = resident_id("330106", seq="813")


def items(system, table: str) -> list[dict]:
    return system.p.clients["dynamodb"].scan(TableName=system.p.physical(table))["Items"]


def holder_docs(system) -> list[dict]:
    return [json.loads(i["doc"]["S"]) | {"sub": i.get("sub", {}).get("S")} for i in items(system, "HoldersTable")]


def officer_lists(system, number: str, status: str = "confirmed") -> None:
    body = {"cases": [{"id_type": "resident_id", "id_number": number, "status": status}]}
    assert system.admin("POST", "/admin/v1/cases", body).status == 202


# ----------------------------------------------------------------------------- identity


def test_a_stranger_cannot_squat_an_id_number_or_learn_whether_it_has_a_code(system):
    # Given Bob listed as a confirmed case (kept before he applies), and Carol who has applied
    officer_lists(system, BOB)
    assert system.resident("carol")("POST", "/v1/applications", application(CAROL)).status == 200
    before = items(system, "HoldersTable")
    mallory = system.resident("mallory", identity=("resident_id", ALICE))
    # When Mallory (verified as Alice) applies with Bob's number, and with Carol's
    for victim in (BOB, CAROL):
        r = mallory("POST", "/v1/applications", application(victim))
        # Then both are refused alike: no listing shown, nothing bound, nothing that tells them apart
        assert r.status == 403 and "listed" not in r.body and "confirmed" not in r.body
        assert (
            json.loads(r.body)["detail"]
            == json.loads(mallory("POST", "/v1/applications", application(BOB)).body)["detail"]
        )
    assert items(system, "HoldersTable") == before and items(system, "AccountsTable") == [
        i for i in items(system, "AccountsTable") if i["sub"]["S"] == "carol"
    ]
    # and Bob himself still applies, and sees his own listing
    view = system.resident("bob")("POST", "/v1/applications", application(BOB)).json()
    assert view["color"] == "red" and "confirmed" in view["reasons"][0]["detail"]


def test_an_account_without_a_verified_identity_cannot_apply(system):
    r = system.http("POST", "/v1/applications", application(ALICE), claims={"sub": "anon"})
    assert r.status == 403 and "verified identity" in r.json()["detail"]
    assert items(system, "HoldersTable") == []


def test_one_account_cannot_bind_two_identities_even_when_two_applications_race(system):
    # Given two applications from one account for two identities, both past every read before either writes
    db = system.p.clients["dynamodb"]
    second = {}

    def race(params, **kw):
        if not second:
            second["r"] = system.resident("u", identity=("resident_id", BOB))(
                "POST", "/v1/applications", application(BOB)
            )

    db.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", race)
    try:
        first = system.resident("u", identity=("resident_id", ALICE))("POST", "/v1/applications", application(ALICE))
    finally:
        db.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", race)
    # Then one wins and the other is refused: one holder, bound to the one account
    assert sorted([first.status, second["r"].status]) == [200, 409]
    bound = [d for d in holder_docs(system) if d["sub"] == "u"]
    assert len(bound) == 1 and len(items(system, "HoldersTable")) == 1
    (account,) = items(system, "AccountsTable")
    assert account["holder_id"]["S"] == items(system, "HoldersTable")[0]["holder_id"]["S"]


# ----------------------------------------------------------------------------- colour washing


def ongoing_red(system):
    assert system.admin("PUT", "/admin/v1/regions/420111", {"name": "洪山区", "level": 5}).status == 200
    me = system.resident("w")
    stay = {"region": "420111", "arrived_on": "2020-02-10", "left_on": None}
    view = me("POST", "/v1/applications", application(ALICE, travel_history=[stay])).json()
    assert view["color"] == "red"
    return me


def test_re_applying_with_an_earlier_end_cannot_wash_an_ongoing_level5_stay(system):
    me = ongoing_red(system)
    token = me("GET", "/v1/codes/me").json()["token"]["value"]
    before = items(system, "HoldersTable")
    # When the holder re-declares the ongoing stay as ended long ago (out of the window)
    washed = {"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-02-10"}
    r = me("POST", "/v1/applications", application(ALICE, travel_history=[washed]))
    # Then 422 names the field, nothing changed, and the checkpoint still stops them
    assert r.status == 422 and r.json()["errors"][0]["field"] == "travel_history[0].left_on"
    assert items(system, "HoldersTable") == before
    assert system.checkpoint({"token": token, "checkpoint_id": "gate-1"}).json()["decision"] == "stop"
    # ending it today (on or after the last declared day) is what an honest traveller does: accepted
    ended = {"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-02-17"}
    assert me("POST", "/v1/applications", application(ALICE, travel_history=[ended])).json()["color"] == "red"


def test_shortening_a_level4_stay_cannot_turn_yellow_into_green(system):
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 4})
    me = system.resident("s")
    stay = {"region": "330102", "arrived_on": "2020-02-13", "left_on": "2020-02-15"}  # 2 days: 30, yellow
    assert me("POST", "/v1/applications", application(ALICE, travel_history=[stay])).json()["color"] == "yellow"
    shorter = stay | {"left_on": "2020-02-14"}  # 1 day: 25, green
    r = me("POST", "/v1/applications", application(ALICE, travel_history=[shorter]))
    assert r.status == 422 and r.json()["errors"][0]["field"] == "travel_history[0].left_on"
    assert me("GET", "/v1/codes/me").json()["color"] == "yellow"


def test_an_older_stay_in_the_same_county_does_not_hide_a_current_one_from_a_region_change(system):
    # Given a holder there now (ongoing, 西湖区) who then declares an older stay in the same county
    me = system.resident("x")
    now_there = {"region": "330106", "arrived_on": "2020-02-15", "left_on": None}
    older = {"region": "330106", "arrived_on": "2020-02-05", "left_on": "2020-02-06"}
    assert me("POST", "/v1/applications", application(ALICE, travel_history=[now_there])).status == 200
    assert me("POST", "/v1/applications", application(ALICE, travel_history=[older])).status == 200
    token = me("GET", "/v1/codes/me").json()["token"]["value"]
    # When 西湖区 is raised to level 5
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    system.deliver_queue()
    # Then the checkpoint sees red, like the code view: both stays are in the index
    assert system.checkpoint({"token": token, "checkpoint_id": "gate-1"}).json()["color"] == "red"
    assert len([i for i in items(system, "StaysTable") if i["county"]["S"].startswith("330106#")]) == 2


# ----------------------------------------------------------------------------- bounded items


def test_re_applying_many_times_keeps_the_holder_writable_and_bounded(system):
    me = system.resident("m")
    counties = [r for r in wiring.services().registry.counties_under("330000")][:70]
    accepted = refused = 0
    for n in range(12):  # 12 x 30 = 360 new stays declared inside the window
        stays = [
            {"region": counties[(n * 30 + k) % 70], "arrived_on": f"2020-02-{10 + n % 5:02d}", "left_on": "2020-02-16"}
            for k in range(30)
        ]
        r = me("POST", "/v1/applications", application(ALICE, travel_history=stays))
        if r.status == 200:
            accepted += 1
        else:
            assert r.status == 422 and r.json()["errors"][0]["field"] == "travel_history"
            refused += 1
    assert accepted and refused
    (item,) = items(system, "HoldersTable")
    assert len(json.loads(item["doc"]["S"])["stays"]) <= MAX_STAYS_IN_WINDOW
    # and the holder is still writable: a check-in goes through
    assert me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []}).status == 200


def test_the_largest_holder_the_rules_allow_stays_under_64_kb(system):
    """The most stays allowed in the window (12-digit village codes), 50 contacts, a month of check-ins and reports with every
    symptom, everything discharged and covered by an episode: the stored item, by DynamoDB's sizing
    (attribute names plus values, UTF-8), is well under 64 KB."""
    svc = wiring.services()
    today = system.now.date()
    stays = [
        StoredStay(region=f"330106{n:06d}", arrived_on=today - timedelta(days=13), left_on=None, confirmed_on=today)
        for n in range(MAX_STAYS_IN_WINDOW)
    ]
    all_symptoms = ["cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_taste_or_smell"]
    holder = Holder(
        holder_id="h" * 43,
        version=7,
        sub="s" * 64,
        code_id="c" * 32,
        masked_name=mask_name("欧" * 64),
        masked_phone="*" * 11 + "8000",
        residence_region="330106001001",
        stays=stays,
        contacts=[StoredContact(kind="secondary_contact", on=today - timedelta(days=n % 14)) for n in range(50)],
        reports=[
            StoredReport(on=today - timedelta(days=n), symptoms=all_symptoms, temperature=39.9) for n in range(30)
        ],
        checkins=[
            StoredCheckin(on=today - timedelta(days=n), temperature=39.9, symptoms=all_symptoms, at=system.now)
            for n in range(30)
        ],
    )
    scored = svc.recolor.assess(holder, system.now, LevelSnapshot(1, {"330106": 5}))  # every stay earns points
    # the worst case for the remembered state: every source both covered and discharged
    covers = dict(scored.state.episode.covers) if scored.state.episode else {}
    state = scored.state.model_copy(update={"discharged": {k: (v, today) for k, v in covers.items()}})
    item = svc.holders.item(scored.model_copy(update={"state": state}))
    size = sum(len(k.encode()) + len(next(iter(v.values())).encode()) for k, v in item.items())
    print(f"largest holder item: {size} bytes, {len(covers)} risk sources")
    assert len(covers) > MAX_STAYS_IN_WINDOW and size < 56 * 1024, size


# ----------------------------------------------------------------------------- checkpoints and names


def test_a_checkpoint_account_cannot_scan_for_another_checkpoint_and_the_log_names_the_scanner(system):
    token = system.resident("y")("POST", "/v1/applications", application(ALICE)).json()["token"]["value"]
    r = system.checkpoint({"token": token, "checkpoint_id": "gate-2"}, sub="gate-1-staff", checkpoints="gate-1")
    assert r.status == 403 and "gate-2" in r.json()["detail"]
    assert items(system, "ScansTable") == []
    ok = system.checkpoint({"token": token, "checkpoint_id": "gate-1"}, sub="gate-1-staff", checkpoints="gate-1")
    assert ok.json()["decision"] == "pass"
    (scan,) = items(system, "ScansTable")
    assert scan["checkpoint_id"]["S"] == "gate-1" and scan["scanned_by"]["S"] == "gate-1-staff"


def test_names_with_control_bidi_or_zero_width_characters_are_refused(system):
    me = system.resident("z")
    for name in ("王\u202e波", "王\u200b珍波", "王\x00波", "\u2066李四\u2069", "王\u2028波"):
        r = me("POST", "/v1/applications", application(ALICE) | {"name": name})
        assert r.status == 422 and r.json()["errors"][0]["field"] == "name", name
    assert items(system, "HoldersTable") == []
    assert me("POST", "/v1/applications", application(ALICE) | {"name": "王"}).json()["masked_name"] == "王*"


# ----------------------------------------------------------------------------- dependants


def test_a_guardian_applies_for_dependants_who_can_later_take_over_their_own_code(system):
    child = resident_id("330106", born="20150601", seq="901")
    grandma = system.resident("grandma", identity=("resident_id", ALICE), wards=(child,))
    r = grandma("POST", "/v1/applications", application(child, temperature=38.4) | {"dependant": True})
    assert r.status == 200 and r.json()["color"] == "yellow"
    (dep,) = grandma("GET", "/v1/dependants").json()["dependants"]
    assert dep["color"] == "yellow" and dep["masked_name"] == "王*波"
    # the guardian checks in for the child
    r = grandma("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": [], "dependant_id": dep["dependant_id"]})
    assert r.status == 200 and r.json()["quarantine"]["checkins_done"] == 0  # today: the episode's first day
    # a stranger cannot add the same child, nor check in for it
    mallory = system.resident("mallory", identity=("resident_id", BOB))
    assert mallory("POST", "/v1/applications", application(child) | {"dependant": True}).status == 403
    assert (
        mallory(
            "POST", "/v1/checkins", {"temperature": 36.5, "symptoms": [], "dependant_id": dep["dependant_id"]}
        ).status
        == 404
    )
    # the child grows up and takes over with their own verified identity: what grandma declared for
    # them (the fever) is set aside, and they are scored on their own declaration
    own = system.resident("teen")("POST", "/v1/applications", application(child))
    assert own.status == 200 and own.json()["color"] == "green"
    assert grandma("GET", "/v1/dependants").json()["dependants"] == []
    assert system.resident("teen")("GET", "/v1/codes/me").json()["masked_name"] == "王*波"
    system.settle()
    latest = system.resident("teen")("GET", "/v1/codes/me/history").json()["items"][0]
    assert "took over from a guardian" in latest["detail"] and latest["new_color"] == "green"


def test_a_guardian_may_apply_for_at_most_the_configured_number_of_dependants(system):
    kids = tuple(resident_id("330106", born="20150601", seq=f"{n:03d}") for n in range(100, 106))
    guardian = system.resident("g", identity=("resident_id", ALICE), wards=kids)
    statuses = [
        guardian(
            "POST",
            "/v1/applications",
            application(resident_id("330106", born="20150601", seq=f"{n:03d}")) | {"dependant": True},
        ).status
        for n in range(100, 106)
    ]
    assert statuses == [200] * 5 + [409]
    assert len(guardian("GET", "/v1/dependants").json()["dependants"]) == 5
    assert len(items(system, "HoldersTable")) == 5
