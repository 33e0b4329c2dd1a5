"""The Zhengzhou attempt (June 2022), on the local stack over HTTP: one official imposes red on 50 bank
depositors. Nothing changes without a second health_admin, and a bulk override also needs a
health_director; in force it explains itself; withdrawn it is gone. An upheld appeal turns a wrongly
listed holder green with the reason in their history. The audit trail of the whole scenario verifies,
and an edit of one record in the database is found by ``healthcode audit verify``."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from tests.e2e.test_notifications_http import wait_for
from tests.people import application, resident_id

DAY = "2020-06-14"
A, B, D = (
    ("zz-officer-a", ("health_admin",)),
    ("zz-officer-b", ("health_admin",)),
    ("zz-director", ("health_director",)),
)
AUDITOR = ("zz-auditor", ("auditor",))


def as_(who, stack, method, path, body=None):
    return stack.call(method, path, body, sub=who[0], roles=who[1])


def colours(stack, subs):
    return [stack.call("GET", "/v1/codes/me", sub=s).json()["color"] for s in subs]


@pytest.mark.heavy
def test_the_zhengzhou_attempt_needs_two_approvals_and_a_director_and_every_act_is_on_the_trail(stack):
    stack.set_clock(f"{DAY}T09:00:00+08:00")
    numbers, subs = [], []
    for i in range(50):
        number = resident_id("410105", born="19800614", seq=f"{i:03d}")
        r = stack.call(
            "POST", "/v1/applications", application(number, residence_region="410105"), sub=f"zz-depositor-{i}"
        )
        assert r.status_code == 200 and r.json()["color"] == "green", r.text
        numbers.append(number)
        subs.append(f"zz-depositor-{i}")

    proposal = {
        "holders": [{"id_type": "resident_id", "id_number": n} for n in numbers],
        "color": "red",
        "reason": "risk from a gathering at the bank",
        "until": "2020-06-27",
    }
    r = as_(A, stack, "POST", "/admin/v1/overrides", proposal)
    assert r.status_code == 202, r.text
    ov = r.json()
    assert ov["bulk"] is True and ov["approvals_needed"] == ["health_admin", "health_director"]
    oid = ov["override_id"]
    assert set(colours(stack, subs)) == {"green"}  # a proposal changes nothing

    assert as_(A, stack, "POST", f"/admin/v1/overrides/{oid}/approval").status_code == 403  # not the proposer
    r = as_(B, stack, "POST", f"/admin/v1/overrides/{oid}/approval")
    assert r.status_code == 200 and r.json()["approvals_needed"] == ["health_director"]
    assert set(colours(stack, subs)) == {"green"}  # two health_admins are not enough for 50 people

    r = as_(D, stack, "POST", f"/admin/v1/overrides/{oid}/approval")
    assert r.status_code == 200 and r.json()["status"] == "in_force", r.text
    wait_for(lambda: set(colours(stack, subs)) == {"red"}, "every depositor's code is red")
    code = stack.call("GET", "/v1/codes/me", sub=subs[0]).json()
    assert (
        code["reasons"][0]["detail"]
        == "override by the health authority: risk from a gathering at the bank, until 2020-06-27"
    )
    counts = as_(D, stack, "GET", "/admin/v1/overrides?status=in_force").json()["counts"]
    assert counts["bulk_in_force"] >= 1

    # one depositor appeals the override: upheld, they are taken out of it at once
    r = stack.call("POST", "/v1/appeals", {"factor": "override", "reason": "I only asked for my savings"}, sub=subs[0])
    assert r.status_code == 201, r.text
    appeal = r.json()
    path = f"/admin/v1/appeals/{appeal['appeal_id']}/decision"
    decision = {"decision": "uphold", "reason": "no health ground for red"}
    proposed = as_(A, stack, "POST", path, decision)  # lowering a colour: one proposes, a second confirms
    assert proposed.status_code == 200 and proposed.json()["status"] == "open", proposed.text
    decided = as_(B, stack, "POST", path, decision)
    assert decided.status_code == 200 and decided.json()["color_after"] == "green", decided.text

    def history_says_appeal():
        items = stack.call("GET", "/v1/codes/me/history", sub=subs[0]).json()["items"]
        return items and items[0]["cause"] == "appeal" and "no health ground for red" in items[0]["detail"]

    wait_for(history_says_appeal, "the upheld appeal in the holder's history")

    # the approver withdraws the rest: everyone is green again
    r = as_(B, stack, "POST", f"/admin/v1/overrides/{oid}/withdrawal")  # in force: asked, a second person confirms
    assert r.status_code == 200 and r.json()["status"] == "in_force" and r.json()["withdrawal_requested_by"] == B[0]
    r = as_(A, stack, "POST", f"/admin/v1/overrides/{oid}/withdrawal")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    wait_for(lambda: set(colours(stack, subs)) == {"green"}, "every depositor's code is green again")

    # the whole scenario is on the trail, and the trail verifies
    trail = as_(AUDITOR, stack, "GET", f"/admin/v1/audit?from={DAY}").json()
    mine = [r for r in trail["records"] if r["target"] in (oid, appeal["appeal_id"])]
    assert [(r["action"], r["actor"]) for r in mine] == [
        ("override proposed", "zz-officer-a"),
        ("override approved", "zz-officer-b"),
        ("override approved", "zz-director"),
        ("appeal filed", "zz-depositor-0"),
        ("appeal uphold proposed (a second person confirms)", "zz-officer-a"),
        ("appeal decided", "zz-officer-b"),
        ("override withdrawal asked (a second person confirms)", "zz-officer-b"),
        ("override withdrawn", "zz-officer-a"),
    ]
    assert len(mine[0]["holders"]) == 50 and all(n not in json.dumps(trail) for n in numbers)
    assert all(d["chain_intact"] for d in trail["days"])
    ok = verify_day(stack)
    assert ok.returncode == 0 and json.loads(ok.stdout)["intact"], ok.stdout + ok.stderr

    # an insider edits one record in the database: the chain no longer verifies
    db = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = next(t for t in db.list_tables()["TableNames"] if "AuditTable" in t)
    items = db.query(
        TableName=table,
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "day"},
        ExpressionAttributeValues={":d": {"S": DAY}},
    )["Items"]
    target = next(
        i
        for i in items
        if json.loads(i["doc"]["S"])["target"] == oid and json.loads(i["doc"]["S"])["actor"] == "zz-director"
    )
    doc = json.loads(target["doc"]["S"])
    doc["actor"] = "zz-officer-a"  # as if the proposer had approved it alone
    db.put_item(TableName=table, Item={**target, "doc": {"S": json.dumps(doc, ensure_ascii=False, sort_keys=True)}})
    bad = verify_day(stack)
    assert bad.returncode == 1 and not json.loads(bad.stdout)["intact"], bad.stdout + bad.stderr


def verify_day(stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--json", "audit", "verify", "--day", DAY],
        capture_output=True,
        text=True,
        timeout=60,
    )
