"""The checkpoint scan log (28 days, by TTL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.adapters.base import NOT_A_CURSOR
from healthcode.adapters.paging import every_item
from healthcode.errors import MalformedRequest
from healthcode.models import Scan

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

    def of_code(self, code_id: str, limit: int, after: dict[str, Any] | None) -> tuple[list[Scan], dict[str, Any] | None]:
        """A code's scans, newest first (the by_code index: the scan log's 28 days)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_code",
            "KeyConditionExpression": "code_id = :c",
            "ExpressionAttributeValues": {":c": _s(code_id)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {k: _s(str(after.get(k, ""))) for k in ("checkpoint_id", "scanned_at")} | {
                "code_id": _s(code_id)  # never another code's: the cursor names only the position
            }
        try:
            out = self._db.query(**kwargs)
        except self._db.exceptions.ClientError as exc:
            raise MalformedRequest(NOT_A_CURSOR) from exc
        found = [
            Scan(
                checkpoint_id=i["checkpoint_id"]["S"],
                at=datetime.fromisoformat(i["scanned_at"]["S"].split("#", 1)[0]),
                color=i.get("color", {}).get("S"),
                status=i["status"]["S"],
                by=i.get("scanned_by", {}).get("S", ""),
            )
            for i in out.get("Items", [])
        ]
        last = out.get("LastEvaluatedKey")
        return found, ({k: last[k]["S"] for k in ("checkpoint_id", "scanned_at")} if last else None)

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
