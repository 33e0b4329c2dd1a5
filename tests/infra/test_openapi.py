"""The committed OpenAPI document is the one the code generates (regenerate: python -m healthcode_local.openapi)."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from healthcode.api.problems import _MAPPING
from healthcode_local.openapi import OUTPUT, document, render

REPO = Path(__file__).resolve().parents[2]
PUBLIC = (
    "/.well-known/jwks.json",
    "/.well-known/trust-list.json",
    "/v1/rulesets",
    "/v1/rulesets/current",
    "/v1/rulesets/schema",
    "/problems/{name}",
    "/v1/map",
    "/v1/map.svg",
    "/v1/index",
    "/v1/index/formula",
    "/v1/map/rule",
    "/v1/audit/digests",
)


def test_the_committed_openapi_document_matches_the_routes():
    assert OUTPUT.read_text(encoding="utf-8") == render(document()), (
        "openapi.json is stale: run python -m healthcode_local.openapi and commit it"
    )


def test_every_operation_documents_its_problems_and_public_routes_need_no_token():
    doc = json.loads(OUTPUT.read_text(encoding="utf-8"))
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            public = path in PUBLIC
            assert (op["security"] == []) == public, (method, path)
            if not public:
                assert "401" in op["responses"], (method, path)
            if method in ("post", "put"):
                assert {"413", "415", "422"} <= set(op["responses"]), (method, path)


def test_the_document_is_valid_openapi_3_1_with_servers_and_the_partner_signature_scheme():
    doc = json.loads(OUTPUT.read_text(encoding="utf-8"))
    validate(doc)  # openapi-spec-validator: raises on any violation of the 3.1 schema
    assert doc["openapi"].startswith("3.1")
    assert [s["url"] for s in doc["servers"]] == [
        "https://{api_id}.execute-api.{region}.{suffix}/{stage}",
        "http://127.0.0.1:8080",
    ]
    schemes = doc["components"]["securitySchemes"]
    headers = {schemes[n]["name"] for n in ("partnerId", "partnerTimestamp", "partnerNonce", "partnerSignature")}
    assert headers == {"X-HC-Partner", "X-HC-Timestamp", "X-HC-Nonce", "X-HC-Signature"}
    assert all(schemes[n]["type"] == "apiKey" and schemes[n]["in"] == "header" for n in schemes if n != "bearer")
    link = "(docs/partner-signing.md)"
    assert link in schemes["partnerSignature"]["description"] and (REPO / "docs" / "partner-signing.md").is_file()
    for path, operations in doc["paths"].items():
        for op in operations.values():
            if path.startswith("/partner/"):  # all four headers, no bearer token
                assert op["security"] == [
                    {n: [] for n in ("partnerId", "partnerTimestamp", "partnerNonce", "partnerSignature")}
                ]
    assert len({op["operationId"] for ops in doc["paths"].values() for op in ops.values()}) == sum(
        len(ops) for ops in doc["paths"].values()
    )


def test_only_reachable_responses_are_documented():
    doc = json.loads(OUTPUT.read_text(encoding="utf-8"))
    assert "HTTPValidationError" not in json.dumps(doc)  # Powertools' own 422 shape is never what we answer
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if "422" in op["responses"]:  # invalid input needs something to validate
                assert op.get("parameters") or op.get("requestBody"), (method, path)
                assert "Problem" in json.dumps(op["responses"]["422"]), (method, path)
    for path in ("/.well-known/jwks.json", "/v1/dependants", "/v1/rulesets/current"):  # (my code takes If-None-Match)
        assert "422" not in doc["paths"][path]["get"]["responses"], path


def test_every_problem_type_is_a_page_in_docs_problems_and_every_page_is_a_type():
    pages = {p.stem for p in (REPO / "docs" / "problems").glob("*.md")}
    types = {kind.removeprefix("/problems/") for _, _, kind in _MAPPING.values()}
    assert pages == types
    for status, title, kind in _MAPPING.values():
        page = (REPO / "docs" / "problems" / f"{kind.removeprefix('/problems/')}.md").read_text(encoding="utf-8")
        assert page.startswith(f"# {title} ({status})") and f"`type: {kind}`" in page, kind
