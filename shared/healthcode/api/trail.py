"""The audit trail from a route: who (the account and its roles), the request it came in, the act."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from healthcode import clock
from healthcode.usecases.audit import Actor
from healthcode.wiring import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from healthcode.api.callers import Caller


def record_act(
    app: APIGatewayHttpResolver,
    who: Caller,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    repeated: bool = False,
    holders: list[str] | None = None,
) -> None:
    """Append the act to the audit trail. An act sent again (``repeated``: it changed nothing this
    time) is recorded too, marked so: its first record may be the one that was lost (the act done, its
    append failed), so a record may appear twice, never be missing."""
    actor = Actor(who.sub, tuple(sorted(who.scopes)), app.current_event.request_context.request_id)
    if repeated:
        action += " (repeated)"
    services().audit.record(actor, action, target, clock.now(), before, after, holders)
