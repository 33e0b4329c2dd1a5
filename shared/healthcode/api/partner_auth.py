"""Partner request authentication (see :mod:`healthcode.api.signing` for the scheme)::

    X-HC-Partner:   partner id
    X-HC-Timestamp: unix seconds (accepted within ±300 s)
    X-HC-Nonce:     unique per request
    X-HC-Signature: the HMAC of the request

API Gateway's Lambda authorizer (``functions/partner_authorizer``) sees headers but never the body,
so :func:`authorize` checks what it can before any function runs (a known partner, a fresh timestamp,
the scope the route needs); :class:`PartnerGate` then checks, inside the partner function, the
signature over the body, the nonce (kept with a TTL, so a replay is refused) and the partner's rate.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.api.signing import matches
from healthcode.errors import Unauthorized

if TYPE_CHECKING:
    from healthcode.adapters.base import NonceStore, PartnerDirectory
    from healthcode.models import Partner

SKEW = 300
ROUTE_SCOPES = {
    ("POST", "/partner/v1/verifications"): "verify",
    ("PUT", "/partner/v1/region-risks"): "push_risk",
    ("POST", "/partner/v1/contact-reports"): "push_contacts",
}


def _fresh(timestamp: str, now: datetime) -> bool:
    """The X-HC-Timestamp is unix seconds within ±300 s of our clock."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    return abs(int(timestamp) - now.timestamp()) <= SKEW


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


def authorize(event: dict[str, Any], directory: PartnerDirectory, now: datetime) -> dict[str, Any]:
    """The Lambda authorizer's decision (HTTP API, payload 2.0, simple responses): headers only."""
    h = _headers(event)
    partner = directory.get(h.get("x-hc-partner", "")) if h.get("x-hc-partner") else None
    route = (event.get("requestContext", {}).get("http", {}).get("method", ""), event.get("rawPath", ""))
    scope = ROUTE_SCOPES.get(route)
    fresh = _fresh(h.get("x-hc-timestamp", ""), now)
    plain = all(h.get(k, "").isascii() for k in ("x-hc-partner", "x-hc-nonce", "x-hc-signature", "x-hc-timestamp"))
    allowed = bool(
        partner
        and not partner.suspended
        and plain
        and fresh
        and h.get("x-hc-nonce")
        and h.get("x-hc-signature")
        and scope in partner.scopes
    )
    if not allowed or partner is None:
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"partner_id": partner.partner_id, "scope": scope}}


class PartnerGate:
    """Checks a partner request inside the function, where the body is: signature, nonce, rate."""

    def __init__(self, directory: PartnerDirectory, nonces: NonceStore) -> None:
        self._directory = directory
        self._nonces = nonces

    def admit(self, event: dict[str, Any], now: datetime) -> Partner:
        h = _headers(event)
        timestamp, nonce, signature = h.get("x-hc-timestamp", ""), h.get("x-hc-nonce", ""), h.get("x-hc-signature", "")
        if not all(v.isascii() for v in (h.get("x-hc-partner", ""), timestamp, nonce, signature)):
            raise Unauthorized("The X-HC-* headers must be plain ASCII.")
        partner = self._directory.get(h.get("x-hc-partner", ""))
        if partner is None:
            raise Unauthorized("Unknown partner.")
        if partner.suspended:
            raise Unauthorized("This partner is suspended.")
        if not _fresh(timestamp, now):
            raise Unauthorized("X-HC-Timestamp must be unix seconds within 300 seconds of our clock.")
        if not nonce or len(nonce) > 128:
            raise Unauthorized("X-HC-Nonce is required (at most 128 characters).")
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
        method = event["requestContext"]["http"]["method"]
        secrets = self._directory.secrets_of(partner.partner_id, now)
        if not matches(secrets, signature, method, event["rawPath"], timestamp, nonce, body):
            raise Unauthorized("The signature does not match.")
        # the rate first: a request refused with 429 leaves its nonce unspent, so its retry goes through
        self._nonces.count(partner, now)
        self._nonces.spend(partner.partner_id, nonce, now)  # only a valid request can spend a nonce
        return partner
