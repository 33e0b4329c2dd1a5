"""Partner cities: the registry (DynamoDB), their HMAC secrets (Secrets Manager, never in the table or
the code), and the trusted issuers whose codes we recognise (their JWKS inline or at a URL)."""

from __future__ import annotations

import json
import secrets as pysecrets
import time
import urllib.request
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.models import SECRET_OVERLAP, Partner

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)
TRUST_MAX_AGE_S = 60.0  # the trusted issuers are re-read once a minute...
TRUST_REFRESH_S = 10.0  # ...or sooner, at most this often, when a code names an issuer we do not know


def _fetch_jwks(url: str) -> dict[str, Any] | None:
    """A partner's published keys (cached with the trust list); None when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            doc = json.loads(response.read(256 * 1024))
    except (OSError, ValueError):
        logger.warning("partner JWKS unreachable", extra={"url": url})
        return None
    return doc if isinstance(doc, dict) else None


class DynamoPartners:
    def __init__(
        self, db: DynamoDBClient, table: str, secrets: Any, secret_prefix: str, monotonic: Any = time.monotonic
    ) -> None:
        self._db = db
        self._table = table
        self._secrets = secrets
        self._prefix = secret_prefix
        self._monotonic = monotonic
        self._trusted: tuple[float, dict[str, dict[str, Any]]] | None = None

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
            bool(doc.get("suspended", False)),
        )

    def put(self, partner: Partner) -> None:
        doc = {
            "name": partner.name,
            "jurisdiction": partner.jurisdiction,
            "scopes": sorted(partner.scopes),
            "rate_limit_per_minute": partner.rate_limit_per_minute,
            "issuer": partner.issuer,
            "jwks": partner.jwks,
            "jwks_url": partner.jwks_url,
            "suspended": partner.suspended,
        }
        self._db.put_item(
            TableName=self._table,
            Item={"partner_id": {"S": partner.partner_id}, "doc": {"S": json.dumps(doc, ensure_ascii=False)}},
        )

    def trusted_issuers(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """Partner issuer -> JWKS, for mutual recognition of partner-issued codes (cached, see above)."""
        now = self._monotonic()
        age = now - self._trusted[0] if self._trusted else float("inf")
        if age > TRUST_MAX_AGE_S or (refresh and age > TRUST_REFRESH_S):
            self._trusted = (now, self._read_issuers())
        assert self._trusted is not None
        return self._trusted[1]

    def _read_issuers(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._db.scan(**kwargs)
            for item in page.get("Items", []):
                doc = json.loads(item["doc"]["S"])
                keys = doc.get("jwks") or (_fetch_jwks(doc["jwks_url"]) if doc.get("jwks_url") else None)
                if doc.get("issuer") and keys and not doc.get("suspended"):
                    out[doc["issuer"]] = keys
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _secret_id(self, partner_id: str) -> str:
        return f"{self._prefix}{partner_id}"

    def secrets_of(self, partner_id: str, now: datetime) -> list[str]:
        """The secrets a signature may use now: the current one, and the previous during the overlap."""
        try:
            doc = json.loads(self._secrets.get_secret_value(SecretId=self._secret_id(partner_id))["SecretString"])
        except self._secrets.exceptions.ResourceNotFoundException:
            return []
        out = [doc["current"]]
        if doc.get("previous") and datetime.fromisoformat(doc["previous_valid_until"]) > now:
            out.append(doc["previous"])
        return out

    def rotate_secret(self, partner_id: str, now: datetime, grace: bool = True) -> str:
        """A new secret; the old one stays valid for the overlap window, or not at all (``grace=False``:
        an emergency, the old one may have leaked). Returns the new one (shown once)."""
        secret = pysecrets.token_urlsafe(32)
        name = self._secret_id(partner_id)
        try:
            old = json.loads(self._secrets.get_secret_value(SecretId=name)["SecretString"])["current"]
        except self._secrets.exceptions.ResourceNotFoundException:
            self._secrets.create_secret(Name=name, SecretString=json.dumps({"current": secret}))
            return secret
        doc: dict[str, str] = {"current": secret}
        if grace:
            doc |= {"previous": old, "previous_valid_until": (now + SECRET_OVERLAP).isoformat()}
        self._secrets.put_secret_value(SecretId=name, SecretString=json.dumps(doc))
        return secret
