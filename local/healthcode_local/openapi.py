"""The OpenAPI document of the whole API, generated from the functions' Powertools routes.

python -m healthcode_local.openapi            # rewrite openapi.json (committed; a test compares)
"""

from __future__ import annotations

import json
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
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    public = {(r.method.lower(), r.path) for r in t.routes if r.public}
    for spec in t.functions.values():
        app = getattr(spec.module(), "app", None)
        if app is None:
            continue
        part = json.loads(app.get_openapi_json_schema(title="healthcode", version="1"))
        for path, operations in part.get("paths", {}).items():
            for method, op in operations.items():
                op["security"] = [] if (method, path) in public else [{"bearer": []}]
            doc["paths"].setdefault(path, {}).update(operations)
        doc["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    doc["paths"] = dict(sorted(doc["paths"].items()))
    doc["components"]["schemas"] = dict(sorted(doc["components"]["schemas"].items()))
    return doc


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(document()), encoding="utf-8")
    print(f"wrote {OUTPUT}")
