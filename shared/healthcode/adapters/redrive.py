"""Dead-letter queues and the stream records their messages point at, for the redrive sweep
(:mod:`healthcode.usecases.redrive`).

A stream's on-failure destination receives only the failed records' position (``DDBStreamBatchInfo``:
the stream, the shard, the first and last sequence numbers); :class:`StreamRecords` reads them back while
the stream keeps them (24 hours), as Lambda delivered them (``eventSourceARN`` included, times as epoch
seconds, binary values in base64), so the replay is the same record the publisher failed on.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.adapters.base import Parked

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

REDRIVES = "redrives"  # the message attribute counting how often the sweep sent a message back


def _lambda_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


class SqsDeadLetters:
    def __init__(self, sqs: SQSClient) -> None:
        self._sqs = sqs

    def receive(self, queue_url: str, limit: int = 10) -> list[Parked]:
        answer = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(max(limit, 1), 10),
            MessageAttributeNames=[REDRIVES],
            VisibilityTimeout=120,  # ours while we move it; back for the next sweep if we fail
            WaitTimeSeconds=0,
        )
        out = []
        for m in answer.get("Messages", []):
            attrs: dict[str, Any] = dict(m.get("MessageAttributes", {}))
            count = attrs.get(REDRIVES, {}).get("StringValue", "0")
            out.append(Parked(m["MessageId"], m["ReceiptHandle"], m["Body"], int(count)))
        return out

    def send(self, queue_url: str, bodies: list[str], redrives: int) -> None:
        """Send ``bodies`` (all of them, or an exception), each marked with its count of redrives."""
        attrs = {REDRIVES: {"DataType": "Number", "StringValue": str(redrives)}}
        for start in range(0, len(bodies), 10):
            chunk = bodies[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": b, "MessageAttributes": attrs} for i, b in enumerate(chunk)]
            answer = self._sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} of {len(chunk)} messages not sent")

    def delete(self, queue_url: str, receipt: str) -> None:
        self._sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)


class StreamRecords:
    def __init__(self, streams: Any) -> None:
        """``streams``: a dynamodbstreams client."""
        self._streams = streams

    def read(self, info: dict[str, Any]) -> list[str] | None:
        """The records from ``startSequenceNumber`` to ``endSequenceNumber`` of the shard, as Lambda
        delivers them, each as JSON; None when the stream no longer has them (older than 24 hours)."""
        arn, shard = info["streamArn"], info["shardId"]
        start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        errors = self._streams.exceptions
        try:
            iterator: str | None = self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=str(start)
            )["ShardIterator"]
            out: list[str] = []
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=100)
                records = page.get("Records", [])
                for r in records:
                    if int(r["dynamodb"]["SequenceNumber"]) > end:
                        return out
                    event = dict(r) | {"eventSourceARN": arn}
                    out.append(json.dumps(event, default=_lambda_json, sort_keys=True))
                if not records:
                    return out
                iterator = page.get("NextShardIterator")
            return out
        except (errors.TrimmedDataAccessException, errors.ResourceNotFoundException, errors.ExpiredIteratorException):
            return None
