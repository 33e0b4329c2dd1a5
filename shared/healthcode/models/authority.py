"""The health authority's side: region levels, case lists, rescoring runs, rulesets, statistics, the map
and index, areas, history, audit, overrides and appeals."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr

from healthcode.identity import IdType
from healthcode.models._base import RegionCode, _Request, _Response, _Stored
from healthcode.models.holder import CauseKind, ReasonView
from healthcode.scoring.rules import Color

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
