"""Partner cities over signed HTTPS: the registry, request signatures, replay and rate protection.

A partner signs every request (docs/partner-signing.md has the known-answer vectors)::

    X-HC-Partner:   partner id
    X-HC-Timestamp: unix seconds (accepted within ±300 s)
    X-HC-Nonce:     unique per request
    X-HC-Signature: base64(HMAC-SHA256(secret, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(SHA256(body))))

API Gateway's Lambda authorizer (``functions/partner_authorizer``) sees headers but never the body,
so it checks what it can before any function runs (a known partner, a fresh timestamp, the scope
the route needs); the partner function then checks the signature over the body, the nonce (kept
with a TTL, so a replay is refused) and the partner's rate limit, before doing anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets as pysecrets
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import DomainError, unauthorized

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)
SKEW = 300
NONCE_TTL = 2 * SKEW + 60
ROTATION_OVERLAP = timedelta(hours=24)
ROUTE_SCOPES = {
    ("POST", "/partner/v1/verifications"): "verify",
    ("PUT", "/partner/v1/region-risks"): "push_risk",
    ("POST", "/partner/v1/contact-reports"): "push_contacts",
}


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def new_secret() -> str:
    return pysecrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Partner:
    partner_id: str
    name: str
    jurisdiction: str  # a GB/T 2260 code prefix, e.g. "3302" for Ningbo
    scopes: frozenset[str]
    rate_limit_per_minute: int
    issuer: str | None  # the "iss" of codes the partner issues (mutual recognition)
    jwks: dict[str, Any] | None
    jwks_url: str | None = None

    def covers(self, region: str) -> bool:
        return region.startswith(self.jurisdiction)


def _fetch_jwks(url: str) -> dict[str, Any] | None:
    """A partner's published keys (the caller caches them for a minute); None when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - an https URL the authority registered
            doc = json.loads(response.read(256 * 1024))
    except (OSError, ValueError):
        logger.warning("partner JWKS unreachable", extra={"url": url})
        return None
    return doc if isinstance(doc, dict) else None


def _fresh(timestamp: str, now: datetime) -> bool:
    """The X-HC-Timestamp is unix seconds within ±300 s of our clock."""
    try:
        return abs(int(timestamp) - now.timestamp()) <= SKEW
    except ValueError:
        return False


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


class PartnerRegistry:
    """Partners in DynamoDB; their HMAC secrets in Secrets Manager (never in the table or the code)."""

    def __init__(self, db: DynamoDBClient, table: str, secrets: Any, secret_prefix: str) -> None:
        self._db = db
        self._table = table
        self._secrets = secrets
        self._prefix = secret_prefix

    def get(self, partner_id: str) -> Partner | None:
        item = self._db.get_item(TableName=self._table, Key={"partner_id": {"S": partner_id}}).get("Item")
        if not item:
            return None
        doc = json.loads(item["doc"]["S"])
        return Partner(
            partner_id,
            doc["name"],
            doc["jurisdiction"],
            frozenset(doc["scopes"]),
            int(doc["rate_limit_per_minute"]),
            doc.get("issuer"),
            doc.get("jwks"),
            doc.get("jwks_url"),
        )

    def trusted_issuers(self) -> dict[str, dict[str, Any]]:
        """Partner issuer -> JWKS, for mutual recognition of partner-issued codes."""
        out: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._db.scan(**kwargs)
            for item in page.get("Items", []):
                doc = json.loads(item["doc"]["S"])
                keys = doc.get("jwks") or (_fetch_jwks(doc["jwks_url"]) if doc.get("jwks_url") else None)
                if doc.get("issuer") and keys:
                    out[doc["issuer"]] = keys
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put(self, partner: Partner) -> None:
        doc = {
            "name": partner.name,
            "jurisdiction": partner.jurisdiction,
            "scopes": sorted(partner.scopes),
            "rate_limit_per_minute": partner.rate_limit_per_minute,
            "issuer": partner.issuer,
            "jwks": partner.jwks,
            "jwks_url": partner.jwks_url,
        }
        self._db.put_item(
            TableName=self._table,
            Item={"partner_id": {"S": partner.partner_id}, "doc": {"S": json.dumps(doc, ensure_ascii=False)}},
        )

    def secret_id(self, partner_id: str) -> str:
        return f"{self._prefix}{partner_id}"

    def secrets_of(self, partner_id: str, now: datetime) -> list[str]:
        """The secrets a signature may use now: the current one, and the previous during the overlap."""
        try:
            doc = json.loads(self._secrets.get_secret_value(SecretId=self.secret_id(partner_id))["SecretString"])
        except self._secrets.exceptions.ResourceNotFoundException:
            return []
        out = [doc["current"]]
        if doc.get("previous") and datetime.fromisoformat(doc["previous_valid_until"]) > now:
            out.append(doc["previous"])
        return out

    def rotate_secret(self, partner_id: str, now: datetime) -> str:
        """A new secret; the old one stays valid for the overlap window. Returns the new one (shown once)."""
        secret = new_secret()
        name = self.secret_id(partner_id)
        try:
            old = json.loads(self._secrets.get_secret_value(SecretId=name)["SecretString"])["current"]
        except self._secrets.exceptions.ResourceNotFoundException:
            self._secrets.create_secret(Name=name, SecretString=json.dumps({"current": secret}))
            return secret
        doc = {"current": secret, "previous": old, "previous_valid_until": (now + ROTATION_OVERLAP).isoformat()}
        self._secrets.put_secret_value(SecretId=name, SecretString=json.dumps(doc))
        return secret


def authorize(event: dict[str, Any], registry: PartnerRegistry, now: datetime) -> dict[str, Any]:
    """The Lambda authorizer's decision (HTTP API, payload 2.0, simple responses): headers only."""
    h = _headers(event)
    partner = registry.get(h.get("x-hc-partner", "")) if h.get("x-hc-partner") else None
    route = (event.get("requestContext", {}).get("http", {}).get("method", ""), event.get("rawPath", ""))
    scope = ROUTE_SCOPES.get(route)
    fresh = _fresh(h.get("x-hc-timestamp", ""), now)
    allowed = bool(partner and fresh and h.get("x-hc-nonce") and h.get("x-hc-signature") and scope in partner.scopes)
    if not allowed or partner is None:
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"partner_id": partner.partner_id, "scope": scope}}


class PartnerGate:
    """Checks a partner request inside the function, where the body is: signature, nonce, rate."""

    def __init__(self, registry: PartnerRegistry, db: DynamoDBClient, nonces_table: str) -> None:
        self._registry = registry
        self._db = db
        self._table = nonces_table

    def admit(self, event: dict[str, Any], now: datetime) -> Partner:
        h = _headers(event)
        partner = self._registry.get(h.get("x-hc-partner", ""))
        if partner is None:
            raise unauthorized("Unknown partner.")
        timestamp, nonce, signature = h.get("x-hc-timestamp", ""), h.get("x-hc-nonce", ""), h.get("x-hc-signature", "")
        if not _fresh(timestamp, now):
            raise unauthorized("X-HC-Timestamp must be unix seconds within 300 seconds of our clock.")
        if not nonce or len(nonce) > 128:
            raise unauthorized("X-HC-Nonce is required (at most 128 characters).")
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
        method = event["requestContext"]["http"]["method"]
        path = event["rawPath"]
        if not any(
            hmac.compare_digest(sign(s, method, path, timestamp, nonce, body), signature)
            for s in self._registry.secrets_of(partner.partner_id, now)
        ):
            raise unauthorized("The signature does not match.")
        self._use_nonce(partner.partner_id, nonce, now)  # only a valid request can spend a nonce
        self._count(partner, now)
        return partner

    def _use_nonce(self, partner_id: str, nonce: str, now: datetime) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "key": {"S": f"nonce#{partner_id}#{nonce}"},
                    "expires_at": {"N": str(int(now.timestamp()) + NONCE_TTL)},
                },
                ConditionExpression="attribute_not_exists(#k) OR expires_at < :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise unauthorized("This nonce was used already (a replay).") from exc

    def _count(self, partner: Partner, now: datetime) -> None:
        minute = now.astimezone(UTC).strftime("%Y%m%d%H%M")
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"key": {"S": f"rate#{partner.partner_id}#{minute}"}},
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(partner.rate_limit_per_minute)},
                    ":exp": {"N": str(int(now.timestamp()) + 120)},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            wait = max(1, 60 - now.astimezone(UTC).second)
            raise DomainError(
                f"More than {partner.rate_limit_per_minute} requests this minute.",
                [],
                429,
                "Too many requests",
                "/problems/rate-limited",
                {"Retry-After": str(math.ceil(wait))},
            ) from exc
