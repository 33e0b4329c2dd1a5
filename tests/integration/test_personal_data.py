"""Personal data: what logs, stored items and checkpoints see of a person across a whole scenario."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from tests.people import application, resident_id

NAME, PHONE = "欧阳娜娜", "13912345678"
NUMBER = resident_id("420111", born="19920505", seq="246")


def scenario(system) -> None:
    me = system.resident("nana")
    body = application(
        NUMBER,
        name=NAME,
        phone=PHONE,
        travel_history=[{"region": "420111", "arrived_on": "2020-02-12", "left_on": "2020-02-14"}],
        symptoms=["cough"],
    )
    view = me("POST", "/v1/applications", body, headers={"Idempotency-Key": "k1"}).json()
    me("POST", "/v1/applications", body | {"id_number": NUMBER[:-1] + "0"})  # a typo: refused
    me("POST", "/v1/applications", body | {"id_number": NUMBER, "phone": "not-a-phone"})
    system.resident("other")("POST", "/v1/applications", body)  # someone else tries her identity
    system.checkpoint({"token": view["token"]["value"], "checkpoint_id": "gate-9"})
    system.admin(
        "POST", "/admin/v1/cases", {"cases": [{"id_type": "resident_id", "id_number": NUMBER, "status": "confirmed"}]}
    )
    system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": NUMBER[:-1] + "0", "status": "confirmed"}]},
    )
    system.admin("PUT", "/admin/v1/regions/420111", {"name": "洪山区", "level": 5})
    system.deliver_queue()
    system.at(system.now + timedelta(days=1))
    me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []})
    me("GET", "/v1/codes/me")


def test_no_log_line_of_a_whole_scenario_holds_an_id_number_a_phone_number_or_a_full_name(system, capsys, caplog):
    caplog.set_level(logging.INFO)  # what a deployed function logs (the SDK's DEBUG wire logs are off there)
    caplog.set_level(logging.DEBUG, logger="healthcode")
    scenario(system)
    out = capsys.readouterr()
    text = out.out + out.err + "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert text.strip(), "the scenario logged nothing: the check would prove nothing"
    for secret in (NUMBER, NUMBER[:-1] + "0", PHONE, NAME):
        assert secret not in text, secret


def test_stored_items_hold_no_id_number_phone_or_full_name(system):
    scenario(system)
    db = system.p.clients["dynamodb"]
    dump = json.dumps(
        [db.scan(TableName=system.p.physical(t))["Items"] for t in system.p.template.of_type("AWS::DynamoDB::Table")],
        ensure_ascii=False,
        default=lambda raw: raw.decode("latin-1"),  # binary attributes (sealed phone numbers) searched as they are
    )
    for secret in (NUMBER, PHONE, NAME):
        assert secret not in dump, secret
    assert "欧**娜" in dump


def test_a_checkpoint_sees_a_masked_name_and_nothing_else_about_the_person(system):
    view = system.resident("nana")("POST", "/v1/applications", application(NUMBER, name=NAME, phone=PHONE)).json()
    seen = system.checkpoint({"token": view["token"]["value"], "checkpoint_id": "gate-9"}).json()
    assert seen["masked_name"] == "欧**娜"
    text = json.dumps(seen, ensure_ascii=False)
    assert NAME not in text and NUMBER not in text and PHONE not in text
