"""Integrity I over real HTTP on the local stack: the attacks of a hostile resident, each refused."""

from __future__ import annotations

from tests.e2e.test_story import until
from tests.people import application, resident_id

ADMIN = ("health_admin",)


def test_squatting_washing_and_a_foreign_checkpoint_are_refused_over_http(stack):
    stack.set_clock("2020-06-10T09:00:00+08:00")
    victim, washer = resident_id("330106", seq="601"), resident_id("330106", seq="602")
    # a stranger verified as someone else cannot take the victim's number, listed or not
    stack.call(
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "resident_id", "id_number": victim, "status": "confirmed"}]},
        sub="o",
        roles=ADMIN,
    )
    squat = stack.call(
        "POST", "/v1/applications", application(victim), sub="squatter", identity=("resident_id", washer)
    )
    assert squat.status_code == 403 and "confirmed" not in squat.text
    # the same verified person from a second account: one identity, one account
    assert stack.call("POST", "/v1/applications", application(washer), sub="washer").status_code == 200
    assert stack.call("POST", "/v1/applications", application(washer), sub="washer-2").status_code == 409
    # washing: an ongoing level-5 stay re-declared as ended long ago
    stack.call("PUT", "/admin/v1/regions/420102", {"name": "江岸区", "level": 5}, sub="o", roles=ADMIN)
    ongoing = {"region": "420102", "arrived_on": "2020-06-05", "left_on": None}
    red = stack.call("POST", "/v1/applications", application(washer, travel_history=[ongoing]), sub="washer").json()
    assert red["color"] == "red"
    washed = ongoing | {"left_on": "2020-06-05"}
    r = stack.call("POST", "/v1/applications", application(washer, travel_history=[washed]), sub="washer")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "travel_history[0].left_on"
    token = stack.call("GET", "/v1/codes/me", sub="washer").json()["token"]["value"]
    # a checkpoint account assigned gate-1 cannot log a scan as gate-2; at its own gate it stops the holder
    gate = stack.token("gate-staff", "checkpoint", checkpoints=("gate-1",))
    auth = {"authorization": f"Bearer {gate}"}
    foreign = stack.call("POST", "/v1/verifications", {"token": token, "checkpoint_id": "gate-2"}, headers=auth)
    assert foreign.status_code == 403
    own = stack.call("POST", "/v1/verifications", {"token": token, "checkpoint_id": "gate-1"}, headers=auth).json()
    assert own["decision"] == "stop" and own["color"] == "red"


def test_an_older_stay_does_not_hide_a_current_one_and_declarations_are_bounded_over_http(stack):
    stack.set_clock("2020-07-10T09:00:00+08:00")
    me = resident_id("330106", seq="701")
    here = {"region": "330110", "arrived_on": "2020-07-08", "left_on": None}
    older = {"region": "330110", "arrived_on": "2020-07-01", "left_on": "2020-07-02"}
    assert stack.call("POST", "/v1/applications", application(me, travel_history=[here]), sub="h").status_code == 200
    assert stack.call("POST", "/v1/applications", application(me, travel_history=[older]), sub="h").status_code == 200
    token = stack.call("GET", "/v1/codes/me", sub="h").json()["token"]["value"]
    stack.call("PUT", "/admin/v1/regions/330110", {"name": "余杭区", "level": 5}, sub="o", roles=ADMIN)
    # the checkpoint reads the index the region's rescoring wrote (the queue is delivered within a second)
    scan = {"token": token, "checkpoint_id": "g"}
    seen = until(
        lambda: stack.call("POST", "/v1/verifications", scan, sub="g", roles=("checkpoint",)).json(),
        lambda v: v["color"] == "red",
    )
    assert seen["color"] == "red"
    # re-applying with ever more stays ends in a 422, never in an item too large to write
    counties = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113", "330114"]
    statuses = []
    for n in range(6):
        stays = [
            {"region": counties[k % 10], "arrived_on": f"2020-07-0{1 + n}", "left_on": "2020-07-09"} for k in range(30)
        ]
        stays = [dict(s, region=f"{s['region']}{(n * 30 + k):03d}") for k, s in enumerate(stays)]  # towns: distinct
        statuses.append(
            stack.call("POST", "/v1/applications", application(me, travel_history=stays), sub="h").status_code
        )
    assert statuses[:4] == [200] * 4 and 422 in statuses
    assert stack.call("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []}, sub="h").status_code == 200
