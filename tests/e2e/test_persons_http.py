"""Two persons means two people, on the local stack over HTTP (issue 29): one official with two admin
accounts (the identity provider asserts the same person behind both) cannot approve their own override,
decide their own appeal nor clear their own case; a resent stale decision changes nothing; two admins
splitting a bulk act still need the director; nobody claims a stranger as a dependant, and the refusal
reads the same whether or not the person holds a code, until a community worker confirms in person."""

from __future__ import annotations

from tests.people import application, resident_id

LI = ("resident_id", resident_id("330106", born="19790304", seq="611"))
HOLDER = resident_id("330106", born="19790304", seq="612")
ZHANG = ("resident_id", resident_id("330106", born="19790304", seq="613"))


def admin(stack, sub, identity, method, path, body=None):
    return stack.call(method, path, body, sub=sub, roles=("health_admin",), identity=identity)


def test_one_official_with_two_accounts_cannot_bend_their_own_or_anothers_colour_alone(stack):
    stack.set_clock("2020-06-20T09:00:00+08:00")
    # 李 holds a code (listed as a confirmed case) and works at the health authority with two accounts
    li_home = "pp-li-home"
    assert stack.call("POST", "/v1/applications", application(LI[1]), sub=li_home).status_code == 200
    case = {"cases": [{"id_type": "resident_id", "id_number": LI[1], "status": "confirmed"}]}
    assert admin(stack, "pp-zhang", ZHANG, "POST", "/admin/v1/cases", case).status_code == 202
    stack.settle()
    assert stack.call("GET", "/v1/codes/me", sub=li_home, identity=LI).json()["color"] == "red"
    appeal = stack.call(
        "POST", "/v1/appeals", {"factor": "case", "reason": "the lab mixed up two samples"}, sub=li_home, identity=LI
    ).json()
    decision = {"decision": "uphold", "reason": "lab error"}
    own = admin(stack, "pp-li-work", LI, "POST", f"/admin/v1/appeals/{appeal['appeal_id']}/decision", decision)
    assert own.status_code == 403, own.text
    assert stack.call("GET", "/v1/codes/me", sub=li_home, identity=LI).json()["color"] == "red"  # still a case

    # an override li proposes for someone else is not approved by li's second account
    stack.call("POST", "/v1/applications", application(HOLDER, temperature=38.6), sub="pp-holder")
    proposal = {
        "holders": [{"id_type": "resident_id", "id_number": HOLDER}],
        "color": "green",
        "reason": "retested, the fever was a misreading",
        "until": "2020-06-21",
    }
    ov = admin(stack, "pp-li-work", LI, "POST", "/admin/v1/overrides", proposal)
    assert ov.status_code == 202, ov.text
    second = admin(stack, "pp-li-second", LI, "POST", f"/admin/v1/overrides/{ov.json()['override_id']}/approval")
    assert second.status_code == 403 and "proposer" in second.json()["detail"]
    assert stack.call("GET", "/v1/codes/me", sub="pp-holder").json()["color"] == "yellow"

    # two other people decide li's appeal (clearing a case takes two); the case listed again afterwards, the
    # old decision resent is a 409
    path = f"/admin/v1/appeals/{appeal['appeal_id']}/decision"
    assert admin(stack, "pp-zhang", ZHANG, "POST", path, decision).json()["status"] == "open"
    zhao = ("resident_id", resident_id("330106", born="19790304", seq="614"))
    assert admin(stack, "pp-zhao", zhao, "POST", path, decision).status_code == 200
    assert stack.call("GET", "/v1/codes/me", sub=li_home, identity=LI).json()["color"] == "green"
    assert admin(stack, "pp-zhang", ZHANG, "POST", "/admin/v1/cases", case).status_code == 202
    stack.settle()
    stale = admin(stack, "pp-zhao", zhao, "POST", path, decision)
    assert stale.status_code == 409, stale.text
    assert stack.call("GET", "/v1/codes/me", sub=li_home, identity=LI).json()["color"] == "red"


def test_a_ruleset_scoring_confirmed_cases_0_is_refused_with_the_reason(stack):
    current = stack.call("GET", "/v1/rulesets/current").json()
    doc = {k: v for k, v in current.items() if k not in ("effective_until",)}
    doc |= {"version": "v977", "effective_from": "2031-01-01T00:00:00+08:00"}
    doc["factors"] = dict(doc["factors"]) | {"case": {"confirmed": 0, "suspected": 0}}
    r = admin(stack, "pp-zhang", ZHANG, "POST", "/admin/v1/rulesets", {"document": doc})
    assert r.status_code == 422, r.text
    assert any(e["field"] == "document.factors.case" and "confirmed" in e["message"] for e in r.json()["errors"])
    versions = [v["version"] for v in stack.call("GET", "/v1/rulesets").json()["items"]]
    assert "v977" not in versions


def test_two_admins_splitting_a_bulk_act_still_need_the_director(stack):
    stack.set_clock("2020-06-22T09:00:00+08:00")
    numbers = [resident_id("330106", born="19860101", seq=f"{n:03d}") for n in range(640, 664)]
    for n in numbers:
        assert stack.call("POST", "/v1/applications", application(n), sub=f"pp-dep-{n[-4:]}").status_code == 200

    def proposal(part):
        people = [{"id_type": "resident_id", "id_number": n} for n in part]
        return {"holders": people, "color": "red", "reason": "depositors kept from the bank", "until": "2020-06-23"}

    first = admin(stack, "pp-a1", ZHANG, "POST", "/admin/v1/overrides", proposal(numbers[:12]))
    second = admin(stack, "pp-a2", LI, "POST", "/admin/v1/overrides", proposal(numbers[12:]))
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["bulk"] is False and second.json()["bulk"] is True  # counted across both proposers
    approver = ("resident_id", resident_id("330106", born="19790304", seq="615"))
    oid = second.json()["override_id"]
    alone = admin(stack, "pp-b1", approver, "POST", f"/admin/v1/overrides/{oid}/approval")
    assert alone.status_code == 200 and alone.json()["status"] == "awaiting_approval", alone.text
    assert stack.call("GET", "/v1/codes/me", sub=f"pp-dep-{numbers[-1][-4:]}").json()["color"] == "green"


def test_nobody_claims_a_stranger_as_a_dependant_unless_a_community_worker_confirmed_it(stack):
    stack.set_clock("2020-06-24T09:00:00+08:00")
    coded = resident_id("330328", born="19400101", seq="671")
    uncoded = resident_id("330328", born="19400101", seq="672")
    assert stack.call("POST", "/v1/applications", application(coded), sub="pp-coded").status_code == 200
    me = ("resident_id", resident_id("330328", born="19800101", seq="673"))
    claim = {"contact": {"kind": "close_contact", "on": "2020-06-23"}, "dependant": True}
    answers = [
        stack.call("POST", "/v1/applications", application(n) | claim, sub="pp-squatter", identity=me)
        for n in (coded, uncoded)
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]  # nothing says who holds a code

    village = "330328977"
    assert admin(stack, "pp-zhang", ZHANG, "PUT", f"/admin/v1/areas/{village}", {"name": "试验村"}).status_code == 200
    ask = {"name": "金奶奶", "id_type": "resident_id", "id_number": uncoded, "residence_area": village}
    asked = stack.call("POST", "/v1/guardianships", ask, sub="pp-squatter", identity=me)
    assert asked.status_code == 202 and asked.json()["status"] == "open", asked.text
    worker = ("resident_id", resident_id("330328", born="19750101", seq="674"))
    path = f"/admin/v1/tasks/{asked.json()['task_id']}/ack?outcome=confirmed"
    token = stack.http.post(
        f"{stack.base}/dev/tokens",
        json={
            "sub": "pp-worker",
            "roles": ["community_worker"],
            "areas": [village],
            "identity": {"id_type": worker[0], "id_number": worker[1]},
        },
        timeout=10,
    ).json()["token"]
    confirmed = stack.call("POST", path, headers={"authorization": f"Bearer {token}"})
    assert confirmed.status_code == 200 and confirmed.json()["outcome"] == "confirmed", confirmed.text
    applied = stack.call("POST", "/v1/applications", application(uncoded), sub="pp-squatter", identity=me)
    assert applied.status_code == 403  # for another person: only as a dependant
    claim = application(uncoded) | {"dependant": True}
    applied = stack.call("POST", "/v1/applications", claim, sub="pp-squatter", identity=me)
    assert applied.status_code == 200, applied.text
