"""Overrides and appeals (DynamoDB). Each record is one item (its JSON in ``doc``) changed only by a put
conditional on the revision read, so two approvers or two deciders never overwrite each other.

* **Overrides** (``override_id``): a sparse index by ``status`` lists them; per proposer and clock
  hour a counter item (``count#<sub>#<hour>``) adds up the holders proposed, written in the same
  transaction as the override, so the bulk threshold cannot be dodged by racing requests.
* **Appeals** (``appeal_id``): indexes by ``status`` and by the ``owner`` who filed; a guard item
  (``open#<holder>#<factor>``) written in the same transaction keeps one open appeal per holder and
  factor, and is deleted in the decision's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.adapters.base import hour_of
from healthcode.adapters.transactions import reasons, transact
from healthcode.errors import VersionConflict
from healthcode.models import AppealRecord, OverrideRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryOutputTypeDef
    from pydantic import BaseModel

COUNTER_DAYS = 2  # counters expire (TTL) well after the hour they count for


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


class _Records:
    key = ""
    model: Any = None

    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    def _item(self, rec: Any, **index: str) -> dict[str, Any]:
        item = {self.key: _s(getattr(rec, self.key)), "doc": _s(rec.model_dump_json()), "rev": {"N": str(rec.rev)}}
        return item | {k: _s(v) for k, v in index.items()}

    def _load(self, item: dict[str, Any]) -> Any:
        return self.model.model_validate_json(item["doc"]["S"])

    def _get(self, key: str) -> Any:
        out = self._db.get_item(TableName=self._table, Key={self.key: _s(key)}, ConsistentRead=True)
        item = out.get("Item")
        return self._load(item) if item and "doc" in item else None

    def _next[R: BaseModel](self, rec: R, **index: str) -> tuple[R, dict[str, Any]]:
        """``rec`` as its next revision, and the put that stores it if nobody wrote since it was read."""
        rev = int(getattr(rec, "rev"))  # noqa: B009  # both record types carry their revision
        bumped = rec.model_copy(update={"rev": rev + 1})
        put = {
            "TableName": self._table,
            "Item": self._item(bumped, **index),
            "ConditionExpression": "#r = :r",
            "ExpressionAttributeNames": {"#r": "rev"},
            "ExpressionAttributeValues": {":r": {"N": str(rev)}},
        }
        return bumped, put

    def _page(
        self, index: str, attr: str, value: str, limit: int, after: dict[str, Any] | None, forward: bool
    ) -> tuple[list[Any], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": attr},
            "ExpressionAttributeValues": {":v": _s(value)},
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if after:
            # the caller's own partition only, whatever the cursor says
            kwargs["ExclusiveStartKey"] = {k: after.get(k, _s("")) for k in (self.key, "at")} | {attr: _s(value)}
        out = self._db.query(**kwargs)
        return [self._load(i) for i in out.get("Items", [])], out.get("LastEvaluatedKey")

    def _items(self, index: str, attr: str, value: str, **query: Any) -> Iterator[QueryOutputTypeDef]:
        """Every page of a query of ``index`` for ``attr`` = ``value`` (``query``: further arguments)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v" + query.pop("and_key", ""),
            "ExpressionAttributeNames": {"#k": attr} | query.pop("names", {}),
            "ExpressionAttributeValues": {":v": _s(value)} | query.pop("values", {}),
            **query,
        }
        while True:
            out = self._db.query(**kwargs)
            yield out
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


class DynamoOverrides(_Records):
    key = "override_id"
    model = OverrideRecord

    def _index(self, rec: OverrideRecord) -> dict[str, str]:
        index = {"status": rec.status, "at": _iso(rec.proposed_at)}
        return index | ({"bulk": "1"} if rec.bulk else {})

    def get(self, override_id: str) -> OverrideRecord | None:
        return self._get(override_id) if not override_id.startswith("count#") else None

    def proposed_since(self, proposer: str, now: datetime) -> tuple[int, int]:
        """Holders ``proposer`` proposed overrides for in this clock hour and the one before:
        (previous hour's count, this hour's count)."""
        counts = []
        for t in (now - timedelta(hours=1), now):
            out = self._db.get_item(
                TableName=self._table, Key={self.key: _s(f"count#{proposer}#{hour_of(t)}")}, ConsistentRead=True
            )
            counts.append(int(out.get("Item", {}).get("holders", {"N": "0"})["N"]))
        return counts[0], counts[1]

    def create(self, rec: OverrideRecord, seen_this_hour: int, counter_of: str | None = None) -> bool:
        """Store a new override and count its holders against the hour of ``counter_of`` (default: its
        proposer), in one transaction. False: it exists already (a retry). :class:`VersionConflict`: the
        count moved since it was read (another proposal raced this one); read it again."""
        counter = {self.key: _s(f"count#{counter_of or rec.proposed_by}#{hour_of(rec.proposed_at)}")}
        expires = int((rec.proposed_at + timedelta(days=COUNTER_DAYS)).timestamp())
        try:
            transact(
                self._db,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._item(rec.model_copy(update={"rev": 1}), **self._index(rec)),
                            "ConditionExpression": "attribute_not_exists(override_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": counter,
                            "UpdateExpression": "ADD holders :n SET expires_at = :e",
                            "ConditionExpression": "attribute_not_exists(holders) OR holders = :seen",
                            "ExpressionAttributeValues": {
                                ":n": {"N": str(len(rec.holders))},
                                ":seen": {"N": str(seen_this_hour)},
                                ":e": {"N": str(expires)},
                            },
                        }
                    },
                ],
            )
        except self._db.exceptions.TransactionCanceledException as exc:
            codes = reasons(exc)
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            raise VersionConflict(rec.proposed_by) from exc
        return True

    def save(self, rec: OverrideRecord) -> OverrideRecord:
        """Store a change of what was read (else :class:`VersionConflict`)."""
        bumped, put = self._next(rec, **self._index(rec))
        try:
            self._db.put_item(**put)
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise VersionConflict(rec.override_id) from exc
        return bumped

    def page(self, status: str, limit: int, after: dict[str, Any] | None) -> tuple[list[OverrideRecord], Any]:
        return self._page("by_status", "status", status, limit, after, forward=False)

    def counts(self, status: str) -> tuple[int, int]:
        """How many overrides have ``status``, and how many of them are bulk (one read of the index)."""
        total = bulk = 0
        for out in self._items("by_status", "status", status, ProjectionExpression="#b", names={"#b": "bulk"}):
            total += out.get("Count", 0)
            bulk += sum(1 for i in out.get("Items", []) if "bulk" in i)
        return total, bulk


class DynamoAppeals(_Records):
    key = "appeal_id"
    model = AppealRecord

    def _index(self, rec: AppealRecord) -> dict[str, str]:
        return {"status": rec.status, "owner": rec.owner, "at": _iso(rec.filed_at)}

    @staticmethod
    def _guard(rec: AppealRecord) -> dict[str, Any]:
        return {"appeal_id": _s(f"open#{rec.holder_id}#{rec.factor}")}

    def get(self, appeal_id: str) -> AppealRecord | None:
        return self._get(appeal_id) if not appeal_id.startswith("open#") else None

    def file(self, rec: AppealRecord) -> AppealRecord | None:
        """Store a new open appeal; if the holder has one open for this factor, that one (nothing written)."""
        item = self._item(rec.model_copy(update={"rev": 1}), **self._index(rec))
        try:
            transact(
                self._db,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._guard(rec) | {"open": _s(rec.appeal_id)},
                            "ConditionExpression": "attribute_not_exists(appeal_id)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(appeal_id)",
                        }
                    },
                ],
            )
        except self._db.exceptions.TransactionCanceledException:
            out = self._db.get_item(TableName=self._table, Key=self._guard(rec), ConsistentRead=True)
            existing = out.get("Item", {}).get("open", {}).get("S")
            found = self.get(existing) if existing else None
            if found is None:
                raise VersionConflict(rec.appeal_id) from None  # decided in between: try again
            return found
        return None

    def decide(self, rec: AppealRecord) -> AppealRecord:
        """Store the decision (conditional on the revision read) and release the holder's factor."""
        bumped, put = self._next(rec)
        put["Item"] |= {k: _s(v) for k, v in self._index(bumped).items()}
        try:
            transact(
                self._db,
                [
                    {"Put": put},
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": self._guard(rec),
                            "ConditionExpression": "#o = :id",
                            "ExpressionAttributeNames": {"#o": "open"},
                            "ExpressionAttributeValues": {":id": _s(rec.appeal_id)},
                        }
                    },
                ],
            )
        except self._db.exceptions.TransactionCanceledException as exc:
            raise VersionConflict(rec.appeal_id) from exc
        return bumped

    def save(self, rec: AppealRecord) -> AppealRecord:
        """Store a decided appeal's change (its correction done), if nobody wrote since it was read."""
        bumped, put = self._next(rec)
        put["Item"] |= {k: _s(v) for k, v in self._index(bumped).items()}
        try:
            self._db.put_item(**put)
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise VersionConflict(rec.appeal_id) from exc
        return bumped

    def by_status(self, status: str, limit: int, after: dict[str, Any] | None) -> tuple[list[AppealRecord], Any]:
        return self._page("by_status", "status", status, limit, after, forward=True)  # oldest first

    def by_owner(self, owner: str, limit: int, after: dict[str, Any] | None) -> tuple[list[AppealRecord], Any]:
        return self._page("by_owner", "owner", owner, limit, after, forward=False)  # newest first

    def open_before(self, cutoff: datetime) -> int:
        pages = self._items(
            "by_status",
            "status",
            "open",
            and_key=" AND #a < :b",
            names={"#a": "at"},
            values={":b": _s(_iso(cutoff))},
            Select="COUNT",
        )
        return sum(out.get("Count", 0) for out in pages)
