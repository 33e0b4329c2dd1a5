"""Colour checks as the runs table keeps them: one item per check (``colour-check#<id>``: counts, the
first findings, segments done) and a pointer to the latest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

LATEST = "colour-check#latest"
MAX_FINDINGS = 200  # listed in the record; the count is exact


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoColourChecks:
    def __init__(self, db: Any, table: str) -> None:
        self._db = db
        self._table = table

    def start(self, check_id: str, segments: int, by: str, now: datetime) -> dict[str, Any]:
        item = {
            "run_id": _s(f"colour-check#{check_id}"),
            "check_id": _s(check_id),
            "status": _s("running"),
            "by": _s(by),
            "started_at": _s(now.isoformat()),
            "check_segments": {"N": str(segments)},  # not segments_total: that starts a full run
            "segments_done": {"N": "0"},
            "checked": {"N": "0"},
            "unexplained": {"N": "0"},
            "findings": _s("[]"),
        }
        self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(run_id)")
        self._db.put_item(TableName=self._table, Item={"run_id": _s(LATEST), "check_id": _s(check_id)})
        return self._view(item)

    def add(
        self, check_id: str, checked: int, findings: list[dict[str, Any]], unexplained: int, segment_done: bool, now: datetime
    ) -> None:
        key = {"run_id": _s(f"colour-check#{check_id}")}
        self._db.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="ADD checked :c, unexplained :u, segments_done :d SET updated_at = :t",
            ExpressionAttributeValues={
                ":c": {"N": str(checked)},
                ":u": {"N": str(unexplained)},
                ":d": {"N": "1" if segment_done else "0"},
                ":t": _s(now.isoformat()),
            },
        )
        if findings:  # read-modify-write of the listed findings, guarded by what was read
            for _ in range(5):
                current = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)["Item"]
                listed = json.loads(current["findings"]["S"])
                if len(listed) >= MAX_FINDINGS:
                    return
                merged = (listed + findings)[:MAX_FINDINGS]
                try:
                    self._db.update_item(
                        TableName=self._table,
                        Key=key,
                        UpdateExpression="SET findings = :f",
                        ConditionExpression="findings = :old",
                        ExpressionAttributeValues={":f": _s(json.dumps(merged)), ":old": current["findings"]},
                    )
                    return
                except self._db.exceptions.ConditionalCheckFailedException:
                    continue

    def get(self, check_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(
            TableName=self._table, Key={"run_id": _s(f"colour-check#{check_id}")}, ConsistentRead=True
        ).get("Item")
        return self._view(item) if item else None

    def latest(self) -> dict[str, Any] | None:
        pointer = self._db.get_item(TableName=self._table, Key={"run_id": _s(LATEST)}, ConsistentRead=True).get("Item")
        return self.get(pointer["check_id"]["S"]) if pointer else None

    @staticmethod
    def _view(item: dict[str, Any]) -> dict[str, Any]:
        total, done = int(item["check_segments"]["N"]), int(item["segments_done"]["N"])
        return {
            "check_id": item["check_id"]["S"],
            "status": "done" if done >= total else "running",
            "by": item["by"]["S"],
            "started_at": item["started_at"]["S"],
            "finished_at": item["updated_at"]["S"] if done >= total and "updated_at" in item else None,
            "checked": int(item["checked"]["N"]),
            "unexplained": int(item["unexplained"]["N"]),
            "findings": json.loads(item["findings"]["S"]),
        }


class SqsSegments:
    """The queue that carries a check's segments (and their continuations) to the checking function."""

    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, seg: Any) -> None:
        body = {"check_id": seg.check_id, "segment": seg.segment, "total": seg.total, "after": seg.after}
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(body))
