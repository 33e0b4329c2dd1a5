"""Recompute colours: the daily schedule (due holders) and queue messages (regions, case lists).

Queue batches use Powertools batch processing: a message that fails is reported alone and retried,
then dead-lettered; the rest of the batch is kept.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    message = json.loads(record.body)
    time_left = lambda: lambda_context.get_remaining_time_in_millis() / 1000  # noqa: E731
    changed = services().rescoring.handle(message, clock.now(), time_left)
    logger.info("recomputed", extra={"kind": message.get("kind"), "changed": changed, "message_id": record.message_id})
    metrics.add_metric(name="ColorsChanged", unit=MetricUnit.Count, value=changed)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    # EventBridge Scheduler: {"kind": "daily"}
    time_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    changed = services().rescoring.handle({"kind": event.get("kind", "daily")}, clock.now(), time_left)
    logger.info("daily rescoring done", extra={"changed": changed})
    metrics.add_metric(name="ColorsChanged", unit=MetricUnit.Count, value=changed)
    return {"changed": changed}
