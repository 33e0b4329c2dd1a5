"""The runbook covers every alarm the template raises, and every operator command it names exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from healthcode_local.template import Template

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")


def test_every_alarm_in_the_template_has_a_section_saying_what_to_do():
    alarms = {name for name, r in Template().resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    sections = set(re.findall(r"^### (\w+Alarm):", RUNBOOK, flags=re.M))
    assert alarms and sections == alarms
    for leak in ("## A partner's secret has leaked", "## Our signing key has leaked"):
        assert leak in RUNBOOK


def test_every_command_and_resource_the_runbook_names_exists():
    resources = Template().resources
    for logical in re.findall(r"\$\((?:res|arn) (\w+)\)", RUNBOOK):
        assert logical in resources, logical
    commands = {tuple(c.split()[1:3]) for c in re.findall(r"healthcode [a-z]+(?: [a-z]+)?", RUNBOOK)}
    assert ("keys", "rotate") in commands and ("partner", "secret") in commands
    for words in commands:
        words = tuple(w for w in words if w not in {"ningbo"})
        r = subprocess.run([str(REPO / ".venv/bin/healthcode"), *words, "--help"], capture_output=True, text=True)
        assert r.returncode == 0, (words, r.stderr)
    help_text = subprocess.run(
        [str(REPO / ".venv/bin/healthcode"), "keys", "rotate", "--help"], capture_output=True, text=True
    ).stdout
    assert "--retire" in help_text
