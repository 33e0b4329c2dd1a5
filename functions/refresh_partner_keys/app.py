"""Fetch every partner city's published keys (its JWKS URL) and republish the trust list the
checkpoints read, every few minutes: no checkpoint request ever waits on another city's server.

A partner whose URL does not answer keeps the keys fetched before; the count is a metric (alarmed)."""

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
    outcome = services().partners.refresh_keys()
    unreachable = sorted(p for p, state in outcome.items() if state != "ok")
    metrics.add_metric(name="PartnerKeysUnreachable", unit=MetricUnit.Count, value=len(unreachable))
    if unreachable:
        logger.warning("partner keys unreachable", extra={"partners": unreachable})
    return {"partners": outcome}
