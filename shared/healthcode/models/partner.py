"""Partner cities: registration, their verification and risk feeds, and a partner as the authorizer reads it."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import Field, StrictInt, StrictStr, field_validator

from healthcode.identity import IdType
from healthcode.models._base import EntryFailure, RegionCode, WebhookEvent, _Request, _Response
from healthcode.models.checkpoint import CodeStatus
from healthcode.scoring.rules import Color

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

# ----------------------------------------------------------------------------- partner cities


class ReinstateRequest(_Request):
    reason: Annotated[StrictStr, Field(min_length=5, max_length=500, description="why it may be trusted again")]


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
            keys = KeySet.import_key_set(cast("KeySetSerialization", v))
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
