"""The health authority's side: region levels, case lists, rescoring runs, rulesets, statistics, the map
and index, areas, history, audit, overrides and appeals."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt, StrictStr

from healthcode.identity import IdType
from healthcode.models._base import EntryFailure, _Request, _Response

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
    value: float | None = Field(description="the raw value, as the formula document defines it (null: suppressed)")
    score: float | None = Field(description="0..100: 100 at the formula's best value, 0 at its worst")
    weight: float
    suppressed: bool = Field(default=False, description="about fewer than 10 people: not published (small numbers)")


class IndexDayView(_Response):
    day: date
    county: str
    name: str
    formula: str = Field(description="the formula document's version (GET /v1/index/formula)")
    holders: int | Literal["<10"] = Field(description='"<10" in public when fewer than 10 (small numbers)')
    index: float | None = Field(description="0..100, the weighted mean of the two sub-indices (null: suppressed)")
    control: float | None
    smoothness: float | None
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
