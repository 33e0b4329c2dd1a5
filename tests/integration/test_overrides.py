"""Overrides under dual control (issue 15): no single person changes a colour. A proposal has no effect
until a different health_admin approves it; a bulk one also needs a health_director; an override in
force is the first of the holder's reasons and in their history; it never makes a case green; it ends
by itself after its last day, or when withdrawn."""

from __future__ import annotations

from datetime import timedelta

from healthcode.wiring import Pages
from tests.people import application, resident_id

A = {"sub": "officer-a", "scope": "health_admin"}
B = {"sub": "officer-b", "scope": "health_admin"}
DIRECTOR = {"sub": "director-d", "scope": "health_director"}


def people(system, n, start=600):
    numbers = [resident_id(seq=f"{start + i:03d}") for i in range(n)]
    for i, number in enumerate(numbers):
        assert system.resident(f"p{start + i}")("POST", "/v1/applications", application(number)).status == 200
    system.settle()
    return numbers


def refs(numbers):
    return [{"id_type": "resident_id", "id_number": n} for n in numbers]


def colour(system, sub):
    return system.resident(sub)("GET", "/v1/codes/me").json()


def propose(system, numbers, color="red", until="2020-02-20", who=A, reason="to be checked by the authority"):
    return system.http(
        "POST",
        "/admin/v1/overrides",
        {"holders": refs(numbers), "color": color, "reason": reason, "until": until},
        claims=who,
    )


def test_an_override_changes_nothing_until_a_second_admin_approves_then_explains_itself(system):
    numbers = people(system, 2)
    r = propose(system, numbers)
    assert r.status == 202, r.body
    ov = r.json()
    assert (ov["status"], ov["bulk"], ov["approvals_needed"]) == ("awaiting_approval", False, ["health_admin"])
    assert resident_id(seq="600") not in r.body  # holders by keyed id only
    system.settle()
    assert colour(system, "p600")["color"] == "green"

    # the proposer cannot approve their own; nobody but a health_admin/director may approve
    own = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=A)
    assert own.status == 403 and "proposer" in own.json()["detail"]
    resident = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims={"sub": "p600"})
    assert resident.status == 403
    system.settle()
    assert colour(system, "p600")["color"] == "green"

    ok = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B)
    assert ok.status == 200 and ok.json()["status"] == "in_force" and ok.json()["approved_by"] == ["officer-b"]
    system.settle()
    code = colour(system, "p600")
    assert code["color"] == "red"
    assert code["reasons"][0] == {
        "factor": "override",
        "points": 0,
        "detail": "override by the health authority: to be checked by the authority, until 2020-02-20",
    }
    assert code["green_eligible_on"] == "2020-02-21"
    # declaring again (with a clean temperature) does not wash it off
    again = system.resident("p600")("POST", "/v1/applications", application(numbers[0], temperature=36.4))
    assert again.status == 200 and again.json()["color"] == "red"
    history = system.resident("p600")("GET", "/v1/codes/me/history").json()["items"]
    assert (history[0]["new_color"], history[0]["cause"]) == ("red", "override")
    # approving again (a retry) changes nothing; a third person has nothing left to approve
    assert system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B).status == 200
    extra = system.http(
        "POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims={"sub": "c", "scope": "health_admin"}
    )
    assert extra.status == 409


def test_an_override_ends_after_its_last_day_and_a_withdrawal_ends_it_at_once(system):
    numbers = people(system, 2, start=610)
    ov = propose(system, numbers[:1], until="2020-02-18").json()
    system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B)
    system.settle()
    assert colour(system, "p610")["color"] == "red"
    system.at(system.now + timedelta(days=1))
    assert colour(system, "p610")["color"] == "red"  # the last day is still in force
    system.at(system.now + timedelta(days=1))
    assert colour(system, "p610")["color"] == "green"
    got = system.http("GET", f"/admin/v1/overrides/{ov['override_id']}", claims=A).json()
    assert got["status"] == "expired"
    late = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/withdrawal", claims=A)
    assert late.status == 200

    ov2 = propose(system, numbers[1:], color="yellow", until="2020-02-25").json()
    system.http("POST", f"/admin/v1/overrides/{ov2['override_id']}/approval", claims=B)
    system.settle()
    assert colour(system, "p611")["color"] == "yellow"
    outsider = system.http(
        "POST", f"/admin/v1/overrides/{ov2['override_id']}/withdrawal", claims={"sub": "z", "scope": "health_admin"}
    )
    assert outsider.status == 403
    w = system.http("POST", f"/admin/v1/overrides/{ov2['override_id']}/withdrawal", claims=B)  # the approver may
    # in force, a withdrawal lowers colours: the approver asks, a second person confirms
    assert w.status == 200 and w.json()["status"] == "in_force" and w.json()["withdrawal_requested_by"] == "officer-b"
    assert colour(system, "p611")["color"] == "yellow"
    same = system.http("POST", f"/admin/v1/overrides/{ov2['override_id']}/withdrawal", claims=B)
    assert same.status == 200 and same.json()["status"] == "in_force"  # asking again changes nothing
    w = system.http("POST", f"/admin/v1/overrides/{ov2['override_id']}/withdrawal", claims=A)
    assert w.status == 200 and w.json()["status"] == "withdrawn" and w.json()["withdrawn_by"] == "officer-a"
    system.settle()
    assert colour(system, "p611")["color"] == "green"
    causes = [h["cause"] for h in system.resident("p611")("GET", "/v1/codes/me/history").json()["items"]]
    assert causes[:2] == ["override", "override"]
    again = system.http(
        "POST", f"/admin/v1/overrides/{ov2['override_id']}/approval", claims={"sub": "c", "scope": "health_admin"}
    )
    assert again.status == 409


def test_an_override_cannot_make_a_listed_case_green(system):
    numbers = people(system, 1, start=620)
    system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": numbers[0], "status": "confirmed"}]},
    )
    system.settle()
    assert colour(system, "p620")["color"] == "red"
    r = propose(system, numbers, color="green")
    assert (
        r.status == 422
        and r.json()["errors"][0]["field"] == "holders[0]"
        and "case" in r.json()["errors"][0]["message"]
    )


def test_bulk_overrides_need_a_director_as_well(system):
    numbers = people(system, 22, start=630)
    first = propose(system, numbers[:15]).json()
    assert first["bulk"] is False
    # the same person's next proposal within the hour crosses the threshold (20): bulk
    second = propose(system, numbers[15:], reason="second batch for checking").json()
    assert second["bulk"] is True and second["approvals_needed"] == ["health_admin", "health_director"]
    oid = second["override_id"]
    assert system.http("POST", f"/admin/v1/overrides/{oid}/approval", claims=B).json()["approvals_needed"] == [
        "health_director"
    ]
    system.settle()
    assert colour(system, "p645")["color"] == "green"  # two health_admins are not enough for a bulk override
    another_admin = system.http(
        "POST", f"/admin/v1/overrides/{oid}/approval", claims={"sub": "c", "scope": "health_admin"}
    )
    assert another_admin.status == 403 and "health_director" in another_admin.json()["detail"]
    done = system.http("POST", f"/admin/v1/overrides/{oid}/approval", claims=DIRECTOR)
    assert done.status == 200 and done.json()["status"] == "in_force"
    system.settle()
    assert colour(system, "p645")["color"] == "red"
    listing = system.http("GET", "/admin/v1/overrides?status=in_force", claims=DIRECTOR).json()
    assert [o["override_id"] for o in listing["items"]] == [oid]
    assert listing["counts"] == {"awaiting_approval": 1, "in_force": 1, "bulk_awaiting_approval": 0, "bulk_in_force": 1}


def test_a_retried_proposal_is_the_same_one_and_bad_proposals_change_nothing(system):
    numbers = people(system, 1, start=660)
    a = propose(system, numbers).json()
    b = propose(system, numbers).json()
    assert a["override_id"] == b["override_id"]
    listing = system.http("GET", "/admin/v1/overrides", claims=A).json()
    assert len(listing["items"]) == 1
    bad = {
        "past": propose(system, numbers, until="2020-02-16"),
        "too far": propose(system, numbers, until="2020-03-05"),
        "unknown person": propose(system, [resident_id(seq="999")]),
        "not an id number": propose(system, ["123"]),
    }
    for why, r in bad.items():
        assert r.status == 422, (why, r.body)
    assert (
        system.http(
            "POST",
            "/admin/v1/overrides",
            {"holders": [], "color": "red", "reason": "xxxxx", "until": "2020-02-18"},
            claims=A,
        ).status
        == 422
    )
    assert propose(system, numbers, who=DIRECTOR).status == 403  # a director approves, never proposes
    assert len(system.http("GET", "/admin/v1/overrides", claims=A).json()["items"]) == 1
    assert system.http("GET", "/admin/v1/overrides/ov-000000000000000000000000", claims=A).status == 404
    system.configure(pages=Pages(listing=1))
    assert system.http("GET", "/admin/v1/overrides?after=%%%", claims=A).status == 400


def test_a_fault_between_the_approval_and_the_holder_writes_is_finished_by_the_approvers_retry(system):
    from tests.integration.test_faults import Throttle

    numbers = people(system, 3, start=670)
    ov = propose(system, numbers).json()
    fault = Throttle(system, "PutItem", "HoldersTable", times=10_000)  # past the SDK's retries
    try:
        r = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B)
    finally:
        fault.remove()
    assert r.status == 503 and "retry-after" in {k.lower() for k in r.headers}
    system.settle()
    assert {colour(system, f"p{n}")["color"] for n in (670, 671, 672)} == {"green"}  # nothing applied yet
    again = system.http("POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=B)
    assert again.status == 200 and again.json()["status"] == "in_force"
    system.settle()
    assert {colour(system, f"p{n}")["color"] for n in (670, 671, 672)} == {"red"}
    trail = system.http("GET", "/admin/v1/audit?from=2020-02-17", claims={"sub": "au", "scope": "auditor"}).json()
    approvals = [r["action"] for r in trail["records"] if r["target"] == ov["override_id"]]
    assert approvals == ["override proposed", "override approved (repeated)"]  # never missing
