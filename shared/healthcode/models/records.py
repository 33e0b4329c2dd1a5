"""Plain records the adapters read and write: frozen dataclasses with no validation, so an adapter that
needs one (verify's holder and partner reads) imports no model classes with it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """What the verify index projects: the holder's colour now and the masked name."""

    color: str
    masked_name: str
    holder_id: str = ""  # the table's key, in every index


@dataclass(frozen=True, slots=True)
class Scan:
    """One verification of a code, as the scan log keeps it."""

    checkpoint_id: str
    at: datetime
    color: str | None
    status: str
    by: str  # the checkpoint account, or partner:<id>


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    """Every level the authority (or a partner) set, as one versioned document: what scoring reads."""

    version: int
    levels: dict[str, int]


SECRET_OVERLAP = timedelta(hours=24)  # a partner's previous secret stays valid this long after a rotation


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner city as registered by the health authority (its secret is kept elsewhere)."""

    partner_id: str
    name: str
    jurisdiction: str  # a GB/T 2260 code prefix, e.g. "3302" for Ningbo
    scopes: frozenset[str]
    rate_limit_per_minute: int
    issuer: str | None  # the "iss" of codes the partner issues (mutual recognition)
    jwks: dict[str, Any] | None
    jwks_url: str | None = None
    suspended: bool = False  # refused at once by the authorizer; its codes dropped at the next trust refresh
    webhook_url: str | None = None
    webhook_events: frozenset[str] = frozenset()

    def covers(self, region: str) -> bool:
        return region.startswith(self.jurisdiction)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message kept in an account's inbox (rendered in the reader's language when read)."""

    owner: str  # the account that reads it: the holder's own, or the guardian of a dependant
    notification_id: str  # the event's id: a redelivered event finds it already there
    at: datetime
    holder_id: str
    color: str
    old_color: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Task:
    """A community office's task for a holder who turned yellow or red, or to confirm a guardian in person."""

    task_id: str
    office: str
    holder_id: str
    masked_name: str
    color: str
    old_color: str | None
    changed_at: datetime
    escalate_at: datetime
    status: str = "open"  # or "acknowledged"
    escalated_to: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    kind: str = "colour"  # or "guardianship": confirm in person that ``guardian`` cares for the holder
    guardian: str | None = None  # guardianship: the account asking
    guardian_person: str | None = None  # guardianship: the person asking (their verified identity's holder id)
    masked_id: str | None = None  # guardianship: the person's ID number, partly masked
    outcome: str | None = None  # guardianship: "confirmed" or "refused"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one partner city's webhook, until delivered or given up."""

    partner_id: str
    delivery_id: str
    event_id: str
    kind: str
    body: str  # exactly the bytes sent on every attempt
    created_at: datetime
    status: str = "pending"  # delivered, dead
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
