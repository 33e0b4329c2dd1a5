"""The one mapping from domain errors to HTTP problems (RFC 9457 ``application/problem+json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from healthcode import i18n
from healthcode.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from healthcode.i18n import N_
from healthcode.models import GatewayMessage, Problem

PROBLEM_JSON = "application/problem+json"

# error class -> (status, title, problem type)
_MAPPING: dict[type[DomainError], tuple[int, str, str]] = {
    MalformedRequest: (400, N_("Malformed request"), "/problems/malformed-request"),
    Unauthorized: (401, N_("Unauthorized"), "/problems/unauthorized"),
    Forbidden: (403, N_("Forbidden"), "/problems/forbidden"),
    NotFound: (404, N_("Not found"), "/problems/not-found"),
    Conflict: (409, N_("Conflict"), "/problems/conflict"),
    TooLarge: (413, N_("Payload too large"), "/problems/payload-too-large"),
    UnsupportedMediaType: (415, N_("Unsupported media type"), "/problems/unsupported-media-type"),
    InvalidInput: (422, N_("Invalid input"), "/problems/invalid-input"),
    RateLimited: (429, N_("Too many requests"), "/problems/rate-limited"),
    Unavailable: (503, N_("Service unavailable"), "/problems/unavailable"),
}
_INTERNAL = (500, N_("Internal error"), "about:blank")
# every problem type above is a page here (docs/problems/ in the repository), served at its type's path
PAGES = Path(__file__).resolve().parent.parent / "problem_pages"


def problem_page(name: str) -> str | None:
    """The page a problem type names (``/problems/<name>``), or None for a name that is no type."""
    if f"/problems/{name}" not in {kind for _, _, kind in _MAPPING.values()}:
        return None
    return (PAGES / f"{name}.md").read_text(encoding="utf-8")


def status_of(error: DomainError) -> int:
    return _entry(error)[0]


def _entry(error: DomainError) -> tuple[int, str, str]:
    for cls in type(error).__mro__:
        if cls in _MAPPING:
            return _MAPPING[cls]
    return (400, N_("Bad request"), "about:blank")


def type_base(event: dict[str, Any]) -> str:
    """Where this API is reached (scheme, host and a named stage), from the request's event: a problem's
    ``type`` is an absolute URL of the API's page for it (RFC 9457 recommends absolute URIs)."""
    ctx = event.get("requestContext") or {}
    domain = str(ctx.get("domainName") or "")
    if not domain:
        return ""
    stage = str(ctx.get("stage") or "$default")
    scheme = "http" if domain.split(":")[0] in {"127.0.0.1", "localhost"} else "https"  # the local stack
    return f"{scheme}://{domain}" + ("" if stage == "$default" else f"/{stage}")


def problem(
    error: DomainError | None, instance: str | None = None, base: str = "", lang: str | None = None
) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of the problem for ``error`` (None: an unexpected failure, a 500), its
    title, detail and field messages in ``lang`` (default: the request's language)."""
    status, title, kind = _entry(error) if error is not None else _INTERNAL
    detail = error.detail if error is not None else N_("Something went wrong on our side.")
    lang = lang or i18n.current.get()
    title, detail = i18n.gettext_(title, lang), i18n.localize(detail, lang)
    body: dict[str, Any] = {"type": base + kind if kind.startswith("/") else kind, "title": title}
    body |= {"status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if error is not None and error.errors:
        body["errors"] = [{"field": e.field, "message": i18n.localize(e.message, lang)} for e in error.errors]
    headers = {"Content-Type": PROBLEM_JSON, "Content-Language": lang}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return status, headers, json.dumps(body, ensure_ascii=False)


def problem_response(error: DomainError | None, event: dict[str, Any]) -> Response[str]:
    """The problem as a Powertools response to the request ``event`` (its path is the instance)."""
    status, headers, body = problem(error, event.get("rawPath"), type_base(event))
    content_type = headers.pop("Content-Type")
    return Response(status_code=status, content_type=content_type, body=body, headers=headers or None)


_DESCRIPTIONS = {
    400: "Malformed request (not JSON)",
    401: "No valid bearer token",
    403: "The caller lacks the scope this route needs, or may not act for this person or checkpoint",
    404: "Not found",
    409: "Conflicts with the stored state",
    413: "Body too large",
    415: "The body is not application/json",
    429: "Too many requests: retry after the Retry-After header's seconds",
    422: "Invalid input: the fields that are wrong are listed",
    503: "Temporarily unavailable: retry after the Retry-After header's seconds",
}


def documented(status: int, model: type[BaseModel] | None, *problems: int, description: str = "OK") -> dict[int, Any]:
    """OpenAPI responses of a route: its answer and the problems it can give."""
    ok: dict[str, Any] = {"description": description}
    if model is not None:
        ok["content"] = {"application/json": {"model": model}}
    out: dict[int, Any] = {status: ok}
    for p in problems:
        out[p] = {"description": _DESCRIPTIONS[p], "content": {PROBLEM_JSON: {"model": Problem}}}
    for refused in (401, 403):  # refused by the API's authorizers before any function runs: API Gateway's body
        if refused in out:
            out[refused]["content"]["application/json"] = {"model": GatewayMessage}
    return out
