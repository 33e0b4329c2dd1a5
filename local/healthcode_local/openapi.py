"""The OpenAPI document of the whole API, generated from the functions' Powertools routes.

python -m healthcode_local.openapi            # rewrite openapi.json (committed; a test compares)
"""

from __future__ import annotations

import json
import re
from typing import Any

from healthcode_local.template import REPO, Template

OUTPUT = REPO / "openapi.json"


def document(template: Template | None = None) -> dict[str, Any]:
    t = template or Template()
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "healthcode",
            "version": "1",
            "description": "City-scale health code. Errors are application/problem+json (RFC 9457).",
        },
        "servers": SERVERS,
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": SECURITY_SCHEMES},
    }
    public = {(r.method.lower(), r.path) for r in t.routes if r.public}
    for spec in t.functions.values():
        app = getattr(spec.module(), "app", None)
        if app is None:
            continue
        part = json.loads(app.get_openapi_json_schema(title="healthcode", version="1"))
        for path, operations in part.get("paths", {}).items():
            for method, op in operations.items():
                if (method, path) in public:
                    op["security"] = []
                elif path.startswith("/partner/"):
                    op["security"] = [{name: [] for name in PARTNER_HEADERS}]
                else:
                    op["security"] = [{"bearer": []}]
                _only_reachable_422(op)
                op["operationId"] = _function_name(op["operationId"], path, method)
            doc["paths"].setdefault(path, {}).update(operations)
        doc["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    doc["paths"] = dict(sorted(doc["paths"].items()))
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    if len(ids) != len(set(ids)):
        raise ValueError(f"two handlers share a name: {sorted(i for i in ids if ids.count(i) > 1)}")
    used = json.dumps(doc["paths"])
    doc["components"]["schemas"] = {
        name: schema
        for name, schema in sorted(doc["components"]["schemas"].items())
        if name not in POWERTOOLS_DEFAULTS or f"#/components/schemas/{name}" in used
    }
    return doc


SERVERS = [
    {
        "url": "https://{api_id}.execute-api.{region}.{suffix}/{stage}",
        "description": "A deployment (the stack's ApiUrl output)",
        "variables": {
            "api_id": {"default": "abcdef1234", "description": "the HttpApi's id"},
            "region": {"default": "cn-north-1"},
            "suffix": {"default": "amazonaws.com.cn", "enum": ["amazonaws.com.cn", "amazonaws.com"]},
            "stage": {"default": "prod", "description": "the template's Stage parameter"},
        },
    },
    {"url": "http://127.0.0.1:8080", "description": "The local stack (make run)"},
]

SIGNING = "[docs/partner-signing.md](docs/partner-signing.md)"
PARTNER_HEADERS = {
    "partnerId": ("X-HC-Partner", "The partner id the health authority registered."),
    "partnerTimestamp": ("X-HC-Timestamp", "Unix seconds, within ±300 s of the API's clock."),
    "partnerNonce": ("X-HC-Nonce", "A value never used before (at most 128 characters): a replay is refused."),
    "partnerSignature": (
        "X-HC-Signature",
        "base64(HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SHA256(body)))), with the partner's "
        f"secret. Partner routes need all four headers; how to sign, with known-answer vectors: {SIGNING}.",
    ),
}
SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from the configured OIDC issuer; roles come as scopes.",
    },
} | {
    name: {"type": "apiKey", "in": "header", "name": header, "description": text}
    for name, (header, text) in PARTNER_HEADERS.items()
}

# what Powertools documents by itself: a 422 with its own error shape, on every route
POWERTOOLS_DEFAULTS = {"HTTPValidationError", "ValidationError", "ResponseValidationError"}


def _function_name(operation_id: str, path: str, method: str) -> str:
    """The handler's name as the operation id (a generated client's method names), not Powertools'
    name + path + method."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return operation_id.removesuffix(suffix)


def _only_reachable_422(op: dict[str, Any]) -> None:
    """Powertools documents its own 422 on every route, even one with nothing to validate. Ours is a
    problem, and only a route with parameters or a body can answer it."""
    default = op["responses"].get("422", {})
    if "HTTPValidationError" not in json.dumps(default):
        return
    if op.get("parameters") or op.get("requestBody"):
        raise ValueError(f"{op['operationId']}: document its 422 with documented(..., 422)")
    del op["responses"]["422"]


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(document()), encoding="utf-8")
    print(f"wrote {OUTPUT}")
