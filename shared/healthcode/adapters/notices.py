"""What a colour change leaves behind for people: holders' inboxes, community offices' tasks, and the
log of deliveries to partner cities' webhooks. Every write is keyed by the event it comes from and
conditional on the key being new, so a redelivered event finds its work done and does nothing.

* **Inbox** (``owner``, ``sk`` = time#id): newest first per account; expires after 90 days.
* **Tasks** (``task_id``): sparse indexes list an office's open tasks (``open_office``), the tasks
  escalated to it (``open_escalated``), all its tasks (``office``) and the open tasks whose
  acknowledgement is overdue (``due_shard``/``escalate_at``, spread over shards for the sweep).
  Acknowledgement times are kept per office and day as a histogram of minutes (``times#…`` items),
  added in the same transaction as the acknowledgement, so medians never need a scan.
* **Deliveries** (``partner_id``, ``sk`` = time#id): the partner's delivery log; pending ones are in a
  sparse index by their next attempt (``retry_shard``/``next_at``) for the retry sweep.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.adapters.base import NOT_A_CURSOR
from healthcode.adapters.transactions import reasons, transact
from healthcode.errors import MalformedRequest
from healthcode.models import Delivery, Notice, Task

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INBOX_DAYS = 90
SWEEP_SHARDS = 16  # the overdue and retry indexes' partition keys (each sweep reads them all)
# An office's (and a partner's) items are spread over this many partition keys "<office>#<n>": a region
# change that turns a million holders of one county yellow writes its tasks at up to ~1,300/s, above
# one partition's 1,000 WCU/s; a listing reads every lane (infra/CAPACITY.md).
LANES = 8
MAX_MINUTES = 240  # acknowledgement-time histogram: one bucket per minute, the last holds everything later


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def _shard(key: str, n: int = SWEEP_SHARDS) -> str:
    return str(zlib.crc32(key.encode()) % n)


def _lane(owner: str, key: str) -> str:
    """The partition key value of ``key``'s item among ``owner``'s lanes."""
    return f"{owner}#{_shard(key, LANES)}"


def _due_keys(
    db: DynamoDBClient, table: str, index: str, shard_attr: str, time_attr: str, now: datetime, limit: int
) -> list[dict[str, Any]]:
    """The keys in a sparse "due" index (``shard_attr`` over ``SWEEP_SHARDS`` values, ``time_attr`` the
    time something is due) whose time has come, from every shard, at most ``limit``."""
    keys: list[dict[str, Any]] = []
    for shard in range(SWEEP_SHARDS):
        kwargs: dict[str, Any] = {
            "TableName": table,
            "IndexName": index,
            "KeyConditionExpression": f"{shard_attr} = :s AND {time_attr} <= :now",
            "ExpressionAttributeValues": {":s": _s(str(shard)), ":now": _s(_iso(now))},
        }
        while len(keys) < limit:
            out = db.query(**kwargs)
            keys += out.get("Items", [])
            if "LastEvaluatedKey" not in out:
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
    return keys[:limit]


# ------------------------------------------------------------------------------------------ inbox


class DynamoInbox:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    def add(self, notice: Notice) -> bool:
        """Keep ``notice``; False when it was already there (a redelivered event)."""
        doc = {
            "holder_id": notice.holder_id,
            "color": notice.color,
            "old_color": notice.old_color,
            "reasons": list(notice.reasons),
            "at": _iso(notice.at),
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "owner": _s(notice.owner),
                    "sk": _s(f"{_iso(notice.at)}#{notice.notification_id}"),
                    "doc": _s(json.dumps(doc, ensure_ascii=False)),
                    "expires_at": {"N": str(int((notice.at + timedelta(days=INBOX_DAYS)).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def page(self, owner: str, limit: int, after: dict[str, Any] | None) -> tuple[list[Notice], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": _s(owner)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"owner": _s(owner), "sk": after.get("sk", _s(""))}  # one's own only
        out = self._db.query(**kwargs)
        notices = []
        for item in out.get("Items", []):
            doc = json.loads(item["doc"]["S"])
            notices.append(
                Notice(
                    owner,
                    item["sk"]["S"].split("#", 1)[1],
                    datetime.fromisoformat(doc["at"]),
                    doc["holder_id"],
                    doc["color"],
                    doc.get("old_color"),
                    tuple(doc.get("reasons", [])),
                )
            )
        last = out.get("LastEvaluatedKey")
        return notices, ({"sk": last["sk"]} if last else None)


# ------------------------------------------------------------------------------------------ tasks


def _task(item: dict[str, Any]) -> Task:
    doc = json.loads(item["doc"]["S"])
    acked_at = item.get("acknowledged_at", {}).get("S")
    return Task(
        task_id=item["task_id"]["S"],
        office=item["office"]["S"],
        holder_id=doc["holder_id"],
        masked_name=doc["masked_name"],
        color=doc["color"],
        old_color=doc.get("old_color"),
        changed_at=datetime.fromisoformat(item["created_at"]["S"]),
        escalate_at=datetime.fromisoformat(doc["escalate_at"]),
        status=item["status"]["S"],
        escalated_to=item.get("escalated_to", {}).get("S"),
        acknowledged_by=item.get("acknowledged_by", {}).get("S"),
        acknowledged_at=datetime.fromisoformat(acked_at) if acked_at else None,
        kind=doc.get("kind", "colour"),
        guardian=doc.get("guardian"),
        guardian_person=doc.get("guardian_person"),
        masked_id=doc.get("masked_id"),
        outcome=item.get("outcome", {}).get("S"),
    )


class DynamoTasks:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    @staticmethod
    def _item(task: Task) -> dict[str, Any]:
        doc = {
            "holder_id": task.holder_id,
            "masked_name": task.masked_name,
            "color": task.color,
            "old_color": task.old_color,
            "escalate_at": _iso(task.escalate_at),
        }
        if task.kind != "colour":
            doc |= {
                "kind": task.kind,
                "guardian": task.guardian,
                "guardian_person": task.guardian_person,
                "masked_id": task.masked_id,
            }
        return {
            "task_id": _s(task.task_id),
            "office": _s(task.office),
            "office_lane": _s(_lane(task.office, task.task_id)),
            "open_office": _s(_lane(task.office, task.task_id)),
            "created_at": _s(_iso(task.changed_at)),
            "status": _s("open"),
            "due_shard": _s(_shard(task.task_id)),
            "escalate_at": _s(_iso(task.escalate_at)),
            "doc": _s(json.dumps(doc, ensure_ascii=False)),
        }

    def add(self, task: Task) -> bool:
        """Open ``task``; False when it was already there (a redelivered event)."""
        try:
            self._db.put_item(
                TableName=self._table, Item=self._item(task), ConditionExpression="attribute_not_exists(task_id)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def add_counted(self, task: Task, counter: str, limit: int) -> str:
        """Open ``task`` and count it against ``counter`` (at most ``limit``), in one transaction: "added",
        "exists" (the same task was opened before: not counted again) or "limited"."""
        try:
            transact(
                self._db,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._item(task),
                            "ConditionExpression": "attribute_not_exists(task_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"task_id": _s(counter)},
                            "UpdateExpression": "ADD opened :one",
                            "ConditionExpression": "attribute_not_exists(opened) OR opened < :limit",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(limit)}},
                        }
                    },
                ],
            )
        except self._db.exceptions.TransactionCanceledException as exc:
            return "exists" if reasons(exc)[0] == "ConditionalCheckFailed" else "limited"
        return "added"

    def get(self, task_id: str) -> Task | None:
        item = self._db.get_item(TableName=self._table, Key={"task_id": _s(task_id)}, ConsistentRead=True).get("Item")
        return _task(item) if item and "office" in item else None

    def page(
        self, office: str, status: str | None, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Task], dict[str, Any] | None]:
        """An office's tasks, newest first within a page: open ones (its own and those escalated to it),
        or all. Every lane of the office is read, ``limit`` items at most from each."""
        if status == "open":
            indexes = [("open_by_office", "open_office"), ("escalated_by_office", "open_escalated")]
        else:
            indexes = [("by_office", "office_lane")]
        lanes = [(f"{index}#{n}", index, attr, f"{office}#{n}") for index, attr in indexes for n in range(LANES)]
        cursors = after or {}
        found: list[Task] = []
        nxt: dict[str, Any] = {}
        for lane, index, attr, value in lanes:
            if after is not None and lane not in cursors:
                continue  # that lane was exhausted on an earlier page
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": index,
                "KeyConditionExpression": "#k = :k",
                "ExpressionAttributeNames": {"#k": attr},
                "ExpressionAttributeValues": {":k": _s(value)},
                "ScanIndexForward": False,
                "Limit": limit,
            }
            if cursors.get(lane):  # never another office's: the index key is this office's lane
                start = cursors[lane]
                kwargs["ExclusiveStartKey"] = {k: start.get(k, _s("")) for k in ("task_id", "created_at")} | {
                    attr: _s(value)
                }
            try:
                out = self._db.query(**kwargs)
            except self._db.exceptions.ClientError as exc:
                raise MalformedRequest(NOT_A_CURSOR) from exc
            found += [_task(i) for i in out.get("Items", [])]
            if out.get("LastEvaluatedKey"):
                nxt[lane] = out["LastEvaluatedKey"]
        if status == "acknowledged":
            found = [t for t in found if t.status == "acknowledged"]
        found.sort(key=lambda t: t.changed_at, reverse=True)
        return found, (nxt or None)

    def acknowledge(self, task: Task, by: str, at: datetime, outcome: str | None = None) -> Task | None:
        """Acknowledge an open task and count its time in the office's histogram, in one transaction;
        None when it was no longer open (acknowledged meanwhile)."""
        minutes = max(0, int((at - task.changed_at).total_seconds() // 60))
        day = task.changed_at.date().isoformat()
        try:
            transact(
                self._db,
                [
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"task_id": _s(task.task_id)},
                            "UpdateExpression": "SET #st = :ack, acknowledged_by = :by, acknowledged_at = :at"
                            + (", outcome = :outcome" if outcome else "")
                            + " REMOVE open_office, open_escalated, due_shard, escalate_at",
                            "ConditionExpression": "#st = :open",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": {
                                ":ack": _s("acknowledged"),
                                ":open": _s("open"),
                                ":by": _s(by),
                                ":at": _s(_iso(at)),
                            }
                            | ({":outcome": _s(outcome)} if outcome else {}),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"task_id": _s(f"times#{task.office}#{day}")},
                            "UpdateExpression": "ADD #b :one, acknowledged :one",
                            "ExpressionAttributeNames": {"#b": f"m{min(minutes, MAX_MINUTES)}"},
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ],
            )
        except self._db.exceptions.TransactionCanceledException:
            return None
        return self.get(task.task_id)

    def ack_minutes(self, office: str, day: date) -> dict[int, int]:
        item = self._db.get_item(TableName=self._table, Key={"task_id": _s(f"times#{office}#{day.isoformat()}")}).get(
            "Item"
        )
        return {int(k[1:]): int(v["N"]) for k, v in (item or {}).items() if k.startswith("m") and k[1:].isdigit()}

    def overdue(self, now: datetime, limit: int = 500) -> list[str]:
        """Ids of open tasks whose acknowledgement is overdue (every shard of the sparse index)."""
        keys = _due_keys(self._db, self._table, "escalation_due", "due_shard", "escalate_at", now, limit)
        return [k["task_id"]["S"] for k in keys]

    def escalate(self, task_id: str, to: str) -> bool:
        """Show an overdue open task to ``to`` as well; False when it was acknowledged meanwhile."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"task_id": _s(task_id)},
                UpdateExpression="SET open_escalated = :lane, escalated_to = :to REMOVE due_shard, escalate_at",
                ConditionExpression="#st = :open AND attribute_exists(due_shard)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":to": _s(to), ":lane": _s(_lane(to, task_id)), ":open": _s("open")},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True


# ------------------------------------------------------------------------------------------ deliveries


def _delivery(item: dict[str, Any]) -> Delivery:
    def when(name: str) -> datetime | None:
        v = item.get(name, {}).get("S")
        return datetime.fromisoformat(v) if v else None

    return Delivery(
        partner_id=item["partner_id"]["S"],
        delivery_id=item["delivery_id"]["S"],
        event_id=item["event_id"]["S"],
        kind=item["kind"]["S"],
        body=item["body"]["S"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        status=item["status"]["S"],
        attempts=int(item["attempts"]["N"]),
        next_attempt_at=when("next_at"),
        delivered_at=when("delivered_at"),
        last_error=item.get("last_error", {}).get("S"),
    )


class DynamoDeliveries:
    def __init__(self, db: DynamoDBClient, table: str) -> None:
        self._db = db
        self._table = table

    @staticmethod
    def _key(d: Delivery) -> dict[str, Any]:
        return {"pk": _s(_lane(d.partner_id, d.delivery_id)), "sk": _s(f"{_iso(d.created_at)}#{d.delivery_id}")}

    def add(self, d: Delivery) -> bool:
        """Record a pending delivery, taken for its first attempt (``attempts`` 1) until
        ``next_attempt_at`` (a lease: the sweep takes it over only if that attempt never finished);
        False when already there."""
        assert d.next_attempt_at is not None
        try:
            self._db.put_item(
                TableName=self._table,
                Item=self._key(d)
                | {
                    "partner_id": _s(d.partner_id),
                    "delivery_id": _s(d.delivery_id),
                    "event_id": _s(d.event_id),
                    "kind": _s(d.kind),
                    "body": _s(d.body),
                    "created_at": _s(_iso(d.created_at)),
                    "status": _s("pending"),
                    "attempts": {"N": str(d.attempts)},
                    "next_at": _s(_iso(d.next_attempt_at)),
                    "retry_shard": _s(_shard(d.delivery_id)),
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim(self, d: Delivery, lease_until: datetime) -> Delivery | None:
        """Take a pending delivery for one attempt (its next attempt moves to ``lease_until``); None when
        someone else took it or it is no longer pending."""
        try:
            out = self._db.update_item(
                TableName=self._table,
                Key=self._key(d),
                UpdateExpression="SET attempts = attempts + :one, next_at = :lease",
                ConditionExpression="#st = :pending AND attempts = :seen",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":lease": _s(_iso(lease_until)),
                    ":pending": _s("pending"),
                    ":seen": {"N": str(d.attempts)},
                },
                ReturnValues="ALL_NEW",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        return _delivery(out["Attributes"])

    def delivered(self, d: Delivery, at: datetime) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=self._key(d),
            UpdateExpression="SET #st = :done, delivered_at = :at REMOVE retry_shard, next_at",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":done": _s("delivered"), ":at": _s(_iso(at))},
        )

    def failed(self, d: Delivery, error: str, retry_at: datetime | None) -> None:
        """An attempt failed: try again at ``retry_at``, or (None) give up: dead-lettered in the log."""
        if retry_at is None:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(d),
                UpdateExpression="SET #st = :dead, last_error = :e REMOVE retry_shard, next_at",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":dead": _s("dead"), ":e": _s(error[:500])},
            )
            return
        self._db.update_item(
            TableName=self._table,
            Key=self._key(d),
            UpdateExpression="SET next_at = :n, last_error = :e",
            ExpressionAttributeValues={":n": _s(_iso(retry_at)), ":e": _s(error[:500])},
        )

    def due(self, now: datetime, limit: int = 500) -> list[Delivery]:
        """Pending deliveries whose next attempt is due (every shard of the sparse index)."""
        keys = _due_keys(self._db, self._table, "retry_due", "retry_shard", "next_at", now, limit)
        out_list = []
        for key in keys:
            key = {"pk": key["pk"], "sk": key["sk"]}  # the table's key, without the index's
            item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            if item:
                out_list.append(_delivery(item))
        return out_list

    def page(
        self, partner_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Delivery], dict[str, Any] | None]:
        """A partner's deliveries, newest first within a page (every lane read, ``limit`` at most from each)."""
        cursors = after or {}
        found: list[Delivery] = []
        nxt: dict[str, Any] = {}
        for n in range(LANES):
            lane = f"{partner_id}#{n}"
            if after is not None and lane not in cursors:
                continue  # exhausted on an earlier page
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": _s(lane)},
                "ScanIndexForward": False,
                "Limit": limit,
            }
            if cursors.get(lane):  # never another partner's: the key is this lane
                kwargs["ExclusiveStartKey"] = {"pk": _s(lane), "sk": cursors[lane].get("sk", _s(""))}
            out = self._db.query(**kwargs)
            found += [_delivery(i) for i in out.get("Items", [])]
            if out.get("LastEvaluatedKey"):
                nxt[lane] = {"sk": out["LastEvaluatedKey"]["sk"]}
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found, (nxt or None)
