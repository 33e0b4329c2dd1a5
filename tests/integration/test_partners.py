"""Partner cities over signed requests: registry, signatures, replay, skew, scopes, jurisdiction,
rate limits, secret rotation, mutual recognition of their codes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from healthcode.tokens import TokenSigner, generate_signing_key, public_jwks
from healthcode_local.partner_client import signed_headers
from tests.people import application, resident_id

NINGBO_KEY = generate_signing_key()
NINGBO_ISSUER = "https://code.ningbo.example"


def register(system, partner_id="ningbo", scopes=("verify", "push_risk", "push_contacts"), rate=100, **extra):
    body = {
        "name": "宁波市",
        "jurisdiction": "3302",
        "scopes": list(scopes),
        "rate_limit_per_minute": rate,
        "issuer": NINGBO_ISSUER,
        "jwks": public_jwks([NINGBO_KEY]),
    } | extra
    r = system.admin("PUT", f"/admin/v1/partners/{partner_id}", body)
    assert r.status == 200, r.body
    return r.json()["secret"]


def call(system, method, path, body, secret, partner_id="ningbo", ts=None, nonce=None, sig=None):
    data = json.dumps(body).encode()
    ts = int(system.now.timestamp()) if ts is None else ts
    headers = signed_headers(partner_id, secret, method, path, data, ts, nonce)
    if sig:
        headers["X-HC-Signature"] = sig
    return system.http(method, path, raw_body=data.decode(), headers=headers)


@pytest.fixture
def ningbo(system):
    return register(system)


def test_a_new_partner_gets_its_secret_once_and_it_is_kept_in_secrets_manager(system, ningbo):
    assert ningbo and len(ningbo) > 30
    again = system.admin(
        "PUT",
        "/admin/v1/partners/ningbo",
        {"name": "宁波", "jurisdiction": "3302", "scopes": ["verify"], "rate_limit_per_minute": 10},
    )
    assert again.json()["secret"] is None  # not shown again
    items = system.p.clients["dynamodb"].scan(TableName=system.p.physical("PartnersTable"))["Items"]
    assert ningbo not in json.dumps(items)


def test_a_partner_verifies_one_of_our_codes_without_seeing_a_name(system, ningbo):
    token = system.resident("u")("POST", "/v1/applications", application()).json()["token"]["value"]
    r = call(system, "POST", "/partner/v1/verifications", {"token": token}, ningbo)
    assert r.status == 200, r.body
    assert r.json()["decision"] == "pass" and set(r.json()) == {
        "decision",
        "color",
        "code_status",
        "checked_at",
        "degraded",
    }


def test_replay_wrong_signature_unknown_partner_and_missing_headers_are_refused(system, ningbo):
    body = {"token": "x.y.z"}
    assert call(system, "POST", "/partner/v1/verifications", body, ningbo, nonce="once").status == 200
    replay = call(system, "POST", "/partner/v1/verifications", body, ningbo, nonce="once")
    assert replay.status == 401 and "replay" in replay.json()["detail"]
    assert call(system, "POST", "/partner/v1/verifications", body, ningbo, sig="AAAA").status == 401
    assert call(system, "POST", "/partner/v1/verifications", body, "not-the-secret").status == 401
    assert call(system, "POST", "/partner/v1/verifications", body, ningbo, partner_id="nobody").status == 403
    assert system.http("POST", "/partner/v1/verifications", body).status == 401  # no signature headers


@pytest.mark.parametrize(("offset", "status"), [(-300, 200), (300, 200), (-301, 403), (301, 403)])
def test_clock_skew_is_accepted_up_to_300_seconds_either_way(system, ningbo, offset, status):
    ts = int(system.now.timestamp()) + offset
    assert call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, ningbo, ts=ts).status == status


def test_a_partner_acts_only_within_its_scopes(system):
    secret = register(system, "hz-lab", scopes=("verify",))
    r = call(system, "PUT", "/partner/v1/region-risks", [{"region": "330212", "level": 3}], secret, partner_id="hz-lab")
    assert r.status == 403
    assert system.p.clients["dynamodb"].scan(TableName=system.p.physical("RegionsTable"))["Items"] == []


def test_region_risks_outside_the_jurisdiction_are_rejected_one_by_one(system, ningbo):
    system.resident("u")(
        "POST",
        "/v1/applications",
        application(travel_history=[{"region": "330212", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}]),
    )
    risks = [{"region": "330212", "level": 5}, {"region": "330106", "level": 5}, {"region": "330299", "level": 3}]
    r = call(system, "PUT", "/partner/v1/region-risks", risks, ningbo)
    assert r.status == 200, r.body
    assert r.json()["accepted"] == ["330212"]
    reasons = {x["region"]: x["reason"] for x in r.json()["rejected"]}
    assert "jurisdiction" in reasons["330106"] and "unknown region" in reasons["330299"]
    system.deliver_queue()  # accepted levels trigger rescoring like an admin change
    assert system.resident("u")("GET", "/v1/codes/me").json()["color"] == "red"


def test_contact_reports_rescore_known_holders_and_wait_for_unknown_ones(system, ningbo):
    known, later = resident_id("330212", seq="501"), resident_id("330212", seq="502")
    system.resident("known")("POST", "/v1/applications", application(known))
    reports = [
        {"id_type": "resident_id", "id_number": n, "kind": "close_contact", "on": "2020-02-16"} for n in (known, later)
    ]
    r = call(system, "POST", "/partner/v1/contact-reports", reports, ningbo)
    assert r.status == 202 and r.json() == {"accepted": 2, "known_holders": 1, "failed": []}
    system.deliver_queue()
    assert system.resident("known")("GET", "/v1/codes/me").json()["color"] == "red"
    assert system.resident("later")("POST", "/v1/applications", application(later)).json()["color"] == "red"
    assert later not in json.dumps(system.holder_items())  # kept as a keyed hash


def test_a_partner_over_its_rate_limit_gets_429_with_retry_after(system):
    secret = register(system, "small-town", rate=3)
    statuses = [
        call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, secret, partner_id="small-town").status
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    r = call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, secret, partner_id="small-town")
    assert int(r.headers["retry-after"]) >= 1


def test_a_rotated_secret_overlaps_with_the_old_one_for_a_day(system, ningbo):
    r = system.admin("POST", "/admin/v1/partners/ningbo/secret")
    assert r.status == 200
    new = r.json()["secret"]
    assert new != ningbo and r.json()["previous_secret_valid_until"]
    for secret in (ningbo, new):
        assert call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, secret).status == 200
    system.at(system.now + timedelta(hours=25))
    assert call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, ningbo).status == 401
    assert call(system, "POST", "/partner/v1/verifications", {"token": "x.y.z"}, new).status == 200


def test_our_checkpoints_recognise_codes_issued_by_a_trusted_partner(system, ningbo):
    signer = TokenSigner(NINGBO_KEY, NINGBO_ISSUER)
    green = signer.issue("nb-123", "green", system.now).value
    v = system.checkpoint({"token": green, "checkpoint_id": "hz-east-station"}).json()
    assert (v["decision"], v["color"], v["code_status"], v["issuer"]) == ("pass", "green", "valid", NINGBO_ISSUER)
    red = signer.issue("nb-456", "red", system.now).value
    assert system.checkpoint({"token": red, "checkpoint_id": "g"}).json()["decision"] == "stop"
    stranger = (
        TokenSigner(generate_signing_key(), "https://code.elsewhere.example").issue("x", "green", system.now).value
    )
    assert system.checkpoint({"token": stranger, "checkpoint_id": "g"}).json()["code_status"] == "unknown_issuer"
    forged = TokenSigner(generate_signing_key(), NINGBO_ISSUER).issue("nb-123", "green", system.now).value
    assert system.checkpoint({"token": forged, "checkpoint_id": "g"}).json()["code_status"] == "invalid_signature"


def test_partner_admin_needs_the_health_admin_role(system):
    r = system.http(
        "PUT",
        "/admin/v1/partners/x1",
        {"name": "x", "jurisdiction": "33", "scopes": [], "rate_limit_per_minute": 1},
        claims={"sub": "c", "scope": "checkpoint", "checkpoints": "g"},
    )
    assert r.status == 403
    assert system.admin("POST", "/admin/v1/partners/nobody/secret").status == 404


@pytest.mark.parametrize("jwks", [{"keys": [{"kty": "EC"}]}, {"nope": 1}, {"keys": [generate_signing_key()]}])
def test_a_partner_key_set_that_is_unusable_or_private_is_refused(system, jwks):
    r = system.admin(
        "PUT",
        "/admin/v1/partners/bad",
        {
            "name": "x",
            "jurisdiction": "33",
            "scopes": ["verify"],
            "rate_limit_per_minute": 1,
            "issuer": "https://x",
            "jwks": jwks,
        },
    )
    assert r.status == 422 and r.json()["errors"][0]["field"] == "jwks"


def test_a_partner_whose_keys_are_published_at_a_url_is_recognised(system):
    import http.server
    import threading

    key = generate_signing_key()
    body = json.dumps(public_jwks([key])).encode()

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        r = system.admin(
            "PUT",
            "/admin/v1/partners/wenzhou",
            {
                "name": "温州市",
                "jurisdiction": "3303",
                "scopes": ["verify"],
                "rate_limit_per_minute": 10,
                "issuer": "https://wz.example",
                "jwks_url": url,
            },
        )
        assert r.status == 200
        token = TokenSigner(key, "https://wz.example").issue("wz-1", "green", system.now).value
        # a checkpoint never fetches another city's keys inside its request...
        v = system.checkpoint({"token": token, "checkpoint_id": "g"}).json()
        assert (v["code_status"], v["decision"]) == ("unknown_issuer", "stop")
        # ...the scheduled refresher does, and stores them in the trust list
        assert system.invoke("RefreshPartnerKeysFunction", {}) == {"partners": {"wenzhou": "ok"}}
        v = system.checkpoint({"token": token, "checkpoint_id": "g"}).json()
        assert (v["code_status"], v["decision"], v["issuer"]) == ("valid", "pass", "https://wz.example")
    finally:
        server.shutdown()
        server.server_close()
    # the server is gone: the keys fetched before still stand, and the refresher says so
    assert system.invoke("RefreshPartnerKeysFunction", {}) == {"partners": {"wenzhou": "unreachable"}}
    v = system.checkpoint({"token": token, "checkpoint_id": "g"}).json()
    assert v["code_status"] == "valid"
