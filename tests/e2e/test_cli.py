"""The operator's command-line client against the running local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

from tests.people import application, resident_id


def healthcode(stack, *args: str, lang: str = "en_GB.UTF-8") -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it, in the locale ``lang`` (its answers' language)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")} | {"LANG": lang}
    return subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
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
    loaded = json.loads(out.stdout)
    assert out.returncode == 0 and loaded["failed"] == 0
    assert [(r["line"], r["code"], r["level"], r["status"]) for r in loaded["regions"]] == [
        (2, "330110", 5, 200),
        (3, "330111", 2, 200),
    ]

    cases = tmp_path / "cases.csv"
    cases.write_text(f"id_type,id_number,status,on\nresident_id,{number},close_contact,2020-03-30\n", encoding="utf-8")
    out = healthcode(stack, "cases", "submit", str(cases))
    assert out.returncode == 0 and json.loads(out.stdout)["known_holders"] == 1

    assert healthcode(stack, "rescore").returncode == 0
    view = json.loads(healthcode(stack, "code", "cli-holder").stdout)
    assert view["color"] == "red" and {r["factor"] for r in view["reasons"]} >= {"close_contact"}

    bad = healthcode(stack, "region", "set", "999999", "3")  # the API refuses: exit 1, its problem shown
    assert bad.returncode == 1 and "Unknown region" in bad.stdout and "404 Not found" in bad.stderr
    chinese = healthcode(stack, "region", "set", "999999", "3", lang="zh_CN.UTF-8")
    assert chinese.returncode == 1 and "404 未找到" in chinese.stderr


def test_region_set_without_a_name_keeps_the_stored_one(stack):
    stack.set_clock("2020-04-02T10:00:00+08:00")
    first = json.loads(healthcode(stack, "region", "set", "330106", "2").stdout)
    assert first["name"] == "西湖区"  # the registry's name the first time, never the code
    healthcode(stack, "region", "set", "330106", "3", "--name", "西湖区（景区）")
    again = json.loads(healthcode(stack, "region", "set", "330106", "2").stdout)
    assert again["name"] == "西湖区（景区）" and again["level"] == 2


def test_a_csv_that_does_not_match_is_an_error_naming_the_line_and_sends_nothing(stack, tmp_path):
    wrong_header = tmp_path / "levels.csv"
    wrong_header.write_text("region,risk\n330110,5\n", encoding="utf-8")
    out = healthcode(stack, "region", "load", str(wrong_header))
    assert out.returncode == 2 and "line 1" in out.stderr and out.stdout == ""
    bad_row = tmp_path / "rows.csv"
    bad_row.write_text("code,level\n330110,2\n330111,9\n", encoding="utf-8")
    out = healthcode(stack, "region", "load", str(bad_row))
    assert out.returncode == 2 and "line 3" in out.stderr and out.stdout == ""  # line 2 was not sent either
    cases = tmp_path / "cases.csv"
    cases.write_text("id,state\nE1,confirmed\n", encoding="utf-8")
    out = healthcode(stack, "cases", "submit", str(cases))
    assert out.returncode == 2 and "line 1" in out.stderr


def test_a_token_for_someone_else_is_refused_by_code(stack):
    token = stack.token("someone-else")
    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--token", token, "code", "cli-holder"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "someone-else" in out.stderr and out.stdout == ""


def test_a_case_list_larger_than_one_request_is_sent_in_chunks_with_a_summary(stack, tmp_path):
    stack.set_clock("2020-04-03T10:00:00+08:00")
    rows = [
        f"resident_id,{resident_id('330110', born=f'1980{1 + n // 300:02d}{1 + n % 28:02d}', seq=f'{n % 999:03d}')},confirmed,"
        for n in range(1500)
    ]
    cases = tmp_path / "big.csv"
    cases.write_text("id_type,id_number,status,on\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = healthcode(stack, "cases", "submit", str(cases))
    summary = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert summary == {"accepted": 1500, "known_holders": 0, "failed": []}
    assert "sent 1500/1500" in out.stderr


def test_audit_verify_checks_a_days_chain_from_the_records(stack):
    stack.set_clock("2022-09-15T10:00:00+08:00")  # a day no other test comes near: digests sign 48 h back
    assert healthcode(stack, "region", "set", "330106", "2").returncode == 0
    assert healthcode(stack, "region", "set", "330106", "3").returncode == 0
    out = healthcode(stack, "audit", "verify", "--day", "2022-09-15")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["intact"] and report["records"] >= 2, out.stdout + out.stderr
    assert healthcode(stack, "audit", "verify", "--day", "5 April").returncode == 2


def test_every_command_and_option_says_what_it_does():
    import typer

    from healthcode_ops.cli import app

    def walk(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    undocumented = []
    for path, command in walk(typer.main.get_command(app), ["healthcode"]):
        if not (command.help or "").strip():
            undocumented.append(" ".join(path))
        undocumented += [
            f"{' '.join(path)} {p.name}" for p in command.params if not (getattr(p, "help", "") or "").strip()
        ]
    assert undocumented == []
    for args in (["--help"], ["region", "--help"], ["cases", "submit", "--help"], ["rescore", "--help"]):
        out = subprocess.run(
            [sys.executable, "-m", "healthcode_ops", *args], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0 and "Usage: healthcode" in out.stdout


def test_exit_codes_say_what_happened(stack, tmp_path):
    # 3: nobody answers at the URL
    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", "http://127.0.0.1:9", "rescore"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 3 and "did not answer" in out.stderr
    # 2: a wrong command line, nothing sent
    assert healthcode(stack, "rescore", "--wait").returncode == 2
    assert healthcode(stack, "region", "set", "330106", "9").returncode == 2
    # 1: one line of a valid file refused by the API (an unknown region): the others are set
    levels = tmp_path / "levels.csv"
    levels.write_text("code,level\n330106,2\n999999,3\n", encoding="utf-8")
    out = healthcode(stack, "region", "load", str(levels))
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["failed"] == 1
    assert [r["status"] for r in report["regions"]] == [200, 404] and "Unknown region" in report["regions"][1][
        "problem"
    ]


def test_human_output_is_readable_and_the_owners_token_shows_their_code(stack):
    stack.set_clock("2020-04-06T10:00:00+08:00")
    number = resident_id("330106", seq="654")
    assert stack.call("POST", "/v1/applications", application(number), sub="cli-reader").status_code == 200
    token = stack.token("cli-reader")
    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--token", token, "code", "cli-reader"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "GREEN" in out.stdout and "{" not in out.stdout, out.stdout + out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "region", "set", "330108", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stdout.startswith("330108 滨江区: level 2"), out.stdout


def test_rescore_all_waits_for_the_run_with_progress(stack):
    stack.set_clock("2020-04-07T10:00:00+08:00")
    out = healthcode(stack, "rescore", "--all", "--segments", "3", "--wait", "--poll", "0.5", "--timeout", "240")
    run = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert run["finished"] and run["segments_done"] == run["segments_total"] == 3
    assert run["holders_read"] >= 1 and "3/3" in out.stderr


def test_a_leaked_partner_secret_is_revoked_at_once_and_a_partner_suspended(stack):
    from healthcode_local.partner_client import PartnerClient

    stack.set_clock("2020-04-08T10:00:00+08:00")
    r = stack.call(
        "PUT",
        "/admin/v1/partners/jiaxing",
        {"name": "嘉兴市", "jurisdiction": "3304", "scopes": ["verify"], "rate_limit_per_minute": 50},
        sub="officer",
        roles=("health_admin",),
    )
    assert r.status_code == 200, r.text

    def now() -> float:  # the partner signs with the stack's dev clock
        return datetime.fromisoformat(stack.http.get(f"{stack.base}/dev/clock", timeout=10).json()["now"]).timestamp()

    leaked = PartnerClient(stack.base, "jiaxing", r.json()["secret"], clock=now)
    assert leaked.verify("x.y.z").status_code == 200  # answered (an invalid code), so the secret works

    out = healthcode(stack, "partner", "secret", "jiaxing", "--emergency")
    rotated = json.loads(out.stdout)
    assert out.returncode == 0 and rotated["secret"] and rotated["previous_secret_valid_until"] is None
    assert leaked.verify("x.y.z").status_code == 401  # the leaked secret no longer signs anything
    fresh = PartnerClient(stack.base, "jiaxing", rotated["secret"], clock=now)
    assert fresh.verify("x.y.z").status_code == 200

    out = healthcode(stack, "partner", "suspend", "jiaxing")
    assert out.returncode == 0 and json.loads(out.stdout)["suspended"] is True
    assert fresh.verify("x.y.z").status_code == 403
    assert healthcode(stack, "partner", "secret", "Not A Partner!").returncode == 2
