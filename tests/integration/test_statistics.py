"""Statistics, checkpoint counts and the five-colour map, through the stats function on moto: counts
follow every colour change exactly once, past days keep their numbers, the map shows who set what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.integration.conftest import SHANGHAI
from tests.people import application, resident_id


def declare(system, sub, county, seq, **extra):
    body = application(resident_id(county, seq=seq), residence_region=county, **extra)
    r = system.resident(sub)("POST", "/v1/applications", body)
    assert r.status == 200, r.body
    return r.json()


def aggregate(system):
    system.settle()
    return system.fire_schedule("StatsFunction")


def stats(system, query=""):
    r = system.admin("GET", f"/admin/v1/stats{query}")
    assert r.status == 200, r.body
    return r.json()


def test_counts_follow_colour_changes_by_county_and_a_redelivered_change_counts_once(system):
    for i in range(3):
        declare(system, f"xh-{i}", "330106", f"10{i}")  # West Lake: green
    declare(system, "bj-0", "330108", "200", temperature=38.4)  # Binjiang: a fever, yellow
    declare(system, "wh-0", "420111", "300")  # Hongshan, Wuhan: green
    aggregate(system)

    overall = stats(system)
    assert (overall["codes_issued"], overall["by_color"]) == (5, {"green": 4, "yellow": 1, "red": 0})
    assert overall["green_rate"] == 0.8
    hangzhou = stats(system, "?region=330100")
    assert (hangzhou["name"], hangzhou["codes_issued"], hangzhou["by_color"]["yellow"]) == ("杭州市", 4, 1)
    assert stats(system, "?region=330000")["codes_issued"] == 4
    assert stats(system, "?region=330106")["by_color"] == {"green": 3, "yellow": 0, "red": 0}
    assert stats(system, "?region=420000")["codes_issued"] == 1

    # Hongshan goes to level 5: a holder who stayed there turns red; they move from green to red
    system.at(system.now + timedelta(minutes=5))
    body = application(
        resident_id("330106", seq="103"),
        residence_region="330106",
        travel_history=[{"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-02-14"}],
    )
    assert system.resident("xh-0")("POST", "/v1/applications", body).status == 409  # not their ID number
    declare(
        system,
        "xh-3",
        "330106",
        "103",
        travel_history=[{"region": "420111", "arrived_on": "2020-02-10", "left_on": "2020-02-14"}],
    )
    assert system.admin("PUT", "/admin/v1/regions/420111", {"level": 5}).status == 200
    aggregate(system)
    west_lake = stats(system, "?region=330106")
    assert (west_lake["codes_issued"], west_lake["by_color"]) == (4, {"green": 3, "yellow": 0, "red": 1})

    # every holder stream record delivered again (as Lambda may): nothing counts twice
    system.replay_streams()
    system.settle()
    aggregate(system)
    assert stats(system, "?region=330106")["by_color"] == {"green": 3, "yellow": 0, "red": 1}
    assert stats(system)["codes_issued"] == 6


def test_a_past_day_keeps_its_numbers_and_the_future_is_refused(system):
    declare(system, "a", "330106", "111")
    declare(system, "b", "330106", "112", temperature=38.6)
    aggregate(system)
    first_day = system.now.date().isoformat()

    system.at(datetime(2020, 2, 18, 10, 0, tzinfo=SHANGHAI))  # the next day, past the grace: the 17th is rolled
    aggregate(system)
    declare(system, "c", "330106", "113", temperature=38.9)
    aggregate(system)
    assert stats(system)["by_color"] == {"green": 1, "yellow": 2, "red": 0}
    past = stats(system, f"?at={first_day}")
    assert (past["on"], past["by_color"]) == (first_day, {"green": 1, "yellow": 1, "red": 0})
    future = system.admin("GET", "/admin/v1/stats?at=2020-03-01")
    assert future.status == 422 and future.json()["errors"][0]["field"] == "at"
    assert system.admin("GET", "/admin/v1/stats?region=999999").status == 404
    assert system.admin("GET", "/admin/v1/stats?region=33").status == 422


def test_checkpoint_counts_by_colour(system):
    green = declare(system, "g", "330106", "121")["token"]["value"]
    yellow = declare(system, "y", "330106", "122", temperature=38.2)["token"]["value"]
    for token in (green, green, yellow, "not.a.token"):
        system.at(system.now + timedelta(minutes=1))  # one code at one gate counts once a minute
        system.checkpoint({"token": token, "checkpoint_id": "wulin-street-3"})
    r = system.admin("GET", f"/admin/v1/checkpoints/wulin-street-3/scans?on={system.now.date().isoformat()}")
    assert r.status == 200, r.body
    assert r.json() | {"by_color": None} == {
        "checkpoint_id": "wulin-street-3",
        "on": system.now.date().isoformat(),
        "scans": 4,
        "by_color": None,
        "unreadable": 1,
    }
    assert r.json()["by_color"] == {"green": 2, "yellow": 1, "red": 0}
    assert system.admin("GET", "/admin/v1/checkpoints/wulin-street-3/scans?on=2020-02-16").json()["scans"] == 0

    # a street's checkpoints counted together ("17 yellow and 42 red codes found at its checkpoints")
    assert system.admin("PUT", "/admin/v1/areas/330106001", {"name": "北山街道"}).status == 200
    for gate in ("wulin-street-3", "beishan-1"):
        placed = system.admin("PUT", f"/admin/v1/checkpoints/{gate}", {"area": "330106001"})
        assert placed.status == 200 and placed.json() == {"checkpoint_id": gate, "area": "330106001"}
    assert system.admin("PUT", "/admin/v1/checkpoints/elsewhere", {"area": "330106002"}).status == 422
    system.at(system.now + timedelta(seconds=7))
    system.checkpoint({"token": yellow, "checkpoint_id": "beishan-1"})
    street = system.admin("GET", f"/admin/v1/areas/330106001/scans?on={system.now.date().isoformat()}").json()
    assert (street["scans"], street["by_color"], street["unreadable"]) == (5, {"green": 2, "yellow": 2, "red": 0}, 1)
    assert [c["checkpoint_id"] for c in street["checkpoints"]] == ["beishan-1", "wulin-street-3"]
    county = system.admin("GET", f"/admin/v1/areas/330106/scans?on={system.now.date().isoformat()}").json()
    assert county["scans"] == 5
    assert system.admin("GET", "/admin/v1/areas/330108/scans").json()["scans"] == 0
    resident = system.resident("g")("GET", "/admin/v1/checkpoints/wulin-street-3/scans")
    assert resident.status == 403


def test_the_map_shows_every_county_its_level_and_who_set_it_and_keeps_past_days(system):
    r = system.http("GET", "/v1/map?region=330100")  # public: no token
    assert r.status == 200 and "max-age" in r.headers["cache-control"]
    before = r.json()
    counties = {c["code"]: c for c in before["counties"]}
    assert len(counties) == 13 and counties["330106"]["name"] == "西湖区"
    assert counties["330106"] | {"longitude": 0, "latitude": 0} == {
        "code": "330106",
        "name": "西湖区",
        "level": 1,
        "color": "green",
        "set_at": None,
        "set_by": None,
        "set_on": None,
        "longitude": 0,
        "latitude": 0,
    }
    assert before["per_level"] == {"green": 13, "blue": 0, "yellow": 0, "orange": 0, "red": 0}

    assert system.admin("PUT", "/admin/v1/regions/330106", {"level": 5}).status == 200
    assert system.admin("PUT", "/admin/v1/regions/330100", {"level": 2}).status == 200  # the city: the rest blue
    after = {c["code"]: c for c in system.http("GET", "/v1/map?region=330100").json()["counties"]}
    assert (after["330106"]["color"], after["330106"]["set_by"], after["330106"]["set_on"]) == (
        "red",
        "officer-1",
        "330106",
    )
    assert (after["330108"]["color"], after["330108"]["set_on"]) == ("blue", "330100")
    svg = system.http("GET", "/v1/map.svg?region=330100")
    assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'data-code="330106" data-level="5"' in svg.body and "西湖区" in svg.body and "高风险" in svg.body

    day = system.now.date()
    system.at(datetime(2020, 2, 18, 9, 0, tzinfo=SHANGHAI))
    aggregate(system)
    assert system.admin("PUT", "/admin/v1/regions/330106", {"level": 3}).status == 200
    past = {c["code"]: c for c in system.http("GET", f"/v1/map?region=330100&as_of={day}").json()["counties"]}
    now = {c["code"]: c for c in system.http("GET", "/v1/map?region=330100").json()["counties"]}
    assert (past["330106"]["level"], now["330106"]["level"]) == (5, 3)
    assert system.http("GET", "/v1/map?as_of=2019-12-01").status == 404
    assert system.http("GET", "/v1/map").json()["region"] == "330000"  # the deployment's map region


def test_the_index_is_computed_once_a_day_from_the_counts_with_every_raw_value(system):
    for i in range(3):
        declare(system, f"ix-{i}", "330106", f"13{i}")
    fever_number = declare(system, "ix-3", "330106", "133", temperature=38.5)
    assert fever_number["color"] == "yellow"
    assert system.admin("PUT", "/admin/v1/regions/330106", {"level": 3}).status == 200
    aggregate(system)
    assert system.http("GET", "/v1/index?region=330100&from=2020-02-17&to=2020-02-17").json()["days"] == []

    system.at(datetime(2020, 2, 18, 9, 0, tzinfo=SHANGHAI))  # the 17th is over: summed and indexed
    aggregate(system)
    case = {"id_type": "resident_id", "id_number": resident_id("330106", seq="130"), "status": "confirmed"}
    assert system.admin("POST", "/admin/v1/cases", {"cases": [case | {"on": "2020-02-18"}]}).status == 202
    system.settle()  # rescored on the 18th
    system.at(datetime(2020, 2, 19, 9, 0, tzinfo=SHANGHAI))
    aggregate(system)

    # in public a county of 4 holders is a small number: "<10", no index, no rate about 1..9 people
    public = system.http("GET", "/v1/index?region=330100&from=2020-02-17&to=2020-02-18")
    assert public.status == 200, public.body
    shown = next(d for d in public.json()["days"] if d["county"] == "330106" and d["day"] == "2020-02-17")
    assert (shown["holders"], shown["index"], shown["control"], shown["smoothness"]) == ("<10", None, None, None)
    values = {i["id"]: (i["value"], i["suppressed"]) for i in shown["indicators"]}
    assert values["risk_level"] == (3.0, False) and values["new_yellow_per_100k"] == (None, True)
    assert "25000" not in public.body and "0.25" not in public.body
    # an official reads the exact figures
    r = system.admin("GET", "/admin/v1/index?region=330100&from=2020-02-17&to=2020-02-18")
    assert r.status == 200, r.body
    days = {d["day"]: d for d in r.json()["days"] if d["county"] == "330106"}
    first, second = days["2020-02-17"], days["2020-02-18"]
    # the 17th: 4 codes issued (3 green, 1 yellow), level 3
    raw = {i["id"]: i["value"] for i in first["indicators"]}
    assert raw == {
        "new_red_per_100k": 0.0,
        "new_yellow_per_100k": 25000.0,
        "non_green_share": 0.25,
        "green_rate": 0.75,
        "returned_green_per_100k": 0.0,
        "risk_level": 3.0,
    }
    assert (first["holders"], first["control"], first["smoothness"], first["index"]) == (4, 40.0, 20.0, 30.0)
    # the 18th: one green holder listed as confirmed turns red
    raw = {i["id"]: i["value"] for i in second["indicators"]}
    assert (raw["new_red_per_100k"], raw["non_green_share"], raw["new_yellow_per_100k"]) == (25000.0, 0.5, 0.0)
    assert (second["control"], second["smoothness"], second["index"]) == (30.0, 20.0, 25.0)
    assert second["formula"] == "index-v1"
    doc = system.http("GET", "/v1/index/formula").json()
    assert doc["version"] == "index-v1" and {i["id"] for i in doc["control"]} >= {"new_red_per_100k"}
    assert doc["small_numbers"]["threshold"] == 10 and "<10" in doc["small_numbers"]["rule"]  # the rule, published
    bad = system.http("GET", "/v1/index?region=330100&from=2020-02-18&to=2020-02-17")
    assert bad.status == 422 and bad.json()["errors"][0]["field"] == "from"


def test_the_nightly_reconciliation_finds_a_lost_delta_and_repairs_it(system):
    for i in range(3):
        declare(system, f"rc-{i}", "330106", f"14{i}")
    declare(system, "rc-3", "330108", "143", temperature=38.1)
    aggregate(system)
    assert stats(system, "?region=330100")["by_color"] == {"green": 3, "yellow": 1, "red": 0}

    # one delta is lost (as if its stream record had outlived every retry): the counts are one short
    db, table = system.p.clients["dynamodb"], system.p.physical("StatsTable")
    items = db.scan(TableName=table)["Items"]
    lost = next(i for i in items if i["pk"]["S"].startswith("delta#") and i.get("n", {}).get("S") == "330106|green")
    db.delete_item(TableName=table, Key={"pk": lost["pk"], "sk": lost["sk"]})
    aggregate(system)
    assert stats(system, "?region=330106")["by_color"]["green"] == 2

    out = system.invoke("StatsFunction", {"kind": "reconcile"})  # the nightly schedule
    assert out["run_id"] == "reconcile-2020-02-17"
    assert system.invoke("StatsFunction", {"kind": "reconcile"})["run_id"] is None  # once a day
    assert aggregate(system)["drift"] == 1  # segments counted by the queue workers, then compared: the metric
    report = system.admin("GET", "/admin/v1/stats/reconciliation?on=2020-02-17").json()
    assert report["finished"] and report["holders_read"] == 4 and report["repaired"]
    assert report["drift"] == {"330106": {"green": 1, "yellow": 0, "red": 0}}
    aggregate(system)  # the repair is a delta like any other
    assert stats(system, "?region=330100")["by_color"] == {"green": 3, "yellow": 1, "red": 0}

    # the next night finds nothing to repair; a repeated run of the same minute changes nothing
    system.at(datetime(2020, 2, 18, 3, 30, tzinfo=SHANGHAI))
    aggregate(system)
    system.invoke("StatsFunction", {"kind": "reconcile"})
    aggregate(system)
    aggregate(system)
    again = system.admin("GET", "/admin/v1/stats/reconciliation?on=2020-02-18").json()
    assert again["finished"] and again["drift"] == {} and not again["repaired"]
    assert stats(system, "?region=330100")["by_color"] == {"green": 3, "yellow": 1, "red": 0}
    assert system.admin("GET", "/admin/v1/stats/reconciliation?on=2020-02-10").status == 404


def test_levels_are_proposed_from_the_published_rule_and_only_a_person_changes_them(system):
    numbers = [resident_id("330106", born=f"1980{1 + n // 28:02d}{1 + n % 28:02d}", seq="150") for n in range(100)]
    for n, number in enumerate(numbers):
        r = system.resident(f"pp-{n}")("POST", "/v1/applications", application(number, residence_region="330106"))
        assert r.status == 200, r.body
    assert system.admin("PUT", "/admin/v1/regions/330106", {"level": 3}).status == 200
    aggregate(system)
    early = system.admin("GET", "/admin/v1/regions/proposals?region=330100").json()
    assert (early["as_of"], early["proposals"]) == ("2020-02-16", [])  # the holders came today: not summed yet

    system.at(datetime(2020, 2, 18, 9, 0, tzinfo=SHANGHAI))
    aggregate(system)
    quiet = system.admin("GET", "/admin/v1/regions/proposals?region=330100").json()
    assert (quiet["rule"], quiet["as_of"]) == ("levels-v1", "2020-02-17")
    assert [(p["code"], p["current_level"], p["proposed_level"], p["value"]) for p in quiet["proposals"]] == [
        ("330106", 3, 1, 0.0)  # 100 holders, nobody red in 14 days: the rule says 1, a person set 3
    ]

    cases = [{"id_type": "resident_id", "id_number": n, "status": "confirmed", "on": "2020-02-18"} for n in numbers[:3]]
    assert system.admin("POST", "/admin/v1/cases", {"cases": cases}).status == 202
    system.settle()
    system.at(datetime(2020, 2, 19, 9, 0, tzinfo=SHANGHAI))
    aggregate(system)
    hot = system.admin("GET", "/admin/v1/regions/proposals?region=330100").json()["proposals"]
    assert [(p["code"], p["current_level"], p["proposed_level"], p["value"], p["holders"]) for p in hot] == [
        ("330106", 3, 5, 3000.0, 100)  # 3 new red codes among 100 holders in 14 days
    ]
    level = system.http("GET", "/v1/map?region=330100").json()
    assert {c["code"]: c["level"] for c in level["counties"]}["330106"] == 3  # a proposal changes nothing
    assert system.admin("PUT", "/admin/v1/regions/330106", {"level": 5}).status == 200  # a person accepts
    assert system.admin("GET", "/admin/v1/regions/proposals?region=330100").json()["proposals"] == []
    rule = system.http("GET", "/v1/map/rule").json()
    assert rule["version"] == "levels-v1" and rule["thresholds"][0] == {"level": 5, "at_least": 50}


def test_villages_are_registered_declared_counted_and_coloured_by_the_published_rule(system):
    for code, name in (("330328100", "大峃镇"), ("330328100015", "城南社区"), ("330328100020", "林店尾社区")):
        r = system.admin("PUT", f"/admin/v1/areas/{code}", {"name": name})
        assert r.status == 200 and r.json()["county"] == "330328", r.body
    refused = system.admin("PUT", "/admin/v1/areas/330328101007", {"name": "无镇之村"})
    assert refused.status == 422 and "330328101" in refused.json()["errors"][0]["message"]  # its town first
    assert system.admin("PUT", "/admin/v1/areas/330399100", {"name": "x"}).status == 422  # no such county
    assert system.resident("r")("PUT", "/admin/v1/areas/330328100", {"name": "x"}).status == 403

    def villager(sub, seq, area, **extra):
        body = application(resident_id("330328", seq=seq), residence_region="330328", residence_area=area, **extra)
        return system.resident(sub)("POST", "/v1/applications", body)

    for n in range(3):
        assert villager(f"cn-{n}", f"16{n}", "330328100015").status == 200  # 城南: green
    assert villager("ld-0", "170", "330328100020").status == 200
    assert villager("ld-1", "171", "330328100020", temperature=38.4).json()["color"] == "yellow"  # 林店尾: 1 of 2
    unknown = villager("x-0", "180", "330328100099")
    assert unknown.status == 422 and unknown.json()["errors"][0]["field"] == "residence_area"
    elsewhere = villager("x-1", "181", "330106001001")
    assert elsewhere.status == 422 and "330328" in elsewhere.json()["errors"][0]["message"]
    aggregate(system)

    listed = system.admin("GET", "/admin/v1/areas?county=330328").json()
    colours = {a["code"]: (a["holders"], a["color"]) for a in listed["areas"]}
    assert colours == {"330328100": (5, "yellow"), "330328100015": (3, "green"), "330328100020": (2, "yellow")}
    green = system.admin("GET", "/admin/v1/areas?county=330328&color=green").json()["areas"]
    assert [a["name"] for a in green] == ["城南社区"]  # where volunteers are recruited from
    town = stats(system, "?region=330328100")
    assert (town["codes_issued"], town["by_color"]) == (5, {"green": 4, "yellow": 1, "red": 0})
    assert stats(system, "?region=330328")["codes_issued"] == 5  # the county counts its villages
    assert stats(system, "?region=330328100015")["codes_issued"] == 3

    system.at(datetime(2020, 2, 18, 9, 0, tzinfo=SHANGHAI))
    aggregate(system)
    index = system.admin("GET", "/admin/v1/index?region=330300&from=2020-02-17&to=2020-02-17").json()["days"]
    assert [(d["county"], d["holders"]) for d in index] == [("330328", 5)]  # indexed per county (exact)
    public = system.http("GET", "/v1/index?region=330300&from=2020-02-17&to=2020-02-17").json()["days"]
    assert [(d["county"], d["holders"]) for d in public] == [("330328", "<10")]  # a small number in public


@pytest.mark.heavy
def test_the_demo_data_registers_wencheng_and_gives_its_villages_a_spread_of_colours(system):
    from healthcode_local import demo_data

    def call(method, path, body, sub, roles):
        claims = {"sub": sub, "scope": " ".join(roles)}
        who = demo_data.declared_identity(body)
        if who:
            claims["verified_id"] = ":".join(who)
        r = system.http(method, path, body, claims=claims)
        return r.status, r.json()

    demo_data.load(call, system.now.date())
    aggregate(system)
    areas = system.admin("GET", "/admin/v1/areas?county=330328").json()["areas"]
    assert len(areas) == 17 + 49 and sum(1 for a in areas if len(a["code"]) == 9) == 17  # towns, the seat's villages
    colours = {a["color"] for a in areas if a["holders"]}
    assert colours == {"green", "yellow", "red"}
    green = system.admin("GET", "/admin/v1/areas?county=330328&color=green").json()["areas"]
    assert sum(a["holders"] for a in green if len(a["code"]) == 12) == 24  # 8 all-green villages of 3
    assert stats(system, "?region=330328")["codes_issued"] == 36


def test_just_after_midnight_today_is_summed_while_yesterday_waits_for_its_late_deltas(system):
    system.at(datetime(2020, 2, 17, 23, 58, tzinfo=SHANGHAI))
    declare(system, "late-0", "330106", "171")
    aggregate(system)
    system.at(datetime(2020, 2, 18, 0, 5, tzinfo=SHANGHAI))  # the 17th is in its 10 minutes of grace
    declare(system, "early-0", "330106", "172", temperature=38.2)
    out = aggregate(system)
    assert out["days"] == []  # not rolled yet
    assert stats(system, "?region=330106")["by_color"] == {"green": 1, "yellow": 1, "red": 0}
    system.at(datetime(2020, 2, 18, 0, 11, tzinfo=SHANGHAI))
    assert aggregate(system)["days"] == ["2020-02-17"]
    assert stats(system, "?region=330106&at=2020-02-17")["by_color"] == {"green": 1, "yellow": 0, "red": 0}
    assert stats(system, "?region=330106")["by_color"] == {"green": 1, "yellow": 1, "red": 0}
