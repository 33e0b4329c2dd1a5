"""Nothing lost when retries run out: every 10 minutes, send the dead letters back to be done again
(stream records read back from the stream's position, queue messages as they were). See
:mod:`healthcode.usecases.redrive`. The counts are metrics: ``Redriven`` (alarmed: a follow-up failed
after every retry) and ``RedriveLeft`` (alarmed: an operator must look)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode.wiring import services

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = services().redrive.sweep(lambda: context.get_remaining_time_in_millis() / 1000)
    metrics.add_metric(name="Redriven", unit=MetricUnit.Count, value=sum(o.redriven for o in outcome.values()))
    metrics.add_metric(name="RedriveLeft", unit=MetricUnit.Count, value=sum(o.left for o in outcome.values()))
    answer = {lane: {"redriven": o.redriven, "records": o.records, "left": o.left} for lane, o in outcome.items()}
    if any(o.redriven or o.left for o in outcome.values()):
        logger.warning("dead letters sent back", extra={"lanes": answer})
    return answer
