"""``ColorChanged`` events on the EventBridge bus (for notifications and partners)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from healthcode.models import ColorChange

logger = Logger(child=True)
SOURCE = "healthcode"


class EventBridgeColorEvents:
    def __init__(self, client: EventBridgeClient, bus: str) -> None:
        self._events = client
        self._bus = bus

    def color_changed(self, change: ColorChange, sub: str | None) -> None:
        detail = change.model_dump(mode="json") | {"sub": sub}
        entry = {
            "Source": SOURCE,
            "DetailType": "ColorChanged",
            "Detail": json.dumps(detail),
            "EventBusName": self._bus,
        }
        try:
            out = self._events.put_events(Entries=[entry])
            failed = out.get("FailedEntryCount", 0)
        except Exception:  # the change is stored and in the history; the event can be replayed from it
            logger.exception("ColorChanged not published", extra={"event": detail})
            return
        if failed:
            logger.error("ColorChanged not published", extra={"event": detail, "result": out.get("Entries")})
