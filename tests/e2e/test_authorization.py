"""Who may do what, over HTTP on the local stack: the JWT authorizer and the roles each route needs."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.people import application, resident_id


def b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def token(stack, **extra) -> str:
    r = stack.http.post(
        f"{stack.base}/dev/tokens", json={"sub": "someone", "roles": ["health_admin"], **extra}, timeout=10
    )
    return r.json()["token"]


def bearer(t: str) -> dict:
    return {"authorization": f"Bearer {t}"}


def test_bad_bearer_tokens_are_refused_before_any_function_runs(stack):
    good = token(stack)
    claims = json.loads(base64.urlsafe_b64decode(good.split(".")[1] + "=="))
    own_key = ECKey.generate_key("P-256", auto_kid=True)
    bad = {
        "wrong audience": token(stack, audience="someone-else"),
        "wrong issuer": token(stack, issuer="https://evil.example"),
        "expired": token(stack, expires_in=-60),
        "unsigned": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "signed by another key": jwt.encode({"alg": "ES256", "kid": own_key.kid}, claims, own_key),
        "garbage": "not-a-jwt",
    }
    for why, t in bad.items():
        r = stack.call("GET", "/v1/codes/me", headers=bearer(t))
        assert r.status_code == 401, why
    assert stack.call("GET", "/v1/codes/me", headers=bearer(good)).status_code == 404  # accepted: no code yet


OV = "ov-" + "0" * 24
AP = "ap-" + "0" * 24
ADMIN, DIRECTOR = ("health_admin",), ("health_admin", "health_director")
PROPOSAL = {"holders": [], "color": "red", "reason": "xxxxx", "until": "2020-01-01"}
ROUTES = [
    ("POST", "/v1/verifications", {"token": "x.y.z", "checkpoint_id": "g"}, ("checkpoint",)),
    ("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 2}, ADMIN),
    (
        "POST",
        "/admin/v1/cases",
        {"cases": [{"id_type": "passport", "id_number": "E12345678", "status": "confirmed"}]},
        ADMIN,
    ),
    ("POST", "/admin/v1/rescoring", {"scope": "due"}, ADMIN),
    ("GET", "/admin/v1/rescoring/x", None, ADMIN),
    ("POST", "/admin/v1/rulesets", {"document": {}}, ADMIN),
    ("GET", "/admin/v1/partners/x1/deliveries", None, ADMIN),
    ("POST", "/admin/v1/tasks/x/ack", None, ("community_worker",)),
    ("GET", "/admin/v1/audit?from=2020-01-01", None, ("auditor",)),
    ("POST", "/admin/v1/rulesets/v9/approval", None, ADMIN),
    # issue 15: appeals (health_admin decides), overrides (proposed by a health_admin, approved, listed
    # and withdrawn by a health_admin or a health_director)
    ("GET", "/admin/v1/appeals?status=open", None, ADMIN),
    ("POST", f"/admin/v1/appeals/{AP}/decision", {"decision": "reject", "reason": "not so"}, ADMIN),
    ("POST", "/admin/v1/overrides", PROPOSAL, ADMIN),
    ("GET", "/admin/v1/overrides", None, DIRECTOR),
    ("GET", f"/admin/v1/overrides/{OV}", None, DIRECTOR),
    ("POST", f"/admin/v1/overrides/{OV}/approval", None, DIRECTOR),
    ("POST", f"/admin/v1/overrides/{OV}/withdrawal", None, DIRECTOR),
    # issues 29 and 30: a partner's reinstatement (health_admin); colour checks (the auditor's)
    ("POST", "/admin/v1/partners/x1/reinstate", {"reason": "checked by phone"}, ADMIN),
    ("POST", "/admin/v1/audit/colour-checks", {"reason": "authorization test"}, ("auditor",)),
    ("GET", "/admin/v1/audit/colour-checks/latest", None, ("auditor",)),
    ("DELETE", "/admin/v1/rulesets/v99999", None, ADMIN),
]
ROLES = ("resident", "checkpoint", "health_admin", "health_director", "auditor", "partner", "community_worker")


def test_task_lists_are_for_community_workers_of_the_area_and_health_admins_only(stack):
    for other in ("resident", "checkpoint", "partner", "health_director", "auditor"):
        r = stack.call("GET", "/admin/v1/tasks?area=330106", sub=f"as-{other}", roles=(other,))
        assert r.status_code == 403, (other, r.text)
    assert stack.call("GET", "/admin/v1/tasks?area=330106", sub="boss", roles=("health_admin",)).status_code == 200
    t = stack.http.post(
        f"{stack.base}/dev/tokens", json={"sub": "w", "roles": ["community_worker"], "areas": ["330106"]}, timeout=10
    ).json()["token"]
    assert stack.call("GET", "/admin/v1/tasks?area=330106001", headers=bearer(t)).status_code == 200
    elsewhere = stack.call("GET", "/admin/v1/tasks?area=330108", headers=bearer(t))
    assert elsewhere.status_code == 403 and "330108" in elsewhere.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body", "roles"), ROUTES)
def test_each_role_route_refuses_every_other_role(stack, method, path, body, roles):
    # the gateway's AuthorizationScopes refuse other scopes and malformed ones alike
    role = roles[0]
    for other in (*ROLES, f"[{role}]", f"x,{role}", role.upper()):
        if other in roles:
            continue
        r = stack.call(method, path, body, sub=f"as-{other}", roles=(other,))
        assert r.status_code == 403 and r.json() == {"message": "Forbidden"}, (other, r.text)
    for allowed in roles:
        assert stack.call(method, path, body, sub=f"allowed-{allowed}", roles=(allowed,)).status_code not in (401, 403)
    assert stack.call(method, path, body, headers={}).status_code == 401  # no token


def test_a_director_approves_but_never_proposes_and_residents_appeal_only_for_themselves(stack):
    r = stack.call("POST", "/admin/v1/overrides", PROPOSAL, sub="d", roles=("health_director",))
    assert r.status_code == 403
    for method, path, body in (
        ("POST", "/v1/appeals", {"factor": "case", "reason": "never tested"}),
        ("GET", "/v1/appeals/mine", None),
        ("GET", "/v1/codes/me/history", None),
    ):
        assert stack.call(method, path, body, headers={}).status_code == 401
        for role in ROLES:  # any signed-in account; it is about the caller's own code only
            assert stack.call(method, path, body, sub=f"nobody-{role}", roles=(role,)).status_code in (200, 404)
    assert stack.call("GET", "/v1/rulesets", headers={}).status_code == 200  # published to everyone


def test_a_resident_only_ever_sees_and_checks_in_for_their_own_code(stack):
    stack.set_clock("2020-05-01T10:00:00+08:00")
    mine = stack.call("POST", "/v1/applications", application(resident_id("330106", seq="811")), sub="alice").json()
    stack.call("POST", "/v1/applications", application(resident_id("330106", seq="812"), temperature=38.5), sub="bob")
    assert stack.call("GET", "/v1/codes/me", sub="alice").json()["color"] == mine["color"] == "green"
    # there is no route that names another holder: bob's check-in changes bob only
    stack.call("POST", "/v1/checkins", {"temperature": 39.0, "symptoms": ["cough"]}, sub="bob")
    assert stack.call("GET", "/v1/codes/me", sub="alice").json()["color"] == "green"
    # and alice cannot take over bob's identity by declaring his ID number (she is verified as herself)
    alice = ("resident_id", resident_id("330106", seq="811"))
    r = stack.call(
        "POST", "/v1/applications", application(resident_id("330106", seq="812")), sub="alice", identity=alice
    )
    assert r.status_code == 403


def test_dev_routes_exist_only_on_the_local_stack(stack):
    from healthcode_local.openapi import OUTPUT
    from healthcode_local.template import Template

    assert not [r for r in Template().routes if r.path.startswith("/dev")]
    assert all(not p.startswith("/dev") for p in json.loads(OUTPUT.read_text(encoding="utf-8"))["paths"])
