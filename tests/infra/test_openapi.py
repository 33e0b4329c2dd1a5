"""The committed OpenAPI document is the one the code generates (regenerate: python -m healthcode_local.openapi)."""

from __future__ import annotations

import json

from healthcode_local.openapi import OUTPUT, document, render


def test_the_committed_openapi_document_matches_the_routes():
    assert OUTPUT.read_text(encoding="utf-8") == render(document()), (
        "openapi.json is stale: run python -m healthcode_local.openapi and commit it"
    )


def test_every_operation_documents_its_problems_and_public_routes_need_no_token():
    doc = json.loads(OUTPUT.read_text(encoding="utf-8"))
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            public = path in ("/.well-known/jwks.json", "/v1/rulesets", "/v1/rulesets/current", "/v1/rulesets/schema")
            assert (op["security"] == []) == public, (method, path)
            if not public:
                assert "401" in op["responses"], (method, path)
            if method in ("post", "put"):
                assert {"413", "415", "422"} <= set(op["responses"]), (method, path)
