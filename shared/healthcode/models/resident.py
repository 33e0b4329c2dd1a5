"""A resident's declaration, check-in and code, and the codes of their dependants."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictStr, field_validator

from healthcode.identity import IdType
from healthcode.models._base import MAX_STAYS, RegionCode, Symptom, Temperature, _Request, _Response
from healthcode.models.holder import QuarantineView, ReasonView
from healthcode.scoring.rules import Color

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


class GuardianshipRequest(_Request):
    """Ask a community worker to confirm in person that I care for someone the identity provider does not
    list as in my care (a neighbour without family, a grandparent registered elsewhere)."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    id_type: IdType
    id_number: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    residence_area: Annotated[StrictStr, Field(pattern=r"^\d{9}(\d{3})?$")] = Field(
        description="the town or village where the person lives, as the authority registered it: its office confirms"
    )


class GuardianshipView(_Response):
    task_id: str = Field(description="show it to the community worker: they find the request by it")
    office: str = Field(description="the area whose community office confirms it")
    status: Literal["open", "confirmed", "refused"]
    note: str


class CheckinRequest(_Request):
    temperature: Temperature
    symptoms: Annotated[list[Symptom], Field(max_length=7)]
    dependant_id: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        default=None, description="check in for one of your dependants (its dependant_id)"
    )


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


class ScanSeenView(_Response):
    """One verification of my code: when, where, by whom (a gate, never its staff member), the answer."""

    at: datetime
    by: Literal["checkpoint", "partner_city"]
    checkpoint_id: str | None = Field(description="our checkpoint's id (null when a partner city checked)")
    area: str | None = Field(description="the area the checkpoint is placed in (GB/T 2260, 6 to 12 digits)")
    partner: str | None = Field(description="the partner city that checked it")
    decision: Literal["pass", "stop"]
    color: Color | None = Field(description="the colour answered (null: the code could not be used)")
    code_status: str


class ScansSeenView(_Response):
    items: list[ScanSeenView] = Field(description="newest first, as long as the scan log keeps them (28 days)")
    next: str | None = Field(default=None, description="pass as ?after= for the next page")


class DependantCode(CodeView):
    dependant_id: str = Field(description="names this dependant in check-ins")


class DependantsView(_Response):
    dependants: list[DependantCode]
