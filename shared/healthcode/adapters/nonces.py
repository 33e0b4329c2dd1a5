"""Partner replay protection and rate counters, in the nonces table (both expire by TTL; compared in code)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from healthcode.errors import RateLimited, Unauthorized

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from healthcode.models import Partner

SKEW = 300  # a partner's timestamp may be this many seconds off
NONCE_TTL = 2 * SKEW + 60


class DynamoNonces:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    def spend(self, partner_id: str, nonce: str, now: datetime) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "key": {"S": f"nonce#{partner_id}#{nonce}"},
                    "expires_at": {"N": str(int(now.timestamp()) + NONCE_TTL)},
                },
                ConditionExpression="attribute_not_exists(#k) OR expires_at < :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise Unauthorized("This nonce was used already (a replay).") from exc

    def count(self, partner: Partner, now: datetime) -> None:
        minute = now.astimezone(UTC).strftime("%Y%m%d%H%M")
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"key": {"S": f"rate#{partner.partner_id}#{minute}"}},
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(partner.rate_limit_per_minute)},
                    ":exp": {"N": str(int(now.timestamp()) + 120)},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            wait = max(1, 60 - now.astimezone(UTC).second)
            raise RateLimited(
                f"More than {partner.rate_limit_per_minute} requests this minute.", retry_after=math.ceil(wait)
            ) from exc
