"""Recompute colours: the daily schedule (due holders) and queue messages (regions, case lists, full runs).

Both arrive as the same typed messages (:mod:`healthcode.messages`) and take one path: parse, run, log,
count. Queue batches use Powertools batch processing: a message that fails is reported alone and
retried, then dead-lettered; the rest of the batch is kept.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock, messages
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def run(message: messages.RecomputeMessage, context: LambdaContext) -> int:
    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    outcome = services().recompute.handle(message, clock.now(), time_left)
    logger.info("recomputed", extra={"kind": message.kind, "changed": outcome.changed, "failed": outcome.failed})
    metrics.add_metric(name="ColorsChanged", unit=MetricUnit.Count, value=outcome.changed)
    metrics.add_metric(name="HolderFailures", unit=MetricUnit.Count, value=outcome.failed)
    return outcome.changed


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    logger.append_keys(message_id=record.message_id)
    run(messages.parse(record.body), lambda_context)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    # EventBridge Scheduler: the schedule's input is a message ({"kind": "daily"})
    return {"changed": run(messages.parse(event), context)}
