"""Full rescoring runs: one item per run, progress per scan segment."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _s(value: str) -> dict[str, str]:
    return {"S": value}


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
            out[k] = int(str(value)) if kind == "N" else value
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

    def record_failure(self, job: str, holder_id: str, reason: str, at: datetime) -> None:
        """One item per failing holder (``failure#<holder>``): the last job, reason and time, and a count."""
        self._db.update_item(
            TableName=self._table,
            Key={"run_id": _s(f"failure#{holder_id}")},
            UpdateExpression="SET job = :j, reason = :r, failed_at = :t ADD failures :one",
            ExpressionAttributeValues={
                ":j": _s(job[:200]),
                ":r": _s(reason[:500]),
                ":t": _s(at.isoformat()),
                ":one": {"N": "1"},
            },
        )
