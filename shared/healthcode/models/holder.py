"""The holder as stored, with its colour's reasons and quarantine, and a line of its colour history."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from healthcode.identity import IdType
from healthcode.models._base import _Response, _Stored
from healthcode.scoring.rules import Color


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
    # factories, not instances: an instance here would build both models' schemas at import, in every
    # function's cold start, whether or not it reads a holder
    authority: Authority = Field(default_factory=Authority)
    state: StoredState = Field(default_factory=StoredState)
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
