"""Schemathesis drives the running local stack from the committed OpenAPI document: no 5xx, and every
response conforms to the document (status, content type, body schema). Bounded so CI stays fast; the
operations in three parts of about equal cost, which parallel test workers run side by side."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from healthcode_local.openapi import OUTPUT

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


PARTS = {  # every operation in exactly one part (a test of the document below says so)
    "rulesets": ("--include-path-regex", "^/admin/v1/rulesets"),
    "runs and partners": ("--include-path-regex", "^/admin/v1/(rescoring|partners)"),
    "the authority's other routes": ("--include-path-regex", "^/admin/(?!v1/(rulesets|rescoring|partners))"),
    "the public's, residents', checkpoints' and partners' routes": ("--exclude-path-regex", "^/admin/"),
}


def test_the_parts_cover_every_path_once():
    paths = json.loads(OUTPUT.read_text(encoding="utf-8"))["paths"]
    for path in paths:
        admitted = [
            name
            for name, (option, pattern) in PARTS.items()
            if (re.search(pattern, path) is not None) == (option == "--include-path-regex")
        ]
        assert len(admitted) == 1, (path, admitted)


@pytest.mark.heavy
@pytest.mark.parametrize("part", sorted(PARTS))
def test_fuzzing_the_api_finds_no_server_error_and_no_response_outside_the_document(stack, tmp_path, part):
    stack.set_clock("2020-06-01T10:00:00+08:00")
    token = stack.token("fuzzer", "checkpoint", "health_admin")
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "run",
            str(OUTPUT),
            "--url",
            stack.base,
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "6",
            "--phases",
            "coverage,fuzzing",
            "--workers",
            "1",
            "--seed",
            "20200211",
            "--request-timeout",
            "20",
            *PARTS[part],
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
