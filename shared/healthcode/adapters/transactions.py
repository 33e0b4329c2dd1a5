"""DynamoDB transactions: the SDK does not retry a transaction cancelled because an item was
throttled, so this does, with jittered backoff as the SDK would, and then sheds the load."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, cast

from healthcode.errors import Unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ATTEMPTS = 3
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def reasons(exc: Any) -> list[Any]:
    """The cancellation reason code of every item of a cancelled transaction, in order."""
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


def transact(db: DynamoDBClient, items: list[dict[str, Any]], attempts: int = ATTEMPTS) -> None:
    """Write ``items`` in one transaction. A cancellation for any reason but throttling is raised as
    it came (the caller knows what its conditions mean); throttling is retried, then
    :class:`Unavailable` (a 503 with Retry-After)."""
    for attempt in range(attempts):
        try:
            db.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", items))
            return
        except db.exceptions.TransactionCanceledException as exc:
            if not any(code in THROTTLED_REASONS for code in reasons(exc)):
                raise
            if attempt + 1 == attempts:
                raise Unavailable("The service is busy; try again shortly.", retry_after=2) from exc
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
