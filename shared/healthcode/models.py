"""Models shared by the functions: the HTTP contract (requests, responses) and the stored holder.

Requests forbid unknown fields and use strict types where a wrong type could slip through as a
coercion (a string ``"true"`` is not an attestation). Checks that need the registry or the date
(ID numbers, region codes, coherent dates) live in :mod:`healthcode.usecases.validation`, so every input
problem is reported in one format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from healthcode.identity import IdType
from healthcode.scoring.rules import Color

RegionCode = Annotated[StrictStr, Field(pattern=r"^\d{6}(\d{3}){0,2}$", description="GB/T 2260 code")]
Temperature = Annotated[StrictFloat, Field(ge=34.0, le=43.0, description="°C")]  # strict: 36 is fine, "36" is not
Symptom = Literal[
    "fever", "cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_taste_or_smell"
]
MAX_STAYS = 30
WebhookEvent = Literal["color_changed", "region_level_changed"]  # what a partner city may subscribe to


# defer_build: a model's validator is built when first used, so a function pays only for the models
# it touches (a cold start of verify does not build the holder models of apply).
class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Stored(BaseModel):
    model_config = ConfigDict(defer_build=True)


class FieldProblem(_Response):
    field: str
    message: str


class Problem(_Response):
    """RFC 9457 problem details, with the fields that were wrong."""

    type: str = Field(description="the URL of a page saying what this problem means and what to do, or about:blank")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class GatewayMessage(_Response):
    """What API Gateway itself answers (401 from the JWT authorizer, 404 for no route, 429 throttled)."""

    message: str


# ----------------------------------------------------------------------------- resident


class TravelStay(_Request):
    region: RegionCode
    arrived_on: date
    left_on: date | None = Field(description="null while still there")


class DeclaredContact(_Request):
    kind: Literal["none", "close_contact", "secondary_contact"]
    on: date | None = None


class ApplicationRequest(_Request):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    id_type: IdType
    id_number: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    phone: Annotated[StrictStr, Field(pattern=r"^\+?\d{6,15}$")]
    residence_region: RegionCode
    residence_area: Annotated[StrictStr, Field(pattern=r"^\d{9}(\d{3})?$")] | None = Field(
        default=None,
        description="the town or village of residence, inside residence_region, as the authority registered it",
    )
    travel_history: Annotated[list[TravelStay], Field(max_length=MAX_STAYS)]
    contact: DeclaredContact
    symptoms: Annotated[list[Symptom], Field(max_length=7)]
    temperature: Temperature | None = None
    attestation: StrictBool
    dependant: StrictBool = Field(
        default=False,
        description="true: a verified adult applies for a dependant (a child, an elderly person without a phone)",
    )

    @field_validator("attestation")
    @classmethod
    def _attested(cls, v: bool) -> bool:
        if v is not True:
            raise ValueError("the declaration must be attested (attestation: true)")
        return v


class CheckinRequest(_Request):
    temperature: Temperature
    symptoms: Annotated[list[Symptom], Field(max_length=7)]
    dependant_id: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        default=None, description="check in for one of your dependants (its dependant_id)"
    )


class ReasonView(_Response):
    factor: str
    points: int
    detail: str


class QuarantineView(_Response):
    kind: str
    checkins_required: int | None
    checkins_done: int
    started_on: date
    note: str | None = Field(default=None, description="e.g. why today's check-in does not count")


class TokenView(_Response):
    value: str
    expires_at: datetime


class CodeView(_Response):
    color: Color
    score: int
    reasons: list[ReasonView]
    ruleset_version: str
    since: datetime
    quarantine: QuarantineView | None
    green_eligible_on: date | None
    masked_name: str
    token: TokenView


class DependantCode(CodeView):
    dependant_id: str = Field(description="names this dependant in check-ins")


class DependantsView(_Response):
    dependants: list[DependantCode]


# ----------------------------------------------------------------------------- checkpoint


class VerificationRequest(_Request):
    token: Annotated[StrictStr, Field(min_length=1, max_length=4096)]
    checkpoint_id: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


CodeStatus = Literal[
    "valid", "valid_offline", "expired", "invalid_signature", "unknown_issuer", "unknown_code", "malformed"
]


class VerificationView(_Response):
    decision: Literal["pass", "stop"]
    color: Color | None
    code_status: CodeStatus
    instruction: str
    masked_name: str | None
    checked_at: datetime
    issuer: str | None = None
    degraded: bool = Field(
        default=False, description="true: the holder's colour now could not be read; the code's signed colour decided"
    )


# ----------------------------------------------------------------------------- health authority


class RegionLevelRequest(_Request):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="omitted: the stored name stays (the registry's name the first time)"
    )
    level: Annotated[StrictInt, Field(ge=1, le=5)]


class RegionView(_Response):
    code: str
    name: str
    level: int
    updated_at: datetime
    updated_by: str


CaseStatus = Literal["confirmed", "suspected", "close_contact", "secondary_contact", "cleared"]


class CaseEntry(_Request):
    id_type: IdType
    id_number: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    status: CaseStatus
    on: date | None = Field(default=None, description="contact date; required for close and secondary contacts")


class CaseListRequest(_Request):
    cases: Annotated[list[CaseEntry], Field(min_length=1, max_length=500)]


class RescoringRequest(_Request):
    scope: Literal["due", "all"] = Field(
        description="due: holders whose due date has come (what the daily schedule does); all: a full run"
    )
    segments: Annotated[StrictInt, Field(ge=1, le=256)] | None = Field(
        default=None, description="parallel-scan segments of a full run (one queue message each)"
    )


class RescoringView(_Response):
    scope: str
    queued_at: datetime
    run_id: str | None = None


class RunView(_Response):
    run_id: str
    ruleset_version: str
    segments_total: int
    segments_done: int
    holders_read: int
    holders_changed: int
    started_at: datetime
    started_by: str
    finished: bool


class RulesetPublishRequest(_Request):
    document: dict[str, Any] = Field(description="a ruleset document in the form GET /v1/rulesets/current returns")
    emergency: StrictBool = Field(
        default=False,
        description="take effect sooner than the notice period (48 h): needs a reason and a second health_admin's approval",
    )
    reason: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None


class RulesetView(_Response):
    version: str
    effective_from: datetime
    status: Literal["published", "awaiting approval"] = "published"
    emergency: bool = False


class RulesetListing(_Response):
    version: str
    effective_from: datetime
    status: Literal["in force", "announced", "superseded"]


class RulesetsView(_Response):
    items: list[RulesetListing] = Field(
        description="every version by effective time: the past, the one in force, the announced"
    )


class EntryFailure(_Response):
    index: int = Field(description="the entry's position in the list")
    reason: str


class CaseListView(_Response):
    accepted: int
    known_holders: int
    recorded_at: datetime
    failed: list[EntryFailure] = Field(default=[], description="entries that could not be recorded; send them again")


# ----------------------------------------------------------------------------- statistics and the map


class ColorCounts(_Response):
    green: int
    yellow: int
    red: int


class StatsView(_Response):
    region: str | None = Field(description="the province, city or county counted (null: every place)")
    name: str | None
    on: date = Field(description="the day (Asia/Shanghai): today's counts are at most a minute old")
    codes_issued: int = Field(description="holders with a code whose residence is in the region")
    by_color: ColorCounts
    green_rate: float | None = Field(description="green / codes issued (null when none)")
    places: int = Field(description="counties counted in the region")


class CheckpointScansView(_Response):
    checkpoint_id: str
    on: date
    scans: int
    by_color: ColorCounts
    unreadable: int = Field(description="scans of codes that were expired, forged or unknown")


class AreaScansView(_Response):
    area: str
    on: date
    scans: int
    by_color: ColorCounts
    unreadable: int
    checkpoints: list[CheckpointScansView] = Field(description="each checkpoint placed in the area")


class CheckpointPlaceRequest(_Request):
    area: Annotated[
        StrictStr, Field(pattern=r"^\d{6}(\d{3}){0,2}$", description="a county, or a registered town or village")
    ]


class CheckpointPlaceView(_Response):
    checkpoint_id: str
    area: str


class MapCountyView(_Response):
    code: str
    name: str
    level: int = Field(description="1 (low) .. 5 (high)")
    color: Literal["green", "blue", "yellow", "orange", "red"]
    set_at: str | None = Field(description="when the level that applies was set (null: never set, level 1)")
    set_by: str | None = Field(description="who set it: an authority account or partner:<id>")
    set_on: str | None = Field(description="the region it was set on: the county itself, its city or province")
    longitude: float | None
    latitude: float | None


class MapView(_Response):
    region: str | None
    name: str | None
    as_of: date
    counties: list[MapCountyView]
    per_level: dict[str, int] = Field(description="how many counties show each colour")


class IndicatorView(_Response):
    id: str
    sub_index: Literal["control", "smoothness"]
    value: float = Field(description="the raw value, as the formula document defines it")
    score: float = Field(description="0..100: 100 at the formula's best value, 0 at its worst")
    weight: float


class IndexDayView(_Response):
    day: date
    county: str
    name: str
    formula: str = Field(description="the formula document's version (GET /v1/index/formula)")
    holders: int
    index: float = Field(description="0..100, the weighted mean of the two sub-indices")
    control: float
    smoothness: float
    indicators: list[IndicatorView]


class IndexView(_Response):
    region: str
    name: str | None
    first: date
    last: date
    days: list[IndexDayView] = Field(description="per county and day; a day appears once it is over and summed")


class ReconciliationView(_Response):
    run_id: str
    on: date
    finished: bool
    holders_read: int
    places: int = Field(description="counties compared")
    drift: dict[str, dict[str, int]] = Field(
        description="per county and colour: holders counted by the scan minus the counts (repaired)"
    )
    repaired: bool
    changed_during_scan: list[str] = Field(
        default=[], description="counties whose counts moved while the scan ran: checked again the next night"
    )
    finished_at: str | None = None


class ProposalView(_Response):
    code: str
    name: str
    current_level: int
    proposed_level: int
    indicator: str = Field(description="the rule's indicator (GET /v1/map/rule)")
    value: float
    holders: int


class ProposalsView(_Response):
    region: str
    rule: str = Field(description="the levels rule's version")
    as_of: date = Field(description="the last day summed: the 14 days end with it")
    proposals: list[ProposalView] = Field(description="counties whose proposed level differs from the one in force")


class AreaRequest(_Request):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class AreaView(_Response):
    code: str = Field(description="9 digits (a town or street) or 12 (a village or community)")
    name: str
    county: str
    parent: str = Field(description="the town of a village, the county of a town")
    registered_at: datetime
    registered_by: str


class AreaColorView(_Response):
    code: str
    name: str
    parent: str
    holders: int = Field(description="holders whose declared residence area is this one (a town: with its villages)")
    by_color: ColorCounts
    color: Literal["green", "yellow", "red"] = Field(
        description="by the published rule (GET /v1/index/formula, area_color)"
    )


class AreasView(_Response):
    county: str
    name: str | None
    rule: str
    areas: list[AreaColorView]


# ----------------------------------------------------------------------------- stored holder


class StoredStay(_Stored):
    region: str
    arrived_on: date
    left_on: date | None
    confirmed_on: date | None = None  # ongoing: the last day a declaration said the holder was still there


class StoredContact(_Stored):
    kind: str
    on: date


class StoredReport(_Stored):
    on: date
    symptoms: list[str] = []
    temperature: float | None = None


class StoredCheckin(_Stored):
    on: date
    temperature: float
    symptoms: list[str] = []
    at: datetime


class StoredEpisode(_Stored):
    color: Color
    started_on: date
    covers: dict[str, int]
    is_case: bool = False


class StoredState(_Stored):
    episode: StoredEpisode | None = None
    discharged: dict[str, tuple[int, date]] = {}


class StoredOverride(_Stored):
    """An approved override as a holder carries it (the override's own record is in the overrides table)."""

    override_id: str
    color: Color
    reason: str
    until: date
    approved_at: datetime


class Authority(_Stored):
    """What the health authority's lists say about a person (kept even before they apply), and the
    overrides approved for them."""

    case: Literal["confirmed", "suspected"] | None = None
    contacts: list[StoredContact] = []
    overrides: list[StoredOverride] = []  # in the order approved; dropped once their day has passed
    cleared_at: datetime | None = None
    updated_at: datetime | None = None


class Holder(_Stored):
    """A holder as stored. Holds no clear ID number, no full name and no full phone number."""

    holder_id: str
    version: int = 0
    sub: str | None = None  # the holder's own account (verified as this identity)
    guardian: str | None = None  # the account that applied for this holder as a dependant
    code_id: str | None = None
    id_type: IdType | None = None
    masked_name: str = ""
    masked_phone: str = ""
    residence_region: str | None = None
    residence_area: str | None = None  # a registered town or village inside residence_region
    stays: list[StoredStay] = []
    contacts: list[StoredContact] = []
    reports: list[StoredReport] = []
    checkins: list[StoredCheckin] = []
    authority: Authority = Authority()
    state: StoredState = StoredState()
    color: Color = Color.GREEN
    score: int = 0
    reasons: list[ReasonView] = []
    ruleset_version: str = ""
    since: datetime | None = None
    quarantine: QuarantineView | None = None
    green_eligible_on: date | None = None
    due_on: date | None = None
    applied_at: datetime | None = None
    updated_at: datetime | None = None
    cause: str | None = None  # why the last colour computation ran (History shows it with a change)
    rescore_pending: bool = False  # listed by the authority since it was last scored: rescoring follows

    @property
    def applied(self) -> bool:
        return self.sub is not None or self.guardian is not None


class ColorChange(_Stored):
    """One line of a holder's colour history (audit), also the ``ColorChanged`` event detail."""

    holder_id: str
    version: int
    at: datetime
    old_color: Color | None
    new_color: Color
    score: int
    reasons: list[ReasonView]
    ruleset_version: str
    cause: str


# ----------------------------------------------------------------------------- colour history

CauseKind = Literal[
    "declaration",
    "check-in",
    "region level",
    "case list",
    "partner report",
    "ruleset",
    "override",
    "appeal",
    "time passing",
    "other",
]


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
    approvals: dict[str, str] = {}  # slot (health_admin | health_director) -> who approved
    in_force_since: datetime | None = None
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
    decision_reason: str | None = None
    correction: dict[str, Any] | None = None
    color_after: Color | None = None
    rev: int = 0


# ----------------------------------------------------------------------------- notifications


class NotificationView(_Response):
    """One message in a holder's inbox, in the language asked for."""

    notification_id: str
    at: datetime
    holder_id: str
    color: Color
    old_color: Color | None
    title: str
    body: str
    reasons: list[str]


class NotificationsView(_Response):
    items: list[NotificationView]
    next: str | None = Field(default=None, description="pass as ?after= for the next page")


class TaskView(_Response):
    """A community office's task: a holder of its area turned yellow or red."""

    task_id: str
    office: str = Field(description="the area (or county) whose office handles it")
    holder: str = Field(description="the holder's masked name")
    holder_id: str
    color: Color
    old_color: Color | None
    changed_at: datetime
    instruction: str
    status: Literal["open", "acknowledged"]
    escalated_to: str | None = Field(default=None, description="set when not acknowledged in time")
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    minutes_to_ack: float | None = None


class AckTimes(_Response):
    """Times from a colour change to its task's acknowledgement, for one office and day."""

    office: str
    day: date
    acknowledged: int
    median_minutes: float | None
    p90_minutes: float | None


class TasksView(_Response):
    items: list[TaskView]
    next: str | None = None
    ack_times: AckTimes


class DeliveryView(_Response):
    delivery_id: str
    event_id: str
    kind: WebhookEvent
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


class DeliveriesView(_Response):
    items: list[DeliveryView]
    next: str | None = None


class ColorChangedDetail(_Stored):
    """A ``ColorChanged`` event's detail as the bus carries it (published from the holders' stream)."""

    id: str
    holder_id: str
    version: int
    at: datetime
    old_color: Color | None
    new_color: Color
    reasons: list[ReasonView]
    cause: str
    sub: str | None = None
    guardian: str | None = None
    masked_name: str = ""
    residence_region: str | None = None


class RegionLevelDetail(_Stored):
    """A ``RegionLevelChanged`` event's detail."""

    id: str
    code: str
    old_level: int | None
    new_level: int | None
    at: datetime


# ----------------------------------------------------------------------------- partner cities


class PartnerRequest(_Request):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    jurisdiction: Annotated[StrictStr, Field(pattern=r"^\d{2,12}$", description="GB/T 2260 code prefix it governs")]
    scopes: Annotated[list[Literal["verify", "push_risk", "push_contacts"]], Field(max_length=3)]
    rate_limit_per_minute: Annotated[StrictInt, Field(ge=1, le=100_000)]
    issuer: Annotated[StrictStr, Field(min_length=1, max_length=256)] | None = None
    jwks: dict[str, Any] | None = Field(default=None, description="public keys of the codes it issues")
    jwks_url: Annotated[StrictStr, Field(pattern=r"^https?://[^\s]+$", max_length=512)] | None = Field(
        default=None, description="or where to fetch them (re-read every minute)"
    )
    webhook_url: Annotated[StrictStr, Field(pattern=r"^https?://[^\s]+$", max_length=512)] | None = Field(
        default=None,
        description="where we POST the events it subscribes to, signed like its requests to us (HTTPS; no "
        "private, loopback or link-local address)",
    )
    webhook_events: Annotated[list[WebhookEvent], Field(max_length=2)] = Field(
        default=[], description="color_changed: holders residing in its jurisdiction; region_level_changed"
    )

    @field_validator("jwks")
    @classmethod
    def _usable_keys(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        from joserfc.jwk import KeySet

        try:
            keys = KeySet.import_key_set(v)
        except Exception as exc:  # any failure means: not a usable JWKS
            raise ValueError(f"not a usable JWKS: {exc}") from exc
        if any(k.is_private for k in keys.keys):
            raise ValueError("a JWKS to publish must not hold private keys")
        return v


class PartnerView(_Response):
    partner_id: str
    name: str
    jurisdiction: str
    scopes: list[str]
    rate_limit_per_minute: int
    issuer: str | None
    secret: str | None = Field(default=None, description="shown once, when created or rotated")
    previous_secret_valid_until: datetime | None = None
    suspended: bool = False
    webhook_url: str | None = None
    webhook_events: list[WebhookEvent] = []


class PartnerVerificationRequest(_Request):
    token: Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class PartnerVerificationView(_Response):
    decision: Literal["pass", "stop"]
    color: Color | None
    code_status: CodeStatus
    checked_at: datetime
    degraded: bool = False


class RegionRisk(_Request):
    region: RegionCode
    level: Annotated[StrictInt, Field(ge=1, le=5)]


class RejectedRegion(_Response):
    region: str
    reason: str


class RegionRisksView(_Response):
    accepted: list[str]
    rejected: list[RejectedRegion]


class ContactReport(_Request):
    id_type: IdType
    id_number: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    kind: Literal["close_contact", "secondary_contact"]
    on: date


class ContactReportsView(_Response):
    accepted: int
    known_holders: int
    failed: list[EntryFailure] = Field(default=[], description="reports that could not be recorded; send them again")


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
class CodeRecord:
    """What the verify index projects: the holder's colour now and the masked name."""

    color: str
    masked_name: str


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    """Every level the authority (or a partner) set, as one versioned document: what scoring reads."""

    version: int
    levels: dict[str, int]


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
    """A community office's task for a holder who turned yellow or red."""

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
