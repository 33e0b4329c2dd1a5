"""Each holder's colour changes, kept while the service runs (the audit of why a colour changed)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from healthcode.models import ColorChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoHistory:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def append(self, change: ColorChange) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "holder_id": _s(change.holder_id),
                # the version keeps two changes within one clock tick apart
                "at": _s(f"{change.at.astimezone(UTC).isoformat(timespec='microseconds')}#{change.version:010d}"),
                "doc": _s(change.model_dump_json()),
            },
        )

    def page(self, holder_id: str, limit: int, after: dict[str, Any] | None) -> tuple[list[ColorChange], Any]:
        """A holder's changes, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "holder_id = :h",
            "ExpressionAttributeValues": {":h": _s(holder_id)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:  # only ever this holder's: the key is theirs
            kwargs["ExclusiveStartKey"] = {"holder_id": _s(holder_id), "at": after.get("at", _s(""))}
        out = self._db.query(**kwargs)
        last = out.get("LastEvaluatedKey")
        changes = [ColorChange.model_validate_json(i["doc"]["S"]) for i in out.get("Items", [])]
        return changes, ({"at": last["at"]} if last else None)
