"""One map, one code: statistics and the five-colour map over real HTTP on the local stack, through the
operator CLI, while the dev clock moves through a week (Wenzhou's Wencheng and Lucheng counties)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.people import application, resident_id

ADMIN = ("health_admin",)


def cli(stack, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def colours(view: dict) -> tuple[int, int, int, int]:
    c = view["by_color"]
    return view["codes_issued"], c["green"], c["yellow"], c["red"]


@pytest.mark.heavy
def test_stats_and_the_map_follow_a_week_of_changes(stack, tmp_path):
    stack.set_clock("2021-05-04T09:00:00+08:00")
    numbers = {}
    for n in range(4):  # four residents of Wencheng, nothing to declare: green
        numbers[f"wc-{n}"] = resident_id("330328", seq=f"5{n}1")
        body = application(numbers[f"wc-{n}"], residence_region="330328")
        assert stack.call("POST", "/v1/applications", body, sub=f"wc-{n}").json()["color"] == "green"
    fever = application(resident_id("330302", seq="561"), residence_region="330302", temperature=38.3)
    assert stack.call("POST", "/v1/applications", fever, sub="lc-fever").json()["color"] == "yellow"

    stack.set_clock("2021-05-04T09:02:00+08:00")  # a minute passes: the sums are made
    assert colours(cli(stack, "stats", "--region", "330300")) == (5, 4, 1, 0)
    assert colours(cli(stack, "stats", "--region", "330328")) == (4, 4, 0, 0)

    # the authority lists one Wencheng resident as a confirmed case: red
    case = {"id_type": "resident_id", "id_number": numbers["wc-0"], "status": "confirmed", "on": "2021-05-04"}
    r = stack.call("POST", "/admin/v1/cases", {"cases": [case]}, sub="officer", roles=ADMIN)
    assert r.status_code == 202, r.text
    # Lucheng goes to level 4 (orange)
    assert cli(stack, "region", "set", "330302", "4")["level"] == 4
    stack.set_clock("2021-05-04T09:05:00+08:00")
    assert colours(cli(stack, "stats", "--region", "330300")) == (5, 3, 1, 1)
    wenzhou = {c["code"]: c for c in cli(stack, "map", "--region", "330300")["counties"]}
    assert (wenzhou["330302"]["color"], wenzhou["330302"]["set_by"]) == ("orange", "operator")
    assert wenzhou["330328"]["color"] == "green" and len(wenzhou) == 12

    # a week: the fever holder checks in every evening with a normal temperature and turns green;
    # Lucheng is lowered to 2 (blue) on the 8th
    for day in range(5, 12):
        stack.set_clock(f"2021-05-{day:02d}T20:00:00+08:00")
        view = stack.call("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []}, sub="lc-fever").json()
        if day == 8:
            assert cli(stack, "region", "set", "330302", "2")["level"] == 2
    assert view["color"] == "green", view
    stack.set_clock("2021-05-12T10:00:00+08:00")

    assert colours(cli(stack, "stats", "--region", "330300")) == (5, 4, 0, 1)
    assert colours(cli(stack, "stats", "--region", "330300", "--at", "2021-05-04")) == (5, 3, 1, 1)
    assert colours(cli(stack, "stats", "--region", "330300", "--at", "2021-05-07")) == (5, 3, 1, 1)
    assert cli(stack, "stats", "--region", "330300", "--at", "2021-05-04")["green_rate"] == 0.6

    def levels(day):
        return {c["code"]: c["level"] for c in cli(stack, "map", "--region", "330300", "--as-of", day)["counties"]}

    assert levels("2021-05-04")["330302"] == 4
    assert levels("2021-05-07")["330302"] == 4
    assert levels("2021-05-08")["330302"] == 2
    # each night at 03:30 the counts were reconciled with the holders: nothing to repair in Wenzhou
    night = stack.call("GET", "/admin/v1/stats/reconciliation?on=2021-05-11", sub="officer", roles=ADMIN).json()
    assert night["finished"] and night["holders_read"] >= 5, night
    assert not [place for place in night["drift"] if place.startswith("3303")]
    index = cli(stack, "index", "--region", "330300", "--from", "2021-05-04", "--to", "2021-05-10")
    wencheng = {d["day"]: d for d in index["days"] if d["county"] == "330328"}
    assert len(wencheng) == 7 and wencheng["2021-05-04"]["holders"] == 4
    assert {i["id"]: i["value"] for i in wencheng["2021-05-04"]["indicators"]}["new_red_per_100k"] == 25000.0
    assert {i["id"]: i["value"] for i in wencheng["2021-05-05"]["indicators"]}["new_red_per_100k"] == 0.0
    lucheng = {d["day"]: d for d in index["days"] if d["county"] == "330302"}
    levels_seen = [
        next(i["value"] for i in lucheng[d]["indicators"] if i["id"] == "risk_level") for d in sorted(lucheng)
    ]
    assert levels_seen == [4.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0]
    # five holders are too few for the levels rule (min_holders 100): no proposal, Lucheng stays 2
    proposals = cli(stack, "region", "proposals", "--region", "330300")
    assert (proposals["rule"], proposals["as_of"], proposals["proposals"]) == ("levels-v1", "2021-05-11", [])
    picture = tmp_path / "wenzhou.svg"
    assert cli(stack, "map", "--region", "330300", "--svg", str(picture))["svg"] == str(picture)
    svg = picture.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and 'data-code="330302" data-level="2"' in svg and "文成县" in svg


def test_wencheng_villages_registered_from_the_package_data_and_listed_by_colour(stack, tmp_path):
    from healthcode_local.demo_data import wencheng_areas

    stack.set_clock("2021-05-20T09:00:00+08:00")
    town = [a for a in wencheng_areas() if a[0].startswith("330328101")]  # 百丈漈镇 and its villages
    csv_file = tmp_path / "areas.csv"
    csv_file.write_text("code,name\n" + "".join(f"{c},{n}\n" for c, n in reversed(town)), encoding="utf-8")
    loaded = cli(stack, "areas", "load", str(csv_file))  # villages listed first: the town is sent first
    assert loaded == {"registered": len(town), "failed": []} and len(town) > 10
    villages = [c for c, _ in town if len(c) == 12]
    for n, village in enumerate(villages[:4]):
        body = application(resident_id("330328", seq=f"6{n}1"), residence_region="330328", residence_area=village)
        if n == 2:
            body["temperature"] = 38.6
        assert stack.call("POST", "/v1/applications", body, sub=f"bzj-{n}").status_code == 200
    stack.set_clock("2021-05-20T09:02:00+08:00")
    listed = cli(stack, "areas", "list", "330328", "--color", "green")
    green = {a["code"] for a in listed["areas"] if a["holders"]}
    assert green == {villages[0], villages[1], villages[3]}  # the village with a fever is yellow
    yellow = cli(stack, "areas", "list", "330328", "--color", "yellow")["areas"]
    assert {a["code"] for a in yellow} == {villages[2], "330328101"}  # the town: 1 of 4 is over 5 %
    # the town's gate scans two of them: counted by the town
    assert cli(stack, "areas", "checkpoint", "bzj-gate", "330328101")["area"] == "330328101"
    for n in (0, 2):
        code = stack.call("GET", "/v1/codes/me", sub=f"bzj-{n}").json()["token"]["value"]
        scan = {"token": code, "checkpoint_id": "bzj-gate"}
        assert stack.call("POST", "/v1/verifications", scan, sub="bzj-guard", roles=("checkpoint",)).status_code == 200
    tally = cli(stack, "scans", "--area", "330328101", "--on", "2021-05-20")
    assert (tally["scans"], tally["by_color"]) == (2, {"green": 1, "yellow": 1, "red": 0})
