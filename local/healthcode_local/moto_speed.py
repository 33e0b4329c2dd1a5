"""moto, made fast enough for a whole system on one machine, without changing what it answers.

``SQSBackend.receive_message`` asks, for every message it hands out, whether the message is still within
its queue's retention period, and moto answers that by computing every attribute of the queue, three of
which count the queue's messages: one receive costs the square of the queue's length. A full run or a
level set on a province queues hundreds of messages, and its delivery took most of a minute. Here the
retention period is read from the queue itself: the same answer, in constant time.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    """Patch moto once per process (the local stack and the tests' harness both call it)."""
    global _applied
    if _applied:
        return
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    _applied = True
