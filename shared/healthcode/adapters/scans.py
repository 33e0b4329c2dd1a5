"""The checkpoint scan log (28 days, by TTL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from healthcode.adapters.paging import every_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCAN_RETENTION = timedelta(days=28)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoScanLog:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def record(self, checkpoint_id: str, code_id: str, color: str | None, status: str, at: datetime, by: str) -> bool:
        """``by``: who scanned (the checkpoint account, or ``partner:<id>``). One code at one checkpoint
        counts once a minute: a code held in front of the camera, a retried request or an offline scan
        uploaded twice is the same scan (False: it was counted already)."""
        stamp = at.astimezone(UTC).replace(second=0, microsecond=0).isoformat(timespec="milliseconds")
        item = {
            "checkpoint_id": _s(checkpoint_id),
            "scanned_at": _s(f"{stamp}#{code_id}"),
            "code_id": _s(code_id),
            "status": _s(status),
            "scanned_by": _s(by),
            "expires_at": {"N": str(int((at + SCAN_RETENTION).timestamp()))},
        }
        if color:
            item["color"] = _s(color)
        try:
            self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(scanned_at)")
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def day(self, checkpoint_id: str, start: datetime, end: datetime) -> list[tuple[str | None, str]]:
        """(colour, status) of each scan at ``checkpoint_id`` in [start, end): one query on its key,
        only the two attributes read (a day at a busy gate is a few thousand small items)."""
        values = {
            ":c": _s(checkpoint_id),
            ":a": _s(start.astimezone(UTC).isoformat(timespec="milliseconds")),
            ":b": _s(end.astimezone(UTC).isoformat(timespec="milliseconds")),
        }
        items = every_item(
            self._db,
            "query",
            TableName=self._table,
            KeyConditionExpression="checkpoint_id = :c AND scanned_at BETWEEN :a AND :b",
            ExpressionAttributeValues=values,
            ProjectionExpression="color, #s",
            ExpressionAttributeNames={"#s": "status"},
        )
        return [(i.get("color", {}).get("S"), i["status"]["S"]) for i in items]
