"""The composition root: builds adapters and use cases from settings, once per cold start.

Clients are created on first use (not at import time) and can be injected, so tests and the local
stack pass their own (moto) clients. Each piece is imported when first used, so a function's cold
start imports only what it runs (verify never loads the idempotency utility, the scoring rules or the
region registry). Page sizes are constructor arguments (``pages``), so tests can make pages small.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from healthcode.lazy import Lazy
from healthcode.settings import Settings, settings

if TYPE_CHECKING:
    from healthcode.adapters.accountability import DynamoOverrides
    from healthcode.adapters.areas import DynamoAreas
    from healthcode.adapters.base import HolderChange, RegionChange, RunStarted
    from healthcode.adapters.clients import Clients
    from healthcode.adapters.history import DynamoHistory
    from healthcode.adapters.holders import DynamoHolders
    from healthcode.adapters.keyring import KeyRing
    from healthcode.adapters.notices import DynamoDeliveries, DynamoInbox, DynamoTasks
    from healthcode.adapters.outbound import Outbound
    from healthcode.adapters.partners import DynamoPartners
    from healthcode.adapters.phones import KmsPhoneBook
    from healthcode.adapters.queue import SqsRecomputeQueue
    from healthcode.adapters.regions import DynamoRegions
    from healthcode.adapters.rulesets import DynamoRulesets
    from healthcode.adapters.runs import DynamoRuns
    from healthcode.adapters.stats import DynamoStats
    from healthcode.adapters.stays import DynamoStayIndex
    from healthcode.api.callers import Caller
    from healthcode.api.partner_auth import PartnerGate
    from healthcode.identity import Official
    from healthcode.regions import RegionRegistry
    from healthcode.urls import Resolve
    from healthcode.usecases.appeals import Appeals
    from healthcode.usecases.areas import Areas
    from healthcode.usecases.audit import AuditTrail
    from healthcode.usecases.authority import Authority
    from healthcode.usecases.changes import Changes
    from healthcode.usecases.checkpoints import Checkpoints
    from healthcode.usecases.codecheck import CodeCheck
    from healthcode.usecases.colourcheck import ColourChecks
    from healthcode.usecases.consequences import Consequences
    from healthcode.usecases.export import Export, Leaving
    from healthcode.usecases.guardianship import Guardianships
    from healthcode.usecases.notify import DeliveryLogView, Inboxes, Notifier, Offices
    from healthcode.usecases.overrides import Overrides
    from healthcode.usecases.partners import PartnerAdmin, PartnerCities
    from healthcode.usecases.recolor import Recolor
    from healthcode.usecases.recompute import Recompute
    from healthcode.usecases.redrive import Redrive
    from healthcode.usecases.residents import Residents
    from healthcode.usecases.seen import Seen
    from healthcode.usecases.statistics import Statistics


@dataclass(frozen=True)
class Pages:
    """How many items one read of each paged query asks for."""

    due: int = 100
    scan: int = 200
    stays: int = 200
    listing: int = 50  # inbox, tasks, deliveries: one page of a listing


class Services:
    def __init__(
        self, config: Settings | None = None, pages: Pages | None = None, resolve: Resolve | None = None, **clients: Any
    ) -> None:
        """``resolve``: host name -> addresses for partners' URLs (default: the system resolver)."""
        from healthcode.adapters.clients import Clients
        from healthcode.urls import resolve_name

        self.settings = config or settings()
        self.pages = pages or Pages()
        self.resolve: Resolve = resolve or resolve_name
        self.clients: Clients = Clients(clients)

    # ------------------------------------------------------------------ adapters
    @cached_property
    def holders(self) -> DynamoHolders:
        from healthcode.adapters.holders import DynamoHolders

        s, p = self.settings, self.pages
        return DynamoHolders(
            self.clients.get("dynamodb"),
            s.holders_table,
            s.due_shards,
            p.due,
            p.scan,
            accounts_table=s.table("accounts"),
            max_dependants=s.max_dependants,
        )

    @cached_property
    def stays(self) -> DynamoStayIndex:
        from healthcode.adapters.stays import DynamoStayIndex

        s = self.settings
        return DynamoStayIndex(self.clients.get("dynamodb"), s.stays_table, self.pages.stays, s.stay_parts)

    @cached_property
    def rulesets(self) -> DynamoRulesets:
        from healthcode.adapters.rulesets import DynamoRulesets

        table = self.settings.rulesets_table
        db = self.clients.get("dynamodb") if table else None
        return DynamoRulesets(db, table, max_age=self.settings.parameters_max_age)

    @cached_property
    def runs(self) -> DynamoRuns | None:
        from healthcode.adapters.runs import DynamoRuns

        return DynamoRuns(self.clients.get("dynamodb"), self.settings.runs_table) if self.settings.runs_table else None

    @cached_property
    def queue(self) -> SqsRecomputeQueue:
        from healthcode.adapters.queue import SqsRecomputeQueue

        return SqsRecomputeQueue(self.clients.get("sqs"), self.settings.recompute_queue_url)

    def record_act(
        self,
        who: Caller,
        request_id: str | None,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        repeated: bool = False,
        holders: list[str] | None = None,
    ) -> None:
        """Append an act to the audit trail: who (the account and its roles), the request it came in.
        An act sent again (``repeated``: it changed nothing this time) is recorded too, marked so: its
        first record may be the one that was lost (the act done, its append failed), so a record may
        appear twice, never be missing."""
        from healthcode import clock
        from healthcode.usecases.audit import Actor

        actor = Actor(who.sub, tuple(sorted(who.scopes)), request_id)
        self.audit.record(actor, action + (" (repeated)" if repeated else ""), target, clock.now(), before, after, holders)

    def official(self, who: Caller) -> Official:
        """The official acting: the account and the person behind it (the keyed hash of the verified
        identity their token carries: the same as their own holder id), for dual control by person."""
        from healthcode.identity import Official, holder_id

        person = holder_id(self.keys.holder_key(), *who.identity) if who.identity else None
        return Official(who.sub, person, who.scopes)

    @cached_property
    def colour_checks(self) -> ColourChecks:
        from healthcode.adapters.colourchecks import DynamoColourChecks, SqsSegments
        from healthcode.usecases.colourcheck import ColourChecks

        s = self.settings
        store = DynamoColourChecks(self.clients.get("dynamodb"), s.runs_table)
        queue = SqsSegments(self.clients.get("sqs"), s.colour_check_queue_url)
        return ColourChecks(self.holders, self.recolor, self.override_store, store, queue.send, s.full_run_segments)

    @cached_property
    def redrive(self) -> Redrive:
        from healthcode.adapters.redrive import SqsDeadLetters, StreamRecords
        from healthcode.usecases.redrive import Lane, Redrive

        s = self.settings
        lanes = [
            Lane("changes", s.change_dead_letters_url, s.change_replay_url),
            Lane("rescoring", s.recompute_dead_letters_url, s.recompute_queue_url),
            Lane("notifications", s.notify_dead_letters_url, s.notify_queue_url),
            Lane("colour checks", s.colour_check_dead_letters_url, s.colour_check_queue_url),
        ]
        sqs = self.clients.get("sqs")
        return Redrive(SqsDeadLetters(sqs), StreamRecords(self.clients.get("dynamodbstreams")), lanes)

    @cached_property
    def keys(self) -> KeyRing:
        from healthcode.adapters.keyring import KeyRing

        s = self.settings
        return KeyRing(  # clients made when first needed
            s,
            Lazy(lambda: self.clients.get("secretsmanager")) if s.signing_key_secret or s.holder_key_secret else None,
            Lazy(lambda: self.clients.get("ssm")) if s.jwks_parameter else None,
        )

    @cached_property
    def partners(self) -> DynamoPartners:
        from healthcode.adapters.partners import DynamoPartners, jwks_fetcher

        s = self.settings
        return DynamoPartners(
            self.clients.get("dynamodb"),
            s.partners_table,
            Lazy(lambda: self.clients.get("secretsmanager")),
            s.partner_secret_prefix,
            max_age=s.trust_max_age,
            fetch=jwks_fetcher(self.outbound),
        )

    @cached_property
    def outbound(self) -> Outbound:
        """The one client for every URL a partner gives us (its JWKS, its webhook)."""
        from healthcode.adapters.outbound import Outbound

        return Outbound(allow_private=self.settings.allow_private_urls, resolve=self.resolve)

    @cached_property
    def regions(self) -> DynamoRegions:
        from healthcode.adapters.regions import DynamoRegions

        return DynamoRegions(self.clients.get("dynamodb"), self.settings.regions_table, self.settings.levels_max_age)

    @cached_property
    def registry(self) -> RegionRegistry:
        from healthcode.regions import registry

        return registry()

    @cached_property
    def audit(self) -> AuditTrail:
        from healthcode.adapters.audit import DynamoAudit
        from healthcode.usecases.audit import AuditTrail

        s = self.settings
        if not (s.audit_digest_bucket and s.audit_digest_key):
            return AuditTrail(DynamoAudit(self.clients.get("dynamodb"), s.table("audit")))
        from healthcode.adapters.digests import KmsDigestSigner, S3Digests
        from healthcode.lazy import Lazy

        return AuditTrail(
            DynamoAudit(self.clients.get("dynamodb"), s.table("audit")),
            S3Digests(Lazy(lambda: self.clients.get("s3")), s.audit_digest_bucket),
            KmsDigestSigner(Lazy(lambda: self.clients.get("kms")), s.audit_digest_key),
        )

    @cached_property
    def history(self) -> DynamoHistory:
        from healthcode.adapters.history import DynamoHistory

        return DynamoHistory(self.clients.get("dynamodb"), self.settings.history_table)

    @cached_property
    def phones(self) -> KmsPhoneBook | None:
        from healthcode.adapters.phones import KmsPhoneBook

        s = self.settings
        if not (s.table("contacts") and s.phone_key_id):
            return None
        kms = Lazy(lambda: self.clients.get("kms"))
        return KmsPhoneBook(self.clients.get("dynamodb"), s.table("contacts"), kms, s.phone_key_id)

    @cached_property
    def inbox(self) -> DynamoInbox:
        from healthcode.adapters.notices import DynamoInbox

        return DynamoInbox(self.clients.get("dynamodb"), self.settings.table("inbox"))

    @cached_property
    def tasks(self) -> DynamoTasks:
        from healthcode.adapters.notices import DynamoTasks

        return DynamoTasks(self.clients.get("dynamodb"), self.settings.table("tasks"))

    @cached_property
    def deliveries(self) -> DynamoDeliveries:
        from healthcode.adapters.notices import DynamoDeliveries

        return DynamoDeliveries(self.clients.get("dynamodb"), self.settings.table("deliveries"))

    @cached_property
    def areas(self) -> DynamoAreas:
        from healthcode.adapters.areas import DynamoAreas

        return DynamoAreas(self.clients.get("dynamodb"), self.settings.table("areas"))

    @cached_property
    def area_registration(self) -> Areas:
        from healthcode.usecases.areas import Areas

        return Areas(self.areas, self.registry)

    @cached_property
    def stats_store(self) -> DynamoStats:
        from healthcode.adapters.stats import DynamoStats

        return DynamoStats(self.clients.get("dynamodb"), self.settings.table("stats"))

    def stream_change(self, record: dict[str, Any]) -> HolderChange | RegionChange | RunStarted | None:
        """The change a DynamoDB stream record describes (None: a table nothing follows from)."""
        from healthcode.adapters.streams import decode

        s = self.settings
        return decode(record, self.holders, s.holders_table, s.regions_table, s.runs_table)

    # ------------------------------------------------------------------ collaborators
    @cached_property
    def recolor(self) -> Recolor:
        from healthcode.usecases.recolor import Recolor

        return Recolor(self.holders, self.regions, self.rulesets, self.registry)

    @cached_property
    def consequences(self) -> Consequences:
        from healthcode.adapters.bus import EventBridgeColorEvents
        from healthcode.usecases.consequences import Consequences

        s = self.settings
        events = EventBridgeColorEvents(self.clients.get("events"), s.event_bus_name)
        stats = self.stats_store if s.table("stats") else None
        return Consequences(self.history, events, self.queue, s.region_settle_s, stats)

    @cached_property
    def changes(self) -> Changes:
        from healthcode.usecases.changes import Changes

        return Changes(self.regions, self.registry, self.recolor, self.keys)

    @cached_property
    def export(self) -> Export:
        from healthcode.usecases.export import Export

        appeals = self.appeals.mine if self.settings.table("appeals") else None
        return Export(self.holders, self.residents.changes, self.seen.of_holder, self.inboxes.mine, appeals)

    @cached_property
    def leaving(self) -> Leaving:
        from healthcode.adapters.erasure import DynamoErasure
        from healthcode.usecases.export import Leaving

        s = self.settings
        erasure = DynamoErasure(
            self.clients.get("dynamodb"),
            s.holders_table,
            s.table("accounts"),
            s.history_table,
            s.stays_table,
            s.table("inbox"),
            s.table("contacts"),
        )
        return Leaving(self.holders, erasure)

    @cached_property
    def seen(self) -> Seen:
        from healthcode.adapters.scans import DynamoScanLog
        from healthcode.usecases.seen import Seen

        scans = DynamoScanLog(self.clients.get("dynamodb"), self.settings.scans_table)
        return Seen(self.holders, scans, self.areas.checkpoint if self.settings.table("areas") else None)

    @cached_property
    def codecheck(self) -> CodeCheck:
        from healthcode.adapters.scans import DynamoScanLog
        from healthcode.usecases.codecheck import CodeCheck

        scans = DynamoScanLog(self.clients.get("dynamodb"), self.settings.scans_table)
        partners = self.partners if self.settings.partners_table else None
        return CodeCheck(self.holders, scans, self.keys, partners, self.tasks if self.settings.table("tasks") else None)

    # ------------------------------------------------------------------ use cases
    @cached_property
    def residents(self) -> Residents:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from healthcode.usecases.residents import Residents

        table = self.settings.idempotency_table
        persistence = (
            DynamoDBPersistenceLayer(table_name=table, boto3_client=self.clients.get("dynamodb")) if table else None
        )
        return Residents(
            self.recolor,
            self.holders,
            self.stays,
            self.rulesets,
            self.registry,
            self.keys,
            persistence,
            self.phones,
            self.history,
            self.areas if self.settings.table("areas") else None,
            (lambda sub, hid: self.guardianships.confirmed(sub, hid)) if self.settings.table("tasks") else None,
        )

    @cached_property
    def guardianships(self) -> Guardianships:
        from healthcode.usecases.guardianship import Guardianships

        return Guardianships(self.tasks, self.keys, self.rulesets, self.areas)

    @cached_property
    def checkpoints(self) -> Checkpoints:
        from healthcode.usecases.checkpoints import Checkpoints

        return Checkpoints(self.codecheck)

    @cached_property
    def authority(self) -> Authority:
        from healthcode.usecases.authority import Authority

        assert self.runs is not None, "the admin function needs RUNS_TABLE"
        from datetime import timedelta

        notice = timedelta(hours=self.settings.ruleset_notice_hours)
        return Authority(
            Lazy(lambda: self.changes),
            Lazy(lambda: self.rulesets),
            self.runs,
            Lazy(lambda: self.queue),
            segments=self.settings.full_run_segments,
            notice=notice,
        )

    @cached_property
    def recompute(self) -> Recompute:
        from healthcode.usecases.recompute import Recompute

        stats = self.stats_store if self.settings.table("stats") else None
        return Recompute(
            self.recolor,
            self.holders,
            self.stays,
            self.regions,
            self.registry,
            self.rulesets,
            self.queue,
            self.runs,
            segments=self.settings.full_run_segments,
            stats=stats,
        )

    @cached_property
    def partner_cities(self) -> PartnerCities:
        from healthcode.usecases.partners import PartnerCities

        return PartnerCities(self.codecheck, self.changes, self.registry, self.rulesets)

    @cached_property
    def partner_admin(self) -> PartnerAdmin:
        from healthcode.usecases.partners import PartnerAdmin

        return PartnerAdmin(self.partners, allow_private_urls=self.settings.allow_private_urls, resolve=self.resolve)

    @cached_property
    def notifier(self) -> Notifier:
        from datetime import timedelta

        from healthcode.usecases.notify import Notifier, NotifyPolicy

        s = self.settings

        def webhooks() -> Any:
            from healthcode.adapters.webhooks import HttpWebhooks

            return HttpWebhooks(self.outbound)

        policy = NotifyPolicy(
            ack_within=timedelta(minutes=s.ack_within_minutes),
            retry_for=timedelta(hours=s.webhook_retry_hours),
            backoff_base_s=s.webhook_backoff_seconds,
        )
        sms = None
        if s.sms_notices and self.phones is not None:
            from healthcode.adapters.phones import SnsTexts

            sms = (self.phones, SnsTexts(Lazy(lambda: self.clients.get("sns"))))
        return Notifier(self.inbox, self.tasks, self.deliveries, self.partners, Lazy(webhooks), policy, sms=sms)

    @cached_property
    def inboxes(self) -> Inboxes:
        from healthcode.usecases.notify import Inboxes

        return Inboxes(self.inbox)

    @cached_property
    def offices(self) -> Offices:
        from healthcode.usecases.notify import Offices

        return Offices(self.tasks, self.holders)

    @cached_property
    def delivery_log(self) -> DeliveryLogView:
        from healthcode.usecases.notify import DeliveryLogView

        return DeliveryLogView(self.deliveries)

    @cached_property
    def override_store(self) -> DynamoOverrides:
        from healthcode.adapters.accountability import DynamoOverrides

        return DynamoOverrides(self.clients.get("dynamodb"), self.settings.table("overrides"))

    @cached_property
    def overrides(self) -> Overrides:
        from healthcode.usecases.overrides import Overrides

        s = self.settings
        return Overrides(
            self.override_store,
            self.holders,
            self.recolor,
            self.keys,
            self.rulesets,
            bulk_threshold=s.bulk_override_holders,
            max_days=s.override_max_days,
        )

    @cached_property
    def appeals(self) -> Appeals:
        from datetime import timedelta

        from healthcode.adapters.accountability import DynamoAppeals
        from healthcode.usecases.appeals import Appeals

        s = self.settings
        store = DynamoAppeals(self.clients.get("dynamodb"), s.table("appeals"))
        deadline = timedelta(hours=s.appeal_deadline_hours)
        return Appeals(store, self.holders, self.recolor, self.override_store, self.rulesets, deadline)

    @cached_property
    def statistics(self) -> Statistics:
        from healthcode.adapters.scans import DynamoScanLog
        from healthcode.usecases.statistics import Statistics

        s = self.settings
        scans = DynamoScanLog(self.clients.get("dynamodb"), s.scans_table) if s.scans_table else None
        areas = self.areas if s.table("areas") else None
        return Statistics(
            self.stats_store,
            self.regions,
            self.registry,
            scans,
            map_region=s.map_region,
            runs=self.runs,
            areas=areas,
            segments=s.full_run_segments,
        )

    @cached_property
    def partner_gate(self) -> PartnerGate:
        from healthcode.adapters.nonces import DynamoNonces
        from healthcode.api.partner_auth import PartnerGate

        return PartnerGate(self.partners, DynamoNonces(self.clients.get("dynamodb"), self.settings.nonces_table))


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
