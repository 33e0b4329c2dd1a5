"""The pages (``web/``) on the local stack, as the deployment's CloudFront distribution serves them: the
same files, the security headers of the template's ``PagesSecurityHeaders`` policy, and a
``config.json`` that points them at this stack (the dev "sign in as" box, and OIDC against /dev/oidc).

And the API's CORS as the HTTP API's ``CorsConfiguration`` answers it (preflights and the
``Access-Control-*`` headers), so a page on another origin is treated here as it would be there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from healthcode_local.system import HttpResult
from healthcode_local.template import Template
from healthcode_ops import pages


def security_headers(template: Template) -> dict[str, str]:
    """The response headers policy's headers, for http://127.0.0.1: without HSTS and without
    ``upgrade-insecure-requests`` (both would send the browser to an https:// this stack does not speak)."""
    cfg = template.resources["PagesSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    sec = cfg["SecurityHeadersConfig"]
    csp = sec["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    csp = csp["Fn::Sub"] if isinstance(csp, dict) else csp
    defaults = template.parameter_defaults()
    csp = re.sub(r"\$\{([A-Za-z:]+)\}", lambda m: defaults.get(m.group(1), "localhost"), csp)
    csp = "; ".join(d for d in csp.split("; ") if d != "upgrade-insecure-requests")
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "x-frame-options": sec["FrameOptions"]["FrameOption"],
        "referrer-policy": sec["ReferrerPolicy"]["ReferrerPolicy"],
    }
    for item in cfg.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"].lower()] = item["Value"]
    return headers


class Pages:
    def __init__(self, template: Template, base_url: str, dev_issuer: str) -> None:
        self.headers = security_headers(template)
        params = template.parameter_defaults()
        # both ways in: the "sign in as" box, and the deployed flow against the dev OpenID provider
        self.config = {
            "api": "",
            "dev_sign_in": True,
            "oidc": {"issuer": dev_issuer, "client_id": params["JwtAudience"]},
        }
        self.cors = template.resources["HttpApi"]["Properties"]["CorsConfiguration"]
        # the distribution's own domain is this stack here; a parameter's origin is its default
        self.origins = {
            base_url if isinstance(o, dict) and "Fn::Sub" in o else params[o["Ref"]] if isinstance(o, dict) else o
            for o in self.cors["AllowOrigins"]
        }

    def file(self, method: str, route: str) -> HttpResult | None:
        """The page or file at ``route``, or None when it is no file of the pages: exactly what
        ``healthcode pages publish`` would put in the bucket (read afresh, so an edited page shows)."""
        if method not in ("GET", "HEAD"):
            return None
        name = "index.html" if route in ("", "/") else route.lstrip("/")
        if name == "config.json":
            return self._answer(json.dumps(self.config).encode(), "application/json", cache="no-store")
        source = pages.files().get(name)
        if source is None:
            return None
        return self._answer(source.read_bytes(), pages.media_type(source), cache="no-cache")

    def _answer(self, body: bytes, media: str, cache: str) -> HttpResult:
        headers = {"content-type": media, "cache-control": cache, **self.headers}
        return HttpResult(200, headers, "", raw=body)

    # ------------------------------------------------------------------ CORS (the HTTP API's)
    def allowed(self, origin: str | None) -> bool:
        return origin in self.origins

    def preflight(self, headers: dict[str, str]) -> HttpResult:
        origin = headers.get("origin")
        if not self.allowed(origin):  # API Gateway answers a preflight it does not allow without CORS headers
            return HttpResult(204, {}, "")
        return HttpResult(
            204,
            {
                "access-control-allow-origin": str(origin),
                "access-control-allow-methods": ",".join(self.cors["AllowMethods"]).lower(),
                "access-control-allow-headers": ",".join(self.cors["AllowHeaders"]).lower(),
                "access-control-max-age": str(self.cors["MaxAge"]),
                "vary": "Origin",
            },
            "",
        )

    def cors_headers(self, headers: dict[str, str]) -> dict[str, Any]:
        origin = headers.get("origin")
        if not self.allowed(origin):
            return {}
        return {
            "access-control-allow-origin": str(origin),
            "access-control-expose-headers": ",".join(self.cors["ExposeHeaders"]).lower(),
            "vary": "Origin",
        }
