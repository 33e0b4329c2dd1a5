"""Colours that cannot be explained are found: nightly (and on demand, ``POST /admin/v1/audit/colour-checks``)
every holder's stored colour is re-derived from their facts, the rules, the levels and the overrides on
the trail; one nothing explains is reported (``GET /admin/v1/audit/colour-checks/latest``) and counted
(``UnexplainedColours``, alarmed). Repairs nothing. See :mod:`healthcode.usecases.colourcheck`."""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.usecases.colourcheck import Segment
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def segment_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    body = json.loads(record.body)
    seg = Segment(str(body["check_id"]), int(body["segment"]), int(body["total"]), body.get("after"))
    found = services().colour_checks.run(seg, clock.now(), lambda: lambda_context.get_remaining_time_in_millis() / 1000)
    metrics.add_metric(name="UnexplainedColours", unit=MetricUnit.Count, value=found)
    if found:
        logger.warning("colours nothing on the trail explains", extra={"check_id": seg.check_id, "found": found})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event=event, record_handler=segment_handler, processor=processor, context=context)
    started = services().colour_checks.start("nightly schedule", clock.now())  # EventBridge Scheduler
    return {"check_id": started["check_id"]}
