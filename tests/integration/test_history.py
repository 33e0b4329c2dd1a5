"""A holder learns why their colour is what it is: every change, newest first, with its cause, the
reasons at that moment and the ruleset (issue 15, "colour history and explanations")."""

from __future__ import annotations

from datetime import timedelta

from healthcode.wiring import Pages
from tests.people import application, resident_id


def test_my_history_tells_each_change_newest_first_with_its_cause_reasons_and_rules(system):
    me = system.resident("li")
    body = application(
        resident_id(seq="321"),
        travel_history=[{"region": "330106", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}],
    )
    assert me("POST", "/v1/applications", body).json()["color"] == "green"
    system.settle()
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    system.settle()
    assert me("GET", "/v1/codes/me").json()["color"] == "red"
    system.at(system.now + timedelta(days=1))
    assert me("POST", "/v1/checkins", {"temperature": 38.4, "symptoms": ["cough"]}).status == 200
    system.settle()

    history = me("GET", "/v1/codes/me/history").json()
    got = [(h["old_color"], h["new_color"], h["cause"]) for h in history["items"]]
    assert got == [("green", "red", "region level"), (None, "green", "declaration")]  # the check-in kept it red
    red = history["items"][0]
    assert "330106" in red["detail"] and red["ruleset_version"] == "v1" and red["score"] >= 60
    assert [r["factor"] for r in red["reasons"]] == ["stay"] and "330106" in red["reasons"][0]["detail"]

    system.configure(pages=Pages(listing=1))
    first = me("GET", "/v1/codes/me/history").json()
    assert len(first["items"]) == 1 and first["next"]
    second = me("GET", f"/v1/codes/me/history?after={first['next']}").json()
    assert [h["cause"] for h in second["items"]] == ["declaration"] and second["next"] is None


def test_only_my_own_history_and_bad_cursors_are_refused(system):
    system.resident("li")("POST", "/v1/applications", application(resident_id(seq="322")))
    system.settle()
    assert system.resident("nobody")("GET", "/v1/codes/me/history").status == 404
    assert system.resident("li")("GET", "/v1/codes/me/history?after=%%%").status == 400
    assert system.http("GET", "/v1/codes/me/history").status == 401
