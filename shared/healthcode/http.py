"""The one place HTTP concerns are handled for every function: the resolver, error mapping, callers.

Every error a caller can cause becomes an ``application/problem+json`` response (RFC 9457) with a
machine-readable list of field errors; anything unexpected becomes a 500 problem that reveals nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from botocore.exceptions import ClientError
from pydantic import BaseModel

from healthcode.errors import (
    DomainError,
    FieldError,
    forbidden,
    invalid,
    malformed,
    too_large,
    unauthorized,
    unavailable,
)
from healthcode.models import GatewayMessage, Problem

PROBLEM_JSON = "application/problem+json"
THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "Throttling",
    }
)
MAX_BODY_BYTES = 64 * 1024
logger = Logger(child=True)


def problem_response(error: DomainError, path: str | None = None) -> Response:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(error.problem(path), ensure_ascii=False),
        headers=error.headers or None,
    )


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(),
        headers=headers,
    )


_PROBLEMS = {
    400: "Malformed request (not JSON)",
    401: "No valid bearer token",
    403: "The caller lacks the role this route needs",
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
        out[p] = {"description": _PROBLEMS[p], "content": {PROBLEM_JSON: {"model": Problem}}}
    for refused in (401, 403):  # refused by the API's authorizers before any function runs: API Gateway's body
        if refused in out:
            out[refused]["content"]["application/json"] = {"model": GatewayMessage}
    return out


def _field_name(loc: Sequence[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    name = ""
    for p in parts:
        name += f"[{p}]" if isinstance(p, int) else (f".{p}" if name else str(p))
    return name or "body"


def _validation_problem(exc: RequestValidationError) -> DomainError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return malformed("The request body is not valid JSON.")
    fields = []
    for e in errors:
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif e.get("type") == "missing":
            msg = "required"
        fields.append(FieldError(_field_name(e.get("loc", ())), msg))
    return invalid("The request does not match the contract.", fields)


class _Resolver(APIGatewayHttpResolver):
    def __init__(self, roles: dict[str, str]) -> None:
        super().__init__(enable_validation=True)
        self._roles = roles

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Refused before anything parses the body (the validation middleware would read it first):
        # an oversized request, or a caller without the role the route needs.
        path = event.get("rawPath") or ""
        try:
            if len(event.get("body") or "") > MAX_BODY_BYTES:
                raise too_large(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
            media = (event.get("headers") or {}).get("content-type", "").split(";")[0].strip().lower()
            if event.get("body") and media and media != "application/json" and not media.endswith("+json"):
                raise DomainError(
                    "Send the body as application/json.",
                    [],
                    415,
                    "Unsupported media type",
                    "/problems/unsupported-media-type",
                )
            for prefix, role in self._roles.items():
                if path.startswith(prefix):
                    _check(_claims(event), role)
        except DomainError as error:
            return {
                "statusCode": error.status,
                "headers": {"Content-Type": PROBLEM_JSON, **error.headers},
                "body": json.dumps(error.problem(path)),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


def build_resolver(roles: dict[str, str] | None = None) -> APIGatewayHttpResolver:
    """A resolver with validation, the body-size limit, role checks and the shared error mapping.

    ``roles`` maps a path prefix to the role its routes need (from the JWT's ``roles`` claim).
    """
    app = _Resolver(roles or {})

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return problem_response(exc, app.current_event.path)

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response:
        error = DomainError(
            "Send the body as application/json.", [], 415, "Unsupported media type", "/problems/unsupported-media-type"
        )
        return problem_response(error, app.current_event.path)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        return problem_response(_validation_problem(exc), app.current_event.path)

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return problem_response(
            DomainError("No such route.", [], 404, "Not found", "/problems/not-found"), app.current_event.path
        )

    @app.exception_handler(ClientError)
    def _aws(exc: ClientError) -> Response:
        # The SDK already retried with backoff; what still fails is load we shed, not a crash.
        if exc.response.get("Error", {}).get("Code") in THROTTLED:
            logger.warning("throttled after retries", extra={"operation": exc.operation_name})
            return problem_response(
                unavailable("The service is busy; try again shortly.", retry_after=2), app.current_event.path
            )
        return _unexpected(exc)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        return problem_response(
            DomainError("Something went wrong on our side.", [], 500, "Internal error", "about:blank"),
            app.current_event.path,
        )

    return app


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    roles: frozenset[str]


def _roles(claim: Any) -> frozenset[str]:
    # API Gateway passes array claims as a string like "[checkpoint health_admin]".
    if isinstance(claim, list):
        return frozenset(str(r) for r in claim)
    if isinstance(claim, str):
        return frozenset(r for r in claim.strip("[]").replace(",", " ").split() if r)
    return frozenset()


def _claims(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    return (authorizer.get("jwt") or {}).get("claims") or {}


def _check(claims: dict[str, Any], role: str | None) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise unauthorized("A bearer token is required.")
    who = Caller(sub, _roles(claims.get("roles")))
    if role is not None and role not in who.roles:
        raise forbidden(f"This operation needs the {role} role.")
    return who


def caller(app: APIGatewayHttpResolver) -> Caller:
    """The authenticated caller, from the claims the HTTP API's JWT authorizer validated."""
    return _check(_claims(app.current_event.raw_event), None)
