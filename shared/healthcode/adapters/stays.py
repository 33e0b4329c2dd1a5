"""Who stayed in which county: the index a region change pages through (expires with the window)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from healthcode.adapters.base import StartKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

STAY_RETENTION_DAYS = 15  # the 14-day window, plus the day a stay leaves it
# A county's entries are spread over STAY_PARTS partition keys ("<county>#<part>", by holder): a
# registration drive of 500 applications/s all declaring one county writes 62.5 units/s per key
# (6 % of a partition's limit, not 50 %), and a region change walks a county with that many workers.
STAY_PARTS = 8  # the template's STAY_PARTS


def stay_part(holder_id: str, parts: int = STAY_PARTS) -> int:
    return int(hashlib.blake2s(holder_id.encode(), digest_size=2).hexdigest(), 16) % parts


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoStayIndex:
    """Who stayed in which county, expiring with the 14-day window (TTL deletes late: filter in code)."""

    def __init__(self, client: DynamoDBClient, table: str, page: int = 200, parts: int = STAY_PARTS) -> None:
        self._db = client
        self._table = table
        self._page = page
        self.parts = parts

    def record(self, holder_id: str, stays: Iterable[tuple[str, date, date | None]]) -> None:
        """One entry per stay (``region``, ``arrived_on``, ``left_on``): another stay in the same county
        never overwrites it; re-recording a stay updates its end."""
        requests = []
        for region, arrived_on, left_on in stays:
            item: dict[str, Any] = {
                "county": _s(f"{region[:6]}#{stay_part(holder_id, self.parts)}"),
                "stay": _s(f"{holder_id}#{arrived_on.isoformat()}#{region}"),
                "holder_id": _s(holder_id),
            }
            if left_on is not None:
                item["left_on"] = _s(left_on.isoformat())
                expires = datetime.combine(left_on + timedelta(days=STAY_RETENTION_DAYS + 1), datetime.min.time(), UTC)
                item["expires_at"] = {"N": str(int(expires.timestamp()))}
            requests.append({"PutRequest": {"Item": item}})
        for i in range(0, len(requests), 25):
            batch: Mapping[str, Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef]] = {
                self._table: cast("list[WriteRequestTypeDef]", requests[i : i + 25])
            }
            while batch:
                batch = self._db.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    def holders(
        self, county: str, since: date, start_key: StartKey = None, part: int = 0
    ) -> tuple[list[str], StartKey]:
        """One page of the holders in ``part`` of ``county`` who stayed there and left on ``since`` or later."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "county = :c",
            "FilterExpression": "attribute_not_exists(left_on) OR left_on >= :since",
            "ExpressionAttributeValues": {":c": _s(f"{county}#{part}"), ":since": _s(since.isoformat())},
            "ProjectionExpression": "holder_id",
            "Limit": self._page,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        out = self._db.query(**kwargs)
        ids = list(dict.fromkeys(it["holder_id"]["S"] for it in out.get("Items", [])))  # a holder's stays, once
        return ids, out.get("LastEvaluatedKey")
