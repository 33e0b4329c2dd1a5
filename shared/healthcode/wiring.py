"""Builds the use cases from settings and boto3 clients, once per cold start.

Clients are created on first use (not at import time) and can be injected, so tests and the
local stack pass their own (moto) clients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from healthcode.keys import KeyRing
from healthcode.settings import Settings, settings
from healthcode.store import DynamoHolders, DynamoStayIndex

# Each use case is imported when first used, so a function's cold start imports only what it runs
# (verify never loads the idempotency utility, the scoring rules or the region registry).
if TYPE_CHECKING:
    from healthcode.assessor import Assessor
    from healthcode.authority import Authority
    from healthcode.checkpoints import Checkpoints
    from healthcode.events import SqsRecomputeQueue
    from healthcode.partner_cities import PartnerAdmin, PartnerCities
    from healthcode.partners import PartnerGate, PartnerRegistry
    from healthcode.rescoring import Rescoring
    from healthcode.residents import Residents
    from healthcode.ruleset import RulesetBook
    from healthcode.store import DynamoRuns


# Fail fast and shed load: a few retries with jittered backoff, then the caller gets a 503 problem.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@dataclass
class Clients:
    """boto3 clients, each made on first use unless given."""

    given: dict[str, Any]

    def get(self, service: str) -> Any:
        if service not in self.given:
            self.given[service] = boto3.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]
        return self.given[service]


class Services:
    def __init__(self, config: Settings | None = None, **clients: Any) -> None:
        self.settings = config or settings()
        self.clients = Clients(dict(clients))
        self._issuers: tuple[float, dict[str, Any]] | None = None

    @cached_property
    def dynamodb_resource(self) -> Any:
        db = self.clients.get("dynamodb")
        return boto3.resource("dynamodb", endpoint_url=db.meta.endpoint_url, region_name=db.meta.region_name)

    @cached_property
    def rulebook(self) -> RulesetBook:
        from aws_lambda_powertools.utilities.parameters import DynamoDBProvider

        from healthcode.ruleset import RulesetBook

        table = self.settings.rulesets_table
        provider = DynamoDBProvider(table_name=table, boto3_client=self.dynamodb_resource) if table else None
        return RulesetBook(provider, max_age=self.settings.parameters_max_age)

    @cached_property
    def runs(self) -> DynamoRuns | None:
        from healthcode.store import DynamoRuns

        return DynamoRuns(self.clients.get("dynamodb"), self.settings.runs_table) if self.settings.runs_table else None

    @cached_property
    def queue(self) -> SqsRecomputeQueue:
        from healthcode.events import SqsRecomputeQueue

        return SqsRecomputeQueue(self.clients.get("sqs"), self.settings.recompute_queue_url)

    @cached_property
    def holders(self) -> DynamoHolders:
        return DynamoHolders(self.clients.get("dynamodb"), self.settings.holders_table, self.settings.due_shards)

    @cached_property
    def keys(self) -> KeyRing:
        s = self.settings
        return KeyRing(
            s,
            self.clients.get("secretsmanager") if s.signing_key_secret or s.holder_key_secret else None,
            self.clients.get("ssm") if s.jwks_parameter else None,
        )

    @cached_property
    def stays(self) -> DynamoStayIndex:
        return DynamoStayIndex(self.clients.get("dynamodb"), self.settings.stays_table)

    @cached_property
    def assessor(self) -> Assessor:
        from healthcode.assessor import Assessor
        from healthcode.events import EventBridgeColorEvents
        from healthcode.regions import registry
        from healthcode.store import DynamoHistory, DynamoRegions

        s = self.settings
        db = self.clients.get("dynamodb")
        return Assessor(
            self.holders,
            DynamoRegions(db, s.regions_table),
            DynamoHistory(db, s.history_table),
            EventBridgeColorEvents(self.clients.get("events"), s.event_bus_name),
            self.rulebook,
            registry(),
        )

    @cached_property
    def residents(self) -> Residents:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from healthcode.residents import Residents

        table = self.settings.idempotency_table
        persistence = (
            DynamoDBPersistenceLayer(table_name=table, boto3_client=self.clients.get("dynamodb")) if table else None
        )
        return Residents(self.assessor, self.stays, self.keys, persistence)

    @cached_property
    def partners(self) -> PartnerRegistry:
        from healthcode.partners import PartnerRegistry

        s = self.settings
        return PartnerRegistry(
            self.clients.get("dynamodb"), s.partners_table, self.clients.get("secretsmanager"), s.partner_secret_prefix
        )

    def partner_issuers(self, refresh: bool = False) -> dict[str, Any]:
        """Trusted partner issuers and their keys, re-read once a minute; ``refresh`` (a code from an
        issuer we do not know yet) re-reads sooner, at most every 10 seconds."""
        if not self.settings.partners_table:
            return {}
        now = time.monotonic()
        age = now - self._issuers[0] if self._issuers else float("inf")
        if age > 60 or (refresh and age > 10):
            self._issuers = (now, self.partners.trusted_issuers())
        assert self._issuers is not None
        return self._issuers[1]

    @cached_property
    def partner_gate(self) -> PartnerGate:
        from healthcode.partners import PartnerGate

        return PartnerGate(self.partners, self.clients.get("dynamodb"), self.settings.nonces_table)

    @cached_property
    def partner_cities(self) -> PartnerCities:
        from healthcode.partner_cities import PartnerCities
        from healthcode.regions import registry

        return PartnerCities(self.checkpoints, self.authority, registry())

    @cached_property
    def partner_admin(self) -> PartnerAdmin:
        from healthcode.partner_cities import PartnerAdmin

        return PartnerAdmin(self.partners)

    @cached_property
    def checkpoints(self) -> Checkpoints:
        from healthcode.checkpoints import Checkpoints
        from healthcode.store import DynamoScanLog

        return Checkpoints(
            self.holders,
            DynamoScanLog(self.clients.get("dynamodb"), self.settings.scans_table),
            self.keys,
            self.partner_issuers,
        )

    @cached_property
    def authority(self) -> Authority:
        from healthcode.authority import Authority

        rulesets = self.dynamodb_resource.Table(self.settings.rulesets_table)
        return Authority(self.assessor, self.queue, self.keys, self.rescoring, self.runs, rulesets)

    @cached_property
    def rescoring(self) -> Rescoring:
        from healthcode.rescoring import Rescoring

        return Rescoring(self.assessor, self.stays, self.queue, self.runs)


_services: Services | None = None


def services() -> Services:
    """The process-wide services (one per Lambda execution environment)."""
    global _services
    if _services is None:
        _services = Services()
    return _services


def use(svc: Services | None) -> None:
    """Install (or with None, forget) the services the handlers use: tests and the local stack."""
    global _services
    _services = svc
    settings.cache_clear()
