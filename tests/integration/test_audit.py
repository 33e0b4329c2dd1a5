"""The audit trail (issue 15): every act of the authority is recorded with who, when, what, before and
after; the auditor reads it and can change nothing; each day's records are hash-chained so an edit or
a gap in the table is found."""

from __future__ import annotations

import json

import pytest

from healthcode.auditchain import verify
from tests.people import application, resident_id

AUDITOR = {"sub": "auditor-1", "scope": "auditor"}


def acts(system):
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 3})
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    number = resident_id(seq="555")
    system.resident("wu")("POST", "/v1/applications", application(number))
    r = system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": number, "status": "close_contact", "on": "2020-02-16"}]},
    )
    assert r.status == 202, r.body
    partner = {"name": "宁波市", "jurisdiction": "3302", "scopes": ["verify"], "rate_limit_per_minute": 10}
    system.admin("PUT", "/admin/v1/partners/ningbo", partner)
    system.admin("POST", "/admin/v1/partners/ningbo/secret")
    system.admin("DELETE", "/admin/v1/partners/ningbo")
    system.admin("POST", "/admin/v1/rescoring", {"scope": "due"})
    system.settle()
    return number


def trail(system, query="from=2020-02-17"):
    r = system.http("GET", f"/admin/v1/audit?{query}", claims=AUDITOR)
    assert r.status == 200, r.body
    return r.json()


def test_every_act_of_the_authority_is_recorded_with_who_what_before_and_after(system):
    number = acts(system)
    got = trail(system)
    assert [r["action"] for r in got["records"]] == [
        "region level set",
        "region level set",
        "case list recorded",
        "partner registered",
        "partner secret rotated",
        "partner suspended",
        "rescoring started",
    ]
    first, second = got["records"][:2]
    assert (first["before"], first["after"]["level"]) == ({"level": None}, 3)
    assert (second["before"], second["after"]["level"]) == ({"level": 3}, 5)
    assert all(r["actor"] == "officer-1" and r["roles"] == ["health_admin"] for r in got["records"])
    assert all(r["request_id"] for r in got["records"])
    cases = got["records"][2]
    assert cases["after"]["known_holders"] == 1 and len(cases["holders"]) == 1
    assert number not in json.dumps(got)  # the listed person by keyed id only
    assert got["records"][4]["after"] == {"emergency": False}  # never the secret
    assert got["days"] == [{"day": "2020-02-17", "records": 7, "chain_intact": True, "problems": []}]
    # filters: by actor, by holder
    assert len(trail(system, f"from=2020-02-17&holder={cases['holders'][0]}")["records"]) == 1
    assert trail(system, "from=2020-02-17&actor=someone-else")["records"] == []


def test_only_the_auditor_reads_the_trail(system):
    acts(system)
    for claims in (
        {"sub": "officer-1", "scope": "health_admin"},
        {"sub": "x"},
        {"sub": "w", "scope": "community_worker"},
    ):
        assert system.http("GET", "/admin/v1/audit?from=2020-02-17", claims=claims).status == 403
    assert system.http("GET", "/admin/v1/audit?from=2020-02-17&to=2020-04-01", claims=AUDITOR).status == 422
    assert system.http("GET", "/admin/v1/audit", claims=AUDITOR).status == 422


@pytest.mark.parametrize("tamper", ["edit", "delete", "overwrite"])
def test_an_edit_or_a_gap_in_the_table_breaks_the_days_chain(system, tamper):
    acts(system)
    db, table = system.p.clients["dynamodb"], system.p.physical("AuditTable")
    key = {"day": {"S": "2020-02-17"}, "seq": {"S": f"{2:09d}"}}
    if tamper == "edit":  # someone with table access lowers the level they set
        item = db.get_item(TableName=table, Key=key)["Item"]
        doc = json.loads(item["doc"]["S"])
        doc["after"]["level"] = 1
        db.put_item(TableName=table, Item=key | {"doc": {"S": json.dumps(doc, ensure_ascii=False)}})
        expected = "record 2: its content was changed"
    elif tamper == "delete":
        db.delete_item(TableName=table, Key=key)
        expected = "record 2: missing"
    else:  # our own writer cannot overwrite: its puts are conditional on a new key
        from datetime import datetime

        from healthcode import wiring
        from healthcode.usecases.audit import Actor

        with pytest.raises(db.exceptions.ConditionalCheckFailedException):
            db.put_item(
                TableName=table, Item=key | {"doc": {"S": "{}"}}, ConditionExpression="attribute_not_exists(seq)"
            )
        at = datetime.fromisoformat("2020-02-17T10:00:00+08:00")
        wiring.services().audit.record(Actor("officer-2"), "late act", "x", at)  # appends as record 8 instead
        assert trail(system)["days"][0] == {"day": "2020-02-17", "records": 8, "chain_intact": True, "problems": []}
        return
    day = trail(system)["days"][0]
    assert not day["chain_intact"] and any(expected in p for p in day["problems"])
    records = [
        json.loads(i["doc"]["S"])
        for i in db.query(
            TableName=table,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues={":d": {"S": "2020-02-17"}},
        )["Items"]
    ]
    assert verify(records, "2020-02-17")  # the same verdict from the records alone (what the CLI does)
