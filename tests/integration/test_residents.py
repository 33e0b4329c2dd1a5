"""A resident applies, sees their code and checks in: through the apply function's real HTTP events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.people import application, resident_id


def test_a_worker_from_a_low_risk_county_returns_and_gets_green(system):
    me = system.resident("worker-1")
    body = application(travel_history=[{"region": "520281", "arrived_on": "2020-01-20", "left_on": "2020-02-16"}])
    r = me("POST", "/v1/applications", body)
    assert r.status == 200, r.body
    view = r.json()
    assert view["color"] == "green" and view["score"] == 0 and view["reasons"] == []
    assert view["masked_name"] == "王*波"
    assert view["quarantine"] is None and view["green_eligible_on"] is None
    assert view["token"]["value"].count(".") == 2
    assert me("GET", "/v1/codes/me").json()["color"] == "green"


def test_three_days_in_a_level5_district_gives_red_with_reasons_and_the_date_it_can_turn_green(system):
    assert system.admin("PUT", "/admin/v1/regions/420111", {"name": "洪山区", "level": 5}).status == 200
    me = system.resident("traveller")
    body = application(travel_history=[{"region": "420111", "arrived_on": "2020-02-12", "left_on": "2020-02-15"}])
    view = me("POST", "/v1/applications", body).json()
    assert (view["color"], view["score"]) == ("red", 75)
    assert view["reasons"][0]["factor"] == "stay" and view["reasons"][0]["points"] == 75
    assert "湖北省武汉市洪山区" in view["reasons"][0]["detail"]
    assert view["quarantine"] == {
        "kind": "centralized",
        "checkins_required": 14,
        "checkins_done": 0,
        "started_on": "2020-02-17",
        "note": None,
    }
    assert (
        view["green_eligible_on"] == "2020-03-01"
    )  # 14 check-ins from tomorrow; the stay leaves the window on 03-01 too


def test_a_table_dump_reveals_no_id_number_name_or_phone(system):
    number = resident_id()
    system.resident("u")("POST", "/v1/applications", application(number))
    dump = json.dumps(system.holder_items(), ensure_ascii=False)
    assert number not in dump and "王珍波" not in dump and "13800138000" not in dump
    assert "王*波" in dump


def test_re_applying_updates_the_same_holder_and_cannot_withdraw_a_stay(system):
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 4})
    me = system.resident("u")
    stay = {"region": "330102", "arrived_on": "2020-02-13", "left_on": "2020-02-15"}
    assert me("POST", "/v1/applications", application(travel_history=[stay])).json()["color"] == "yellow"
    again = me("POST", "/v1/applications", application(travel_history=[])).json()
    assert again["color"] == "yellow"
    assert len(system.holder_items()) == 1


def test_the_same_identity_cannot_be_bound_to_a_second_account(system):
    assert system.resident("a")("POST", "/v1/applications", application()).status == 200
    r = system.resident("b")("POST", "/v1/applications", application())
    assert r.status == 409 and "another account" in r.json()["detail"]


def test_an_idempotent_retry_returns_the_first_answer_and_writes_once(system):
    me = system.resident("u")
    first = me("POST", "/v1/applications", application(), headers={"Idempotency-Key": "k-1"})
    version = system.holder_items()[0]["version"]["N"]
    system.at(system.now + timedelta(seconds=20))
    again = me("POST", "/v1/applications", application(), headers={"Idempotency-Key": "k-1"})
    assert again.status == 200 and again.json() == first.json()
    assert system.holder_items()[0]["version"]["N"] == version
    other = me("POST", "/v1/applications", application(symptoms=["cough"]), headers={"Idempotency-Key": "k-1"})
    assert other.status == 409 and "different declaration" in other.json()["detail"]


def test_the_code_view_before_applying_is_a_404_that_says_apply_first(system):
    r = system.resident("nobody")("GET", "/v1/codes/me")
    assert r.status == 404 and r.headers["content-type"] == "application/problem+json"
    assert "apply first" in r.json()["detail"]


def test_a_yellow_holder_completes_7_daily_check_ins_and_turns_green(system):
    me = system.resident("u")
    view = me("POST", "/v1/applications", application(temperature=38.2)).json()
    assert view["color"] == "yellow" and view["quarantine"]["checkins_required"] == 7
    start = system.now
    for day in range(1, 8):
        system.at(start + timedelta(days=day))
        view = me("POST", "/v1/checkins", {"temperature": 36.6, "symptoms": []}).json()
        assert view["color"] == ("green" if day == 7 else "yellow"), (day, view)
        if day < 7:
            assert view["quarantine"]["checkins_done"] == day


def test_a_missed_day_restarts_the_count(system):
    me = system.resident("u")
    me("POST", "/v1/applications", application(temperature=38.2))
    start = system.now
    for day in (1, 2, 4):
        system.at(start + timedelta(days=day))
        view = me("POST", "/v1/checkins", {"temperature": 36.6, "symptoms": []}).json()
    assert view["quarantine"]["checkins_done"] == 1


def test_the_ruleset_in_force_is_public(system):
    r = system.http("GET", "/v1/rulesets/current")
    assert r.status == 200
    doc = r.json()
    assert doc["version"] == "v1" and doc["effective_from"].startswith("2020-02-11")
    assert doc["factors"]["stay"]["base"]["5"] == 60 and doc["thresholds"] == {"red": 60, "yellow": 30}


BAD_APPLICATIONS = [
    (application(id_number="330102198503121230"), "id_number", "check character"),
    (application(id_number="33010219850231123X"), "id_number", None),
    (application(id_number=resident_id(born="20990101")), "id_number", "future"),
    (application(id_number="12345"), "id_number", "18 characters"),
    (application(residence_region="999999"), "residence_region", "unknown region"),
    (
        application(travel_history=[{"region": "123456", "arrived_on": "2020-02-01", "left_on": None}]),
        "travel_history[0].region",
        "unknown region",
    ),
    (
        application(travel_history=[{"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-02-08"}]),
        "travel_history[0].left_on",
        "before arrived_on",
    ),
    (
        application(travel_history=[{"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-03-01"}]),
        "travel_history[0].left_on",
        "future",
    ),
    (application(contact={"kind": "close_contact"}), "contact.on", "required"),
    (application(attestation=False), "attestation", "attested"),
    (application(attestation="true"), "attestation", None),
    (application(temperature="36.5"), "temperature", None),
    (application(temperature=60), "temperature", None),
    (application(symptoms=["sneezing"]), "symptoms[0]", None),
    (application(nickname="x"), "nickname", "unknown field"),
    ({k: v for k, v in application().items() if k != "attestation"}, "attestation", "required"),
    (
        application(travel_history=[{"region": "420111", "arrived_on": "2020-02-10", "left_on": None}] * 31),
        "travel_history",
        None,
    ),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_APPLICATIONS)
def test_bad_declarations_get_a_422_naming_the_field_and_save_nothing(system, body, field, words):
    r = system.resident("u")("POST", "/v1/applications", body)
    assert r.status == 422, r.body
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in fields, fields
    if words:
        assert words in fields[field]
    assert system.holder_items() == []


def test_malformed_json_is_a_400_and_an_oversized_body_a_413(system):
    me = system.resident("u")
    r = me("POST", "/v1/applications", raw_body="{not json")
    assert r.status == 400 and "not valid JSON" in r.json()["detail"]
    r = me("POST", "/v1/applications", raw_body=json.dumps(application(name="x" * 70_000)))
    assert r.status == 413
    assert system.holder_items() == []


def test_a_request_without_a_bearer_token_never_reaches_the_function(system):
    assert system.http("POST", "/v1/applications", application()).status == 401
    assert system.holder_items() == []


def test_bad_check_ins_are_refused(system):
    me = system.resident("u")
    me("POST", "/v1/applications", application())
    assert me("POST", "/v1/checkins", {"temperature": "hot", "symptoms": []}).status == 422
    assert me("POST", "/v1/checkins", {"temperature": 36.5}).status == 422
    assert system.resident("stranger")("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []}).status == 404


def test_an_open_page_is_told_304_until_something_it_shows_changes(system):
    me = system.resident("watcher")
    me("POST", "/v1/applications", application())
    first = me("GET", "/v1/codes/me")
    tag = first.headers["etag"]
    assert first.status == 200 and tag.startswith('W/"') and "private" in first.headers["cache-control"]
    same = me("GET", "/v1/codes/me", headers={"if-none-match": tag})
    assert same.status == 304 and same.body == "" and same.headers["etag"] == tag  # a new token is no change
    chinese = me("GET", "/v1/codes/me", headers={"if-none-match": tag, "accept-language": "zh-CN"})
    assert chinese.status == 200  # the reasons in other words
    me("POST", "/v1/checkins", {"temperature": 38.6, "symptoms": ["cough"]})
    changed = me("GET", "/v1/codes/me", headers={"if-none-match": tag})
    assert changed.status == 200 and changed.json()["color"] != "green" and changed.headers["etag"] != tag
