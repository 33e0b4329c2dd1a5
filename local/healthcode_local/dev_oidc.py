"""A development OpenID provider on the local stack (``/dev/oidc/...``, never deployed): discovery, an
authorization page where you say who you are, and a token endpoint that checks PKCE (RFC 7636, S256)
before it hands out the same bearer JWTs ``/dev/tokens`` mints. The pages sign in through it exactly as
they sign in against the deployment's identity provider, so that flow is exercised here too."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from healthcode_local.system import HttpResult

PREFIX = "/dev/oidc"
CODE_SECONDS = 60
ROLES = {"checkpoint", "health_admin", "health_director", "community_worker", "auditor"}


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    sub: str
    roles: list[str]
    identity: dict[str, str] | None
    checkpoints: list[str] | None
    expires: float


def _json(status: int, body: Any, **headers: str) -> HttpResult:
    return HttpResult(status, {"content-type": "application/json", "cache-control": "no-store", **headers},
                      json.dumps(body))


def _form(text: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


class DevOidc:
    def __init__(self, base_url: str, client_id: str, mint: Any) -> None:
        self.issuer = base_url + PREFIX
        self.client_id = client_id
        self._mint = mint  # DevIdentityProvider.mint
        self._grants: dict[str, _Grant] = {}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    def handle(self, method: str, path: str, body: bytes) -> HttpResult | None:
        route, _, query = path.partition("?")
        if route == f"{PREFIX}/.well-known/openid-configuration" and method == "GET":
            return _json(200, self.discovery())
        if route == f"{PREFIX}/authorize" and method == "GET":
            return self._page(_form(query))
        if route == f"{PREFIX}/authorize" and method == "POST":
            return self._approve(_form(body.decode("utf-8", "replace")))
        if route == f"{PREFIX}/token" and method == "POST":
            return self._token(_form(body.decode("utf-8", "replace")))
        return None

    def _refused(self, q: dict[str, str]) -> str | None:
        if q.get("response_type") != "code":
            return "response_type must be code"
        if q.get("client_id") != self.client_id:
            return "unknown client_id"
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) < 43:
            return "PKCE with S256 is required"
        if not urllib.parse.urlsplit(q.get("redirect_uri", "")).scheme.startswith("http"):
            return "redirect_uri is required"
        return None

    def _page(self, q: dict[str, str]) -> HttpResult:
        refused = self._refused(q)
        if refused:
            return HttpResult(400, {"content-type": "text/plain; charset=utf-8"}, refused)
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in q.items())
        page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>开发用实名认证 · dev sign-in</title></head>
<body><main><h1>开发用实名认证 · dev identity provider</h1>
<p>{html.escape(q.get("scope", ""))}</p>
<form method="post" action="{PREFIX}/authorize">{hidden}
<label>账号 sub <input name="sub" required></label>
<label>身份证号 verified ID number <input name="id_number"></label>
<label>卡口 checkpoints <input name="checkpoints"></label>
<button type="submit">同意并登录 · sign in</button></form></main></body></html>"""
        return HttpResult(200, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}, page)

    def _approve(self, q: dict[str, str]) -> HttpResult:
        refused = self._refused(q)
        if refused or not q.get("sub"):
            return HttpResult(400, {"content-type": "text/plain; charset=utf-8"}, refused or "sub is required")
        code = secrets.token_urlsafe(24)
        number = q.get("id_number", "").strip()
        self._grants[code] = _Grant(
            client_id=q["client_id"],
            redirect_uri=q["redirect_uri"],
            challenge=q["code_challenge"],
            sub=q["sub"],
            roles=sorted(set(q.get("scope", "").split()) & ROLES),
            identity={"id_type": "resident_id", "id_number": number} if number else None,
            checkpoints=q.get("checkpoints", "").split() or None,
            expires=time.monotonic() + CODE_SECONDS,
        )
        back = urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return HttpResult(302, {"location": f"{q['redirect_uri']}{sep}{back}", "cache-control": "no-store"}, "")

    def _token(self, q: dict[str, str]) -> HttpResult:
        grant = self._grants.pop(q.get("code", ""), None)  # a code is good once
        if q.get("grant_type") != "authorization_code" or grant is None or grant.expires < time.monotonic():
            return _json(400, {"error": "invalid_grant"})
        if q.get("client_id") != grant.client_id or q.get("redirect_uri") != grant.redirect_uri:
            return _json(400, {"error": "invalid_grant", "error_description": "client or redirect_uri differs"})
        digest = hashlib.sha256(q.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return _json(400, {"error": "invalid_grant", "error_description": "code_verifier does not match"})
        token = self._mint(grant.sub, grant.roles, identity=grant.identity, checkpoints=grant.checkpoints)
        return _json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
