"""The operator's command-line client against the running local stack."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.people import application, resident_id


def healthcode(stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_operator_commands(stack, tmp_path):
    stack.set_clock("2020-04-01T10:00:00+08:00")
    number = resident_id("330110", seq="321")
    body = application(
        number, travel_history=[{"region": "330110", "arrived_on": "2020-03-28", "left_on": "2020-03-31"}]
    )
    assert stack.call("POST", "/v1/applications", body, sub="cli-holder").status_code == 200

    token = healthcode(stack, "token", "someone", "--roles", "checkpoint")
    assert token.returncode == 0 and token.stdout.count(".") == 2

    out = healthcode(stack, "region", "set", "330110", "3", "--name", "余杭区")
    assert out.returncode == 0 and json.loads(out.stdout)["level"] == 3

    csv_file = tmp_path / "levels.csv"
    csv_file.write_text("code,name,level\n330110,余杭区,5\n330111,富阳区,2\n", encoding="utf-8")
    out = healthcode(stack, "region", "load", str(csv_file))
    assert out.returncode == 0 and "330110 5: 200" in out.stdout

    cases = tmp_path / "cases.csv"
    cases.write_text(f"id_type,id_number,status,on\nresident_id,{number},close_contact,2020-03-30\n", encoding="utf-8")
    out = healthcode(stack, "cases", "submit", str(cases))
    assert out.returncode == 0 and json.loads(out.stdout)["known_holders"] == 1

    assert healthcode(stack, "rescore").returncode == 0
    view = json.loads(healthcode(stack, "code", "cli-holder").stdout)
    assert view["color"] == "red" and {r["factor"] for r in view["reasons"]} >= {"close_contact"}

    bad = healthcode(stack, "region", "set", "999999", "3")
    assert bad.returncode == 1 and "Unknown region" in bad.stdout
