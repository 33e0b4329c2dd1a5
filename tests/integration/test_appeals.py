"""Appeals (变色申述复核, issue 15): a resident says which reason of their code is wrong and why; a
health_admin upholds it with a correction (the holder is rescored at once, the reason in their
history) or rejects it with a reason the holder reads. One open appeal per code and factor; appeals
open past the deadline are flagged and counted."""

from __future__ import annotations

from datetime import timedelta

from tests.people import application, resident_id

B = {"sub": "officer-b", "scope": "health_admin"}
C = {"sub": "officer-c", "scope": "health_admin"}


def upheld_by_two(system, path, body, first=None, second=B):
    """Upholding an appeal that clears a case or lowers a colour: one person proposes, another confirms."""
    proposed = system.http("POST", path, body, claims=first or {"sub": "officer-1", "scope": "health_admin"})
    assert proposed.status == 200 and proposed.json()["status"] == "open", proposed.body
    assert proposed.json()["uphold_proposed_by"] is not None
    return system.http("POST", path, body, claims=second)


def listed(system, number, status="confirmed", **extra):
    r = system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": number, "status": status, **extra}]},
    )
    assert r.status == 202, r.body
    system.settle()


def test_an_upheld_appeal_turns_a_wrongly_listed_holder_green_with_the_reason_in_history(system):
    number = resident_id(seq="701")
    me = system.resident("zhao")
    me("POST", "/v1/applications", application(number))
    listed(system, number)
    assert me("GET", "/v1/codes/me").json()["color"] == "red"

    r = me("POST", "/v1/appeals", {"factor": "case", "reason": "I was never tested; the list has my number by mistake"})
    assert r.status == 201, r.body
    appeal = r.json()
    assert appeal["status"] == "open" and appeal["reasons_then"][0]["factor"] == "confirmed"
    assert number not in r.body and appeal["masked_name"] == "王*波"
    # the same appeal again is the first one; another about the same factor waits for the decision
    assert (
        me(
            "POST", "/v1/appeals", {"factor": "case", "reason": "I was never tested; the list has my number by mistake"}
        ).json()["appeal_id"]
        == appeal["appeal_id"]
    )
    assert me("POST", "/v1/appeals", {"factor": "case", "reason": "something else entirely"}).status == 409

    open_ = system.admin("GET", "/admin/v1/appeals?status=open").json()
    assert [a["appeal_id"] for a in open_["items"]] == [appeal["appeal_id"]] and open_["overdue"] == 0
    path = f"/admin/v1/appeals/{appeal['appeal_id']}/decision"
    decision = {"decision": "uphold", "reason": "wrong ID number on the hospital list"}
    proposed = system.admin("POST", path, decision)  # clearing a case: one person is not enough
    assert proposed.json()["status"] == "open" and proposed.json()["uphold_proposed_by"] == "officer-1"
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    assert system.admin("POST", path, decision).json()["status"] == "open"  # the same person again: nothing
    decided = system.http("POST", path, decision, claims=B)
    assert decided.status == 200, decided.body
    assert decided.json()["status"] == "upheld" and decided.json()["color_after"] == "green"
    assert me("GET", "/v1/codes/me").json()["color"] == "green"
    system.settle()
    latest = me("GET", "/v1/codes/me/history").json()["items"][0]
    assert (latest["old_color"], latest["new_color"], latest["cause"]) == ("red", "green", "appeal")
    assert "wrong ID number on the hospital list" in latest["detail"]
    mine = me("GET", "/v1/appeals/mine").json()["items"]
    assert mine[0]["status"] == "upheld" and mine[0]["decision_reason"] == "wrong ID number on the hospital list"
    # decided once: a second decision is refused, the same one again is a retry
    again = system.admin(
        "POST", f"/admin/v1/appeals/{appeal['appeal_id']}/decision", {"decision": "reject", "reason": "changed my mind"}
    )
    assert again.status == 409
    retry = system.http("POST", path, decision, claims=B)
    assert retry.status == 200
    # with the decision made, the same factor can be appealed again (nothing to appeal now: green)
    assert me("POST", "/v1/appeals", {"factor": "case", "reason": "just checking again"}).status == 422


def test_a_rejected_appeal_changes_nothing_and_the_holder_reads_why(system):
    number = resident_id(seq="702")
    me = system.resident("qian")
    me("POST", "/v1/applications", application(number))
    listed(system, number, status="close_contact", on="2020-02-15")
    before = me("GET", "/v1/codes/me").json()
    assert before["color"] != "green"
    a = me(
        "POST",
        "/v1/appeals",
        {"factor": "close_contact", "reason": "I was at home that day", "evidence": "ticket 12345"},
    ).json()
    r = system.admin(
        "POST",
        f"/admin/v1/appeals/{a['appeal_id']}/decision",
        {"decision": "reject", "reason": "the trace shows you on the bus"},
    )
    assert r.status == 200 and r.json()["status"] == "rejected" and r.json()["color_after"] is None
    assert me("GET", "/v1/codes/me").json()["reasons"] == before["reasons"]
    mine = me("GET", "/v1/appeals/mine").json()["items"][0]
    assert (mine["status"], mine["decision_reason"], mine["evidence"]) == (
        "rejected",
        "the trace shows you on the bus",
        "ticket 12345",
    )
    assert system.admin("GET", "/admin/v1/appeals?status=rejected").json()["items"][0]["appeal_id"] == a["appeal_id"]


def test_a_mistaken_stay_is_removed_by_naming_it(system):
    number = resident_id(seq="703")
    me = system.resident("sun")
    body = application(
        number,
        travel_history=[
            {"region": "420106", "arrived_on": "2020-02-10", "left_on": "2020-02-12"},
            {"region": "330106", "arrived_on": "2020-02-13", "left_on": "2020-02-14"},
        ],
    )
    me("POST", "/v1/applications", body)
    system.admin("PUT", "/admin/v1/regions/420106", {"name": "武昌区", "level": 5})
    system.settle()
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    a = me("POST", "/v1/appeals", {"factor": "stay", "reason": "I typed the wrong region: I was never in Wuhan"}).json()
    url = f"/admin/v1/appeals/{a['appeal_id']}/decision"
    missing = system.admin("POST", url, {"decision": "uphold", "reason": "typo in the declaration"})
    assert missing.status == 422 and missing.json()["errors"][0]["field"] == "correction.region"
    nothing = system.admin("POST", url, {"decision": "uphold", "reason": "typo", "correction": {"region": "110101"}})
    assert nothing.status == 422
    assert me("GET", "/v1/appeals/mine").json()["items"][0]["status"] == "open"  # nothing stored by the refusals
    fix = {"decision": "uphold", "reason": "typo in the declaration", "correction": {"region": "420106"}}
    ok = upheld_by_two(system, url, fix)
    assert ok.json()["color_after"] == "green"
    code = me("GET", "/v1/codes/me").json()
    assert code["color"] == "green" and "420106" not in str(code["reasons"])


def test_appeals_need_a_reason_of_that_kind_and_old_open_ones_are_flagged(system):
    number = resident_id(seq="704")
    me = system.resident("li")
    assert me("POST", "/v1/appeals", {"factor": "case", "reason": "no code yet"}).status == 404
    me("POST", "/v1/applications", application(number))
    system.settle()
    r = me("POST", "/v1/appeals", {"factor": "stay", "reason": "I am green, but still"})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "factor"
    for bad in (
        {"factor": "weather", "reason": "wrong factor name"},
        {"factor": "case", "reason": "x" * 1001},
        {"factor": "case"},
        {"factor": "case", "reason": "fine", "evidence": "e" * 301},
        {"factor": "case", "reason": "fine", "holder_id": "someone-else"},
    ):
        assert me("POST", "/v1/appeals", bad).status == 422, bad
    listed(system, number)
    a = me("POST", "/v1/appeals", {"factor": "case", "reason": "never tested"}).json()
    system.at(system.now + timedelta(hours=25))
    got = system.admin("GET", "/admin/v1/appeals").json()
    assert got["overdue"] == 1 and got["items"][0]["overdue"] is True and got["items"][0]["appeal_id"] == a["appeal_id"]
    # only health_admins list and decide
    for claims in ({"sub": "li"}, {"sub": "d", "scope": "health_director"}, {"sub": "au", "scope": "auditor"}):
        assert system.http("GET", "/admin/v1/appeals", claims=claims).status == 403
        r = system.http(
            "POST",
            f"/admin/v1/appeals/{a['appeal_id']}/decision",
            {"decision": "reject", "reason": "nope."},
            claims=claims,
        )
        assert r.status == 403
    assert (
        system.http(
            "POST",
            "/admin/v1/appeals/ap-000000000000000000000000/decision",
            {"decision": "reject", "reason": "nope."},
            claims=B,
        ).status
        == 404
    )
    # someone else's appeals are never listed as mine
    assert system.resident("stranger")("GET", "/v1/appeals/mine").json()["items"] == []


def test_an_upheld_appeal_against_an_override_takes_the_holder_out_of_it(system):
    number = resident_id(seq="705")
    me = system.resident("zhou")
    me("POST", "/v1/applications", application(number))
    system.settle()
    body = {
        "holders": [{"id_type": "resident_id", "id_number": number}],
        "color": "red",
        "reason": "protest at the bank",
        "until": "2020-02-25",
    }
    ov = system.admin("POST", "/admin/v1/overrides", body).json()
    system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B)
    system.settle()
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    a = me("POST", "/v1/appeals", {"factor": "override", "reason": "I am a depositor, not a health risk"}).json()
    assert a["reasons_then"][0]["detail"].startswith("override by the health authority: protest at the bank")
    r = upheld_by_two(
        system,
        f"/admin/v1/appeals/{a['appeal_id']}/decision",
        {"decision": "uphold", "reason": "no health ground"},
        first=B,
        second=C,
    )
    assert r.json()["color_after"] == "green"
    # a retried approval of the override cannot put the holder back under it
    assert system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B).status == 200
    system.settle()
    assert me("GET", "/v1/codes/me").json()["color"] == "green"


def test_a_guardian_appeals_for_a_dependant_and_nobody_else_can(system):
    child = resident_id("330106", born="20150601", seq="707")
    grandma = system.resident("grandma-ap", identity=("resident_id", resident_id(seq="706")), wards=(child,))
    grandma("POST", "/v1/applications", application(child, temperature=38.4) | {"dependant": True})
    (dep,) = grandma("GET", "/v1/dependants").json()["dependants"]
    assert dep["color"] != "green"
    body = {"factor": "fever", "reason": "the thermometer was broken", "dependant_id": dep["dependant_id"]}
    stranger = system.resident("mallory-ap", identity=("resident_id", resident_id(seq="708")))
    stranger("POST", "/v1/applications", application(resident_id(seq="708")))
    assert stranger("POST", "/v1/appeals", body).status == 404  # not their dependant: nothing to learn
    r = grandma("POST", "/v1/appeals", body)
    assert r.status == 201 and r.json()["masked_name"] == dep["masked_name"]
    assert stranger("GET", "/v1/appeals/mine").json()["items"] == []
    decided = upheld_by_two(
        system,
        f"/admin/v1/appeals/{r.json()['appeal_id']}/decision",
        {"decision": "uphold", "reason": "device fault confirmed"},
    )
    assert decided.json()["color_after"] == "green"
    assert grandma("GET", "/v1/dependants").json()["dependants"][0]["color"] == "green"
