"""Notify: colour changes and region level changes from the bus (through a queue) become holders'
inbox messages, community offices' tasks and partner cities' webhook deliveries; every minute the
schedule escalates overdue tasks and retries deliveries that are due.

Queue batches use Powertools batch processing: an event that fails is reported alone and retried, then
dead-lettered; the rest of the batch is kept. Each step is keyed by the event, so a retry repeats nothing.
"""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.event_bridge_event import EventBridgeEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.usecases.notify import Outcome
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def count(outcome: Outcome) -> None:
    for name, value in (
        ("NotificationsSent", outcome.messages),
        ("TextsSent", outcome.texts),
        ("TextsFailed", outcome.texts_failed),
        ("TasksOpened", outcome.tasks),
        ("TasksEscalated", outcome.escalated),
        ("WebhooksDelivered", outcome.delivered),
        ("WebhooksDeadLettered", outcome.dead),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    event = EventBridgeEvent(record.json_body)
    logger.append_keys(event_id=event.get_id, message_id=record.message_id)
    outcome = services().notifier.handle(event.detail_type, event.detail, clock.now())
    logger.info("notified", extra={"kind": event.detail_type, **outcome.__dict__})
    count(outcome)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    # EventBridge Scheduler, every minute: {"kind": "sweep"}
    if event.get("kind") != "sweep":
        raise ValueError(f"unknown scheduled input {event!r}")
    outcome = services().notifier.sweep(clock.now())
    logger.info("swept", extra=outcome.__dict__)
    count(outcome)
    return dict(outcome.__dict__)
