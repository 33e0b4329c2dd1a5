"""Data access: the interfaces the use cases depend on, and their DynamoDB implementations.

Clients are injected (a low-level boto3 DynamoDB client), never built at import time. Holders are
stored as a few indexed attributes plus one compact JSON document, so an item stays small (capacity
units follow size) and the verify index projects only what a checkpoint needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from healthcode.errors import VersionConflict
from healthcode.models import ColorChange, Holder

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SCAN_RETENTION = timedelta(days=28)
STAY_RETENTION_DAYS = 15  # the 14-day window, plus the day a stay leaves it


# ----------------------------------------------------------------------------- interfaces


class HolderRepository(Protocol):
    def get(self, holder_id: str) -> Holder | None: ...
    def find_by_sub(self, sub: str) -> Holder | None: ...
    def code_status(self, code_id: str) -> CodeRecord | None: ...
    def save(self, holder: Holder) -> Holder: ...
    def due(self, day: date, page_size: int = 100) -> Iterator[Holder]: ...
    def scan_segment(
        self, segment: int, total: int, start_key: dict[str, Any] | None, limit: int = 200
    ) -> tuple[list[Holder], dict[str, Any] | None]: ...


class RegionRepository(Protocol):
    def overrides(self, codes: Iterable[str] | None = None) -> dict[str, int]: ...
    def put(self, code: str, name: str, level: int, parent: str | None, by: str, at: datetime) -> None: ...


class StayIndex(Protocol):
    def record(self, holder_id: str, stays: Iterable[tuple[str, date | None]]) -> None: ...
    def holders(
        self, county: str, since: date, start_key: dict[str, Any] | None = None, limit: int = 200
    ) -> tuple[list[str], dict[str, Any] | None]: ...


class ScanLog(Protocol):
    def record(self, checkpoint_id: str, code_id: str, color: str | None, status: str, at: datetime) -> None: ...


class HistoryLog(Protocol):
    def append(self, change: ColorChange) -> None: ...


class CodeRecord:
    """What the verify index projects: the holder's colour now and the masked name."""

    __slots__ = ("color", "masked_name")

    def __init__(self, color: str, masked_name: str) -> None:
        self.color = color
        self.masked_name = masked_name


# ----------------------------------------------------------------------------- DynamoDB


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def due_shard(holder_id: str, shards: int) -> str:
    """Spread the due index over a few partition keys so the daily job never reads one hot key."""
    return f"due#{int(hashlib.blake2s(holder_id.encode(), digest_size=2).hexdigest(), 16) % shards}"


class DynamoHolders:
    """Holders table: one item per holder, conditional on ``version`` for every write."""

    _DOC_EXCLUDE = frozenset({"holder_id", "version", "sub", "code_id"})

    def __init__(self, client: DynamoDBClient, table: str, shards: int = 8) -> None:
        self._db = client
        self._table = table
        self._shards = shards

    def _to_holder(self, item: Mapping[str, Any]) -> Holder:
        doc = json.loads(item["doc"]["S"])
        doc["holder_id"] = item["holder_id"]["S"]
        doc["version"] = int(item["version"]["N"])
        if "sub" in item:
            doc["sub"] = item["sub"]["S"]
        if "code_id" in item:
            doc["code_id"] = item["code_id"]["S"]
        return Holder.model_validate(doc)

    def get(self, holder_id: str) -> Holder | None:
        item = self._db.get_item(TableName=self._table, Key={"holder_id": _s(holder_id)}, ConsistentRead=True).get(
            "Item"
        )
        return self._to_holder(item) if item else None

    def find_by_sub(self, sub: str) -> Holder | None:
        out = self._db.query(
            TableName=self._table,
            IndexName="by_sub",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "sub"},
            ExpressionAttributeValues={":s": _s(sub)},
            Limit=1,
        )
        items = out.get("Items", [])
        return self.get(items[0]["holder_id"]["S"]) if items else None

    def code_status(self, code_id: str) -> CodeRecord | None:
        # One eventually consistent read of a small projected item: 0.5 read units.
        out = self._db.query(
            TableName=self._table,
            IndexName="by_code",
            KeyConditionExpression="code_id = :c",
            ExpressionAttributeValues={":c": _s(code_id)},
            Limit=1,
        )
        items = out.get("Items", [])
        if not items:
            return None
        return CodeRecord(items[0]["color"]["S"], items[0].get("masked_name", {}).get("S", ""))

    def item(self, holder: Holder) -> dict[str, Any]:
        """The stored form of ``holder``: indexed attributes plus one compact JSON document."""
        doc = holder.model_dump_json(exclude=self._DOC_EXCLUDE, exclude_defaults=True)
        item: dict[str, Any] = {
            "holder_id": _s(holder.holder_id),
            "version": {"N": str(holder.version)},
            "color": _s(holder.color.value),
            "masked_name": _s(holder.masked_name),
            "doc": _s(doc),
        }
        if holder.sub:
            item["sub"] = _s(holder.sub)
        if holder.code_id:
            item["code_id"] = _s(holder.code_id)
        if holder.due_on is not None and holder.applied:
            item["due_shard"] = _s(due_shard(holder.holder_id, self._shards))
            item["due_on"] = _s(holder.due_on.isoformat())
        return item

    def save(self, holder: Holder) -> Holder:
        """Write ``holder`` if nobody wrote it since it was read (its ``version``); return it bumped."""
        saved = holder.model_copy(update={"version": holder.version + 1})
        item = self.item(saved)
        if holder.version == 0:
            cond: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(holder_id)"}
        else:
            cond = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(holder.version)}},
            }
        try:
            self._db.put_item(TableName=self._table, Item=item, **cond)
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise VersionConflict(holder.holder_id) from exc
        return saved

    def due(self, day: date, page_size: int = 100) -> Iterator[Holder]:
        """Holders whose due date is ``day`` or earlier, page by page from the sparse index (never a
        scan). The index projects whole holders, so each due holder costs one item read; a copy the
        index has not caught up with fails its conditional write and is re-read."""
        for shard in range(self._shards):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "by_due",
                "KeyConditionExpression": "due_shard = :s AND due_on <= :d",
                "ExpressionAttributeValues": {":s": _s(f"due#{shard}"), ":d": _s(day.isoformat())},
                "Limit": page_size,
            }
            while True:
                out = self._db.query(**kwargs)
                for it in out.get("Items", []):
                    yield self._to_holder(it)
                if "LastEvaluatedKey" not in out:
                    break
                kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def scan_segment(
        self, segment: int, total: int, start_key: dict[str, Any] | None, limit: int = 200
    ) -> tuple[list[Holder], dict[str, Any] | None]:
        """One page of one parallel-scan segment (full rescoring when a new ruleset takes effect)."""
        kwargs: dict[str, Any] = {"TableName": self._table, "Segment": segment, "TotalSegments": total, "Limit": limit}
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        out = self._db.scan(**kwargs)
        return [self._to_holder(it) for it in out.get("Items", [])], out.get("LastEvaluatedKey")


class DynamoRegions:
    """Region levels set by the health authority (the registry itself is static data)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def overrides(self, codes: Iterable[str] | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        if codes is None:
            # The table holds only regions whose level was set: small, read whole by batch jobs.
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "ProjectionExpression": "code, #l",
                "ExpressionAttributeNames": {"#l": "level"},
            }
            while True:
                page = self._db.scan(**kwargs)
                for it in page.get("Items", []):
                    out[it["code"]["S"]] = int(it["level"]["N"])
                if "LastEvaluatedKey" not in page:
                    return out
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        wanted = sorted(set(codes))
        for i in range(0, len(wanted), 100):
            request = {
                self._table: {
                    "Keys": [{"code": _s(c)} for c in wanted[i : i + 100]],
                    "ProjectionExpression": "code, #l",
                    "ExpressionAttributeNames": {"#l": "level"},
                }
            }
            while request:
                resp = self._db.batch_get_item(RequestItems=request)
                for it in resp.get("Responses", {}).get(self._table, []):
                    out[it["code"]["S"]] = int(it["level"]["N"])
                request = resp.get("UnprocessedKeys") or {}
        return out

    def put(self, code: str, name: str, level: int, parent: str | None, by: str, at: datetime) -> None:
        item = {
            "code": _s(code),
            "name": _s(name),
            "level": {"N": str(level)},
            "updated_at": _s(at.isoformat()),
            "updated_by": _s(by),
        }
        if parent:
            item["parent"] = _s(parent)
        self._db.put_item(TableName=self._table, Item=item)


class DynamoStayIndex:
    """Who stayed in which county, expiring with the 14-day window (TTL deletes late: filter in code)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def record(self, holder_id: str, stays: Iterable[tuple[str, date | None]]) -> None:
        latest: dict[str, date | None] = {}
        for region, left_on in stays:
            county = region[:6]
            if county in latest and (latest[county] is None or (left_on is not None and left_on <= latest[county])):  # type: ignore[operator]
                continue
            latest[county] = left_on
        requests = []
        for county, left_on in latest.items():
            item: dict[str, Any] = {"county": _s(county), "holder_id": _s(holder_id)}
            if left_on is not None:
                item["left_on"] = _s(left_on.isoformat())
                expires = datetime.combine(left_on + timedelta(days=STAY_RETENTION_DAYS + 1), datetime.min.time(), UTC)
                item["expires_at"] = {"N": str(int(expires.timestamp()))}
            requests.append({"PutRequest": {"Item": item}})
        for i in range(0, len(requests), 25):
            batch = {self._table: requests[i : i + 25]}
            while batch:
                batch = self._db.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    def holders(
        self, county: str, since: date, start_key: dict[str, Any] | None = None, limit: int = 200
    ) -> tuple[list[str], dict[str, Any] | None]:
        """One page of the holders who stayed in ``county`` and left it on ``since`` or later."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "county = :c",
            "FilterExpression": "attribute_not_exists(left_on) OR left_on >= :since",
            "ExpressionAttributeValues": {":c": _s(county), ":since": _s(since.isoformat())},
            "ProjectionExpression": "holder_id",
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        out = self._db.query(**kwargs)
        return [it["holder_id"]["S"] for it in out.get("Items", [])], out.get("LastEvaluatedKey")


class DynamoScanLog:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def record(self, checkpoint_id: str, code_id: str, color: str | None, status: str, at: datetime) -> None:
        stamp = at.astimezone(UTC).isoformat(timespec="milliseconds")
        item = {
            "checkpoint_id": _s(checkpoint_id),
            "scanned_at": _s(f"{stamp}#{code_id}"),
            "code_id": _s(code_id),
            "status": _s(status),
            "expires_at": {"N": str(int((at + SCAN_RETENTION).timestamp()))},
        }
        if color:
            item["color"] = _s(color)
        self._db.put_item(TableName=self._table, Item=item)


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


class DynamoRuns:
    """Full-rescoring runs: one item per run, progress per segment, advanced conditionally so a page
    delivered twice is counted once and a re-delivered segment resumes where it stopped."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def create(self, run_id: str, segments: int, ruleset_version: str, by: str, at: datetime) -> bool:
        item: dict[str, Any] = {
            "run_id": _s(run_id),
            "segments_total": {"N": str(segments)},
            "segments_done": {"N": "0"},
            "holders_read": {"N": "0"},
            "holders_changed": {"N": "0"},
            "ruleset_version": _s(ruleset_version),
            "started_by": _s(by),
            "started_at": _s(at.isoformat()),
        }
        for i in range(segments):
            item[f"page_{i}"] = {"N": "0"}
        try:
            self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(run_id)")
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, run_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=self._table, Key={"run_id": _s(run_id)}, ConsistentRead=True).get("Item")
        if not item:
            return None
        out: dict[str, Any] = {}
        for k, v in item.items():
            ((kind, value),) = v.items()
            out[k] = int(value) if kind == "N" else value
        return out

    def advance(
        self,
        run_id: str,
        segment: int,
        page: int,
        next_key: dict[str, Any] | None,
        read: int,
        changed: int,
        at: datetime,
    ) -> bool:
        """Record page ``page`` of ``segment`` as done; False when it was already recorded."""
        done = next_key is None
        names = {"#p": f"page_{segment}", "#k": f"key_{segment}"}
        values: dict[str, Any] = {
            ":page": {"N": str(page)},
            ":next": {"N": str(-1 if done else page + 1)},
            ":read": {"N": str(read)},
            ":changed": {"N": str(changed)},
            ":at": _s(at.isoformat()),
        }
        update = "SET #p = :next, updated_at = :at ADD holders_read :read, holders_changed :changed"
        if done:
            update += ", segments_done :one REMOVE #k"
            values[":one"] = {"N": "1"}
        else:
            update = update.replace("SET #p = :next,", "SET #p = :next, #k = :key,")
            values[":key"] = _s(json.dumps(next_key))
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"run_id": _s(run_id)},
                UpdateExpression=update,
                ConditionExpression="#p = :page",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
