"""Region levels set by the health authority or a partner (the registry itself is static data), and the
versioned snapshot of all of them that scoring reads (one item, written in the same transaction)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.adapters.paging import every_item
from healthcode.adapters.snapshots import Snapshot
from healthcode.adapters.transactions import transact
from healthcode.models import LevelSnapshot
from healthcode.stats import LevelSet

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


SNAPSHOT_KEY = "snapshot#levels"  # region codes are digits: no region has this key


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoRegions:
    """Region levels set by the health authority (the registry itself is static data)."""

    def __init__(self, client: DynamoDBClient, table: str, max_age: float = 30.0) -> None:
        self._db = client
        self._table = table
        self._cache: Snapshot[LevelSnapshot] = Snapshot(self._read_snapshot, max_age)
        self._snapshot_exists = False
        self._details: Snapshot[dict[str, LevelSet]] = Snapshot(self._read_details, max_age)

    def snapshot(self, fresh: bool = False) -> LevelSnapshot:
        """The levels as a versioned snapshot: from this environment's cache (at most ``max_age`` old,
        see :mod:`healthcode.adapters.snapshots`) or, ``fresh``, read now (the background jobs)."""
        return self._cache.fresh() if fresh else self._cache.get()

    def _read_snapshot(self) -> LevelSnapshot:
        item = self._db.get_item(TableName=self._table, Key={"code": _s(SNAPSHOT_KEY)}, ConsistentRead=True).get("Item")
        if not item:
            return LevelSnapshot(0, {})
        levels = {k: int(v["N"]) for k, v in item.get("levels", {}).get("M", {}).items()}
        return LevelSnapshot(int(item["version"]["N"]), levels)

    def _ensure_snapshot(self) -> None:
        """The snapshot item exists (empty at first), so a transaction can always update it; once per
        environment (it is never deleted)."""
        if self._snapshot_exists:
            return
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):  # there already
            self._db.put_item(
                TableName=self._table,
                Item={"code": _s(SNAPSHOT_KEY), "levels": {"M": {}}, "version": {"N": "0"}},
                ConditionExpression="attribute_not_exists(code)",
            )
        self._snapshot_exists = True

    def details(self) -> dict[str, LevelSet]:
        """Every level set, with when and by whom: a scan of this small table (one item per region
        with a level), kept ``max_age`` in this environment like the snapshot."""
        return self._details.get()

    def _read_details(self) -> dict[str, LevelSet]:
        out: dict[str, LevelSet] = {}
        for item in every_item(self._db, "scan", TableName=self._table):
            code = item["code"]["S"]
            if code != SNAPSHOT_KEY and "level" in item:
                at, by = item.get("updated_at", {}).get("S"), item.get("updated_by", {}).get("S")
                out[code] = LevelSet(int(item["level"]["N"]), at, by)
        return out

    def put(
        self, code: str, name: str | None, level: int, parent: str | None, by: str, at: datetime, default_name: str = ""
    ) -> str:
        """Set the level and, in the same transaction, the snapshot (its version goes up by one): a
        request that reads the snapshot after this returns sees the level. The name too when given,
        else the stored one stays (``default_name`` the first time). Returns the name stored.

        Setting the level and name already stored writes nothing (a retried request changes nothing:
        no new snapshot version, no stream record, no rescoring)."""
        self._ensure_snapshot()
        stored = self._db.get_item(
            TableName=self._table,
            Key={"code": _s(code)},
            ProjectionExpression="#n, #l",
            ExpressionAttributeNames={"#n": "name", "#l": "level"},
            ConsistentRead=True,
        ).get("Item", {})
        kept = name or (stored["name"]["S"] if "name" in stored else "") or default_name or code
        same_level = "level" in stored and int(stored["level"]["N"]) == level
        if same_level and (name is None or stored.get("name", {}).get("S") == name):
            return kept
        values: dict[str, Any] = {
            ":l": {"N": str(level)},
            ":t": _s(at.isoformat()),
            ":b": _s(by),
            ":n": _s(name or default_name or code),
        }
        update = "SET #l = :l, updated_at = :t, updated_by = :b, " + (
            "#n = :n" if name else "#n = if_not_exists(#n, :n)"
        )
        if parent:
            update += ", parent = :p"
            values[":p"] = _s(parent)
        transact(
            self._db,
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"code": _s(code)},
                        "UpdateExpression": update,
                        "ExpressionAttributeNames": {"#l": "level", "#n": "name"},
                        "ExpressionAttributeValues": values,
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"code": _s(SNAPSHOT_KEY)},
                        "UpdateExpression": "SET levels.#c = :l ADD version :one",
                        "ExpressionAttributeNames": {"#c": code},
                        "ExpressionAttributeValues": {":l": {"N": str(level)}, ":one": {"N": "1"}},
                    }
                },
            ],
        )
        return kept
