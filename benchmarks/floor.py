"""The library floor of a checkpoint scan: what any handler built as ours is (Powertools' HTTP resolver
with validation, its Logger and Metrics decorators, pydantic, the ES256 check through joserfc) spends
before a line of ours runs. Verify's CPU per call is measured side by side with it, so the report can say
how much of the figure is the libraries' and how much is ours."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from healthcode.models import VerificationRequest
from healthcode.tokens import TokenVerifier


def floor_handler(verifier: TokenVerifier, now: datetime) -> Any:
    """A handler that validates the body, checks the code's signature, counts the scan and answers: no
    scope check, no holder, no scan log, no language, no instruction."""
    app = APIGatewayHttpResolver(enable_validation=True)
    logger = Logger(service="floor")
    metrics = Metrics(namespace="Floor", service="floor")

    @app.post("/v1/verifications")
    def verify(body: VerificationRequest) -> Response[str]:
        check = verifier.check(body.token, now)
        metrics.add_metric(name=f"Scan_{check.status}", unit=MetricUnit.Count, value=1)
        return Response(200, "application/json", json.dumps({"decision": check.status}))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
