"""Each holder's colour changes, kept while the service runs (the audit of why a colour changed)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from healthcode.models import ColorChange


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
