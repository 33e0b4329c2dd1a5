"""Published ruleset versions, in the rulesets table, read through a Powertools parameters provider."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters.base import BaseProvider

from healthcode.errors import Conflict
from healthcode.scoring.ruleset import DEFAULT_VERSION, Ruleset, load_ruleset

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PATH = "rulesets"
PENDING = "pending-rulesets"  # emergency publications awaiting a second approval (never read as in force)
WITHDRAWING = "withdrawing-rulesets"  # an announced version one person asked to withdraw: a second confirms
WITHDRAWN = "withdrawn-rulesets"  # announced versions withdrawn before they applied (their numbers stay used)


class TableProvider(BaseProvider):
    """Powertools' parameters provider (its cache, ``max_age``, ``force_fetch`` and transforms) over a
    table keyed ``id`` (the path) and ``sk`` (the name), read with the function's own DynamoDB client.

    Powertools' ``DynamoDBProvider`` reads the same items, but only through a boto3 resource: making one
    took about 15 ms of every cold start that reads a ruleset, and bypassed the client's timeouts and
    retries."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        super().__init__(client=client)  # type: ignore[no-untyped-call]  # Powertools' own signature is untyped
        self._db = client
        self._table = table

    def _get(self, name: str, **sdk_options: Any) -> str:
        raise NotImplementedError("the rulesets are read as one path (get_multiple)")

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="#id = :path",
            ExpressionAttributeNames={"#id": "id"},
            ExpressionAttributeValues={":path": {"S": path}},
            **sdk_options,
        )
        return {item["sk"]["S"]: item["value"]["S"] for page in pages for item in page.get("Items", [])}


class DynamoRulesets:
    """The ruleset in force at ``now`` is the latest published one whose effective time has come.

    Read through a Powertools parameters provider (cached ``max_age`` seconds); with nothing
    published, the bundled v1 is in force.
    """

    def __init__(self, client: DynamoDBClient | None, table: str, max_age: int = 60) -> None:
        self._db = client
        self._table = table
        self._max_age = max_age
        self._provider: TableProvider | None = None
        if client is not None and table:
            self._provider = TableProvider(client, table)

    def versions(self, force: bool = False) -> list[Ruleset]:
        published: dict[str, Any] = {}
        if self._provider is not None:
            published = self._provider.get_multiple(PATH, max_age=self._max_age, transform="json", force_fetch=force)
        books = [Ruleset.from_document(doc) for doc in published.values()]
        if DEFAULT_VERSION not in published:
            books.append(load_ruleset(DEFAULT_VERSION))
        return sorted(books, key=lambda r: r.effective_from)

    def at(self, now: datetime) -> Ruleset:
        in_force = [r for r in self.versions() if r.effective_from <= now]
        return in_force[-1] if in_force else load_ruleset(DEFAULT_VERSION)

    def publish(self, ruleset: Ruleset) -> None:
        """Store a new version; a version is never overwritten (:class:`Conflict`)."""
        if self._db is None:
            raise RuntimeError("no rulesets table configured")
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": PATH},
                    "sk": {"S": ruleset.version},
                    "value": {"S": json.dumps(ruleset.document, ensure_ascii=False)},
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict(f"Ruleset version {ruleset.version} exists already; versions are never replaced.") from exc

    def propose(self, ruleset: Ruleset, by: str, reason: str, at: datetime, person: str | None = None) -> None:
        """Keep an emergency publication until a second person approves it (:class:`Conflict` if that
        version is already proposed)."""
        if self._db is None:
            raise RuntimeError("no rulesets table configured")
        doc = {
            "document": ruleset.document,
            "proposed_by": by,
            "proposed_person": person,
            "reason": reason,
            "at": at.isoformat(),
        }
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": PENDING},
                    "sk": {"S": ruleset.version},
                    "value": {"S": json.dumps(doc, ensure_ascii=False)},
                },
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict(f"Ruleset version {ruleset.version} is already awaiting approval.") from exc

    def ask_withdrawal(self, version: str, by: str, person: str, at: datetime) -> dict[str, Any]:
        """Record one person's request to withdraw an announced version; the request already there if any."""
        assert self._db is not None
        doc = {"by": by, "person": person, "at": at.isoformat()}
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"id": {"S": WITHDRAWING}, "sk": {"S": version}, "value": {"S": json.dumps(doc)}},
                ConditionExpression="attribute_not_exists(sk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            item = self._db.get_item(
                TableName=self._table, Key={"id": {"S": WITHDRAWING}, "sk": {"S": version}}, ConsistentRead=True
            )["Item"]
            return dict(json.loads(item["value"]["S"]))
        return doc

    def withdraw(self, ruleset: Ruleset, asked: dict[str, Any], by: str, at: datetime) -> None:
        """Take an announced version out of the published ones, in one transaction with the record of who
        asked and who confirmed (its number is never used again)."""
        assert self._db is not None
        doc = {"document": ruleset.document, "asked": asked, "confirmed_by": by, "at": at.isoformat()}
        key = {"id": {"S": PATH}, "sk": {"S": ruleset.version}}
        self._db.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table, "Key": key, "ConditionExpression": "attribute_exists(sk)"}},
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {"id": {"S": WITHDRAWN}, "sk": {"S": ruleset.version}, "value": {"S": json.dumps(doc)}},
                    }
                },
                {"Delete": {"TableName": self._table, "Key": {"id": {"S": WITHDRAWING}, "sk": {"S": ruleset.version}}}},
            ]
        )
        if self._provider is not None:
            self.versions(force=True)  # this environment's cache forgets it at once

    def withdrawn(self, version: str) -> bool:
        if self._db is None:
            return False
        item = self._db.get_item(
            TableName=self._table, Key={"id": {"S": WITHDRAWN}, "sk": {"S": version}}, ConsistentRead=True
        ).get("Item")
        return item is not None

    def proposed(self, version: str) -> dict[str, Any] | None:
        """An emergency publication awaiting approval: its document, who proposed it and why."""
        if self._db is None:
            return None
        item = self._db.get_item(
            TableName=self._table, Key={"id": {"S": PENDING}, "sk": {"S": version}}, ConsistentRead=True
        ).get("Item")
        return dict(json.loads(item["value"]["S"])) if item else None
