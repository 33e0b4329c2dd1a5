"""What follows a committed change, from the holders and regions tables' streams: History entries and
``ColorChanged`` events for colour changes, rescoring messages for listings and region levels.

Powertools batch processing with partial failures: a record that fails is reported alone; Lambda
retries from it (bisecting the batch), and after the template's retries sends its metadata to the
on-failure queue. The redrive sweep reads those records back from the stream and puts them, whole, on
the replay queue, which arrives here too (SQS events whose bodies are the stream records): nothing is
lost when the retries run out. Every step is idempotent, so a repeat does no harm.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
replays = BatchProcessor(event_type=EventType.SQS)


def follow(raw: dict[str, Any]) -> None:
    svc = services()
    change = svc.stream_change(raw)
    if change is not None:
        kind = svc.consequences.follow(change)
        metrics.add_metric(name=f"Followed_{kind}", unit=MetricUnit.Count, value=1)


def record_handler(record: DynamoDBRecord) -> None:
    follow(record.raw_event)


def replay_handler(record: SQSRecord) -> None:
    """A stream record the sweep read back after the stream's retries ran out (the same JSON)."""
    follow(json.loads(record.body))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if (event.get("Records") or [{}])[0].get("eventSource") == "aws:sqs":
        return process_partial_response(event=event, record_handler=replay_handler, processor=replays, context=context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
