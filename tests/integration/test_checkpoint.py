"""Checkpoints scan codes: every code status of the contract, the colour now, one read per scan."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from healthcode.adapters import keyring as key_tool
from healthcode.tokens import TokenSigner, generate_signing_key
from tests.people import application


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def holder(system):
    view = system.resident("u")("POST", "/v1/applications", application()).json()
    return view["token"]["value"]


def scan(system, token, checkpoint="gate-7"):
    r = system.checkpoint({"token": token, "checkpoint_id": checkpoint})
    assert r.status == 200, r.body
    return r.json()


def test_a_green_code_passes_with_only_a_masked_name(system, holder):
    v = scan(system, holder)
    assert (v["decision"], v["color"], v["code_status"], v["masked_name"]) == ("pass", "green", "valid", "王*波")
    assert set(v) == {
        "decision",
        "color",
        "code_status",
        "instruction",
        "masked_name",
        "checked_at",
        "issuer",
        "degraded",
    }


def test_every_scan_is_logged_for_28_days(system, holder):
    scan(system, holder, "subway-12")
    items = system.p.clients["dynamodb"].scan(TableName=system.p.physical("ScansTable"))["Items"]
    assert len(items) == 1 and items[0]["checkpoint_id"]["S"] == "subway-12" and items[0]["color"]["S"] == "green"
    assert int(items[0]["expires_at"]["N"]) == int((system.now + timedelta(days=28)).timestamp())


def test_a_code_expires_after_5_minutes_with_30_seconds_of_skew(system, holder):
    start = system.now
    system.at(start + timedelta(minutes=5, seconds=29))
    assert scan(system, holder)["code_status"] == "valid"
    system.at(start + timedelta(minutes=5, seconds=31))
    v = scan(system, holder)
    assert (v["decision"], v["code_status"], v["color"]) == ("stop", "expired", None)
    assert "refresh" in v["instruction"]


def test_tampered_and_forged_codes_are_stopped_as_invalid_signature(system, holder):
    head, body, sig = holder.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    red_to_green = _b64(claims | {"cid": "someone-else"})
    assert scan(system, f"{head}.{red_to_green}.{sig}")["code_status"] == "invalid_signature"
    flipped = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    assert scan(system, f"{head}.{body}.{flipped}")["code_status"] == "invalid_signature"
    unsigned = _b64({"alg": "none", "typ": "JWT"})
    assert scan(system, f"{unsigned}.{body}.")["code_status"] == "invalid_signature"
    forger = TokenSigner(generate_signing_key(), claims["iss"])  # right issuer, wrong key
    forged = forger.issue(claims["cid"], "green", system.now).value
    v = scan(system, forged)
    assert (v["decision"], v["code_status"]) == ("stop", "invalid_signature")


def test_a_code_from_an_unknown_issuer_or_for_an_unknown_holder(system, holder):
    stranger = TokenSigner(generate_signing_key(), "https://fake-code.example").issue("x", "green", system.now).value
    v = scan(system, stranger)
    assert (v["code_status"], v["issuer"]) == ("unknown_issuer", "https://fake-code.example")
    sm = system.p.clients["secretsmanager"]
    ours = key_tool.current_keys(sm, system.p.physical("SigningKeySecret"))
    active = next(k for k in ours["keys"] if k["kid"] == ours["active_kid"])
    ghost = TokenSigner(active, system.p.environment("VerifyFunction")["CODE_ISSUER"]).issue(
        "no-such-code", "green", system.now
    )
    assert scan(system, ghost.value)["code_status"] == "unknown_code"


@pytest.mark.parametrize("garbage", ["hello", "a.b.c", "", "....", "eyJ.eyJ.x", "x" * 5000])
def test_garbage_is_malformed_or_refused(system, garbage):
    r = system.checkpoint({"token": garbage, "checkpoint_id": "gate"})
    if 0 < len(garbage) <= 4096:
        assert r.status == 200 and r.json()["code_status"] == "malformed" and r.json()["decision"] == "stop"
    else:
        assert r.status == 422


def test_a_code_that_turned_red_since_it_was_shown_is_caught(system):
    me = system.resident("traveller")
    body = application(travel_history=[{"region": "330102", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}])
    shown = me("POST", "/v1/applications", body).json()
    assert shown["color"] == "green"
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 5})
    system.deliver_queue()
    v = scan(system, shown["token"]["value"])
    assert (v["decision"], v["color"], v["code_status"]) == ("stop", "red", "valid")
    assert "now red" in v["instruction"]


def test_one_read_and_one_write_per_verification(as_deployed, holder):
    system = as_deployed
    scan(system, holder)  # warm: the partner trust list is a snapshot read once per max age, not per scan
    calls = []
    db = system.p.clients["dynamodb"]
    db.meta.events.register("before-call.dynamodb.*", lambda model, **kw: calls.append(model.name))
    scan(system, holder)
    assert calls == ["Query", "PutItem"]


def test_the_signing_keys_are_public_and_match_the_token_kid(system, holder):
    r = system.http("GET", "/.well-known/jwks.json")
    assert r.status == 200
    header = json.loads(base64.urlsafe_b64decode(holder.split(".")[0] + "=="))
    published = r.json()["keys"]
    assert header["kid"] in {k["kid"] for k in published}
    assert all("d" not in k for k in published)  # never a private part


def test_verification_needs_the_checkpoint_role_and_both_fields(system, holder):
    assert (
        system.http("POST", "/v1/verifications", {"token": holder, "checkpoint_id": "g"}, claims={"sub": "x"}).status
        == 403
    )
    r = system.checkpoint({"token": holder})
    assert r.status == 422 and r.json()["errors"][0]["field"] == "checkpoint_id"
    assert system.checkpoint({"token": 42, "checkpoint_id": "g"}).status == 422
    assert system.http("POST", "/v1/verifications", {"token": holder, "checkpoint_id": "g"}).status == 401


def test_key_rotation_keeps_codes_issued_with_the_previous_key_valid(system, holder):
    p = system.p
    key_tool.rotate(
        p.clients["secretsmanager"], p.clients["ssm"], p.physical("SigningKeySecret"), p.physical("JwksParameter")
    )
    system.at(system.now + timedelta(minutes=1))
    from healthcode import wiring

    wiring.services().keys.clear_cache()  # as if the 5-minute parameters cache had expired
    fresh = system.resident("u")("GET", "/v1/codes/me").json()["token"]["value"]
    assert fresh.split(".")[0] != holder.split(".")[0]
    assert scan(system, holder)["code_status"] == "valid"  # the previous key is still published
    assert scan(system, fresh)["code_status"] == "valid"


def test_a_code_signed_by_a_key_rotated_in_after_the_verifier_cached_the_keys_is_valid(system, holder):
    scan(system, holder)  # the verifier has cached the published keys
    p = system.p
    key_tool.rotate(
        p.clients["secretsmanager"], p.clients["ssm"], p.physical("SigningKeySecret"), p.physical("JwksParameter")
    )
    sm = p.clients["secretsmanager"]
    doc = key_tool.current_keys(sm, p.physical("SigningKeySecret"))
    new_key = next(k for k in doc["keys"] if k["kid"] == doc["active_kid"])
    claims = json.loads(base64.urlsafe_b64decode(holder.split(".")[1] + "=="))
    fresh = TokenSigner(new_key, claims["iss"]).issue(claims["cid"], "green", system.now).value
    assert scan(system, fresh)["code_status"] == "valid"  # unknown kid: one forced refresh of the keys


def test_a_leaked_signing_key_is_retired_and_its_codes_stop_passing(system, holder):
    p = system.p
    sm, ssm = p.clients["secretsmanager"], p.clients["ssm"]
    where = (sm, ssm, p.physical("SigningKeySecret"), p.physical("JwksParameter"))
    leaked = key_tool.current_keys(sm, where[2])["active_kid"]
    assert scan(system, holder)["decision"] == "pass"
    with pytest.raises(KeyError):
        key_tool.retire(*where, "no-such-key")
    active = key_tool.retire(*where, leaked)
    published = {k["kid"] for k in json.loads(ssm.get_parameter(Name=where[3])["Parameter"]["Value"])["keys"]}
    assert active != leaked and leaked not in published and active in published
    from healthcode import wiring

    wiring.services().keys.clear_cache()  # as once the verifiers' parameters cache has expired
    forged_or_not = scan(system, holder)  # signed with the leaked key: a forger's code looks the same
    assert (forged_or_not["decision"], forged_or_not["code_status"]) == ("stop", "invalid_signature")
    fresh = system.resident("u")("GET", "/v1/codes/me").json()["token"]["value"]
    assert scan(system, fresh)["decision"] == "pass"  # the holder's app fetches a code with the new key


def _claims(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def test_algorithm_confusion_hs256_with_the_published_key_is_refused(system, holder):
    import hashlib
    import hmac

    jwk = system.http("GET", "/.well-known/jwks.json").json()["keys"][0]
    secret = json.dumps(jwk).encode()  # what a confused verifier would use as an HMAC key
    header = _b64({"alg": "HS256", "kid": jwk["kid"]})
    body = _b64(_claims(holder))
    sig = base64.urlsafe_b64encode(hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()).rstrip(b"=")
    assert scan(system, f"{header}.{body}.{sig.decode()}")["code_status"] == "invalid_signature"


def test_a_code_issued_in_the_future_is_not_one_of_ours(system, holder):
    sm = system.p.clients["secretsmanager"]
    ours = key_tool.current_keys(sm, system.p.physical("SigningKeySecret"))
    active = next(k for k in ours["keys"] if k["kid"] == ours["active_kid"])
    claims = _claims(holder)
    future = TokenSigner(active, claims["iss"]).issue(claims["cid"], "green", system.now + timedelta(minutes=2)).value
    v = scan(system, future)
    assert (v["decision"], v["code_status"]) == ("stop", "malformed")


def test_a_validly_signed_code_with_an_unpublished_kid_is_refused(system, holder):
    rogue = generate_signing_key()  # a correct signature, by a key nobody published
    claims = _claims(holder)
    forged = TokenSigner(rogue, claims["iss"]).issue(claims["cid"], "green", system.now).value
    assert scan(system, forged)["code_status"] == "invalid_signature"


def scans_logged(system) -> list[dict]:
    return system.p.clients["dynamodb"].scan(TableName=system.p.physical("ScansTable"))["Items"]


def test_one_code_at_one_checkpoint_counts_once_a_minute(system, holder):
    for _ in range(3):  # a code held in front of the camera, a retried request
        assert scan(system, holder)["decision"] == "pass"
    assert len(scans_logged(system)) == 1
    scan(system, holder, "gate-8")  # another gate: its own scan
    system.at(system.now + timedelta(minutes=1))
    scan(system, holder)  # a minute later: the holder came back
    assert len(scans_logged(system)) == 3


def test_an_offline_scan_uploaded_later_is_judged_as_of_then_counted_once_and_a_change_since_is_caught(system):
    me = system.resident("offline-traveller")
    body = application(travel_history=[{"region": "330102", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}])
    shown = me("POST", "/v1/applications", body).json()["token"]["value"]
    scanned_at = system.now.isoformat()
    system.admin("PUT", "/admin/v1/regions/330102", {"name": "上城区", "level": 5})
    system.deliver_queue()
    system.at(system.now + timedelta(minutes=40))  # the network came back long after the code expired
    upload = {"token": shown, "checkpoint_id": "gate-7", "scanned_at": scanned_at}
    answers = [system.checkpoint(upload) for _ in range(2)]  # the queue sent twice (a lost answer)
    assert [a.status for a in answers] == [200, 200]
    v = answers[0].json()
    assert (v["code_status"], v["color"]) == ("valid", "red") and "now red" in v["instruction"]
    (item,) = scans_logged(system)
    minute = datetime.fromisoformat(scanned_at).astimezone(UTC).replace(second=0, microsecond=0)
    assert item["scanned_at"]["S"].startswith(minute.isoformat(timespec="milliseconds"))  # logged when it was checked
    # the gate let a holder through on green who had turned red: late, but the office of their county is told
    worker = {"sub": "w-late", "scope": "community_worker", "areas": "330102"}
    tasks = system.http("GET", "/admin/v1/tasks?area=330102&status=open", claims=worker).json()["items"]
    late = [t for t in tasks if t["kind"] == "late_scan"]
    assert len(late) == 1 and (late[0]["old_color"], late[0]["color"]) == ("green", "red"), tasks
    assert "2 hours" in late[0]["instruction"] and late[0]["holder"] == "王*波"
    too_old = system.checkpoint(upload | {"scanned_at": (system.now - timedelta(hours=25)).isoformat()})
    assert too_old.status == 422 and "scanned_at" in too_old.body
    naive = system.checkpoint(upload | {"scanned_at": "2020-02-17T09:00:00"})
    assert naive.status == 422
