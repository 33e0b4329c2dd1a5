"""Who is calling: the claims the HTTP API's JWT authorizer validated, and the roles in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from healthcode.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    roles: frozenset[str]


def roles_of(claim: Any) -> frozenset[str]:
    # API Gateway passes array claims as a string like "[checkpoint health_admin]".
    if isinstance(claim, list):
        return frozenset(str(r) for r in claim)
    if isinstance(claim, str):
        return frozenset(r for r in claim.strip("[]").replace(",", " ").split() if r)
    return frozenset()


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims: dict[str, Any] = (authorizer.get("jwt") or {}).get("claims") or {}
    return claims


def check(claims: dict[str, Any], role: str | None) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("A bearer token is required.")
    who = Caller(sub, roles_of(claims.get("roles")))
    if role is not None and role not in who.roles:
        raise Forbidden(f"This operation needs the {role} role.")
    return who


def caller(app: APIGatewayHttpResolver) -> Caller:
    """The authenticated caller, from the claims the HTTP API's JWT authorizer validated."""
    return check(claims_of(app.current_event.raw_event), None)
