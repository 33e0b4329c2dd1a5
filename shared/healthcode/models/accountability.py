"""Accountability: a holder's colour history, the audit trail, and overrides and appeals with their records."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictStr

from healthcode.identity import IdType
from healthcode.models._base import RegionCode, _Request, _Response, _Stored
from healthcode.models.holder import CauseKind, ReasonView
from healthcode.scoring.rules import Color


class ColorChangeView(_Response):
    """One change of a holder's colour, with why and by which rules."""

    at: datetime
    old_color: Color | None
    new_color: Color
    score: int
    cause: CauseKind
    detail: str = Field(description="the cause as recorded (e.g. which region's level changed)")
    reasons: list[ReasonView] = Field(description="the reasons at that moment")
    ruleset_version: str


class HistoryView(_Response):
    items: list[ColorChangeView]
    next: str | None = Field(default=None, description="pass as ?after= for the next (older) page")


# ----------------------------------------------------------------------------- audit trail


class AuditRecordView(_Response):
    day: str
    seq: int
    at: str = Field(description="as recorded (ISO 8601): the hash covers this exact text")
    actor: str
    roles: list[str]
    action: str
    target: str
    before: Any = None
    after: Any = None
    holders: list[str] = Field(default=[], description="holders the act concerned (keyed ids, never ID numbers)")
    request_id: str | None = None
    prev_hash: str
    hash: str


class AuditDayView(_Response):
    day: str
    records: int
    chain_intact: bool
    problems: list[str]


class ColourCheckRequest(_Request):
    reason: Annotated[StrictStr, Field(min_length=5, max_length=500, description="why the check is run now (on the trail)")]


class ColourFinding(_Response):
    holder_id: str
    stored: Color
    expected: list[Color] = Field(description="what the holder's facts, the rules and the trail give")
    problems: list[str]


class ColourCheckView(_Response):
    check_id: str
    status: Literal["running", "done"]
    by: str
    started_at: datetime
    finished_at: datetime | None = None
    checked: int = Field(description="holders checked so far")
    unexplained: int = Field(description="stored colours nothing on the trail explains (exact)")
    findings: list[ColourFinding] = Field(description="the first 200 of them")


class AuditDigestView(_Response):
    period: str = Field(description="the hour it covers, YYYY-MM-DDTHH (Asia/Shanghai): the day's chain up to its end")
    day: str
    records: int = Field(description="how many records the day's chain had at the end of the period")
    last_hash: str = Field(description="the hash of the last of them (the genesis value when none)")
    previous_signature: str | None = Field(description="the signature of the digest before it")
    key_id: str
    signature: str = Field(description="ECDSA P-256 SHA-256 (DER, base64) over the canonical JSON without it")


class AuditDailyDigestView(AuditDigestView):
    """A whole day's digest: the hourly one's fields over the day, its hours, chained day to day."""

    period: str = Field(description="the day it covers, YYYY-MM-DD (Asia/Shanghai), signed once its last hour is")
    hours: int = Field(description="how many hourly digests of the day it covers")
    hourly_signatures: str = Field(description="SHA-256 (hex) of those digests' signatures, one per line, in order")


class AuditDigestsView(_Response):
    public_key_pem: str = Field(description="the key that verifies every signature (SubjectPublicKeyInfo, PEM)")
    key_id: str
    algorithm: Literal["ECDSA_SHA_256"]
    digests: list[AuditDigestView] = Field(description="the hourly digests")
    daily: list[AuditDailyDigestView] = Field(description="the daily digests, a chain of days")


class AuditView(_Response):
    records: list[AuditRecordView]
    days: list[AuditDayView] = Field(description="each day's hash chain, verified as read (over all its records)")


# ----------------------------------------------------------------------------- overrides and appeals


class PersonRef(_Request):
    id_type: IdType
    id_number: Annotated[StrictStr, Field(min_length=1, max_length=32)]


OverrideStatus = Literal["awaiting_approval", "in_force", "withdrawn", "expired"]
MAX_OVERRIDE_HOLDERS = 100


class OverrideRequest(_Request):
    holders: Annotated[list[PersonRef], Field(min_length=1, max_length=MAX_OVERRIDE_HOLDERS)]
    color: Color
    reason: Annotated[StrictStr, Field(min_length=5, max_length=500, description="the holders see it")]
    until: date = Field(description="the last day it is in force (Asia/Shanghai); at most 14 days ahead")


class OverrideView(_Response):
    override_id: str
    status: OverrideStatus
    color: Color
    reason: str
    until: date
    holders: list[str] = Field(description="the holders' keyed ids (never ID numbers)")
    bulk: bool = Field(description="part of more than the bulk threshold of holders in an hour by one proposer")
    approvals_needed: list[Literal["health_admin", "health_director"]] = Field(
        description="the approvals still missing before it has any effect"
    )
    proposed_by: str
    proposed_at: datetime
    approved_by: list[str] = []
    in_force_since: datetime | None = None
    withdrawal_requested_by: str | None = Field(
        default=None, description="in force, a withdrawal asked for by this account: a second person confirms it"
    )
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None


class OverrideCounts(_Response):
    awaiting_approval: int
    in_force: int
    bulk_awaiting_approval: int
    bulk_in_force: int


class OverridesView(_Response):
    items: list[OverrideView]
    counts: OverrideCounts = Field(description="over every override, whatever the page (the dashboard's figures)")
    next: str | None = None


AppealFactor = Literal["case", "close_contact", "secondary_contact", "stay", "fever", "symptoms", "override"]
AppealStatus = Literal["open", "upheld", "rejected"]


class AppealRequest(_Request):
    factor: AppealFactor = Field(description="the reason of your code you say is wrong")
    reason: Annotated[StrictStr, Field(min_length=5, max_length=1000, description="why it is wrong")]
    evidence: Annotated[StrictStr, Field(max_length=300)] | None = Field(
        default=None, description="a reference to evidence (e.g. a test report number or a link)"
    )
    dependant_id: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        default=None, description="appeal for one of your dependants (its dependant_id)"
    )


class Correction(_Request):
    """Narrows what an upheld appeal removes (default: every fact of the appealed factor)."""

    region: RegionCode | None = Field(default=None, description="stay: the region of the mistaken stay (required)")
    arrived_on: date | None = Field(default=None, description="stay: its arrival day (default: every stay there)")
    on: date | None = Field(default=None, description="contacts, fever, symptoms: the day (default: every day)")


class AppealDecisionRequest(_Request):
    decision: Literal["uphold", "reject"]
    reason: Annotated[StrictStr, Field(min_length=5, max_length=500, description="the holder sees it")]
    correction: Correction | None = Field(
        default=None, description="uphold: what is removed (the holder is rescored at once)"
    )


class AppealView(_Response):
    appeal_id: str
    status: AppealStatus
    factor: AppealFactor
    reason: str
    evidence: str | None = None
    holder_id: str
    masked_name: str
    reasons_then: list[ReasonView] = Field(description="the code's reasons of this factor when the appeal was made")
    filed_at: datetime
    overdue: bool = Field(default=False, description="open longer than the deadline (24 h)")
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    color_after: Color | None = Field(default=None, description="upheld: the colour after the correction")
    uphold_proposed_by: str | None = Field(
        default=None, description="open: upholding it lowers a colour or clears a case; a second person confirms"
    )


class AppealsView(_Response):
    items: list[AppealView]
    overdue: int | None = Field(default=None, description="open appeals past the deadline (status=open only)")
    next: str | None = None


class OverrideRecord(_Stored):
    """An override as the overrides table keeps it (``rev`` guards every change)."""

    override_id: str
    status: Literal["awaiting_approval", "in_force", "withdrawn"]
    color: Color
    reason: str
    until: date
    holders: list[str]
    bulk: bool
    proposed_by: str
    proposed_at: datetime
    proposer_person: str | None = None  # the proposer's verified identity (keyed hash): dual control is by person
    approvals: dict[str, str] = {}  # slot (health_admin | health_director) -> who approved
    approver_persons: list[str] = []
    in_force_since: datetime | None = None
    withdrawal_requested_by: str | None = None
    withdrawal_requested_person: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: datetime | None = None
    released: list[str] = []  # holders an upheld appeal took out of it
    rev: int = 0


class AppealRecord(_Stored):
    """An appeal as the appeals table keeps it."""

    appeal_id: str
    holder_id: str
    owner: str  # the account that filed it (the holder's own, or a guardian's)
    factor: str
    reason: str
    evidence: str | None = None
    masked_name: str = ""
    reasons_then: list[ReasonView] = []
    status: Literal["open", "upheld", "rejected"] = "open"
    filed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    decided_by_person: str | None = None
    uphold_proposed_by: str | None = None
    uphold_proposed_person: str | None = None
    decision_reason: str | None = None
    correction: dict[str, Any] | None = None
    corrected: bool = False  # an upheld appeal's correction was written (a resend never writes it again)
    holder_version: int | None = None  # the holder's version after the correction
    color_after: Color | None = None
    rev: int = 0
