"""The resolver every HTTP function uses: validation, the body-size and media-type checks, role checks,
and every error turned into a problem through :mod:`healthcode.api.problems`.

Anything unexpected becomes a 500 problem that reveals nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from healthcode.adapters.clients import as_domain_error
from healthcode.api.callers import check, claims_of
from healthcode.api.problems import problem, problem_response
from healthcode.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    MalformedRequest,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
)

MAX_BODY_BYTES = 64 * 1024
logger = Logger(child=True)


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=model.model_dump_json(), headers=headers)


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
            msg = "unknown field"
        elif e.get("type") == "missing":
            msg = "required"
        fields.append(FieldError(_field_name(e.get("loc", ())), msg))
    return InvalidInput("The request does not match the contract.", fields)


class _Resolver(APIGatewayHttpResolver):
    def __init__(self, scopes: dict[str, str]) -> None:
        super().__init__(enable_validation=True)
        self._scopes = scopes

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Refused before anything parses the body (the validation middleware would read it first):
        # an oversized request, or a caller without the scope the route needs.
        path = event.get("rawPath") or ""
        try:
            if len(event.get("body") or "") > MAX_BODY_BYTES:
                raise TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
            media = (event.get("headers") or {}).get("content-type", "").split(";")[0].strip().lower()
            if event.get("body") and media and media != "application/json" and not media.endswith("+json"):
                raise UnsupportedMediaType("Send the body as application/json.")
            for prefix, scope in self._scopes.items():
                if path.startswith(prefix):
                    check(claims_of(event), scope)
        except DomainError as error:
            status, headers, body = problem(error, path)
            return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}
        return super().resolve(event, context)


def build_resolver(scopes: dict[str, str] | None = None) -> APIGatewayHttpResolver:
    """A resolver with validation, the body-size limit, scope checks and the shared error mapping.

    ``scopes`` maps a path prefix to the OAuth scope its routes need (the gateway checks it first).
    """
    app = _Resolver(scopes or {})

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        return problem_response(exc, app.current_event.path)

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(UnsupportedMediaType("Send the body as application/json."), app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response[str]:
        return problem_response(_validation_problem(exc), app.current_event.path)

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return problem_response(NotFound("No such route."), app.current_event.path)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        shed = as_domain_error(exc)
        if shed is not None:  # the SDK already retried with backoff: load we shed, not a crash
            logger.warning("throttled after retries", extra={"operation": getattr(exc, "operation_name", None)})
            return problem_response(shed, app.current_event.path)
        logger.exception("unexpected error")
        return problem_response(None, app.current_event.path)

    return app
