"""Checkpoint routes: verify a scanned code; publish the signing keys."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.api.callers import caller
from healthcode.api.problems import documented
from healthcode.api.resolver import build_resolver, json_response
from healthcode.models import VerificationRequest, VerificationView
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
app = build_resolver(scopes={"/v1/verifications": "checkpoint"})


@app.post(
    "/v1/verifications",
    summary="Scan a code: pass or stop from the holder's colour now",
    responses=documented(200, VerificationView, 400, 401, 403, 413, 415, 422, 503),
)
def post_verification(body: VerificationRequest):
    who = caller(app)
    view = services().checkpoints.verify(body, who.sub, who.checkpoints, clock.now())
    metrics.add_metric(name=f"Scan_{view.decision}", unit=MetricUnit.Count, value=1)
    if view.degraded:
        metrics.add_metric(name="DegradedVerifications", unit=MetricUnit.Count, value=1)
    return json_response(view)


@app.get("/.well-known/jwks.json", summary="Public keys of the code tokens (public)", responses=documented(200, None))
def get_jwks() -> Response[dict[str, Any]]:
    # a verifier may keep the keys 5 minutes (a code's life); one that meets an unknown kid fetches again
    return Response(200, "application/json", services().keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@app.get(
    "/.well-known/trust-list.json",
    summary="The partner cities whose codes this service recognises, issuer -> JWKS (public): what an offline"
    " checkpoint keeps to check their codes itself",
    responses=documented(200, None),
)
def get_trust_list() -> Response[dict[str, Any]]:
    svc = services()
    issuers = svc.partners.trusted_issuers() if svc.settings.partners_table else {}
    return Response(200, "application/json", {"issuers": issuers}, headers={"Cache-Control": "public, max-age=300"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
