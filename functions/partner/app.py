"""Partner city routes, signed with HMAC (see docs/partner-signing.md). The API's Lambda authorizer has
checked the headers; here the signature over the body, the nonce and the rate limit are checked first."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.api.problems import documented
from healthcode.api.resolver import build_resolver, json_response
from healthcode.models import (
    ContactReport,
    ContactReportsView,
    Partner,
    PartnerVerificationRequest,
    PartnerVerificationView,
    RegionRisk,
    RegionRisksView,
)
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
app = build_resolver(gate=lambda event: services().partner_gate.admit(event, clock.now()))
SIGNED = (400, 401, 403, 413, 415, 422, 429)


def partner() -> Partner:
    """The signed, fresh, first-time, within-rate caller: admitted by the gate before the body was read."""
    caller: Partner = app.context["caller"]
    return caller


@app.post(
    "/partner/v1/verifications",
    summary="A partner checkpoint verifies one of our codes",
    responses=documented(200, PartnerVerificationView, *SIGNED),
)
def post_partner_verification(body: PartnerVerificationRequest):
    return json_response(services().partner_cities.verify(body, partner(), clock.now()))


@app.put(
    "/partner/v1/region-risks",
    summary="Risk levels of regions in the partner's jurisdiction",
    responses=documented(200, RegionRisksView, *SIGNED),
)
def put_region_risks(body: Annotated[list[RegionRisk], Body(max_length=500)]):
    return json_response(services().partner_cities.region_risks(body, partner(), clock.now()))


@app.post(
    "/partner/v1/contact-reports",
    summary="Close and secondary contacts found by the partner",
    responses=documented(202, ContactReportsView, *SIGNED, 503),
)
def post_contact_reports(body: Annotated[list[ContactReport], Body(max_length=500)]):
    return json_response(services().partner_cities.contact_reports(body, partner(), clock.now()), status=202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
