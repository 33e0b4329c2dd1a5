"""The health authority changes regions and lists; the recompute function recolours the right holders."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from healthcode import wiring
from healthcode.messages import RegionChanged
from healthcode_local.lambda_events import http_event
from healthcode_local.template import Template
from tests.people import application, resident_id


@pytest.fixture
def color_events(system):
    """A queue subscribed to ColorChanged on the bus, as a notification service would be."""
    p = system.p
    sqs, events = p.clients["sqs"], p.clients["events"]
    url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = p.physical("EventBus")
    events.put_rule(Name="colour", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["ColorChanged"]}))
    events.put_targets(Rule="colour", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def read():
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"])["detail"] for m in got]

    return read


PARTS = int(Template().doc["Globals"]["Function"]["Environment"]["Variables"]["STAY_PARTS"])  # walkers per county


def stayed(region, arrived="2020-02-13", left="2020-02-16"):
    return application(
        id_number=resident_id(seq=region[-3:]),
        travel_history=[{"region": region, "arrived_on": arrived, "left_on": left}],
    )


def test_raising_a_region_to_level5_turns_green_holders_who_stayed_there_red_and_no_one_else(system, color_events):
    system.resident("was-there")("POST", "/v1/applications", stayed("330106"))
    system.resident("elsewhere")("POST", "/v1/applications", stayed("330108"))
    color_events()  # the first colours
    r = system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    assert r.status == 200 and r.json()["level"] == 5 and r.json()["updated_by"] == "officer-1"
    reads = []
    system.p.clients["dynamodb"].meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **kw: reads.append(params["TableName"])
    )
    # the region's message, one walker per part of the county, and one page of holders who stayed
    assert system.deliver_queue() == 1 + PARTS + 1
    recompute_reads = list(reads)
    assert system.resident("was-there")("GET", "/v1/codes/me").json()["color"] == "red"
    assert system.resident("elsewhere")("GET", "/v1/codes/me").json()["color"] == "green"
    # the recompute read only the holder who stayed, and the level snapshot (one item) to score with
    assert sorted(recompute_reads) == sorted([system.p.physical("HoldersTable"), system.p.physical("RegionsTable")])
    events = color_events()
    assert [(e["old_color"], e["new_color"], e["cause"]) for e in events] == [
        ("green", "red", "risk level of region 330106 changed")
    ]


def test_a_level_set_on_a_city_applies_to_its_districts(system):
    system.resident("u")("POST", "/v1/applications", stayed("420111"))
    system.admin("PUT", "/admin/v1/regions/420100", {"name": "武汉市", "level": 5})
    system.deliver_queue()
    view = system.resident("u")("GET", "/v1/codes/me").json()
    assert (view["color"], view["score"]) == ("red", 75)


def test_each_colour_change_is_kept_in_the_history_with_its_reasons(system):
    system.resident("u")("POST", "/v1/applications", stayed("330106"))
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    system.deliver_queue()
    items = system.p.clients["dynamodb"].scan(TableName=system.p.physical("HistoryTable"))["Items"]
    changes = sorted((json.loads(i["doc"]["S"]) for i in items), key=lambda c: c["at"])
    assert [(c["old_color"], c["new_color"]) for c in changes] == [(None, "green"), ("green", "red")]
    assert changes[1]["reasons"][0]["factor"] == "stay" and changes[1]["score"] == 75


def test_a_confirmed_case_turns_red_and_only_clearance_turns_it_green(system):
    number = resident_id(seq="777")
    system.resident("u")("POST", "/v1/applications", application(number))
    r = system.admin(
        "POST", "/admin/v1/cases", {"cases": [{"id_type": "resident_id", "id_number": number, "status": "confirmed"}]}
    )
    assert r.status == 202 and r.json()["known_holders"] == 1
    system.deliver_queue()
    me = system.resident("u")
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    for _day in range(1, 16):
        system.at(system.now + timedelta(days=1))
        view = me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []}).json()
    assert view["color"] == "red" and view["quarantine"]["kind"] == "medical"
    system.admin(
        "POST", "/admin/v1/cases", {"cases": [{"id_type": "resident_id", "id_number": number, "status": "cleared"}]}
    )
    system.deliver_queue()
    assert me("GET", "/v1/codes/me").json()["color"] == "green"


def test_a_person_listed_before_applying_gets_the_listing_at_application(system):
    number = resident_id(seq="555")
    r = system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": number, "status": "close_contact", "on": "2020-02-15"}]},
    )
    assert r.json() == {"accepted": 1, "known_holders": 0, "recorded_at": r.json()["recorded_at"], "failed": []}
    view = system.resident("u")("POST", "/v1/applications", application(number)).json()
    assert view["color"] == "red" and view["reasons"][0]["factor"] == "close_contact"


def test_the_daily_schedule_reads_only_due_holders_and_turns_an_expired_stay_green(system):
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 4})
    system.deliver_queue()
    body = application(travel_history=[{"region": "330102", "arrived_on": "2020-02-10", "left_on": "2020-02-12"}])
    assert system.resident("yellow")("POST", "/v1/applications", body).json()["color"] == "yellow"
    for i in range(5):
        system.resident(f"green-{i}")("POST", "/v1/applications", application(resident_id(seq=f"{i:03d}")))
    queried, got = [], []
    db = system.p.clients["dynamodb"]
    db.meta.events.register("after-call.dynamodb.Query", lambda parsed, **kw: queried.extend(parsed.get("Items", [])))
    holders = system.p.physical("HoldersTable")
    db.meta.events.register(
        "provide-client-params.dynamodb.GetItem",
        lambda params, **kw: got.append(params["Key"]) if params["TableName"] == holders else None,
    )
    shards = wiring.services().settings.due_shards
    start = system.now
    system.at(start + timedelta(days=9))
    assert system.fire_schedule() == {"changed": 0}  # it fans out: one message per due shard
    assert system.deliver_queue() == shards
    assert queried == []  # nobody is due before the stay leaves the window
    system.at(start + timedelta(days=10))  # 2020-02-27: the stay that ended on 02-12 has left the window
    system.fire_schedule()
    assert system.deliver_queue() == shards
    assert len(queried) == 1  # one due holder read from the sparse index, never a scan
    assert got == []  # the index carries the whole holder: no second read
    assert system.resident("yellow")("GET", "/v1/codes/me").json()["color"] == "green"


def test_a_poison_message_fails_alone_and_goes_to_the_dead_letter_queue(system):
    system.resident("u")("POST", "/v1/applications", stayed("330106"))
    sqs = system.p.clients["sqs"]
    url = system.p.physical("RecomputeQueue")
    sqs.send_message(QueueUrl=url, MessageBody="{not json")
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    assert system.deliver_queue() == 1 + PARTS + 1  # the region change went through beside the poison
    assert system.resident("u")("GET", "/v1/codes/me").json()["color"] == "red"
    for _ in range(3):
        system.deliver_queue()
    dlq = system.p.physical("RecomputeDeadLetters")
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{not json"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5}),
        ("POST", "/admin/v1/cases", {"cases": []}),
        ("POST", "/admin/v1/rescoring", {"scope": "due"}),
    ],
)
def test_admin_routes_refuse_residents_and_checkpoints(system, method, path, body):
    malformed = [
        {"scope": s}
        for s in ("checkpoint", "resident", "[health_admin]", "x,health_admin", "Health_Admin", "health_admin,")
    ] + [{"roles": r} for r in ("checkpoint health_admin", "x,health_admin", "[health_admin]", "health_admin")]
    for extra in [{}, *malformed]:
        claims = {"sub": "someone"} | extra
        # refused at the gateway (the route's AuthorizationScopes) ...
        assert system.http(method, path, body, claims=claims).status == 403
        # ... and by the handler itself, matching exact scope values only
        route, params = system.template.route_for(method, path)
        event = http_event(
            method,
            path,
            route.path,
            body=json.dumps(body),
            path_parameters=params or None,
            claims=claims,
            now=system.now,
        )
        direct = system.invoke(route.function, event)
        assert direct["statusCode"] == 403 and "health_admin" in json.loads(direct["body"])["detail"], extra
    assert system.p.clients["dynamodb"].scan(TableName=system.p.physical("RegionsTable"))["Items"] == []


def test_bad_admin_input_names_the_problem(system):
    assert system.admin("PUT", "/admin/v1/regions/999999", {"name": "x", "level": 3}).status == 404
    r = system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 6})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "level"
    assert system.admin("PUT", "/admin/v1/regions/abc", {"name": "x", "level": 3}).status == 422
    r = system.admin(
        "POST", "/admin/v1/cases", {"cases": [{"id_type": "resident_id", "id_number": "1", "status": "confirmed"}]}
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "cases[0].id_number"
    r = system.admin(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": resident_id(), "status": "close_contact"}]},
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "cases[0].on"
    assert system.holder_items() == []


def test_a_concurrent_write_is_re_read_and_re_scored_never_overwritten(system):
    """A check-in and a region change race on one holder: both must survive."""
    me = system.resident("u")
    me("POST", "/v1/applications", stayed("330106"))
    db = system.p.clients["dynamodb"]
    holders = system.p.physical("HoldersTable")
    raced = []

    def region_change_lands_first(params, **kw):
        if params.get("TableName") == holders and not raced:
            raced.append(True)
            system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
            system.deliver_queue()  # the recompute writes the holder between our read and our write

    db.meta.events.register("provide-client-params.dynamodb.PutItem", region_change_lands_first)
    system.at(system.now + timedelta(days=1))
    view = me("POST", "/v1/checkins", {"temperature": 36.4, "symptoms": []}).json()
    db.meta.events.unregister("provide-client-params.dynamodb.PutItem", region_change_lands_first)
    assert raced
    assert view["color"] == "red" and view["score"] == 75  # the region change was not lost
    doc = json.loads(system.holder_items()[0]["doc"]["S"])
    assert [c["on"] for c in doc["checkins"]] == ["2020-02-18"]  # nor the check-in


def test_an_operator_can_queue_the_daily_rescoring_now(system):
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 4})
    body = application(travel_history=[{"region": "330102", "arrived_on": "2020-02-10", "left_on": "2020-02-12"}])
    system.resident("yellow")("POST", "/v1/applications", body)
    system.at(system.now + timedelta(days=10))
    r = system.admin("POST", "/admin/v1/rescoring", {"scope": "due"})
    assert r.status == 202 and r.json()["scope"] == "due"
    system.deliver_queue()
    doc = json.loads(system.holder_items()[0]["doc"]["S"])
    assert doc.get("color", "green") == "green"


def test_a_colour_scored_from_a_stale_level_snapshot_is_corrected_by_the_region_rescoring(as_deployed):
    system = as_deployed
    sqs, url = system.p.clients["sqs"], system.p.physical("RecomputeQueue")
    system.resident("early")("POST", "/v1/applications", stayed("330108"))  # the level snapshot is cached now
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    # the rescoring waits until every environment's cache has the change: nothing is deliverable yet
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", []) == []
    # meanwhile a resident applies from an environment whose snapshot predates the change
    late = system.resident("late")("POST", "/v1/applications", stayed("330106")).json()
    assert late["color"] == "green"  # scored with the cached levels (at most LevelsMaxAgeSeconds old)
    # when the delayed message comes, the region's rescoring finds them through the stays index
    wiring.services().recompute.handle(RegionChanged(code="330106"), system.now)
    system.deliver_queue()
    assert system.resident("late")("GET", "/v1/codes/me").json()["color"] == "red"
