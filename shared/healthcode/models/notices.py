"""Notifications: the inbox, community offices' tasks, partner webhooks and the events behind them."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from healthcode.models._base import WebhookEvent, _Request, _Response, _Stored
from healthcode.models.holder import ReasonView
from healthcode.scoring.rules import Color

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
    """A community office's task: a holder of its area turned yellow or red (kind colour), or a resident
    asks to be confirmed in person as someone's guardian (kind guardianship)."""

    task_id: str
    kind: Literal["colour", "guardianship", "late_scan"] = Field(
        default="colour",
        description="colour: turned yellow or red; guardianship: confirm a guardian in person; late_scan: let"
        " through a gate offline on a colour that had already turned",
    )
    office: str = Field(description="the area (or county) whose office handles it")
    holder: str = Field(description="the holder's masked name")
    holder_id: str
    masked_id: str | None = Field(default=None, description="guardianship: the person's ID number, partly masked")
    color: Color | None = Field(description="colour: the new colour (null for guardianship)")
    old_color: Color | None
    outcome: Literal["confirmed", "refused"] | None = Field(default=None, description="guardianship: the decision")
    changed_at: datetime
    instruction: str
    status: Literal["open", "acknowledged"]
    escalated_to: str | None = Field(default=None, description="set when not acknowledged in time")
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    minutes_to_ack: float | None = None


class TaskAckRequest(_Request):
    outcome: Literal["confirmed", "refused"] | None = Field(
        default=None,
        description="guardianship tasks: what the worker found in person (required there); colour tasks: absent",
    )


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
