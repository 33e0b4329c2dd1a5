"""Integrity II at the edges: requests that used to get a 500 get the 4xx that names the problem, and a
partner can be stopped at once."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from healthcode.tokens import TokenSigner, generate_signing_key, public_jwks
from healthcode_local.lambda_events import http_event
from tests.integration.test_partners import NINGBO_ISSUER, NINGBO_KEY, call, register
from tests.people import application, resident_id

DEEP = "[" * 20_000 + "]" * 20_000


def table(system, name: str) -> list[dict]:
    return system.p.clients["dynamodb"].scan(TableName=system.p.physical(name))["Items"]


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("POST", "/v1/applications", "resident"),
        ("POST", "/v1/checkins", "resident"),
        ("POST", "/v1/verifications", "checkpoint"),
        ("PUT", "/admin/v1/regions/330106", "admin"),
        ("POST", "/admin/v1/cases", "admin"),
        ("POST", "/admin/v1/rulesets", "admin"),
        ("POST", "/admin/v1/rescoring", "admin"),
        ("PUT", "/admin/v1/partners/x1", "admin"),
    ],
)
def test_json_nested_20000_deep_is_a_400_on_every_route_and_changes_nothing(system, method, path, who):
    claims = {
        "resident": {"sub": "u", "verified_id": f"resident_id:{resident_id()}"},
        "checkpoint": {"sub": "g", "scope": "checkpoint", "checkpoints": "g"},
        "admin": {"sub": "o", "scope": "health_admin"},
    }[who]
    r = system.http(method, path, raw_body=DEEP, claims=claims)
    assert r.status == 400 and "nested" in r.json()["detail"], r.body
    assert table(system, "HoldersTable") == [] and table(system, "RegionsTable") == []


def test_unsigned_and_deeply_nested_partner_calls_are_refused_before_their_body_is_read(system):
    secret = register(system)
    for path, method in (("/partner/v1/region-risks", "PUT"), ("/partner/v1/contact-reports", "POST")):
        forged = call(system, method, path, {"not": "the contract"}, secret, sig="A" * 44)
        assert forged.status == 401, forged.body  # the signature, not the body's contract, is checked first
        signed_deep = call(system, method, path, json.loads(DEEP[:60] + DEEP[-60:]), secret)
        assert signed_deep.status in (400, 422), signed_deep.body
    # a deep body with a bad signature never reaches a parser: 401
    raw = DEEP
    event = http_event(
        "PUT",
        "/partner/v1/region-risks",
        "/partner/v1/region-risks",
        body=raw,
        headers={
            "content-type": "application/json",
            "x-hc-partner": "ningbo",
            "x-hc-timestamp": "1",
            "x-hc-nonce": "n",
            "x-hc-signature": "x",
        },
        now=system.now,
    )
    assert system.invoke("PartnerFunction", event)["statusCode"] == 401


def test_odd_header_bytes_are_refused_not_crashed_on(system):
    secret = register(system)
    for header, value in (
        ("X-HC-Signature", "签名" * 10),
        ("X-HC-Nonce", "nönce-\u0000"),
        ("X-HC-Timestamp", "１７"),  # full-width digits
        ("X-HC-Partner", "ningbo\u202e"),
    ):
        data = b"[]"
        from healthcode_local.partner_client import signed_headers

        headers = signed_headers("ningbo", secret, "PUT", "/partner/v1/region-risks", data, int(system.now.timestamp()))
        headers[header] = value
        r = system.http("PUT", "/partner/v1/region-risks", raw_body=data.decode(), headers=headers)
        assert r.status in (401, 403), (header, r.status, r.body)
        event = http_event(
            "PUT",
            "/partner/v1/region-risks",
            "/partner/v1/region-risks",
            body="[]",
            headers={k.lower(): v for k, v in headers.items()},
            now=system.now,
        )
        assert system.invoke("PartnerFunction", event)["statusCode"] == 401, header


@pytest.mark.parametrize(("exp", "iat"), [(2**63, 1), (1, -(2**63)), (2**63, -(2**63)), (True, 1)])
def test_a_partner_code_with_absurd_times_is_a_stop_not_a_crash(system, exp, iat):
    register(system)
    signer = TokenSigner(NINGBO_KEY, NINGBO_ISSUER, 300)
    token = signer.issue("their-code", "green", system.now).value
    head, body, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims.update(exp=exp, iat=iat)
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = system.checkpoint({"token": f"{head}.{forged_body}.{token.split('.')[2]}", "checkpoint_id": "g"})
    assert r.status == 200 and r.json()["decision"] == "stop" and r.json()["code_status"] == "malformed"


def test_an_empty_contact_report_list_is_answered_not_crashed_on(system):
    secret = register(system)
    r = call(system, "POST", "/partner/v1/contact-reports", [], secret)
    assert r.status == 202 and r.json() == {"accepted": 0, "known_holders": 0, "failed": []}


@pytest.mark.parametrize(
    "media", ["APPLICATION/JSON", "application/json; charset=UTF-8", "application/merge-patch+json"]
)
def test_json_media_types_in_any_case_or_with_a_suffix_are_accepted(system, media):
    r = system.resident("u")("POST", "/v1/applications", application(), headers={"content-type": media})
    assert r.status == 200, r.body


def test_a_request_refused_with_429_leaves_its_nonce_for_the_retry(system):
    secret = register(system, rate=1)
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret, nonce="first").status == 200
    refused = call(system, "PUT", "/partner/v1/region-risks", [], secret, nonce="second")
    assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
    system.at(system.now + timedelta(seconds=61))  # the next minute, as Retry-After said
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret, nonce="second").status == 200


def test_a_suspended_partner_is_refused_at_once_and_an_emergency_rotation_has_no_grace(system):
    secret = register(system)
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret).status == 200
    fresh = system.admin("POST", "/admin/v1/partners/ningbo/secret?emergency=true").json()
    assert fresh["previous_secret_valid_until"] is None
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret).status == 401  # the old one: at once
    assert call(system, "PUT", "/partner/v1/region-risks", [], fresh["secret"]).status == 200
    assert system.admin("DELETE", "/admin/v1/partners/ningbo").json()["suspended"] is True
    assert call(system, "PUT", "/partner/v1/region-risks", [], fresh["secret"]).status == 403  # the authorizer
    assert system.admin("DELETE", "/admin/v1/partners/nobody").status == 404


def test_a_suspended_partners_codes_are_no_longer_recognised_after_the_trust_refresh(system):
    register(system)
    their = TokenSigner(NINGBO_KEY, NINGBO_ISSUER, 300).issue("x", "green", system.now).value
    assert system.checkpoint({"token": their, "checkpoint_id": "g"}).json()["code_status"] == "valid"
    system.admin("DELETE", "/admin/v1/partners/ningbo")
    from healthcode import wiring

    wiring.services().partners._trusted = None  # a minute later: the trust list is read again
    assert system.checkpoint({"token": their, "checkpoint_id": "g"}).json()["code_status"] == "unknown_issuer"
    assert generate_signing_key()  # (another key never helps: the issuer is what is no longer trusted)


def test_a_suspended_partner_stays_suspended_through_an_update_until_an_audited_reinstatement(system):
    # Given ningbo suspended after a leaked secret (the runbook's first step)...
    secret = register(system)
    system.admin("DELETE", "/admin/v1/partners/ningbo")
    # ...when an official changes its webhook URL, as the runbook's later steps may
    body = {
        "name": "宁波市",
        "jurisdiction": "3302",
        "scopes": ["verify", "push_risk", "push_contacts"],
        "rate_limit_per_minute": 100,
        "issuer": NINGBO_ISSUER,
        "jwks": public_jwks([NINGBO_KEY]),
        "webhook_url": "http://127.0.0.1:9/hooks",
        "webhook_events": ["color_changed"],
    }
    updated = system.admin("PUT", "/admin/v1/partners/ningbo", body)
    # then it is still suspended: its calls refused, its codes not trusted
    assert updated.status == 200 and updated.json()["suspended"] is True
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret).status == 403
    # a reinstatement needs a reason, and is refused for a partner that is not suspended
    assert system.admin("POST", "/admin/v1/partners/ningbo/reinstate", {}).status == 422
    assert system.admin("POST", "/admin/v1/partners/nobody/reinstate", {"reason": "checked by phone"}).status == 404
    back = system.admin("POST", "/admin/v1/partners/ningbo/reinstate", {"reason": "secret rotated, checked by phone"})
    assert back.status == 200 and back.json()["suspended"] is False
    assert call(system, "PUT", "/partner/v1/region-risks", [], secret).status == 200
    again = system.admin("POST", "/admin/v1/partners/ningbo/reinstate", {"reason": "secret rotated, checked by phone"})
    assert again.status == 409
    # every step is on the trail, the reinstatement with its reason
    trail = system.http(
        "GET", f"/admin/v1/audit?from={system.now.date().isoformat()}", claims={"sub": "a", "scope": "auditor"}
    ).json()
    acts = [(e["action"], e.get("after")) for e in trail["records"] if e["target"] == "ningbo"]
    assert ("partner suspended", {"suspended": True}) in acts
    assert ("partner reinstated", {"suspended": False, "reason": "secret rotated, checked by phone"}) in acts
