"""Outgoing messages: ``ColorChanged`` events on the EventBridge bus, rescoring work on the queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

    from healthcode.models import ColorChange

logger = Logger(child=True)
SOURCE = "healthcode"


class ColorEvents(Protocol):
    def color_changed(self, change: ColorChange, sub: str | None) -> None: ...


class RecomputeQueue(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


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


class SqsRecomputeQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self._sqs = client
        self._url = url

    def send(self, message: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(message, sort_keys=True))
