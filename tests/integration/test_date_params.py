"""Every day a route takes is range-checked (issue 30): an impossible or out-of-range date is a 422 that
names the parameter, never a 500 — for every date parameter the OpenAPI document lists, so a new route
with a day is covered without a new test."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode.api.params import FIRST_DAY, LAST_DAY

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi.json").read_text())
SCOPES = "health_admin health_director auditor community_worker checkpoint"
PATH_VALUES = {"checkpoint_id": "gate-a", "code": "330106"}
REQUIRED = {"area": "330106", "from": "2020-02-17"}  # the other required parameters of routes with a day


def date_parameters() -> list[tuple[str, str]]:
    out = []
    for path, operations in DOCUMENT["paths"].items():
        for method, op in operations.items():
            for p in op.get("parameters", []):
                if "date" in json.dumps(p.get("schema", {})) and method == "get":
                    out.append((path, p["name"]))
    return out


PARAMETERS = date_parameters()


def ask(system, path: str, name: str, value: str):
    concrete = path.format(**PATH_VALUES)
    required = [
        p["name"]
        for p in DOCUMENT["paths"][path]["get"].get("parameters", [])
        if p.get("required") and p["in"] == "query" and p["name"] != name
    ]
    query = "&".join([f"{name}={value}", *(f"{r}={REQUIRED[r]}" for r in required)])
    return system.http("GET", f"{concrete}?{query}", claims={"sub": "officer-1", "scope": SCOPES, "areas": '["330106"]'})


def test_the_document_lists_the_routes_with_a_day():
    assert {p for p, _ in PARAMETERS} >= {
        "/admin/v1/checkpoints/{checkpoint_id}/scans",
        "/admin/v1/areas/{code}/scans",
        "/admin/v1/stats",
        "/admin/v1/audit",
        "/v1/index",
        "/v1/map",
    }


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2019-11-30", "2100-01-01", "2020-02-30", "20200217"])
@pytest.mark.parametrize(("path", "name"), PARAMETERS, ids=[f"{p} {n}" for p, n in PARAMETERS])
def test_a_day_outside_the_span_or_impossible_is_a_422_naming_the_parameter(system, path, name, value):
    r = ask(system, path, name, value)
    assert r.status == 422, (path, name, value, r.status, r.text[:300])
    assert name in [e["field"].rsplit(".", 1)[-1] for e in r.json()["errors"]], r.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.dates(FIRST_DAY, LAST_DAY), which=st.sampled_from(PARAMETERS))
def test_any_day_in_the_span_is_answered_without_a_server_error(system, day: date, which):
    path, name = which
    r = ask(system, path, name, day.isoformat())
    assert r.status < 500, (path, name, day, r.text[:300])
