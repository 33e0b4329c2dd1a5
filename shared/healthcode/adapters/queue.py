"""The recompute queue: rescoring work as typed messages (:mod:`healthcode.messages`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthcode.messages import dump

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from healthcode.messages import RecomputeMessage


class SqsRecomputeQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self._sqs = client
        self._url = url

    def send(self, message: RecomputeMessage, delay_s: int = 0) -> None:
        """Enqueue ``message``; ``delay_s`` (at most SQS's 900 s) before any worker may take it."""
        if delay_s:
            delay = min(max(int(delay_s), 0), 900)
            self._sqs.send_message(QueueUrl=self._url, MessageBody=dump(message), DelaySeconds=delay)
        else:  # the queue's own delay, if it has one
            self._sqs.send_message(QueueUrl=self._url, MessageBody=dump(message))
