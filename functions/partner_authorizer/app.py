"""The HTTP API's Lambda authorizer for partner routes: a known partner, a fresh timestamp, the route's
scope. It sees headers only (API Gateway never passes the body to an authorizer); the partner function
checks the body's signature, the nonce and the rate limit."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.api.partner_auth import authorize
from healthcode.wiring import services

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    decision = authorize(event, services().partners, clock.now())
    if not decision["isAuthorized"]:
        logger.info("partner request refused", extra={"route": event.get("routeKey")})
    return decision
