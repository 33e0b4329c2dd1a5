"""The resolver every HTTP function uses: validation, the body-size and media-type checks, role checks,
and every error turned into a problem through :mod:`healthcode.api.problems`.

Anything unexpected becomes a 500 problem that reveals nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from healthcode import i18n
from healthcode.adapters.clients import as_domain_error
from healthcode.api.callers import CHECKED, DEFAULT_IDENTITY_CLAIM, check, claims_of
from healthcode.api.problems import problem, problem_response, type_base
from healthcode.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    MalformedRequest,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
)
from healthcode.i18n import N_

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # no request of ours nests deeper; checked before any parser spends work on it
logger = Logger(child=True)


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    """``model`` as JSON, its words (reasons, notes, instructions) in the request's language."""
    lang = i18n.current.get()
    if lang == "en":
        body = model.model_dump_json()
    else:
        body = json.dumps(
            i18n.localize_document(model.model_dump(mode="json")), ensure_ascii=False, separators=(",", ":")
        )
    return Response(
        status_code=status,
        content_type="application/json",
        body=body,
        headers={"Content-Language": lang, "Vary": "Accept-Language", **(headers or {})},
    )


# pydantic's messages for what the contract refuses, as templates of the catalogue (healthcode.i18n)
CONTRACT_MESSAGES = (
    N_("required"),
    N_("unknown field"),
    N_("String should have at most {max_length} characters"),
    N_("String should have at least {min_length} characters"),
    N_("String should have at least 1 character"),
    N_("String should match pattern '{pattern}'"),
    N_("Input should be a valid string"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid number"),
    N_("Input should be a valid boolean"),
    N_("Input should be a valid list"),
    N_("Input should be a valid dictionary or instance of {model}"),
    N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    N_("Input should be a valid date or datetime, {error}"),
    N_("Input should be {expected}"),
    N_("Input should be less than or equal to {le}"),
    N_("Input should be greater than or equal to {ge}"),
    N_("List should have at most {max_length} items after validation, not {actual_length}"),
    N_("List should have at least {min_length} item after validation, not {actual_length}"),
    N_("Value error, {error}"),
)


def _field_name(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    name = ""
    for p in parts:
        name += f"[{p}]" if isinstance(p, int) else (f".{p}" if name else str(p))
    return name or "body"


def _validation_problem(exc: RequestValidationError) -> DomainError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedRequest("The request body is not valid JSON.")
    fields = []
    for e in errors:
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "extra_forbidden":
            msg = N_("unknown field")
        elif e.get("type") == "missing":
            msg = N_("required")
        fields.append(FieldError(_field_name(e.get("loc", ())), msg))
    return InvalidInput("The request does not match the contract.", fields)


def json_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest in ``text`` (outside strings), in one pass; when the text opens no
    more than ``MAX_JSON_DEPTH`` brackets in all, that count (a bound: it cannot nest deeper), at once."""
    opening = text.count("[") + text.count("{")
    if opening <= MAX_JSON_DEPTH:
        return opening
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _json_media(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


Gate = Callable[[dict[str, Any]], Any]


class _Resolver(APIGatewayHttpResolver):
    def __init__(self, scopes: dict[str, str | tuple[str, ...]], gate: Gate | None) -> None:
        super().__init__(enable_validation=True)
        self._scopes = scopes
        self._gate = gate

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        event = dict(event)
        # Refused before anything parses the body (the validation middleware would read it first):
        # an oversized request, or a caller without the scope the route needs.
        path = event.get("rawPath") or ""
        headers = event.get("headers") or {}
        i18n.current.set(i18n.language(str(headers.get("accept-language") or "")))
        try:
            body = event.get("body") or ""
            if len(body) > MAX_BODY_BYTES:
                raise TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
            media = str(headers.get("content-type", "")).split(";")[0].strip().lower()
            if body and media and not _json_media(media):
                raise UnsupportedMediaType("Send the body as application/json.")
            if body and media:  # APPLICATION/JSON, application/merge-patch+json: JSON, as the validator expects it
                event["headers"] = {**headers, "content-type": "application/json"}
            matching = [prefix for prefix in self._scopes if path.startswith(prefix)]
            if matching:  # the most specific prefix decides (any one of its scopes will do)
                who = check(claims_of(event), self._scopes[max(matching, key=len)])
                self.append_context(**{CHECKED: (DEFAULT_IDENTITY_CLAIM, who)})
            if self._gate is not None:  # who is calling, checked before the body is read
                self.append_context(caller=self._gate(event))
            if body and not event.get("isBase64Encoded") and json_depth(body) > MAX_JSON_DEPTH:
                raise MalformedRequest(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
        except DomainError as error:
            self.clear_context()
            status, headers, body = problem(error, path, type_base(event))
            return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}
        return super().resolve(event, context)


def build_resolver(
    scopes: dict[str, str | tuple[str, ...]] | None = None, gate: Gate | None = None
) -> APIGatewayHttpResolver:
    """A resolver with validation, the body-size and nesting limits, scope checks and the shared error
    mapping.

    ``scopes`` maps a path prefix to the OAuth scope (or scopes, any one of) its routes need; the
    longest matching prefix decides (the gateway checks it first).
    ``gate`` authenticates a request from its event before its body is parsed (partner signatures);
    what it returns is ``app.context["caller"]``.
    """
    app = _Resolver(scopes or {}, gate)

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        return problem_response(exc, app.current_event.raw_event)

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(UnsupportedMediaType("Send the body as application/json."), app.current_event.raw_event)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response[str]:
        return problem_response(_validation_problem(exc), app.current_event.raw_event)

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return problem_response(NotFound("No such route."), app.current_event.raw_event)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        shed = as_domain_error(exc)
        if shed is not None:  # the SDK already retried with backoff: load we shed, not a crash
            logger.warning("throttled after retries", extra={"operation": getattr(exc, "operation_name", None)})
            return problem_response(shed, app.current_event.raw_event)
        logger.exception("unexpected error")
        return problem_response(None, app.current_event.raw_event)

    return app


def etag(model: BaseModel, exclude: set[str]) -> str:
    """A weak entity tag of what ``model`` says, leaving out ``exclude`` (a part that changes on every
    answer, such as a freshly signed token), in the request's language: an open page asks with
    If-None-Match and is told 304 until something it shows has changed."""
    import hashlib

    body = model.model_dump_json(exclude=exclude) + i18n.current.get()
    return f'W/"{hashlib.sha256(body.encode()).hexdigest()[:24]}"'


def not_modified(tag: str, headers: dict[str, str]) -> Response[str]:
    """A 304 for ``tag`` (no body: the page keeps what it shows)."""
    return Response(status_code=304, content_type=None, body="", headers={**headers, "ETag": tag})

