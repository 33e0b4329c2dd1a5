"""Who is calling: the claims the HTTP API's JWT authorizer validated.

* ``sub``: the account.
* ``scope``: OAuth scopes, space-delimited (RFC 6749 §3.3): ``checkpoint``, ``health_admin``. The
  gateway checks a route's ``AuthorizationScopes`` before any function runs; the handler checks again,
  by exact value only (``"[health_admin]"`` or ``"x,health_admin"`` is no scope of ours).
* the verified-identity claim (its name is the ``IDENTITY_CLAIM`` setting, ``verified_id`` by default):
  ``"<id_type>:<id_number>"`` as the identity provider's real-name verification asserted it.
* ``checkpoints``: space-delimited ids of the checkpoints a checkpoint account scans for.
* ``areas``: space-delimited region codes a ``community_worker`` account serves (an area and
  everything below it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from healthcode.errors import Forbidden, Unauthorized
from healthcode.identity import IdType, normalize_id_number

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]+$")  # one scope or checkpoint id: no brackets, commas or spaces
DEFAULT_IDENTITY_CLAIM = "verified_id"


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    scopes: frozenset[str]
    identity: tuple[IdType, str] | None = None  # verified (id type, normalized number)
    checkpoints: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    # the people the identity provider asserts are in the caller's care (as a household register would):
    # the only ones the caller may apply for as dependants
    wards: frozenset[tuple[IdType, str]] = frozenset()


def _words(claim: Any) -> frozenset[str]:
    """Space-delimited values, each kept only when it is exactly a plain token."""
    if not isinstance(claim, str):
        return frozenset()
    return frozenset(w for w in claim.split(" ") if _TOKEN.match(w))


def identity_of(claim: Any) -> tuple[IdType, str] | None:
    if not isinstance(claim, str) or ":" not in claim:
        return None
    kind, _, number = claim.partition(":")
    try:
        return IdType(kind), normalize_id_number(number)
    except ValueError:
        return None


WARDS_CLAIM = "guardian_of"  # space-delimited "id_type:number" of each person in the caller's care


def _wards(claim: Any) -> frozenset[tuple[IdType, str]]:
    if not isinstance(claim, str):
        return frozenset()
    return frozenset(w for w in (identity_of(part) for part in claim.split(" ")[:20]) if w is not None)


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims: dict[str, Any] = (authorizer.get("jwt") or {}).get("claims") or {}
    return claims


def check(
    claims: dict[str, Any], scope: str | tuple[str, ...] | None, identity_claim: str = DEFAULT_IDENTITY_CLAIM
) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized("A bearer token is required.")
    who = Caller(
        sub,
        _words(claims.get("scope")),
        identity_of(claims.get(identity_claim)),
        _words(claims.get("checkpoints")),
        frozenset(a for a in _words(claims.get("areas")) if a.isdigit()),
        _wards(claims.get(WARDS_CLAIM)),
    )
    allowed = (scope,) if isinstance(scope, str) else tuple(scope or ())
    if allowed and not who.scopes & set(allowed):
        raise Forbidden(f"This operation needs the {' or '.join(allowed)} scope.")
    return who


CHECKED = "checked_caller"  # the resolver's context key: the caller its scope check read, with its identity claim


def caller(app: APIGatewayHttpResolver, identity_claim: str = DEFAULT_IDENTITY_CLAIM) -> Caller:
    """The authenticated caller, from the claims the HTTP API's JWT authorizer validated (read once per
    request: the resolver's scope check keeps what it read)."""
    checked = app.context.get(CHECKED)
    if checked is not None and checked[0] == identity_claim:
        return checked[1]  # type: ignore[no-any-return]
    return check(claims_of(app.current_event.raw_event), None, identity_claim)
