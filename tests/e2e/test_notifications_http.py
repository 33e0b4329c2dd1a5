"""Issue 16's scenario over HTTP on the running local stack: a region level change turns 50 holders
yellow; each gets one inbox message, their community offices one task each, a partner one signed
delivery each (through three failed attempts), and a partner whose receiver never answers ends in the
dead-letter log. The stack's pollers deliver as AWS would; moving the dev clock runs the sweep."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from tests.people import application, resident_id
from tests.receiver import Receiver

DISTRICTS = ("330122", "330182", "330127")  # offices no other test of the session uses


@pytest.fixture
def receivers():
    flaky, down = Receiver(), Receiver()
    flaky.fail_first = 3
    down.always_fail = True
    yield flaky, down
    flaky.close()
    down.close()


def wait_for(check, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.mark.heavy
def test_a_level_change_reaches_50_holders_their_offices_and_partner_cities_once_each(stack, receivers):
    flaky, down = receivers
    now = datetime.fromisoformat("2020-08-01T09:00:00+08:00")
    stack.set_clock(now.isoformat())
    for partner, receiver in (("hz-flaky", flaky), ("hz-down", down)):
        r = stack.call(
            "PUT",
            f"/admin/v1/partners/{partner}",
            {
                "name": "杭州市",
                "jurisdiction": "3301",
                "scopes": ["verify"],
                "rate_limit_per_minute": 100,
                "webhook_url": receiver.url,
                "webhook_events": ["color_changed", "region_level_changed"],
            },
            sub="officer",
            roles=("health_admin",),
        )
        assert r.status_code == 200, r.text
        receiver.secret = r.json()["secret"]

    subs = []
    for i in range(50):
        home = DISTRICTS[i % 3]
        body = application(
            resident_id(home, born="19900101", seq=f"{i:03d}"),
            residence_region=home,
            travel_history=[{"region": "330127", "arrived_on": "2020-07-28", "left_on": "2020-07-31"}],
        )
        r = stack.call("POST", "/v1/applications", body, sub=f"e2e-notify-{i}")
        assert r.status_code == 200 and r.json()["color"] == "green", r.text
        subs.append(f"e2e-notify-{i}")
    r = stack.call(
        "PUT", "/admin/v1/regions/330127", {"name": "淳安县", "level": 4}, sub="officer", roles=("health_admin",)
    )
    assert r.status_code == 200, r.text

    def inbox(sub):
        # a resident's phone in Chinese
        return stack.call("GET", "/v1/notifications", sub=sub, headers={"Accept-Language": "zh-CN"}).json()["items"]

    wait_for(lambda: all(len(inbox(s)) == 1 for s in subs), "every holder's message")
    assert {(m["color"], m["title"]) for s in subs for m in inbox(s)} == {("yellow", "黄码")}

    def tasks(area):
        r = stack.call("GET", f"/admin/v1/tasks?area={area}&status=open", sub="officer", roles=("health_admin",))
        return r.json()["items"]

    wait_for(lambda: sum(len(tasks(a)) for a in DISTRICTS) == 50, "the offices' tasks")
    assert [len(tasks(a)) for a in DISTRICTS] == [17, 17, 16]

    # the flaky receiver refused three attempts of each; moving the clock an hour runs the sweep
    for _ in range(3):
        now += timedelta(hours=1)
        stack.set_clock(now.isoformat())
    ours = {inbox(s)[0]["holder_id"] for s in subs}

    def mine(receiver):  # other tests' holders in Hangzhou may change colour too once the clock moves
        return [b for b in receiver.accepted.values() if b["kind"] == "region_level_changed"] + [
            b for b in receiver.accepted.values() if b["data"].get("residence_region") in DISTRICTS
        ]

    wait_for(lambda: len(mine(flaky)) == 51, "the flaky partner's deliveries")
    assert len(ours) == 50 and Counter(b["kind"] for b in mine(flaky)) == {
        "color_changed": 50,
        "region_level_changed": 1,
    }
    assert flaky.bad_signatures == 0 and set(flaky.attempts.values()) == {4}

    now += timedelta(hours=30)  # past the retry window: the other partner's deliveries are dead-lettered
    stack.set_clock(now.isoformat())
    log = stack.call("GET", "/admin/v1/partners/hz-down/deliveries", sub="officer", roles=("health_admin",)).json()
    dead = [d for d in log["items"] if d["event_id"].split("#")[0] in ours or d["kind"] == "region_level_changed"]
    assert len(dead) == 51 and {d["status"] for d in dead} == {"dead"}
    assert down.accepted == {}
    # and nothing was repeated anywhere
    assert all(len(inbox(s)) == 1 for s in subs) and len(mine(flaky)) == 51
