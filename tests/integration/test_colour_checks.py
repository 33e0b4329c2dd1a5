"""Colours that cannot be explained are found (issue 29): a colour written straight into the holders
table — as a data company with database access did in Zhengzhou — and an override carried without an
approval on the trail are reported by the colour check; colours the rules, levels and approved overrides
give are not. The check repairs nothing."""

from __future__ import annotations

import json

from tests.integration.test_appeals import listed
from tests.integration.test_persons import official, propose
from tests.people import application, resident_id

AUDITOR = {"sub": "auditor-1", "scope": "auditor"}


def check(system) -> dict:
    started = system.http("POST", "/admin/v1/audit/colour-checks", {"reason": "the nightly check, by hand"}, claims=AUDITOR)
    assert started.status == 202, started.body
    system.settle()
    done = system.http("GET", f"/admin/v1/audit/colour-checks/{started.json()['check_id']}", claims=AUDITOR).json()
    assert done["status"] == "done", done
    latest = system.http("GET", "/admin/v1/audit/colour-checks/latest", claims=AUDITOR).json()
    assert latest["check_id"] == done["check_id"]
    return done


def test_colours_the_rules_and_the_trail_give_pass_and_one_written_around_the_door_is_found(system):
    # a green, a yellow (fever), a red (listed case), and a green by an approved override
    people = [resident_id(seq=f"{n}") for n in (901, 902, 903, 904)]
    system.resident("g")("POST", "/v1/applications", application(people[0]))
    system.resident("y")("POST", "/v1/applications", application(people[1], temperature=38.5))
    system.resident("r")("POST", "/v1/applications", application(people[2]))
    listed(system, people[2])
    system.resident("o")("POST", "/v1/applications", application(people[3], temperature=38.5))
    ov = propose(system, official("a", resident_id(seq="905")), people[3]).json()
    approved = system.http(
        "POST", f"/admin/v1/overrides/{ov['override_id']}/approval", claims=official("b", resident_id(seq="906"))
    )
    assert approved.status == 200
    system.settle()
    clean = check(system)
    assert (clean["checked"], clean["unexplained"], clean["findings"]) == (4, 0, [])

    # a data company with database access turns the green holder red, straight in the table
    db = system.p.clients["dynamodb"]
    table = system.p.physical("HoldersTable")
    green = system.resident("g")("GET", "/v1/codes/me").json()
    items = db.scan(TableName=table)["Items"]
    def plain_green(i):  # green by the rules, not by an override
        doc = json.loads(i["doc"]["S"])
        return i["color"]["S"] == "green" and not doc.get("authority", {}).get("overrides")

    (item,) = [i for i in items if plain_green(i)]
    doc = json.loads(item["doc"]["S"]) | {"color": "red"}
    db.put_item(TableName=table, Item=item | {"doc": {"S": json.dumps(doc)}, "color": {"S": "red"}})
    assert green["color"] == "green"

    found = check(system)
    assert found["unexplained"] == 1 and len(found["findings"]) == 1
    finding = found["findings"][0]
    assert (finding["stored"], finding["expected"]) == ("red", ["green"])
    assert item["holder_id"]["S"] == finding["holder_id"]
    # it repaired nothing: the evidence stays as written
    after = db.get_item(TableName=table, Key={"holder_id": item["holder_id"]})["Item"]
    assert after["color"]["S"] == "red"


def test_an_override_carried_without_an_approval_on_the_trail_is_found(system):
    system.resident("y")("POST", "/v1/applications", application(resident_id(seq="907"), temperature=38.5))
    system.settle()
    db = system.p.clients["dynamodb"]
    table = system.p.physical("HoldersTable")
    (item,) = db.scan(TableName=table)["Items"]
    doc = json.loads(item["doc"]["S"])
    doc.setdefault("authority", {})["overrides"] = [
        {
            "override_id": "ov-" + "0" * 24,
            "color": "green",
            "reason": "nobody approved this",
            "until": "2020-02-20",
            "approved_at": "2020-02-17T09:00:00+08:00",
        }
    ]
    doc["color"] = "green"
    db.put_item(TableName=table, Item=item | {"doc": {"S": json.dumps(doc)}, "color": {"S": "green"}})
    found = check(system)
    assert found["unexplained"] == 1
    problems = found["findings"][0]["problems"]
    assert any("which the trail has not put in force" in p for p in problems), problems
    assert any("stored green" in p and "give yellow" in p for p in problems), problems
