"""The pages as the local stack serves them (as the template's distribution would): the files with the
template's security headers, nothing outside web/, and the API's CORS for the pages' origins."""

from __future__ import annotations

import requests

from healthcode_local.template import Template


def test_the_pages_come_with_a_strict_content_security_policy(stack):
    for page in ("/", "/resident.html", "/checkpoint.html", "/dashboard.html", "/js/common.js", "/vendor/jsQR.js"):
        r = requests.get(f"{stack.base}{page}", timeout=10)
        assert r.status_code == 200, page
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Frame-Options"] == "DENY"
    assert requests.get(f"{stack.base}/vendor/jsQR.js", timeout=10).headers["Content-Type"].startswith("text/javascript")
    config = requests.get(f"{stack.base}/config.json", timeout=10).json()
    assert config["dev_sign_in"] is True and config["api"] == ""


def test_nothing_outside_the_pages_is_served(stack):
    for path in ("/package.json", "/package-lock.json", "/node_modules/axe-core/axe.min.js", "/../pyproject.toml",
                 "/%2e%2e/pyproject.toml", "/js/../../README.md", "/nothing.html"):
        r = requests.get(f"{stack.base}{path}", timeout=10)
        assert r.status_code == 404, path
    assert requests.post(f"{stack.base}/resident.html", timeout=10).status_code == 404


def test_the_api_answers_cors_for_the_pages_origins_only(stack):
    allowed = Template().parameter_defaults()["PagesOrigin"]
    pre = requests.options(
        f"{stack.base}/v1/codes/me",
        headers={"Origin": allowed, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization,accept-language"},
        timeout=10,
    )
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == allowed
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"]
    r = requests.get(f"{stack.base}/v1/rulesets/current", headers={"Origin": allowed}, timeout=10)
    assert r.headers["Access-Control-Allow-Origin"] == allowed
    assert "x-token-expires-at" in r.headers["Access-Control-Expose-Headers"]
    other = requests.options(
        f"{stack.base}/v1/codes/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    r = requests.get(f"{stack.base}/v1/rulesets/current", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers


def test_the_dev_openid_provider_hands_out_a_token_only_for_the_right_code_verifier(stack):
    import base64
    import hashlib
    import urllib.parse

    issuer = requests.get(f"{stack.base}/config.json", timeout=10).json()["oidc"]["issuer"]
    found = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert found["code_challenge_methods_supported"] == ["S256"]
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    ask = {"response_type": "code", "client_id": Template().parameter_defaults()["JwtAudience"], "state": "s1",
           "redirect_uri": f"{stack.base}/resident.html", "code_challenge": challenge, "code_challenge_method": "S256",
           "scope": "openid checkpoint"}
    assert requests.get(f"{found['authorization_endpoint']}?{urllib.parse.urlencode(ask | {'code_challenge_method': 'plain'})}",
                        timeout=10).status_code == 400

    def approve() -> str:
        r = requests.post(found["authorization_endpoint"], data=ask | {"sub": "gate-x", "checkpoints": "gate-3"},
                          allow_redirects=False, timeout=10)
        assert r.status_code == 302
        back = urllib.parse.urlsplit(r.headers["Location"])
        q = dict(urllib.parse.parse_qsl(back.query))
        assert q["state"] == "s1"
        return q["code"]

    exchange = {"grant_type": "authorization_code", "redirect_uri": ask["redirect_uri"], "client_id": ask["client_id"]}
    wrong = requests.post(found["token_endpoint"], data=exchange | {"code": approve(), "code_verifier": "x" * 50}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = approve()
    right = requests.post(found["token_endpoint"], data=exchange | {"code": code, "code_verifier": verifier}, timeout=10)
    assert right.status_code == 200
    token = right.json()["access_token"]
    again = requests.post(found["token_endpoint"], data=exchange | {"code": code, "code_verifier": verifier}, timeout=10)
    assert again.status_code == 400  # a code is good once
    # the token is a checkpoint's: it scans for the checkpoint it was given
    scan = requests.post(f"{stack.base}/v1/verifications", json={"token": "x.y.z", "checkpoint_id": "gate-3"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert scan.status_code == 200 and scan.json()["code_status"] == "malformed"
