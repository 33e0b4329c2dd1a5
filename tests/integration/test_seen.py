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
