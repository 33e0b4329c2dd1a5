"""The source article's story over real HTTP against the running local stack."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.people import application, resident_id

ADMIN = ("health_admin",)
CHECKPOINT = ("checkpoint",)


def until(fetch, want, seconds=15.0):
    """Poll ``fetch`` until ``want(result)`` (queue delivery takes a moment, as in AWS)."""
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if want(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.mark.heavy
def test_the_story(stack, api_client):
    stack.set_clock("2020-02-17T09:00:00+08:00")

    # The health authority marks Wuhan's Hongshan district high risk.
    r = stack.call("PUT", "/admin/v1/regions/420111", {"name": "洪山区", "level": 5}, sub="officer", roles=ADMIN)
    assert r.status_code == 200, r.text

    # A worker from a low-risk county (Panzhou, Guizhou) returns on the special train: green.
    worker = application(
        resident_id("520281", seq="001"),
        travel_history=[{"region": "520281", "arrived_on": "2020-01-20", "left_on": "2020-02-16"}],
    )
    r = stack.call("POST", "/v1/applications", worker, sub="worker")
    assert r.status_code == 200, r.text
    assert r.json()["color"] == "green"

    # Someone who stayed three days in a level-5 district: red, with the reason.
    traveller = application(
        resident_id("420111", seq="002"),
        travel_history=[{"region": "420111", "arrived_on": "2020-02-12", "left_on": "2020-02-15"}],
    )
    view = stack.call("POST", "/v1/applications", traveller, sub="traveller").json()
    assert (view["color"], view["score"]) == ("red", 75)
    assert "洪山区" in view["reasons"][0]["detail"]

    # A yellow holder checks in on 7 consecutive days of the dev clock and turns green.
    fever = application(resident_id("330106", seq="003"), temperature=38.2)
    assert stack.call("POST", "/v1/applications", fever, sub="fever").json()["color"] == "yellow"
    for day in range(18, 25):
        stack.set_clock(f"2020-02-{day}T20:00:00+08:00")
        view = stack.call("POST", "/v1/checkins", {"temperature": 36.6, "symptoms": []}, sub="fever").json()
    assert view["color"] == "green" and view["quarantine"] is None

    # A green holder shows a code; the region they stayed in is raised to level 5; the next scan stops.
    stack.set_clock("2020-02-25T10:00:00+08:00")
    visitor = application(
        resident_id("330106", seq="004"),
        travel_history=[{"region": "330106", "arrived_on": "2020-02-20", "left_on": "2020-02-23"}],
    )
    shown = stack.call("POST", "/v1/applications", visitor, sub="visitor").json()
    assert shown["color"] == "green"
    scan = {"token": shown["token"]["value"], "checkpoint_id": "subway-line1-gate3"}
    first = stack.call("POST", "/v1/verifications", scan, sub="gate", roles=CHECKPOINT).json()
    assert (first["decision"], first["masked_name"]) == ("pass", "王*波")

    r = stack.call("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5}, sub="officer", roles=ADMIN)
    assert r.status_code == 200
    now = until(lambda: stack.call("GET", "/v1/codes/me", sub="visitor").json(), lambda v: v["color"] == "red")
    assert now["color"] == "red", now
    # the same view through a client generated from openapi.json, as a partner's developer would use it
    from healthcode_api_client import AuthenticatedClient
    from healthcode_api_client.api.default import get_my_code
    from healthcode_api_client.models import CodeView

    client = AuthenticatedClient(base_url=stack.base, token=stack.token("visitor"), headers={"Accept-Language": "en"})
    generated = get_my_code.sync(client=client)
    assert isinstance(generated, CodeView) and generated.color.value == "red"
    assert generated.reasons[0].detail == now["reasons"][0]["detail"]
    again = stack.call("POST", "/v1/verifications", scan, sub="gate", roles=CHECKPOINT).json()
    assert (again["decision"], again["color"], again["code_status"]) == ("stop", "red", "valid")


def test_the_front_authorizes_like_the_deployed_api(stack):
    assert stack.call("GET", "/v1/codes/me").status_code == 401
    bad = stack.call("GET", "/v1/codes/me", headers={"authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401
    assert stack.call("GET", "/no/such/route").status_code == 404
    r = stack.call("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5}, sub="resident")
    assert r.status_code == 403 and r.json() == {"message": "Forbidden"}  # the gateway's scope check
    assert stack.call("GET", "/.well-known/jwks.json").json()["keys"]


def test_a_problems_type_is_a_page_anyone_can_open(stack):
    bad = stack.call("POST", "/v1/applications", {"name": "王小波"}, sub="careless")
    problem = bad.json()
    assert bad.status_code == 422 and problem["type"] == f"{stack.base}/problems/invalid-input", problem
    page = stack.http.get(problem["type"], timeout=10)  # no token: a public page
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/markdown")
    assert page.text.startswith("# Invalid input (422)") and "max-age" in page.headers["cache-control"]
    assert page.text == (Path(__file__).resolve().parents[2] / "docs/problems/invalid-input.md").read_text("utf-8")
    missing = stack.http.get(f"{stack.base}/problems/no-such-problem", timeout=10)
    assert missing.status_code == 404 and missing.json()["type"] == f"{stack.base}/problems/not-found"


@pytest.mark.heavy
def test_the_daily_schedule_fires_once_when_the_dev_clock_passes_it(stack):
    stack.set_clock("2020-03-01T09:00:00+08:00")
    stack.call("PUT", "/admin/v1/regions/330108", {"name": "滨江区", "level": 4}, sub="officer", roles=ADMIN)
    body = application(
        resident_id("330108", seq="005"),
        travel_history=[{"region": "330108", "arrived_on": "2020-02-26", "left_on": "2020-02-28"}],
    )
    assert stack.call("POST", "/v1/applications", body, sub="sched").json()["color"] == "yellow"
    # once for the 13 days passed: the daily rescoring, the statistics' nightly reconciliation, and each
    # rate(...) schedule once (the notify sweep, the statistics' sums, the key refresher, the redrive
    # sweep, the audit digests); the nightly colour check
    every = ["Daily", "Nightly", "NightlyColourCheck", "NotifyFunction", "StatsFunction", "RefreshPartnerKeysFunction"]
    every += ["RedriveFunction", "AuditDigestFunction"]
    assert sorted(stack.set_clock("2020-03-14T00:04:00+08:00")) == sorted(every)
    assert stack.set_clock("2020-03-14T00:04:30+08:00") == []  # less than any period
    fired = stack.set_clock("2020-03-14T00:06:00+08:00")  # 00:05 Asia/Shanghai, and a minute and a half
    assert sorted(fired) == ["Daily", "NotifyFunction", "StatsFunction"]
    assert stack.call("GET", "/v1/codes/me", sub="sched").json()["color"] == "green"  # the stay left the window
