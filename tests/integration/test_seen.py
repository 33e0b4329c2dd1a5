"""Who looked at my code (issue 34): a holder sees every verification of their code — when, which
checkpoint and the area it is placed in (never the staff member), or which partner city, and the answer —
and the same for each dependant; nobody else's."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.integration.test_partners import call, register
from tests.people import application, resident_id


def test_a_holder_scanned_at_two_gates_and_by_a_partner_city_sees_three_scans(system):
    me = system.resident("seen-holder")
    token = me("POST", "/v1/applications", application(resident_id(seq="931")))
    token = token.json()["token"]["value"]
    assert system.admin("PUT", "/admin/v1/areas/330102001", {"name": "清波街道"}).status == 200
    assert system.admin("PUT", "/admin/v1/checkpoints/qingbo-1", {"area": "330102001"}).status == 200
    system.checkpoint({"token": token, "checkpoint_id": "qingbo-1"}, sub="officer-zhang")
    system.at(system.now + timedelta(minutes=1))
    system.checkpoint({"token": token, "checkpoint_id": "station-9"}, sub="officer-li")
    secret = register(system)
    system.at(system.now + timedelta(minutes=1))
    assert call(system, "POST", "/partner/v1/verifications", {"token": token}, secret).status == 200
    other = system.resident("someone-else")
    other("POST", "/v1/applications", application(resident_id(seq="932")))

    seen = me("GET", "/v1/codes/me/scans")
    assert seen.status == 200, seen.body
    items = seen.json()["items"]
    assert [(i["by"], i["checkpoint_id"], i["partner"]) for i in items] == [
        ("partner_city", None, "ningbo"),
        ("checkpoint", "station-9", None),
        ("checkpoint", "qingbo-1", None),
    ]
    assert items[2]["area"] == "330102001" and items[1]["area"] is None  # placed, and not placed
    assert {(i["decision"], i["color"]) for i in items} == {("pass", "green")}
    assert "officer" not in json.dumps(items)  # the gate, never its staff member
    assert other("GET", "/v1/codes/me/scans").json()["items"] == []



def test_a_guardian_sees_who_looked_at_a_dependants_code_and_nobody_else_can(system):
    kid = resident_id(born="20150101", seq="933")
    parent = system.resident("seen-parent", wards=(kid,), identity=("resident_id", resident_id(seq="934")))
    applied = parent("POST", "/v1/applications", application(kid) | {"dependant": True})
    assert applied.status == 200, applied.body
    system.checkpoint({"token": applied.json()["token"]["value"], "checkpoint_id": "school-1"})
    dependant_id = parent("GET", "/v1/dependants").json()["dependants"][0]["dependant_id"]
    seen = parent("GET", f"/v1/codes/me/scans?dependant_id={dependant_id}")
    assert seen.status == 200 and [i["checkpoint_id"] for i in seen.json()["items"]] == ["school-1"]
    stranger = system.resident("seen-stranger")
    stranger("POST", "/v1/applications", application(resident_id(seq="935")))
    assert stranger("GET", f"/v1/codes/me/scans?dependant_id={dependant_id}").status == 404
    assert parent("GET", "/v1/codes/me/scans?dependant_id=nope").status == 422


def test_the_export_holds_what_i_declared_my_dependants_and_nothing_of_anyone_elses(system):
    me_number = resident_id(seq="936")
    kid = resident_id(born="20160101", seq="937")
    me = system.resident("exporter", wards=(kid,), identity=("resident_id", me_number))
    body = application(me_number, temperature=38.4, travel_history=[
        {"region": "330106", "arrived_on": "2020-02-10", "left_on": "2020-02-12"}
    ])
    mine = me("POST", "/v1/applications", body)
    assert mine.status == 200, mine.body
    assert me("POST", "/v1/applications", application(kid) | {"dependant": True}).status == 200
    system.checkpoint({"token": mine.json()["token"]["value"], "checkpoint_id": "export-gate"})
    me("POST", "/v1/appeals", {"factor": "fever", "reason": "the thermometer was broken"})
    other = resident_id(seq="938")
    system.resident("not-me")("POST", "/v1/applications", application(other, temperature=39.0))

    r = me("GET", "/v1/me/export")
    assert r.status == 200, r.body
    doc = r.json()
    assert doc["id_number"] == me_number and doc["account"] == "exporter"
    record = doc["me"]["record"]
    assert record["stays"][0]["region"] == "330106" and record["reports"][0]["temperature"] == 38.4
    assert doc["me"]["history"] and doc["me"]["scans"][0]["checkpoint_id"] == "export-gate"
    assert doc["appeals"][0]["factor"] == "fever"
    (dependant,) = doc["dependants"]
    assert dependant["record"]["guardian"] == "exporter" and kid not in r.body  # a dependant's number is not stored
    assert other not in r.body and "not-me" not in r.body
    assert "no-store" in r.headers["cache-control"]
    nobody = system.resident("empty-account", identity=("resident_id", resident_id(seq="939")))
    assert nobody("GET", "/v1/me/export").status == 404
    day = system.now.date().isoformat()
    trail = system.http("GET", f"/admin/v1/audit?from={day}", claims={"sub": "a", "scope": "auditor"}).json()
    assert any(x["action"] == "data exported" and x["actor"] == "exporter" for x in trail["records"])


def test_an_account_leaves_with_its_dependants_while_green_and_what_it_stored_is_gone(system):
    number = resident_id(seq="940")
    kid = resident_id(born="20170101", seq="941")
    me = system.resident("leaver", wards=(kid,), identity=("resident_id", number))
    body = application(number, travel_history=[{"region": "330106", "arrived_on": "2020-02-10", "left_on": "2020-02-11"}])
    assert me("POST", "/v1/applications", body).status == 200
    assert me("POST", "/v1/applications", application(kid) | {"dependant": True}).status == 200
    stayer = system.resident("stayer")
    stayer("POST", "/v1/applications", application(resident_id(seq="942")))

    db = system.p.clients["dynamodb"]

    def dump(table: str) -> str:
        return json.dumps(db.scan(TableName=system.p.physical(table))["Items"], default=str)

    mine = me("GET", "/v1/me/export").json()["me"]["record"]["holder_id"]
    assert all(mine in dump(t) for t in ("HoldersTable", "StaysTable", "ContactsTable")), "stored before"
    left = me("DELETE", "/v1/me")
    assert left.status == 200, left.body
    assert len(left.json()["erased"]) == 2 and mine in left.json()["erased"]
    assert me("GET", "/v1/codes/me").status == 404 and me("GET", "/v1/dependants").json()["dependants"] == []
    for table in ("HoldersTable", "HistoryTable", "StaysTable", "ContactsTable", "InboxTable"):
        for erased in left.json()["erased"]:
            assert erased not in dump(table), (table, erased)
    assert stayer("GET", "/v1/codes/me").status == 200  # nobody else's
    day = system.now.date().isoformat()
    trail = system.http("GET", f"/admin/v1/audit?from={day}", claims={"sub": "a", "scope": "auditor"}).json()
    assert any(r["action"].startswith("account left") and r["actor"] == "leaver" for r in trail["records"])
    assert me("DELETE", "/v1/me").status == 404  # nothing left to erase


def test_a_yellow_code_is_kept_until_it_is_green_again(system):
    me = system.resident("quarantined")
    assert me("POST", "/v1/applications", application(resident_id(seq="943"), temperature=38.6)).json()["color"] == "yellow"
    refused = me("DELETE", "/v1/me")
    assert refused.status == 409 and "green" in refused.json()["detail"], refused.body
    assert me("GET", "/v1/codes/me").json()["color"] == "yellow"  # nothing erased


def test_a_fault_in_the_middle_of_leaving_leaves_the_holder_to_finish_with_the_next_request(system, monkeypatch):
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.models import DynamoDBBackend

    number = resident_id(seq="944")
    me = system.resident("half-leaver", identity=("resident_id", number))
    body = application(number, travel_history=[{"region": "330106", "arrived_on": "2020-02-10", "left_on": "2020-02-11"}])
    assert me("POST", "/v1/applications", body).status == 200
    mine = me("GET", "/v1/me/export").json()["me"]["record"]["holder_id"]

    history = system.p.physical("HistoryTable")
    original = DynamoDBBackend.delete_item

    def broken(backend, table_name, *args, **kwargs):  # erasing the colour history fails past every retry
        if table_name == history:
            raise DynamodbException(ERROR_TYPE_PREFIX + "InternalServerError", "the service had a fault")
        return original(backend, table_name, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "delete_item", broken)
    failed = me("DELETE", "/v1/me")
    assert failed.status >= 500, failed.body
    monkeypatch.undo()
    assert me("GET", "/v1/codes/me").status == 200  # still there: the request sent again finds it
    again = me("DELETE", "/v1/me")
    assert again.status == 200 and again.json()["erased"] == [mine], again.body
    dump = json.dumps(system.p.clients["dynamodb"].scan(TableName=system.p.physical("StaysTable"))["Items"])
    assert mine not in dump and me("GET", "/v1/codes/me").status == 404
