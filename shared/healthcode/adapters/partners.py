"""Partner cities: the registry (DynamoDB), their HMAC secrets (Secrets Manager, never in the table or
the code), and the trusted issuers whose codes we recognise (their JWKS inline or at a URL).

Verification never scans the registry nor fetches a URL: it reads the **trust list**, one item
(``#trust``) rebuilt whenever a partner is registered or changed and by the scheduled key refresher
(:meth:`DynamoPartners.refresh_keys`, the ``refresh_partner_keys`` function), which fetches every
partner's JWKS URL and stores the keys it found. Each environment caches the trust list for at most
``max_age`` seconds (:mod:`healthcode.adapters.snapshots`)."""

from __future__ import annotations

import json
import secrets as pysecrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.adapters.outbound import Outbound, OutboundFailed
from healthcode.adapters.snapshots import Snapshot
from healthcode.lazy import resolve
from healthcode.models import SECRET_OVERLAP, Partner

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)
TRUST_KEY = "#trust"  # partner ids are [a-z0-9-]: no partner has this key


def jwks_fetcher(outbound: Outbound) -> Callable[[str], dict[str, Any] | None]:
    """A partner's published keys through the guarded outbound client (checked addresses, no redirect,
    at most 256 KiB); None when refused, unreachable or not a JWKS, with the reason logged."""

    def fetch(url: str) -> dict[str, Any] | None:
        try:
            response = outbound.request("GET", url, headers={"Accept": "application/json"})
            if response.status != 200:
                raise OutboundFailed(f"answered {response.status}")
            doc = json.loads(response.body)
        except (OutboundFailed, ValueError) as exc:
            logger.warning("partner JWKS not fetched", extra={"url": url, "reason": str(exc)[:200]})
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            logger.warning("partner JWKS not fetched", extra={"url": url, "reason": "not a JWK set"})
            return None
        return doc

    return fetch


class DynamoPartners:
    def __init__(
        self,
        db: DynamoDBClient,
        table: str,
        secrets: Any,
        secret_prefix: str,
        max_age: float = 60.0,
        monotonic: Any = time.monotonic,
        fetch: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> None:
        """``fetch``: a JWKS URL -> its keys (default: through a guarded outbound client, deployed policy)."""
        self._db = db
        self._table = table
        self._secrets_given = secrets  # a client, or a Lazy one (verify never needs it)
        self._prefix = secret_prefix
        self._trust: Snapshot[dict[str, Any]] = Snapshot(self._read_trust, max_age, monotonic=monotonic)
        self._max_age = max_age
        self._secret_provider: Any = None
        self._fetch = fetch or jwks_fetcher(Outbound())

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
            doc.get("webhook_url"),
            frozenset(doc.get("webhook_events", [])),
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
            "webhook_url": partner.webhook_url,
            "webhook_events": sorted(partner.webhook_events),
        }
        key = {"partner_id": {"S": partner.partner_id}}
        before = self._db.update_item(  # the keys fetched from its URL stay (the refresher's)...
            TableName=self._table,
            Key=key,
            UpdateExpression="SET doc = :d",
            ExpressionAttributeValues={":d": {"S": json.dumps(doc, ensure_ascii=False)}},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if before and json.loads(before["doc"]["S"]).get("jwks_url") != partner.jwks_url:
            # ...unless the URL changed: the next refresh fetches the new one
            self._db.update_item(TableName=self._table, Key=key, UpdateExpression="REMOVE fetched_jwks")
        self.publish_trust()

    def trusted_issuers(self) -> dict[str, dict[str, Any]]:
        """Partner issuer -> JWKS, for mutual recognition of partner-issued codes (the cached trust list)."""
        return dict(self._trust.get().get("issuers", {}))

    def subscribers(self, kind: str) -> dict[str, dict[str, Any]]:
        """Partner id -> {url, jurisdiction} of every partner not suspended whose webhook takes ``kind``
        (from the cached trust list: no scan per event)."""
        hooks = self._trust.get().get("webhooks", {})
        return {pid: h for pid, h in hooks.items() if kind in h.get("events", [])}

    def _read_trust(self) -> dict[str, Any]:
        item = self._db.get_item(TableName=self._table, Key={"partner_id": {"S": TRUST_KEY}}).get("Item")
        return dict(json.loads(item["doc"]["S"])) if item else {}

    def _docs(self) -> dict[str, dict[str, Any]]:
        """Every partner's stored document (the registry is small: tens of cities)."""
        out: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            page = self._db.scan(**kwargs)
            for item in page.get("Items", []):
                if item["partner_id"]["S"] != TRUST_KEY:
                    doc = json.loads(item["doc"]["S"])
                    doc["fetched_jwks"] = json.loads(item["fetched_jwks"]["S"]) if "fetched_jwks" in item else None
                    out[item["partner_id"]["S"]] = doc
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def publish_trust(self) -> dict[str, dict[str, Any]]:
        """Rebuild the trust list from the registry: every partner not suspended with an issuer and keys
        (inline, or fetched from its URL by the refresher)."""
        docs = self._docs()
        issuers = {
            doc["issuer"]: keys
            for doc in docs.values()
            if doc.get("issuer") and not doc.get("suspended") and (keys := doc.get("jwks") or doc.get("fetched_jwks"))
        }
        webhooks = {
            pid: {
                "url": doc["webhook_url"],
                "events": doc.get("webhook_events", []),
                "jurisdiction": doc["jurisdiction"],
            }
            for pid, doc in docs.items()
            if doc.get("webhook_url") and doc.get("webhook_events") and not doc.get("suspended")
        }
        doc = json.dumps({"issuers": issuers, "webhooks": webhooks}, ensure_ascii=False, sort_keys=True)
        self._db.put_item(TableName=self._table, Item={"partner_id": {"S": TRUST_KEY}, "doc": {"S": doc}})
        return issuers

    def refresh_keys(self, fetch: Any = None) -> dict[str, str]:
        """Fetch every partner's JWKS URL, keep the keys found (a partner whose URL fails keeps the
        keys fetched before), and rebuild the trust list. Returns partner id -> "ok" / "unreachable"."""
        fetch = fetch or self._fetch
        outcome: dict[str, str] = {}
        for partner_id, doc in self._docs().items():
            if not doc.get("jwks_url"):
                continue
            keys = fetch(doc["jwks_url"])
            outcome[partner_id] = "ok" if keys else "unreachable"
            if keys and keys != doc.get("fetched_jwks"):
                self._db.update_item(
                    TableName=self._table,
                    Key={"partner_id": {"S": partner_id}},
                    UpdateExpression="SET fetched_jwks = :k",
                    ConditionExpression="attribute_exists(partner_id)",
                    ExpressionAttributeValues={":k": {"S": json.dumps(keys, sort_keys=True)}},
                )
        self.publish_trust()
        return outcome

    @property
    def _secrets(self) -> Any:
        return resolve(self._secrets_given)

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

    def signing_secret(self, partner_id: str) -> str | None:
        """The partner's current secret, to sign what we send it (kept per environment for the trust
        list's max age, so a rotation reaches deliveries within it)."""
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._secret_provider is None:
            self._secret_provider = SecretsProvider(boto3_client=self._secrets)
        try:
            doc = self._secret_provider.get(self._secret_id(partner_id), max_age=int(self._max_age), transform="json")
        except GetParameterError:
            return None
        return str(doc["current"])

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
