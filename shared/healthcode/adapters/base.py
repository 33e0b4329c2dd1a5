"""The interfaces the use cases depend on. Each is implemented once over AWS (the other modules of
this package) and once in memory for unit tests (``tests/fakes.py``).

Adapters turn every AWS failure a caller can cause or must see into a domain error
(:mod:`healthcode.errors`): a lost conditional write is :class:`VersionConflict` or :class:`Conflict`,
a spent nonce :class:`Unauthorized`, a partner over its rate :class:`RateLimited`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from healthcode.errors import MalformedRequest

if TYPE_CHECKING:
    from healthcode.messages import RecomputeMessage
    from healthcode.models import (
        AppealRecord,
        AreaView,
        CodeRecord,
        ColorChange,
        Delivery,
        Holder,
        LevelSnapshot,
        Notice,
        OverrideRecord,
        Partner,
        Scan,
        Task,
    )
    from healthcode.scoring.ruleset import Ruleset
    from healthcode.stats import Counts, Delta, LevelSet
    from healthcode.tokens import TokenSigner, TokenVerifier

StartKey = dict[str, Any] | None  # where a paged read resumes (opaque to the use cases)
THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "Throttling",
    }
)


def is_throttling(exc: BaseException) -> bool:
    """An AWS error that means load to shed (throttling that outlasted the SDK's retries), by its code."""
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in THROTTLED


def is_service_fault(exc: BaseException) -> bool:
    """An AWS error that is the service's, not the request's (a 5xx that outlasted the SDK's retries):
    the same request may succeed once the fault clears, so it is retried rather than recorded as one
    item's failure."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code", "")
    return (isinstance(status, int) and status >= 500) or code in ("InternalServerError", "ServiceUnavailable")


@dataclass(frozen=True, slots=True)
class Parked:
    """A message on a dead-letter queue: its body as sent, and how often the redrive sweep sent it back."""

    message_id: str
    receipt: str
    body: str
    redrives: int


class DeadLetterStore(Protocol):
    def receive(self, queue_url: str, limit: int = 10) -> list[Parked]: ...
    def send(self, queue_url: str, bodies: list[str], redrives: int) -> None: ...
    def delete(self, queue_url: str, receipt: str) -> None: ...


class ColourCheckStore(Protocol):
    def start(self, check_id: str, segments: int, by: str, now: datetime) -> dict[str, Any]: ...
    def add(
        self, check_id: str, checked: int, findings: list[dict[str, Any]], unexplained: int, segment_done: bool, now: datetime
    ) -> None: ...
    def get(self, check_id: str) -> dict[str, Any] | None: ...
    def latest(self) -> dict[str, Any] | None: ...


class DigestStore(Protocol):
    def put(self, document: dict[str, Any]) -> None: ...
    def get(self, period: str) -> dict[str, Any] | None: ...
    def of_day(self, day: str) -> list[dict[str, Any]]: ...


class DigestSigner(Protocol):
    key_id: str

    def sign(self, document: dict[str, Any]) -> str: ...
    def public_key_pem(self) -> str: ...


class StreamReader(Protocol):
    def read(self, info: dict[str, Any]) -> list[str] | None:
        """The records a stream on-failure message points at, as Lambda delivers them (JSON); None
        when the stream no longer has them."""
        ...


@dataclass(frozen=True, slots=True)
class HolderChange:
    """A holder item as it was and as it is (a stream record of the holders table)."""

    old: Holder | None
    new: Holder | None


@dataclass(frozen=True, slots=True)
class RunStarted:
    """A full rescoring run was created (a stream record of the runs table)."""

    run_id: str
    segments: int


@dataclass(frozen=True, slots=True)
class RegionChange:
    """A region's level as it was and as it is (a stream record of the regions table)."""

    code: str
    old_level: int | None
    new_level: int | None
    at: datetime | None


class HolderRepository(Protocol):
    def get(self, holder_id: str) -> Holder | None: ...
    def find_by_sub(self, sub: str) -> Holder | None: ...
    def code_status(self, code_id: str) -> CodeRecord | None: ...
    def dependants(self, sub: str) -> list[Holder]: ...
    def save(self, holder: Holder, previous: Holder | None = None) -> Holder:
        """Write if nobody wrote since it was read (else :class:`VersionConflict`); returns it bumped.

        When ``sub`` or ``guardian`` differ from ``previous``, the account bindings are written in the
        same transaction; a binding refused (an account bound to another identity, too many
        dependants) is :class:`Conflict`.
        """
        ...

    @property
    def due_shards(self) -> int: ...
    def due_page(self, day: date, shard: int, start_key: StartKey = None) -> tuple[list[Holder], StartKey]: ...
    def scan_segment(self, segment: int, total: int, start_key: StartKey) -> tuple[list[Holder], StartKey]: ...


class RegionLevels(Protocol):
    """Levels the authority (or a partner) set; every other region is level 1 or inherits one."""

    def snapshot(self, fresh: bool = False) -> LevelSnapshot:
        """All levels set, versioned: cached per environment (bounded staleness) unless ``fresh``."""
        ...

    def put(
        self, code: str, name: str | None, level: int, parent: str | None, by: str, at: datetime, default_name: str = ""
    ) -> str:
        """Set a level (and the name when given: never replaced by omission); returns the stored name."""
        ...


class LevelDetails(Protocol):
    """Every level set, with when and by whom (the map; not a hot path: read through a short cache)."""

    def details(self) -> dict[str, LevelSet]: ...


class AreaRegistry(Protocol):
    """Towns and villages the authority registered (9- and 12-digit codes), by county."""

    def put(self, code: str, name: str, by: str, at: datetime) -> tuple[AreaView, bool]: ...
    def get(self, code: str) -> AreaView | None: ...
    def in_county(self, county: str) -> list[AreaView]: ...
    def put_checkpoint(self, checkpoint_id: str, area: str, by: str, at: datetime) -> bool: ...
    def checkpoint(self, checkpoint_id: str) -> str | None: ...
    def checkpoints(self, county: str) -> list[tuple[str, str]]: ...


class StatsStore(Protocol):
    """Deltas of the counts, one per holder change, and the hour and day sums made from them."""

    def record(self, holder_id: str, version: int, at: datetime, before: str | None, after: str | None) -> None: ...
    def deltas(self, day: date, from_hour: str = "") -> dict[str, list[Delta]]: ...
    def put_hour(self, hour: str, counts: Counts, final: bool, at: datetime) -> None: ...
    def hours(self, first_day: date, last_day: date) -> dict[str, tuple[Counts, bool]]: ...
    def put_day(self, day: date, counts: Counts, levels: dict[str, Any], at: datetime) -> None: ...
    def day(self, on_or_before: date) -> tuple[date, Counts, dict[str, Any]] | None: ...
    def put_index(self, day: date, city: str, rows: dict[str, Any], version: str) -> None: ...
    def index(self, city: str, first: date, last: date) -> list[tuple[date, str, dict[str, Any]]]: ...
    def put_page(self, run_id: str, segment: int, page: int, counts: Counts, at: datetime) -> None: ...
    def pages(self, run_id: str) -> list[Counts]: ...
    def put_reconciliation(self, run_id: str, part: str, doc: dict[str, Any], at: datetime) -> None: ...
    def reconciliation(self, run_id: str, part: str) -> dict[str, Any] | None: ...
    def record_fix(self, run_id: str, at: datetime, key: str, k: int) -> None: ...


class StayIndex(Protocol):
    def record(self, holder_id: str, stays: Iterable[tuple[str, date, date | None]]) -> None: ...

    parts: int  # partition keys per county

    def holders(
        self, county: str, since: date, start_key: StartKey = None, part: int = 0
    ) -> tuple[list[str], StartKey]: ...


class ScanLog(Protocol):
    def record(
        self, checkpoint_id: str, code_id: str, color: str | None, status: str, at: datetime, by: str
    ) -> bool: ...


class Erasure(Protocol):
    def erase(self, holder: Holder, account: str) -> None: ...
    def forget_inbox(self, account: str) -> None: ...


class ScanHistory(Protocol):
    def of_code(self, code_id: str, limit: int, after: StartKey) -> tuple[list[Scan], StartKey]: ...


class ScanCounts(Protocol):
    def day(self, checkpoint_id: str, start: datetime, end: datetime) -> list[tuple[str | None, str]]:
        """(colour, status) of each scan at a checkpoint between ``start`` and ``end``."""
        ...


class HistoryLog(Protocol):
    def append(self, change: ColorChange) -> None: ...
    def page(self, holder_id: str, limit: int, after: StartKey) -> tuple[list[ColorChange], StartKey]: ...


class RunLog(Protocol):
    """Full rescoring runs and their per-segment progress (advanced conditionally: counted once)."""

    def create(self, run_id: str, segments: int, ruleset_version: str, by: str, at: datetime) -> bool: ...
    def get(self, run_id: str) -> dict[str, Any] | None: ...
    def advance(
        self, run_id: str, segment: int, page: int, next_key: StartKey, read: int, changed: int, at: datetime
    ) -> bool: ...
    def record_failure(self, job: str, holder_id: str, reason: str, at: datetime) -> None:
        """A holder a job could not rescore: kept (by holder) with the reason, for operators to see."""
        ...


class RulesetStore(Protocol):
    def at(self, now: datetime) -> Ruleset:
        """The ruleset in force at ``now``."""
        ...

    def publish(self, ruleset: Ruleset) -> None:
        """Store a new version; :class:`Conflict` if that version exists."""
        ...

    def versions(self, force: bool = False) -> list[Ruleset]:
        """Every version, published or bundled, by effective time."""
        ...

    def propose(self, ruleset: Ruleset, by: str, reason: str, at: datetime, person: str | None = None) -> None: ...
    def proposed(self, version: str) -> dict[str, Any] | None: ...
    def ask_withdrawal(self, version: str, by: str, person: str, at: datetime) -> dict[str, Any]: ...
    def withdraw(self, ruleset: Ruleset, asked: dict[str, Any], by: str, at: datetime) -> None: ...
    def withdrawn(self, version: str) -> bool: ...


class PartnerDirectory(Protocol):
    def get(self, partner_id: str) -> Partner | None: ...
    def put(self, partner: Partner) -> None: ...
    def secrets_of(self, partner_id: str, now: datetime) -> list[str]: ...
    def rotate_secret(self, partner_id: str, now: datetime, grace: bool = True) -> str: ...
    def trusted_issuers(self) -> dict[str, dict[str, Any]]:
        """Issuer -> JWKS of the partner cities whose codes we recognise (a cached snapshot)."""
        ...

    def refresh_keys(self) -> dict[str, str]:
        """Fetch the partners' JWKS URLs and republish the trust list (the scheduled refresher)."""
        ...


class NonceStore(Protocol):
    def spend(self, partner_id: str, nonce: str, now: datetime) -> None:
        """Use a nonce once; :class:`Unauthorized` on a replay."""
        ...

    def count(self, partner: Partner, now: datetime) -> None:
        """Count one request; :class:`RateLimited` past the partner's rate."""
        ...


class Keys(Protocol):
    def holder_key(self) -> bytes: ...
    def signer(self) -> TokenSigner: ...
    def verifier(self, partners: dict[str, Any] | None = None, refresh: bool = False) -> TokenVerifier: ...
    def jwks(self, force: bool = False) -> dict[str, Any]: ...


class ColorEvents(Protocol):
    def color_changed(self, change: ColorChange, holder: Holder) -> None: ...
    def region_level_changed(self, code: str, old_level: int | None, new_level: int | None, at: datetime) -> None: ...


class Inbox(Protocol):
    def add(self, notice: Notice) -> bool: ...
    def page(self, owner: str, limit: int, after: StartKey) -> tuple[list[Notice], StartKey]: ...


class TaskBoard(Protocol):
    def add(self, task: Task) -> bool: ...
    def get(self, task_id: str) -> Task | None: ...
    def page(self, office: str, status: str | None, limit: int, after: StartKey) -> tuple[list[Task], StartKey]: ...
    def add_counted(self, task: Task, counter: str, limit: int) -> str: ...
    def acknowledge(self, task: Task, by: str, at: datetime, outcome: str | None = None) -> Task | None: ...
    def ack_minutes(self, office: str, day: date) -> dict[int, int]: ...
    def overdue(self, now: datetime, limit: int = 500) -> list[str]: ...
    def escalate(self, task_id: str, to: str) -> bool: ...


class DeliveryLog(Protocol):
    def add(self, d: Delivery) -> bool: ...
    def claim(self, d: Delivery, lease_until: datetime) -> Delivery | None: ...
    def delivered(self, d: Delivery, at: datetime) -> None: ...
    def failed(self, d: Delivery, error: str, retry_at: datetime | None) -> None: ...
    def due(self, now: datetime, limit: int = 500) -> list[Delivery]: ...
    def page(self, partner_id: str, limit: int, after: StartKey) -> tuple[list[Delivery], StartKey]: ...


class AuditLog(Protocol):
    def append(self, day: str, entry: dict[str, Any]) -> dict[str, Any]: ...
    def day(self, day: str) -> list[dict[str, Any]]: ...


class OverrideStore(Protocol):
    def get(self, override_id: str) -> OverrideRecord | None: ...
    def proposed_since(self, proposer: str, now: datetime) -> tuple[int, int]: ...
    def create(self, rec: OverrideRecord, seen_this_hour: int, counter_of: str | None = None) -> bool: ...
    def save(self, rec: OverrideRecord) -> OverrideRecord: ...
    def page(self, status: str, limit: int, after: StartKey) -> tuple[list[OverrideRecord], StartKey]: ...
    def counts(self, status: str) -> tuple[int, int]: ...


class AppealStore(Protocol):
    def get(self, appeal_id: str) -> AppealRecord | None: ...
    def file(self, rec: AppealRecord) -> AppealRecord | None: ...
    def decide(self, rec: AppealRecord) -> AppealRecord: ...
    def save(self, rec: AppealRecord) -> AppealRecord: ...
    def by_status(self, status: str, limit: int, after: StartKey) -> tuple[list[AppealRecord], StartKey]: ...
    def by_owner(self, owner: str, limit: int, after: StartKey) -> tuple[list[AppealRecord], StartKey]: ...
    def open_before(self, cutoff: datetime) -> int: ...


class PhoneBook(Protocol):
    def keep(self, holder_id: str, phone: str) -> None: ...
    def phone_of(self, holder_id: str) -> str | None: ...


class Texts(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class Subscribers(Protocol):
    def subscribers(self, kind: str) -> dict[str, dict[str, Any]]: ...
    def signing_secret(self, partner_id: str) -> str | None: ...


class Webhooks(Protocol):
    def post(self, url: str, body: str, secret: str, delivery_id: str, kind: str, now: datetime) -> None:
        """Deliver, or raise (any exception: the attempt failed and is retried)."""
        ...


class RecomputeQueue(Protocol):
    def send(self, message: RecomputeMessage, delay_s: int = 0) -> None: ...


def hour_of(t: datetime) -> str:
    """The clock hour (UTC) ``t`` falls in, as a key part: ``2020061401``."""
    from datetime import UTC

    return t.astimezone(UTC).strftime("%Y%m%d%H")


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


NOT_A_CURSOR = "The page cursor (after) is not one this service gave out."


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A page cursor we gave out (``next`` of a listing); anything else is :class:`MalformedRequest`."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(NOT_A_CURSOR) from exc

    def is_key(d: Any) -> bool:
        return isinstance(d, dict) and all(
            isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in d.values()
        )

    if not isinstance(key, dict) or not (is_key(key) or all(is_key(v) for v in key.values())):
        raise MalformedRequest(NOT_A_CURSOR)
    return key
