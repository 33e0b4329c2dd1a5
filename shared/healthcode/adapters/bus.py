"""``ColorChanged`` events on the EventBridge bus (for notifications and partners).

Published from the holders table's stream, at least once: a failure raises, so the stream record is
delivered again. The detail's ``id`` (holder and version) lets every consumer drop a repeat.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from healthcode.models import ColorChange

SOURCE = "healthcode"


class EventNotPublished(Exception):
    """EventBridge did not take the event; the caller's retry publishes it again."""


class EventBridgeColorEvents:
    def __init__(self, client: EventBridgeClient, bus: str) -> None:
        self._events = client
        self._bus = bus

    def color_changed(self, change: ColorChange, sub: str | None) -> None:
        detail = change.model_dump(mode="json") | {"id": f"{change.holder_id}#{change.version}", "sub": sub}
        entry = {
            "Source": SOURCE,
            "DetailType": "ColorChanged",
            "Detail": json.dumps(detail),
            "EventBusName": self._bus,
        }
        out = self._events.put_events(Entries=[entry])
        if out.get("FailedEntryCount", 0):
            codes = [e.get("ErrorCode") for e in out.get("Entries", [])]
            raise EventNotPublished(f"ColorChanged {detail['id']} not published: {codes}")
