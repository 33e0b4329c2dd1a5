"""The holders table: one item per holder, every write conditional on ``version``; and the accounts
table: which holder an account is bound to and which dependants it applied for.

A holder is stored as a few indexed attributes plus one compact JSON document, so an item stays small
(capacity units follow size) and the verify index projects only what a checkpoint needs. A write that
binds an account (a first application, a dependant added, a dependant taking over their own code)
writes the holder and the account items in one transaction, each conditional: an account holds one
identity, an identity one account, a guardian at most ``max_dependants`` dependants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from healthcode.adapters.base import StartKey
from healthcode.adapters.transactions import reasons, transact
from healthcode.errors import Conflict, VersionConflict
from healthcode.models import CodeRecord, Holder

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def due_shard(holder_id: str, shards: int) -> str:
    """Spread the due index over a few partition keys so the daily job never reads one hot key."""
    return f"due#{int(hashlib.blake2s(holder_id.encode(), digest_size=2).hexdigest(), 16) % shards}"


class DynamoHolders:
    """Holders table: one item per holder, conditional on ``version`` for every write."""

    _DOC_EXCLUDE: ClassVar[set[str]] = {"holder_id", "version", "sub", "code_id"}

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        shards: int = 8,
        due_page: int = 100,
        scan_page: int = 200,
        accounts_table: str = "",
        max_dependants: int = 5,
    ) -> None:
        self._db = client
        self._table = table
        self._accounts = accounts_table
        self._max_dependants = max_dependants
        self._shards = shards
        self._due_page = due_page
        self._scan_page = scan_page

    def from_item(self, item: Mapping[str, Any]) -> Holder:
        """A holder from its stored item (a table read, an index projection of ALL, or a stream image)."""
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
        return self.from_item(item) if item else None

    def _account(self, sub: str) -> dict[str, Any]:
        item = self._db.get_item(TableName=self._accounts, Key={"sub": _s(sub)}, ConsistentRead=True).get("Item")
        return item or {}

    def find_by_sub(self, sub: str) -> Holder | None:
        bound = self._account(sub).get("holder_id")
        return self.get(bound["S"]) if bound else None

    def dependants(self, sub: str) -> list[Holder]:
        ids = sorted(self._account(sub).get("dependants", {}).get("SS", []))
        return [h for h in (self.get(i) for i in ids) if h is not None and h.guardian == sub]

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
        item = items[0]
        return CodeRecord(item["color"]["S"], item.get("masked_name", {}).get("S", ""), item["holder_id"]["S"])

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

    def save(self, holder: Holder, previous: Holder | None = None) -> Holder:
        """Write ``holder`` if nobody wrote it since it was read (its ``version``); return it bumped.

        ``previous``: the copy it was read as. When the write binds an account (``sub`` or ``guardian``
        changed), the account items are written in the same transaction.
        """
        saved = holder.model_copy(update={"version": holder.version + 1})
        item = self.item(saved)
        if holder.version == 0:
            cond: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(holder_id)"}
        else:
            cond = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(holder.version)}},
            }
        accounts = self._account_writes(holder, previous)
        if not accounts:
            try:
                self._db.put_item(TableName=self._table, Item=item, **cond)
            except self._db.exceptions.ConditionalCheckFailedException as exc:
                raise VersionConflict(holder.holder_id) from exc
            return saved
        writes = [{"Put": {"TableName": self._table, "Item": item, **cond}}] + [w for w, _ in accounts]
        try:
            transact(self._db, writes)  # a throttled one is retried there, then a 503
        except self._db.exceptions.TransactionCanceledException as exc:
            self._refused(holder, accounts, reasons(exc), exc)
        return saved

    @staticmethod
    def _refused(
        holder: Holder, accounts: list[tuple[dict[str, Any], str]], reasons: list[Any], exc: Exception
    ) -> None:
        """Turn a cancelled transaction into the domain error it means (always raises)."""
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise VersionConflict(holder.holder_id) from exc
        for (_, refusal), code in zip(accounts, reasons[1:], strict=False):
            if code == "ConditionalCheckFailed":
                raise Conflict(refusal) from exc
        raise VersionConflict(holder.holder_id) from exc  # a transaction conflict: re-read and retry

    def _account_writes(self, holder: Holder, previous: Holder | None) -> list[tuple[dict[str, Any], str]]:
        """The account items a write must change with the holder, each with the refusal if its condition fails."""
        out: list[tuple[dict[str, Any], str]] = []
        ids = {"SS": [holder.holder_id]}
        before_sub = previous.sub if previous else None
        before_guardian = previous.guardian if previous else None
        if holder.sub and holder.sub != before_sub:
            bind = self._account_update(
                holder.sub,
                "SET holder_id = :h",
                {":h": _s(holder.holder_id)},
                "attribute_not_exists(holder_id) OR holder_id = :h",
            )
            out.append((bind, "This account already holds a code for another identity document."))
        if holder.guardian and holder.guardian != before_guardian:
            limit = {":hs": ids, ":n": {"N": str(self._max_dependants)}}
            add = self._account_update(
                holder.guardian,
                "ADD dependants :hs",
                limit,
                "attribute_not_exists(dependants) OR size(dependants) < :n",
            )
            out.append((add, f"An account may apply for at most {self._max_dependants} dependants."))
        if before_guardian and before_guardian != holder.guardian:
            release = self._account_update(before_guardian, "DELETE dependants :hs", {":hs": ids})
            out.append((release, "The guardian's account changed meanwhile; try again."))
        return out

    def _account_update(
        self, sub: str, expression: str, values: dict[str, Any], condition: str | None = None
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._accounts,
            "Key": {"sub": _s(sub)},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": values,
        }
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    @property
    def due_shards(self) -> int:
        return self._shards

    def due_page(self, day: date, shard: int, start_key: StartKey = None) -> tuple[list[Holder], StartKey]:
        """One page of the holders in due shard ``shard`` whose due date is ``day`` or earlier, from the
        sparse index (never a scan). The index projects whole holders, so each due holder costs one
        item read; a copy the index has not caught up with fails its conditional write and is re-read."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_due",
            "KeyConditionExpression": "due_shard = :s AND due_on <= :d",
            "ExpressionAttributeValues": {":s": _s(f"due#{shard}"), ":d": _s(day.isoformat())},
            "Limit": self._due_page,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        out = self._db.query(**kwargs)
        return [self.from_item(it) for it in out.get("Items", [])], out.get("LastEvaluatedKey")

    def scan_segment(self, segment: int, total: int, start_key: StartKey) -> tuple[list[Holder], StartKey]:
        """One page of one parallel-scan segment (full rescoring when a new ruleset takes effect)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Segment": segment,
            "TotalSegments": total,
            "Limit": self._scan_page,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        out = self._db.scan(**kwargs)
        return [self.from_item(it) for it in out.get("Items", [])], out.get("LastEvaluatedKey")
