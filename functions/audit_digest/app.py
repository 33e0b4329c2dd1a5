"""Every hour, sign a digest of the audit trail (the day's record count and last hash up to the end of the
hour, chained to the digest before) with a KMS key and keep it under S3 Object Lock: the trail's tail
cannot be rewritten without the digests showing it (``healthcode audit verify``, ``GET /v1/audit/digests``)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    signed = services().audit.digest(clock.now())
    metrics.add_metric(name="AuditDigestsSigned", unit=MetricUnit.Count, value=len(signed))
    logger.info("audit digests signed", extra={"periods": signed})
    return {"signed": signed}
