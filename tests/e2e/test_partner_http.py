"""A partner city over real HTTP on the local stack, with the reference client."""

from __future__ import annotations

import json
import time

from healthcode.tokens import TokenSigner, generate_signing_key, public_jwks
from healthcode_local.partner_client import PartnerClient, signed_headers
from tests.people import application, resident_id


def test_a_partner_city_end_to_end(stack):
    stack.set_clock("2020-07-01T10:00:00+08:00")
    key = generate_signing_key()
    r = stack.call(
        "PUT",
        "/admin/v1/partners/ningbo",
        {
            "name": "宁波市",
            "jurisdiction": "3302",
            "scopes": ["verify", "push_risk"],
            "rate_limit_per_minute": 50,
            "issuer": "https://code.ningbo.example",
            "jwks": public_jwks([key]),
        },
        sub="officer",
        roles=("health_admin",),
    )
    assert r.status_code == 200, r.text
    ningbo = PartnerClient(stack.base, "ningbo", r.json()["secret"], clock=lambda: _now(stack).timestamp())

    token = stack.call("POST", "/v1/applications", application(resident_id("330212", seq="901")), sub="p1").json()
    seen = ningbo.verify(token["token"]["value"])
    assert seen.status_code == 200 and seen.json()["decision"] == "pass"

    risks = ningbo.region_risks([{"region": "330212", "level": 3}, {"region": "330106", "level": 5}])
    assert risks.json()["accepted"] == ["330212"] and risks.json()["rejected"][0]["region"] == "330106"
    assert ningbo.contact_reports([]).status_code == 403  # no push_contacts scope

    body = json.dumps({"token": "x.y.z"}).encode()
    ts = int(_now(stack).timestamp())
    headers = signed_headers("ningbo", ningbo.secret, "POST", "/partner/v1/verifications", body, ts, "fixed")
    first = stack.http.post(f"{stack.base}/partner/v1/verifications", data=body, headers=headers, timeout=10)
    replay = stack.http.post(f"{stack.base}/partner/v1/verifications", data=body, headers=headers, timeout=10)
    assert (first.status_code, replay.status_code) == (200, 401)

    # our checkpoints learn of a new partner within seconds: the trusted list is re-read when an unknown
    # issuer shows up (at most every 10 s per environment, so random issuers cannot hammer the table)
    theirs = TokenSigner(key, "https://code.ningbo.example").issue("nb-1", "green", _now(stack)).value
    deadline = time.monotonic() + 20
    while True:
        v = stack.call(
            "POST", "/v1/verifications", {"token": theirs, "checkpoint_id": "hz-1"}, sub="gate", roles=("checkpoint",)
        ).json()
        if v["code_status"] != "unknown_issuer" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert (v["issuer"], v["code_status"], v["decision"]) == ("https://code.ningbo.example", "valid", "pass")


def _now(stack):
    from datetime import datetime

    return datetime.fromisoformat(stack.http.get(f"{stack.base}/dev/clock", timeout=10).json()["now"])
