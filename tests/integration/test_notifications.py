"""Closing the loop (issue 16): a colour change reaches its holder's inbox, the community office's task
list and partner cities' webhooks, exactly once each, through retries, redeliveries and dead letters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.people import application, resident_id
from tests.receiver import Receiver

RESIDENCES = ("330102", "330105", "330108")  # three Hangzhou districts: three community offices
WORKER = {"scope": "community_worker"}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def subscribe(system, receiver, jurisdiction="33"):
    r = system.admin(
        "PUT",
        "/admin/v1/partners/zj-hub",
        {
            "name": "浙江省数据中心",
            "jurisdiction": jurisdiction,
            "scopes": ["verify"],
            "rate_limit_per_minute": 100,
            "webhook_url": receiver.url,
            "webhook_events": ["color_changed", "region_level_changed"],
        },
    )
    assert r.status == 200, r.body
    assert r.json()["webhook_events"] == ["color_changed", "region_level_changed"]
    receiver.secret = r.json()["secret"]


def declare_visitors(system, n=50):
    """``n`` residents of three districts who all stayed three days in 西湖区 (330106)."""
    subs = []
    for i in range(n):
        home = RESIDENCES[i % len(RESIDENCES)]
        body = application(
            id_number=resident_id(region=home, seq=f"{i:03d}"),
            residence_region=home,
            travel_history=[{"region": "330106", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}],
        )
        sub = f"visitor-{i}"
        r = system.resident(sub)("POST", "/v1/applications", body)
        assert r.status == 200 and r.json()["color"] == "green", r.body
        subs.append(sub)
    system.settle()
    return subs


def inbox(system, sub, lang=None):
    headers = {"accept-language": lang or ""}  # none: the deployment's default language
    r = system.http("GET", "/v1/notifications", claims={"sub": sub}, headers=headers)
    assert r.status == 200, r.body
    return r.json()["items"]


def tasks(system, area, status="open", claims=None):
    r = system.http(
        "GET",
        f"/admin/v1/tasks?area={area}&status={status}",
        claims=claims or {"sub": "officer-1", "scope": "health_admin"},
        headers={"accept-language": ""},  # an office's screen in the deployment's default language
    )
    assert r.status == 200, r.body
    return r.json()


def raise_xihu(system):
    r = system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 4})
    assert r.status == 200, r.body
    system.settle()


def test_a_level_change_reaches_every_holder_office_and_partner_exactly_once(system, receiver):
    subscribe(system, receiver)
    subs = declare_visitors(system)
    assert receiver.accepted == {}  # first declarations that came out green tell nobody anything
    raise_xihu(system)

    for sub in subs:
        assert system.resident(sub)("GET", "/v1/codes/me").json()["color"] == "yellow"
        got = inbox(system, sub)
        assert [(m["color"], m["old_color"], m["title"]) for m in got] == [("yellow", "green", "黄码")]
        assert "居家隔离" in got[0]["body"]
    offices = {area: tasks(system, area)["items"] for area in RESIDENCES}
    assert {area: len(items) for area, items in offices.items()} == {"330102": 17, "330105": 17, "330108": 16}
    task = offices["330102"][0]
    assert task["color"] == "yellow" and task["status"] == "open" and "*" in task["holder"]
    assert "居家隔离" in task["instruction"]

    assert receiver.bad_signatures == 0
    assert receiver.kinds() == {"color_changed": 50, "region_level_changed": 1}
    changes = [b["data"] for b in receiver.accepted.values() if b["kind"] == "color_changed"]
    assert {(c["old_color"], c["new_color"]) for c in changes} == {("green", "yellow")}
    assert all("*" in c["holder"] for c in changes)  # masked names only
    level = next(b["data"] for b in receiver.accepted.values() if b["kind"] == "region_level_changed")
    assert level == {"region": "330106", "old_level": None, "new_level": 4}

    log = system.admin("GET", "/admin/v1/partners/zj-hub/deliveries").json()
    assert {d["status"] for d in log["items"]} == {"delivered"} and all(d["attempts"] == 1 for d in log["items"])


def test_a_redelivered_event_creates_no_second_message_task_or_delivery(system, receiver):
    subscribe(system, receiver)
    p = system.p
    sqs = p.clients["sqs"]
    notify_url = p.physical("NotifyQueue")
    # keep a copy of what the bus routes to the notify queue, to deliver it all a second time
    spy = sqs.create_queue(QueueName="spy")["QueueUrl"]
    p.clients["events"].put_targets(
        Rule="NotifyRule",
        EventBusName=p.physical("EventBus"),
        Targets=[{"Id": "spy", "Arn": "arn:aws:sqs:us-east-1:123456789012:spy"}],
    )
    subs = declare_visitors(system, n=6)
    raise_xihu(system)
    before = (
        [len(inbox(system, s)) for s in subs],
        sum(len(tasks(system, a)["items"]) for a in RESIDENCES),
        dict(receiver.attempts),
    )
    copies = []
    while got := sqs.receive_message(QueueUrl=spy, MaxNumberOfMessages=10).get("Messages", []):
        copies += got
        for m in got:
            sqs.delete_message(QueueUrl=spy, ReceiptHandle=m["ReceiptHandle"])
    assert len(copies) == 6 + 1 + 6  # six first colours (green), the level change, six yellows
    for m in copies:
        sqs.send_message(QueueUrl=notify_url, MessageBody=m["Body"])
    assert system.deliver_notifications() == len(copies)
    after = (
        [len(inbox(system, s)) for s in subs],
        sum(len(tasks(system, a)["items"]) for a in RESIDENCES),
        dict(receiver.attempts),
    )
    assert after == before


def sweep_after(system, delta):
    system.at(system.now + delta)
    system.fire_schedule("NotifyFunction")


def test_a_receiver_failing_its_first_three_attempts_still_gets_every_delivery_once(system, receiver):
    subscribe(system, receiver)
    receiver.fail_first = 3
    declare_visitors(system, n=10)
    raise_xihu(system)
    assert receiver.accepted == {}
    for _ in range(3):  # backoff doubles from 30 s (with jitter): an hour between sweeps covers it
        sweep_after(system, timedelta(hours=1))
    assert receiver.kinds() == {"color_changed": 10, "region_level_changed": 1}
    assert set(receiver.attempts.values()) == {4}
    log = system.admin("GET", "/admin/v1/partners/zj-hub/deliveries").json()["items"]
    assert {(d["status"], d["attempts"]) for d in log} == {("delivered", 4)}
    sweep_after(system, timedelta(hours=1))  # nothing left to retry
    assert set(receiver.attempts.values()) == {4}


def test_a_receiver_that_always_fails_ends_in_the_dead_letter_log(system, receiver):
    subscribe(system, receiver)
    receiver.always_fail = True
    declare_visitors(system, n=3)
    raise_xihu(system)
    for _ in range(30):
        sweep_after(system, timedelta(hours=1))
    log = system.admin("GET", "/admin/v1/partners/zj-hub/deliveries").json()["items"]
    assert len(log) == 4 and {d["status"] for d in log} == {"dead"}
    assert all(d["next_attempt_at"] is None and "503" in d["last_error"] for d in log)
    tries = set(receiver.attempts.values())
    sweep_after(system, timedelta(hours=1))
    assert set(receiver.attempts.values()) == tries  # given up: no more attempts


def test_an_unacknowledged_task_escalates_and_an_acknowledged_one_counts_its_time(system):
    declare_visitors(system, n=3)  # one holder in each district
    raise_xihu(system)
    worker = {"sub": "worker-xihu", "areas": "330102"} | WORKER
    mine = tasks(system, "330102", claims=worker)["items"]
    assert len(mine) == 1
    system.at(system.now + timedelta(minutes=12))
    r = system.http("POST", f"/admin/v1/tasks/{mine[0]['task_id']}/ack", claims=worker)
    assert r.status == 200 and r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"] == "worker-xihu"
    again = system.http("POST", f"/admin/v1/tasks/{mine[0]['task_id']}/ack", claims=worker | {"sub": "other"})
    assert again.json()["acknowledged_by"] == "worker-xihu"  # the first acknowledgement stands
    listed = tasks(system, "330102", status="acknowledged", claims=worker)
    assert listed["ack_times"]["acknowledged"] == 1 and listed["ack_times"]["median_minutes"] == 12.0
    assert tasks(system, "330102", claims=worker)["items"] == []

    sweep_after(system, timedelta(minutes=10))  # 22 minutes after the change: the others are overdue
    city = tasks(system, "330100")["items"]  # a district's office escalates to the city
    assert sorted(t["office"] for t in city) == ["330105", "330108"]
    assert all(t["escalated_to"] == "330100" for t in city)
    city_worker = {"sub": "worker-hz", "areas": "3301"} | WORKER
    assert system.http("POST", f"/admin/v1/tasks/{city[0]['task_id']}/ack", claims=city_worker).status == 200


def test_community_workers_see_and_acknowledge_only_their_areas(system):
    declare_visitors(system, n=3)
    raise_xihu(system)
    other = {"sub": "worker-x", "areas": "330108"} | WORKER
    r = system.http("GET", "/admin/v1/tasks?area=330102", claims=other)
    assert r.status == 403 and "330102" in r.json()["detail"]
    theirs = tasks(system, "330102")["items"][0]["task_id"]
    assert system.http("POST", f"/admin/v1/tasks/{theirs}/ack", claims=other).status == 404
    admin = {"sub": "officer-1", "scope": "health_admin"}
    assert system.http("POST", f"/admin/v1/tasks/{theirs}/ack", claims=admin).status == 403  # workers act
    resident = {"sub": "visitor-0"}
    assert system.http("GET", "/admin/v1/tasks?area=330102", claims=resident).status == 403
    assert system.http("GET", "/admin/v1/tasks?area=33010x", claims=admin).status == 422
    assert system.http("GET", "/admin/v1/tasks?area=330102&after=nonsense", claims=admin).status == 400
    assert tasks(system, "330102")["items"][0]["status"] == "open"  # nothing changed


def test_the_inbox_speaks_the_readers_language_and_pages(system):
    from healthcode.wiring import Pages

    system.configure(pages=Pages(listing=1))
    declare_visitors(system, n=1)
    raise_xihu(system)  # yellow
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    system.settle()  # red
    english = {"accept-language": "en-GB,en;q=0.8,zh-CN;q=0.5"}
    page = system.http("GET", "/v1/notifications", claims={"sub": "visitor-0"}, headers=english).json()
    assert [(m["title"], m["color"]) for m in page["items"]] == [("Red code", "red")]  # newest first
    assert "quarantine site within 2 hours" in page["items"][0]["body"] and page["next"]
    default = {"accept-language": ""}  # none sent
    second = system.http(
        "GET", f"/v1/notifications?after={page['next']}", claims={"sub": "visitor-0"}, headers=default
    ).json()
    assert [(m["title"], m["color"]) for m in second["items"]] == [("黄码", "yellow")]  # zh-CN by default
    assert system.http("GET", "/v1/notifications", claims={"sub": "someone-else"}).json()["items"] == []
    assert system.http("GET", "/v1/notifications?after=%%%", claims={"sub": "visitor-0"}).status == 400


def test_a_partner_webhook_must_be_a_public_https_url_outside_the_local_stack(system, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")
    system.configure()
    base = {"name": "x", "jurisdiction": "33", "scopes": ["verify"], "rate_limit_per_minute": 1}
    for url, why in (
        ("http://example.org/hook", "https"),
        ("https://127.0.0.1/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "private"),
        ("https://10.0.0.7/hook", "private"),
        ("https://localhost/hook", "not public"),
    ):
        r = system.admin(
            "PUT", "/admin/v1/partners/evil", base | {"webhook_url": url, "webhook_events": ["color_changed"]}
        )
        assert r.status == 422, (url, r.body)
        assert r.json()["errors"][0]["field"] == "webhook_url" and why.split()[0] in r.json()["errors"][0]["message"]
    assert system.admin("PUT", "/admin/v1/partners/evil", base | {"jwks_url": "https://10.1.2.3/jwks"}).status == 422
    no_events = system.admin("PUT", "/admin/v1/partners/evil", base | {"webhook_url": "https://hooks.example.org/x"})
    assert no_events.status == 422
    assert system.admin("GET", "/admin/v1/partners/evil/deliveries").json()["items"] == []


def test_task_and_delivery_listings_page_through_every_lane_without_loss_or_repeat(system, receiver):
    from healthcode.wiring import Pages

    subscribe(system, receiver)
    declare_visitors(system, n=30)
    raise_xihu(system)
    system.configure(pages=Pages(listing=1))

    def walk(path):
        seen, after = [], None
        for _ in range(100):
            page = system.admin("GET", path + (f"&after={after}" if after else "")).json()
            seen += page["items"]
            after = page["next"]
            if not after:
                return seen
        raise AssertionError("paging never ended")

    open_tasks = walk("/admin/v1/tasks?area=330102&status=open")
    assert len(open_tasks) == len({t["task_id"] for t in open_tasks}) == 10
    deliveries = walk("/admin/v1/partners/zj-hub/deliveries?x=1")
    assert len(deliveries) == len({d["delivery_id"] for d in deliveries}) == 31


def test_in_aws_each_holder_also_gets_one_sms_and_the_number_is_kept_only_sealed(system, monkeypatch):
    from moto.sns.models import sns_backends

    monkeypatch.setenv("SMS_NOTICES", "true")  # the deployment's default; the local stack keeps to the inbox
    system.configure()
    subs = declare_visitors(system, n=4)
    phone = application()["phone"]
    db = system.p.clients["dynamodb"]
    sealed = db.scan(TableName=system.p.physical("ContactsTable"))["Items"]
    assert len(sealed) == 4 and phone not in str(sealed)  # KMS ciphertext, the holder id as its context
    assert phone not in str(db.scan(TableName=system.p.physical("HoldersTable"))["Items"])
    raise_xihu(system)
    texts = list(sns_backends["123456789012"]["us-east-1"].sms_messages.values())
    assert len(texts) == 4 and {t[0] for t in texts} == {f"+86{phone}"}
    assert all("黄码" in t[1] and "居家隔离" in t[1] for t in texts)
    system.fire_schedule("NotifyFunction")
    system.settle()
    assert len(sns_backends["123456789012"]["us-east-1"].sms_messages) == 4  # nothing texted twice
    assert all(len(inbox(system, s)) == 1 for s in subs)
