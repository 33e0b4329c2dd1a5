"""Erasing what a leaving account stored (PIPL art. 47): the holder item and its account link in one
transaction (conditional on the version read: a colour written meanwhile is not lost in silence), then
the sealed phone, the colour history, the stays index entries and the account's inbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from healthcode.adapters.stays import stay_part
from healthcode.adapters.transactions import transact
from healthcode.errors import VersionConflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from healthcode.models import Holder


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoErasure:
    def __init__(
        self,
        db: DynamoDBClient,
        holders: str,
        accounts: str,
        history: str,
        stays: str,
        inbox: str,
        contacts: str = "",
        stay_parts: int | None = None,
    ) -> None:
        self._db = db
        self._holders, self._accounts, self._history = holders, accounts, history
        self._stays, self._inbox, self._contacts = stays, inbox, contacts
        self._parts = stay_parts

    def erase(self, holder: Holder, account: str) -> None:
        """Erase ``holder`` (applied for by ``account``, for itself or as a dependant). What hangs off the
        holder goes first and the holder last: a fault in between leaves the holder in place, so the
        request sent again finds it and finishes (the other way round would strand the rest)."""
        if self._contacts:
            self._db.delete_item(TableName=self._contacts, Key={"holder_id": _s(holder.holder_id)})
        for key in list(self._keys(self._history, "holder_id", holder.holder_id, "at")):  # one by one: no batch
            self._db.delete_item(TableName=self._history, Key=key)  # writes here (the publisher's table alone)
        parts = {"parts": self._parts} if self._parts else {}
        self._delete(
            self._stays,
            (
                {
                    "county": _s(f"{s.region[:6]}#{stay_part(holder.holder_id, **parts)}"),
                    "stay": _s(f"{holder.holder_id}#{s.arrived_on.isoformat()}#{s.region}"),
                }
                for s in holder.stays
            ),
        )
        if holder.sub == account:
            link: dict[str, Any] = {"UpdateExpression": "REMOVE holder_id"}
        else:
            link = {"UpdateExpression": "DELETE dependants :h", "ExpressionAttributeValues": {":h": {"SS": [holder.holder_id]}}}
        delete = {
            "TableName": self._holders,
            "Key": {"holder_id": _s(holder.holder_id)},
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(holder.version)}},
        }
        update = {"TableName": self._accounts, "Key": {"sub": _s(account)}, **link}
        try:
            transact(self._db, [{"Delete": delete}, {"Update": update}])
        except self._db.exceptions.TransactionCanceledException as exc:
            raise VersionConflict(holder.holder_id) from exc

    def forget_inbox(self, account: str) -> None:
        self._delete(self._inbox, self._keys(self._inbox, "owner", account, "sk"))

    def _keys(self, table: str, hash_key: str, value: str, range_key: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": hash_key, "#r": range_key},
            "ExpressionAttributeValues": {":v": _s(value)},
            "ProjectionExpression": "#k, #r",
        }
        while True:
            out = self._db.query(**kwargs)
            yield from out.get("Items", [])
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def _delete(self, table: str, keys: Iterator[dict[str, Any]] | Any) -> None:
        batch: list[dict[str, Any]] = []
        for key in keys:
            batch.append({"DeleteRequest": {"Key": key}})
            if len(batch) == 25:
                self._flush(table, batch)
                batch = []
        if batch:
            self._flush(table, batch)

    def _flush(self, table: str, batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: batch}
        while pending:
            pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
