"""``ColorChanged`` and ``RegionLevelChanged`` events on the EventBridge bus (the notify function
subscribes: holders' inboxes, community offices' tasks, partner cities' webhooks).

Published from the holders table's stream, at least once: a failure raises, so the stream record is
delivered again. The detail's ``id`` (holder and version) lets every consumer drop a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_events import EventBridgeClient

    from healthcode.models import ColorChange, Holder

SOURCE = "healthcode"


class EventNotPublished(Exception):
    """EventBridge did not take the event; the caller's retry publishes it again."""


class EventBridgeColorEvents:
    def __init__(self, client: EventBridgeClient, bus: str) -> None:
        self._events = client
        self._bus = bus

    def color_changed(self, change: ColorChange, holder: Holder) -> None:
        detail = change.model_dump(mode="json") | {
            "id": f"{change.holder_id}#{change.version}",
            "sub": holder.sub,
            "guardian": holder.guardian,
            "masked_name": holder.masked_name,  # never the full name: partners may receive it
            "residence_region": holder.residence_region,
        }
        self._put("ColorChanged", detail)

    def region_level_changed(self, code: str, old_level: int | None, new_level: int | None, at: datetime) -> None:
        detail = {
            "id": f"{code}#{at.isoformat()}",
            "code": code,
            "old_level": old_level,
            "new_level": new_level,
            "at": at.isoformat(),
        }
        self._put("RegionLevelChanged", detail)

    def _put(self, kind: str, detail: Mapping[str, object]) -> None:
        out = self._events.put_events(
            Entries=[{"Source": SOURCE, "DetailType": kind, "Detail": json.dumps(detail), "EventBusName": self._bus}]
        )
        if out.get("FailedEntryCount", 0):
            codes = [e.get("ErrorCode") for e in out.get("Entries", [])]
            raise EventNotPublished(f"{kind} {detail['id']} not published: {codes}")
