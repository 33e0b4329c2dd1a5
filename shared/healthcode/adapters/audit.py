"""The audit trail (DynamoDB): one partition per day, records numbered and hash-chained
(:mod:`healthcode.auditchain`). Append-only by construction: every write is a put conditional on its
key being new (two writers racing for the same number: the loser takes the next), and in the template
no function's role may update or delete an item of this table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from healthcode.auditchain import GENESIS, digest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ATTEMPTS = 8


class AuditChainBusy(Exception):
    """Too many writers raced for the day's next record; the caller's retry appends it."""


class DynamoAudit:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    def _head(self, day: str) -> dict[str, Any] | None:
        out = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues={":d": {"S": day}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = out.get("Items", [])
        return json.loads(items[0]["doc"]["S"]) if items else None

    def append(self, day: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Append ``entry`` as the day's next record; returns it with its number and hashes."""
        for _ in range(ATTEMPTS):
            head = self._head(day)
            record = entry | {
                "day": day,
                "seq": (head["seq"] + 1) if head else 1,
                "prev_hash": head["hash"] if head else GENESIS,
            }
            record["hash"] = digest(record)
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item={
                        "day": {"S": day},
                        "seq": {"S": f"{record['seq']:09d}"},
                        "doc": {"S": json.dumps(record, ensure_ascii=False, sort_keys=True)},
                    },
                    ConditionExpression="attribute_not_exists(seq)",
                )
            except self._db.exceptions.ConditionalCheckFailedException:
                continue  # another writer took this number: chain onto theirs
            return record
        raise AuditChainBusy(f"the audit trail of {day} is busy")

    def day(self, day: str) -> list[dict[str, Any]]:
        """Every record of ``day``, in order."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#d = :d",
            "ExpressionAttributeNames": {"#d": "day"},
            "ExpressionAttributeValues": {":d": {"S": day}},
            "ConsistentRead": True,
        }
        records: list[dict[str, Any]] = []
        while True:
            out = self._db.query(**kwargs)
            records += [json.loads(i["doc"]["S"]) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                return records
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
