"""DynamoDB stream records (as Lambda delivers them) decoded into the changes they describe."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.adapters.base import HolderChange, RegionChange, RunStarted

if TYPE_CHECKING:
    from healthcode.adapters.holders import DynamoHolders


def table_of(record: dict[str, Any]) -> str:
    """The table name in a record's ``eventSourceARN`` (``...:table/NAME/stream/...``)."""
    arn = str(record.get("eventSourceARN", ""))
    return arn.split(":table/", 1)[1].split("/stream/", 1)[0] if ":table/" in arn else ""


def _level(image: dict[str, Any] | None) -> int | None:
    return int(image["level"]["N"]) if image and "level" in image else None


def decode(
    record: dict[str, Any], holders: DynamoHolders, holders_table: str, regions_table: str, runs_table: str = ""
) -> HolderChange | RegionChange | RunStarted | None:
    """The change a stream record describes, or None for a table nothing follows from."""
    data = record.get("dynamodb") or {}
    old, new = data.get("OldImage"), data.get("NewImage")
    table = table_of(record)
    if table == holders_table:
        return HolderChange(holders.from_item(old) if old else None, holders.from_item(new) if new else None)
    if table == regions_table:
        code = (new or old or data.get("Keys") or {})["code"]["S"]
        if not code.isdigit():
            return None  # the level snapshot itself, kept in step from these records
        at = datetime.fromisoformat(new["updated_at"]["S"]) if new and "updated_at" in new else None
        return RegionChange(code, _level(old), _level(new), at)
    if table == runs_table and record.get("eventName") == "INSERT" and new and "segments_total" in new:
        return RunStarted(new["run_id"]["S"], int(new["segments_total"]["N"]))
    return None
