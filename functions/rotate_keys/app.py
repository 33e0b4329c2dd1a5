"""Rotate the QR signing key: publish the new public key, then sign with it (the previous key stays
published for the tokens still in flight). Runs monthly on a schedule; invoke it by hand after a
suspected leak (docs: README, "Deploy"). The first invocation after a deploy creates the first key."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.usecases.audit import Actor
from healthcode.wiring import services

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc = services()
    kid = svc.keys.rotate()
    logger.info("signing key rotated", extra={"active_kid": kid})
    who = Actor(str(event.get("by") or "scheduled rotation"), (), context.aws_request_id)
    svc.audit.record(who, "signing key rotated", kid, clock.now(), after={"active_kid": kid})
    return {"active_kid": kid}
