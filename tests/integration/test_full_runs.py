"""Population-scale rescoring: new rulesets, full runs in parallel-scan segments, continuations."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from healthcode import messages, wiring
from healthcode.scoring.ruleset import load_ruleset
from healthcode.wiring import Pages
from tests.people import application, resident_id


def populate(system, n: int, region: str = "330106") -> None:
    for i in range(n):
        body = application(
            resident_id(region, seq=f"{i:03d}"),
            travel_history=[{"region": region, "arrived_on": "2020-02-13", "left_on": "2020-02-16"}],
        )
        assert system.resident(f"h{i}")("POST", "/v1/applications", body).status == 200


def v2(effective_from: str) -> dict:
    """v1 with level 3 worth more: a 3-day stay in a level-3 county becomes 30 points (yellow)."""
    doc = copy.deepcopy(load_ruleset("v1").document)
    doc["version"] = "v2"
    doc["effective_from"] = effective_from
    doc["factors"]["stay"]["base"]["3"] = 24
    doc["factors"]["stay"]["base"]["4"] = 24  # a higher level never scores less (checked at publish)
    return doc


def holder_docs(system) -> list[dict]:
    return [json.loads(i["doc"]["S"]) for i in system.holder_items()]


def publish_in_emergency(system, doc):
    """Sooner than the notice period: proposed with a reason, approved by a second health_admin."""
    body = {"document": doc, "emergency": True, "reason": "new variant: close contacts are red at once"}
    r = system.admin("POST", "/admin/v1/rulesets", body)
    assert r.status == 202 and r.json()["status"] == "awaiting approval", r.body
    second = {"sub": "officer-2", "scope": "health_admin"}
    r = system.http("POST", f"/admin/v1/rulesets/{doc['version']}/approval", claims=second)
    assert r.status == 201 and r.json()["status"] == "published", r.body


def test_rules_are_announced_ahead_and_an_emergency_needs_a_reason_and_a_second_person(system):
    soon = v2("2020-02-18T09:00:00+08:00")  # 24 h ahead
    r = system.admin("POST", "/admin/v1/rulesets", {"document": soon})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "document.effective_from"
    assert "48 h" in r.json()["errors"][0]["message"]
    r = system.admin("POST", "/admin/v1/rulesets", {"document": soon, "emergency": True})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "reason"
    r = system.admin("POST", "/admin/v1/rulesets", {"document": soon, "emergency": True, "reason": "outbreak"})
    assert r.status == 202
    assert system.admin("POST", "/admin/v1/rulesets/v2/approval").status == 403  # not by its proposer
    # nor by the proposer's other account (the identity provider asserts the same person behind both)
    from healthcode_local.demo_data import official_identity

    same = official_identity("officer-1")
    alias = {"sub": "officer-1-laptop", "scope": "health_admin", "verified_id": f"resident_id:{same['id_number']}"}
    assert system.http("POST", "/admin/v1/rulesets/v2/approval", claims=alias).status == 403
    anonymous = {"sub": "temp", "scope": "health_admin", "verified_id": None}
    assert system.http("POST", "/admin/v1/rulesets/v2/approval", claims=anonymous).status == 403
    system.at(system.now + timedelta(days=2))
    assert system.http("GET", "/v1/rulesets/current").json()["version"] == "v1"  # unapproved: never in force
    second = {"sub": "officer-2", "scope": "health_admin"}
    assert system.http("POST", "/admin/v1/rulesets/v2/approval", claims=second).status == 201
    assert system.http("POST", "/admin/v1/rulesets/v9/approval", claims=second).status == 404
    wiring.services().rulesets.versions(force=True)
    assert system.http("GET", "/v1/rulesets/current").json()["version"] == "v2"
    v3 = v2("2020-03-01T00:00:00+08:00") | {"version": "v3"}
    assert system.admin("POST", "/admin/v1/rulesets", {"document": v3}).status == 201  # announced in time
    wiring.services().rulesets.versions(force=True)
    listed = system.http("GET", "/v1/rulesets").json()["items"]
    assert [(r["version"], r["status"]) for r in listed] == [
        ("v1", "superseded"),
        ("v2", "in force"),
        ("v3", "announced"),
    ]


def test_a_published_ruleset_takes_effect_at_its_time_and_a_full_run_rescores_everyone(system):
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 3})
    system.deliver_queue()
    populate(system, 12)
    assert {d.get("color", "green") for d in holder_docs(system)} == {"green"}  # 16 points each
    publish_in_emergency(system, v2("2020-02-18T00:00:00+08:00"))  # 15 h ahead: less than the notice
    assert system.http("GET", "/v1/rulesets/current").json()["version"] == "v1"  # not yet in force

    system.at(system.now + timedelta(days=1))  # 2020-02-18 09:00: v2 is in force
    wiring.services().rulesets.versions(force=True)
    assert system.http("GET", "/v1/rulesets/current").json()["version"] == "v2"
    system.fire_schedule()  # the daily run notices the new ruleset and starts a full run
    system.settle()  # its due shards and its segments, whatever their number
    run = system.admin("GET", "/admin/v1/rescoring/ruleset-v2").json()
    assert run["finished"] and run["segments_done"] == run["segments_total"] == wiring.services().settings.full_run_segments
    assert run["holders_read"] == 12 and run["holders_changed"] == 12
    docs = holder_docs(system)
    assert {(d["color"], d["ruleset_version"]) for d in docs} == {("yellow", "v2")}
    system.fire_schedule()  # a second daily run does not start the same full run again
    assert system.deliver_queue() == wiring.services().settings.due_shards  # its due shards, no segment


def test_an_operator_starts_a_full_run_and_reads_its_progress(system):
    populate(system, 5)
    r = system.admin("POST", "/admin/v1/rescoring", {"scope": "all", "segments": 3})
    assert r.status == 202
    run_id = r.json()["run_id"]
    progress = system.admin("GET", f"/admin/v1/rescoring/{run_id}").json()
    assert (progress["segments_done"], progress["segments_total"], progress["finished"]) == (0, 3, False)
    system.deliver_queue()
    progress = system.admin("GET", f"/admin/v1/rescoring/{run_id}").json()
    assert progress["finished"] and progress["holders_read"] == 5 and progress["holders_changed"] == 0
    assert system.admin("GET", "/admin/v1/rescoring/nope").status == 404


def nine_holders_and_a_one_segment_run(system):
    """9 holders in a level-3 county, v2 in force (each of them turns yellow), a one-segment run with
    pages of 4: the run's id and its segment message, taken off the queue."""
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 3})
    system.deliver_queue()
    populate(system, 9)
    publish_in_emergency(system, v2("2020-02-17T00:00:00+08:00"))
    system.configure(pages=Pages(scan=4))
    run_id = system.admin("POST", "/admin/v1/rescoring", {"scope": "all", "segments": 1}).json()["run_id"]
    sqs, url = system.p.clients["sqs"], system.p.physical("RecomputeQueue")
    return run_id, messages.parse(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])


def test_a_worker_near_its_timeout_re_enqueues_and_nothing_is_counted_or_changed_twice(system):
    # Given 9 holders, a new ruleset in force and a scan page of 4 holders
    run_id, message = nine_holders_and_a_one_segment_run(system)
    svc = wiring.services().recompute
    budget = iter([100.0, 0.0])  # one page, then "the timeout is near"
    # When the worker stops after one page, and the original message is delivered again
    svc.handle(message, system.now, lambda: next(budget, 0.0))
    progress = system.admin("GET", f"/admin/v1/rescoring/{run_id}").json()
    assert progress["holders_read"] == 4 and not progress["finished"]
    svc.handle(message, system.now)  # the original message delivered again: resumes, counts nothing twice
    system.deliver_queue()  # the continuation: nothing left to do
    # Then every holder was read and changed exactly once
    progress = system.admin("GET", f"/admin/v1/rescoring/{run_id}").json()
    assert progress["finished"] and progress["holders_read"] == 9 and progress["holders_changed"] == 9
    history = system.p.clients["dynamodb"].scan(TableName=system.p.physical("HistoryTable"))["Items"]
    reds = [h for h in history if json.loads(h["doc"]["S"])["cause"].startswith("new ruleset in force")]
    assert len(reds) == 9  # each holder changed exactly once


def test_a_region_change_continues_from_where_a_timed_out_worker_stopped(system, monkeypatch):
    # Given 6 holders who stayed in 滨江区 (in one part of the stays index), a page of 2, a change queued
    monkeypatch.setenv("STAY_PARTS", "1")
    system.configure(pages=Pages(stays=2))
    populate(system, 6, region="330108")
    system.admin("PUT", "/admin/v1/regions/330108", {"name": "滨江区", "level": 5})
    sqs = system.p.clients["sqs"]
    url = system.p.physical("RecomputeQueue")
    system.deliver_queue(max_batches=1)  # the region's message: one message per county under it
    got = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    county = messages.parse(got["Body"])
    assert isinstance(county, messages.RegionChanged) and county.county == 0
    budget = iter([100.0, 100.0, 0.0])
    # When the county's walker stops after two pages
    wiring.services().recompute.handle(county, system.now, lambda: next(budget, 0.0))
    # Then it handed on two pages of holders and its continuation, which walks the rest
    queued = [
        messages.parse(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    ]
    assert sorted(m.kind for m in queued) == ["holders", "holders", "region"]
    assert next(m for m in queued if m.kind == "region").start_key is not None
    system.deliver_queue()
    assert {d["color"] for d in holder_docs(system)} == {"red"}


def broken(change) -> dict:
    doc = copy.deepcopy(v2("2020-03-01T00:00:00+08:00"))
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"version": "v9"}, "document"),
        (broken(lambda d: d["quarantine"]["yellow"].update(checkins_required="seven")), "document.quarantine.yellow"),
        (broken(lambda d: d["factors"]["contact"].pop("close_contact")), "document.factors.contact"),
        (broken(lambda d: d.update(version=3)), "document.version"),
        (broken(lambda d: d["thresholds"].update(yellow=70)), "document.thresholds"),
        (broken(lambda d: d["factors"]["stay"]["base"].update({"5": 1})), "document.factors.stay.base"),
    ],
)
def test_a_ruleset_that_would_break_scoring_is_refused_at_publish_naming_the_field(system, document, field):
    r = system.admin("POST", "/admin/v1/rulesets", {"document": document})
    assert r.status == 422 and r.json()["errors"][0]["field"].startswith(field), r.body
    assert system.p.clients["dynamodb"].scan(TableName=system.p.physical("RulesetsTable"))["Items"] == []
    # and applications keep working under the ruleset in force
    assert system.resident("u")("POST", "/v1/applications", application(temperature=38.4)).status == 200


def test_a_ruleset_version_is_immutable_and_a_retry_of_the_same_document_is_accepted(system):
    doc = v2("2020-03-01T00:00:00+08:00")
    assert system.admin("POST", "/admin/v1/rulesets", {"document": doc}).status == 201
    assert system.admin("POST", "/admin/v1/rulesets", {"document": doc}).status == 201  # the same: a retry
    other = broken(lambda d: d["thresholds"].update(red=70))
    assert system.admin("POST", "/admin/v1/rulesets", {"document": other}).status == 409
    assert system.http("GET", "/v1/rulesets/schema").json()["title"] == "healthcode ruleset document"


class WorkerDied(BaseException):
    """The Lambda runtime killed the worker (a timeout, an out-of-memory): nothing of ours catches it."""


def test_a_full_run_resumed_after_a_worker_dies_mid_page_reports_exact_counts(system):
    # Given 9 holders and a new ruleset that changes every one of them, a page of 4
    run_id, message = nine_holders_and_a_one_segment_run(system)
    db = system.p.clients["dynamodb"]
    writes = []

    def die_after_two_writes(params, **kw):
        if params.get("TableName") == system.p.physical("HoldersTable"):
            writes.append(1)
            if len(writes) == 3:
                raise WorkerDied()

    # When the worker dies in the middle of its first page (2 of 4 holders written, the page not recorded)
    db.meta.events.register("provide-client-params.dynamodb.PutItem", die_after_two_writes)
    try:
        with pytest.raises(WorkerDied):
            wiring.services().recompute.handle(message, system.now)
    finally:
        db.meta.events.unregister("provide-client-params.dynamodb.PutItem", die_after_two_writes)
    # and the message is delivered again
    outcome = wiring.services().recompute.handle(message, system.now)
    # Then the run counts every holder read and changed exactly once
    progress = system.admin("GET", f"/admin/v1/rescoring/{run_id}").json()
    assert progress["finished"] and progress["holders_read"] == 9 and progress["holders_changed"] == 9, progress
    assert outcome.changed == 9
    assert {d["color"] for d in holder_docs(system)} == {"yellow"}
