"""Two persons means two people (issue 29): dual control and appeal decisions compare the verified
identities behind officials' accounts, nobody acts on their own code or a dependant's, an official
without a verified identity can read but not act, and a stale appeal decision changes nothing."""

from __future__ import annotations

import json

from tests.integration.conftest import IDENTITY_CLAIM
from tests.integration.test_appeals import listed
from tests.people import application, resident_id

LI = resident_id(seq="801")  # 李, an official who also holds a code
OTHER = resident_id(seq="802")


def official(sub: str, number: str | None, scope: str = "health_admin") -> dict:
    claims = {"sub": sub, "scope": scope}
    claims[IDENTITY_CLAIM] = f"resident_id:{number}" if number else None
    return claims


def propose(system, claims, number: str, color: str = "green"):
    body = {
        "holders": [{"id_type": "resident_id", "id_number": number}],
        "color": color,
        "reason": "retested negative twice",
        "until": (system.now.date()).isoformat(),
    }
    return system.http("POST", "/admin/v1/overrides", body, claims=claims)


def test_one_person_with_two_admin_accounts_cannot_approve_their_own_override(system):
    system.resident("holder")("POST", "/v1/applications", application(OTHER, temperature=38.5))
    proposed = propose(system, official("li-work", LI), OTHER)
    assert proposed.status == 202, proposed.body
    oid = proposed.json()["override_id"]
    again = system.http("POST", f"/admin/v1/overrides/{oid}/approval", claims=official("li-second", LI))
    assert again.status == 403 and "not its proposer" in again.json()["detail"]
    other = system.http("POST", f"/admin/v1/overrides/{oid}/approval", claims=official("wang", OTHER))
    # (wang is the holder himself: his own code)
    assert other.status == 403 and "your own code" in other.json()["detail"]
    third = system.http("POST", f"/admin/v1/overrides/{oid}/approval", claims=official("zhang", resident_id(seq="803")))
    assert third.status == 200 and third.json()["status"] == "in_force"


def test_an_official_without_a_verified_identity_can_read_but_not_act(system):
    system.resident("holder")("POST", "/v1/applications", application(OTHER, temperature=38.5))
    nobody = official("temp-account", None)
    refused = propose(system, nobody, OTHER)
    assert refused.status == 403 and "no verified identity" in refused.json()["detail"]
    assert system.http("GET", "/admin/v1/overrides", claims=nobody).status == 200
    assert system.http("GET", "/admin/v1/overrides", claims=nobody).json()["items"] == []


def test_nobody_proposes_an_override_of_their_own_code(system):
    system.resident("li-home")("POST", "/v1/applications", application(LI, temperature=38.5))
    r = propose(system, official("li-work", LI), LI)
    assert r.status == 422 and "your own code" in r.body


def test_an_appellant_cannot_decide_their_own_appeal_with_an_admin_account_nor_a_dependants(system):
    kid = resident_id(born="20150101", seq="804")
    me = system.resident("li-home", identity=("resident_id", LI), wards=(kid,))
    me("POST", "/v1/applications", application(LI, temperature=38.5))
    appeal = me("POST", "/v1/appeals", {"factor": "fever", "reason": "the thermometer was broken that day"}).json()
    decision = {"decision": "uphold", "reason": "thermometer broken"}
    path = f"/admin/v1/appeals/{appeal['appeal_id']}/decision"
    own = system.http("POST", path, decision, claims=official("li-work", LI))
    assert own.status == 403 and "your own code" in own.json()["detail"]
    assert me("GET", "/v1/codes/me").json()["color"] == "yellow"  # nothing changed
    # a dependant li applied for: li cannot decide that one either
    me("POST", "/v1/applications", application(kid, temperature=38.5) | {"dependant": True})
    kids = me("GET", "/v1/dependants").json()["dependants"]
    assert kids, "the dependant was not added"
    filed = me(
        "POST",
        "/v1/appeals",
        {"factor": "fever", "reason": "the thermometer was broken that day", "dependant_id": kids[0]["dependant_id"]},
    ).json()
    theirs = system.http(
        "POST", f"/admin/v1/appeals/{filed['appeal_id']}/decision", decision, claims=official("li-work", LI)
    )
    assert theirs.status == 403
    # other people decide (lowering a colour: one proposes, a second confirms)
    first = system.http("POST", path, decision, claims=official("zhang", resident_id(seq="803")))
    assert first.status == 200 and first.json()["status"] == "open"
    ok = system.http("POST", path, decision, claims=official("zhao", resident_id(seq="814")))
    assert ok.status == 200 and ok.json()["color_after"] == "green"


def test_a_stale_decision_sent_again_after_a_new_listing_changes_nothing(system):
    number = resident_id(seq="805")
    me = system.resident("zhao")
    me("POST", "/v1/applications", application(number))
    listed(system, number)
    appeal = me("POST", "/v1/appeals", {"factor": "case", "reason": "I was never tested; a wrong number"}).json()
    decision = {"decision": "uphold", "reason": "wrong ID number on the hospital list"}
    path = f"/admin/v1/appeals/{appeal['appeal_id']}/decision"
    second = {"sub": "officer-b", "scope": "health_admin"}
    assert system.admin("POST", path, decision).json()["status"] == "open"  # clearing a case: two people
    first = system.http("POST", path, decision, claims=second)
    assert first.status == 200 and me("GET", "/v1/codes/me").json()["color"] == "green"
    retry = system.http("POST", path, decision, claims=second)  # a retry with nothing changed since: harmless
    assert retry.status == 200 and me("GET", "/v1/codes/me").json()["color"] == "green"
    listed(system, number)  # the hospital lists the person again: a real case this time
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    stale = system.http("POST", path, decision, claims=second)
    assert stale.status == 409 and "changed since" in stale.json()["detail"], stale.body
    code = me("GET", "/v1/codes/me").json()
    assert code["color"] == "red" and [r["factor"] for r in code["reasons"]] == ["confirmed"]


def test_a_stranger_cannot_claim_a_person_as_a_dependant_and_the_refusal_reveals_nothing(system):
    registered = resident_id(born="20150101", seq="806")
    unregistered = resident_id(born="20150101", seq="807")
    system.resident("parent", wards=(registered,), identity=("resident_id", resident_id(seq="808")))(
        "POST", "/v1/applications", application(registered) | {"dependant": True}
    )
    stranger = system.resident("stranger", identity=("resident_id", resident_id(seq="809")))
    answers = [
        stranger(
            "POST",
            "/v1/applications",
            application(n, contact={"kind": "close_contact", "on": "2020-02-16"}) | {"dependant": True},
        )
        for n in (registered, unregistered)
    ]
    assert [a.status for a in answers] == [403, 403]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]  # no oracle: the same words
    assert stranger("GET", "/v1/dependants").json()["dependants"] == []
    # the real parent (the identity provider lists the child in their care) is not refused
    parent = system.resident("parent-2", wards=(unregistered,), identity=("resident_id", resident_id(seq="810")))
    assert parent("POST", "/v1/applications", application(unregistered) | {"dependant": True}).status == 200


def test_appeal_filings_dependants_and_task_acknowledgements_are_on_the_trail(system):
    kid = resident_id(born="20150101", seq="811")
    parent = system.resident("parent-t", wards=(kid,), identity=("resident_id", resident_id(seq="812")))
    assert parent("POST", "/v1/applications", application(kid, temperature=38.6) | {"dependant": True}).status == 200
    me = system.resident("filer")
    me("POST", "/v1/applications", application(resident_id(seq="813"), temperature=38.6))
    filed = me("POST", "/v1/appeals", {"factor": "fever", "reason": "the thermometer was broken"}).json()
    system.settle()
    worker = {"sub": "worker-1", "scope": "community_worker", "areas": "330102"}
    tasks = system.http("GET", "/admin/v1/tasks?area=330102&status=open", claims=worker).json()["items"]
    assert tasks, "no task to acknowledge"
    assert system.http("POST", f"/admin/v1/tasks/{tasks[0]['task_id']}/ack", claims=worker).status == 200
    day = system.now.date().isoformat()
    trail = system.http("GET", f"/admin/v1/audit?from={day}", claims={"sub": "a", "scope": "auditor"}).json()
    acts = {(r["action"], r["actor"], r["target"]) for r in trail["records"]}
    assert any(a[:2] == ("application for a dependant", "parent-t") and a[2] for a in acts), acts
    assert ("appeal filed", "filer", filed["appeal_id"]) in acts
    assert ("task acknowledged", "worker-1", tasks[0]["task_id"]) in acts
    assert all(day["chain_intact"] for day in trail["days"])
    assert kid not in json.dumps(trail)  # never an ID number


def test_two_admins_splitting_a_bulk_act_still_need_the_director(system):
    numbers = [resident_id(born="19850101", seq=f"{n:03d}") for n in range(30)]
    for i, number in enumerate(numbers):
        system.resident(f"depositor-{i}")("POST", "/v1/applications", application(number))

    def proposal(part):
        return {
            "holders": [{"id_type": "resident_id", "id_number": n} for n in part],
            "color": "red",
            "reason": "depositors to be kept from the bank",
            "until": system.now.date().isoformat(),
        }

    first = system.http("POST", "/admin/v1/overrides", proposal(numbers[:15]), claims=official("a1", LI))
    second = system.http("POST", "/admin/v1/overrides", proposal(numbers[15:]), claims=official("a2", OTHER))
    assert first.status == 202 and second.status == 202
    assert first.json()["bulk"] is False  # 15 holders: under the threshold (20)
    assert second.json()["bulk"] is True and "health_director" in second.json()["approvals_needed"]


def test_an_announced_ruleset_is_withdrawn_before_it_applies_by_two_people_on_the_trail(system):
    from datetime import timedelta

    from healthcode.scoring.ruleset import load_ruleset

    ahead = (system.now + timedelta(days=3)).isoformat()
    doc = load_ruleset("v1").document | {"version": "v5", "effective_from": ahead, "description": "stricter"}
    assert system.admin("POST", "/admin/v1/rulesets", {"document": doc}).status in (200, 201)
    asked = system.http("DELETE", "/admin/v1/rulesets/v5", claims=official("li-work", LI))
    assert asked.status == 200 and asked.json()["status"] == "withdrawal asked"
    same = system.http("DELETE", "/admin/v1/rulesets/v5", claims=official("li-second", LI))
    assert same.json()["status"] == "withdrawal asked"  # the same person's other account: not a second person
    assert "v5" in [v["version"] for v in system.http("GET", "/v1/rulesets").json()["items"]]
    done = system.http("DELETE", "/admin/v1/rulesets/v5", claims=official("zhang", resident_id(seq="803")))
    assert done.status == 200 and done.json() == {
        "version": "v5",
        "status": "withdrawn",
        "asked_by": "li-work",
        "confirmed_by": "zhang",
    }
    assert "v5" not in [v["version"] for v in system.http("GET", "/v1/rulesets").json()["items"]]
    assert system.admin("POST", "/admin/v1/rulesets", {"document": doc}).status == 409  # its number stays used
    assert (
        system.http("DELETE", "/admin/v1/rulesets/v1", claims=official("zhang", resident_id(seq="803"))).status == 409
    )
    day = system.now.date().isoformat()
    trail = system.http("GET", f"/admin/v1/audit?from={day}", claims={"sub": "a", "scope": "auditor"}).json()
    acts = [(r["action"], r["actor"]) for r in trail["records"] if r["target"] == "v5"]
    assert ("ruleset withdrawn", "zhang") in acts
    assert ("ruleset withdrawal asked (a second person confirms)", "li-work") in acts


def test_a_community_worker_confirms_a_guardian_in_person_and_only_then_may_they_apply(system):
    """The second way to a dependant: no household link at the identity provider (a neighbour living
    alone), a community worker of the person's village meets both and confirms. The request and its
    refusal read the same whether or not the person has a code; nobody confirms a request about
    themselves; a refused request lets nobody apply."""
    assert system.admin("PUT", "/admin/v1/areas/330102001", {"name": "清波街道"}).status == 200
    elder = resident_id(born="19380101", seq="821")
    coded = resident_id(born="19400101", seq="822")
    system.resident("coded-self")("POST", "/v1/applications", application(coded))
    neighbour = system.resident("neighbour", identity=("resident_id", resident_id(seq="823")))
    ask = {"name": "赵老太", "id_type": "resident_id", "residence_area": "330102001"}

    before = neighbour("POST", "/v1/applications", application(elder) | {"dependant": True})
    assert before.status == 403
    first = neighbour("POST", "/v1/guardianships", ask | {"id_number": elder})
    other = neighbour("POST", "/v1/guardianships", ask | {"id_number": coded})
    assert (first.status, other.status) == (202, 202), first.body
    assert first.json()["status"] == other.json()["status"] == "open"  # nothing says who has a code
    again = neighbour("POST", "/v1/guardianships", ask | {"id_number": elder})
    assert again.status == 200 and again.json()["task_id"] == first.json()["task_id"]
    still = neighbour("POST", "/v1/applications", application(elder) | {"dependant": True})
    assert still.status == 403, "an open request is not a confirmation"

    worker = {"sub": "worker-qb", "scope": "community_worker", "areas": "330102001"}
    worker[IDENTITY_CLAIM] = f"resident_id:{resident_id(seq='824')}"
    tasks = system.http("GET", "/admin/v1/tasks?area=330102001&status=open", claims=worker).json()["items"]
    mine = next(t for t in tasks if t["task_id"] == first.json()["task_id"])
    assert mine["kind"] == "guardianship" and mine["holder"] == "赵*太" and mine["color"] is None
    assert mine["masked_id"].endswith(elder[-2:]) and elder not in json.dumps(tasks)
    task_path = f"/admin/v1/tasks/{mine['task_id']}/ack"

    no_outcome = system.http("POST", task_path, claims=worker)
    assert no_outcome.status == 422 and "outcome" in no_outcome.body
    # the neighbour's own work account (the same person) cannot confirm their own request
    own = {"sub": "neighbour-work", "scope": "community_worker", "areas": "330102"}
    own[IDENTITY_CLAIM] = f"resident_id:{resident_id(seq='823')}"
    assert system.http("POST", task_path + "?outcome=confirmed", claims=own).status == 403
    nameless = {"sub": "temp-worker", "scope": "community_worker", "areas": "330102001", IDENTITY_CLAIM: None}
    assert system.http("POST", task_path + "?outcome=confirmed", claims=nameless).status == 403
    done = system.http("POST", task_path + "?outcome=confirmed", claims=worker)
    assert done.status == 200 and done.json()["outcome"] == "confirmed", done.body
    refused = next(t for t in tasks if t["task_id"] == other.json()["task_id"])
    assert system.http("POST", f"/admin/v1/tasks/{refused['task_id']}/ack?outcome=refused", claims=worker).status == 200

    assert neighbour("POST", "/v1/guardianships", ask | {"id_number": elder}).json()["status"] == "confirmed"
    applied = neighbour("POST", "/v1/applications", application(elder) | {"dependant": True})
    assert applied.status == 200 and applied.json()["color"] == "green", applied.body
    assert neighbour("POST", "/v1/applications", application(coded) | {"dependant": True}).status == 403
    stranger = system.resident("stranger-g", identity=("resident_id", resident_id(seq="825")))
    assert stranger("POST", "/v1/applications", application(elder) | {"dependant": True}).status == 403

    day = system.now.date().isoformat()
    trail = system.http("GET", f"/admin/v1/audit?from={day}", claims={"sub": "a", "scope": "auditor"}).json()
    acts = {(r["action"], r["actor"]) for r in trail["records"]}
    assert {("guardianship requested", "neighbour"), ("task acknowledged", "worker-qb")} <= acts, acts
    assert elder not in json.dumps(trail)


def test_guardianship_requests_are_checked_and_limited_per_day(system):
    assert system.admin("PUT", "/admin/v1/areas/330102002", {"name": "湖滨街道"}).status == 200
    me = resident_id(seq="826")
    asker = system.resident("asker", identity=("resident_id", me))
    ask = {"name": "钱某某", "id_type": "resident_id", "residence_area": "330102002"}
    bad = asker("POST", "/v1/guardianships", ask | {"id_number": "330102199001011230", "residence_area": "330102999"})
    problems = {p["field"] for p in bad.json()["errors"]}
    assert bad.status == 422 and {"id_number", "residence_area"} <= problems, bad.body
    assert asker("POST", "/v1/guardianships", ask | {"id_number": me}).status == 422  # oneself
    answers = [
        asker("POST", "/v1/guardianships", ask | {"id_number": resident_id(born="19400101", seq=f"{900 + n}")})
        for n in range(6)
    ]
    assert [a.status for a in answers] == [202] * 5 + [429]
    assert "Retry-After" in answers[-1].headers or "retry-after" in answers[-1].headers
