"""Areas below county level (towns, villages, communities: 9- and 12-digit statistical codes) that the
health authority registered; keyed by county, so a county's areas are one query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.adapters.paging import every_item
from healthcode.models import AreaView

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoAreas:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def put(self, code: str, name: str, by: str, at: datetime) -> tuple[AreaView, bool]:
        """Register (or rename) an area; returns it and whether anything changed (the same name again
        writes nothing)."""
        stored = self.get(code)
        if stored is not None and stored.name == name:
            return stored, False
        view = AreaView(
            code=code,
            name=name,
            county=code[:6],
            parent=code[:9] if len(code) == 12 else code[:6],
            registered_at=stored.registered_at if stored else at,
            registered_by=stored.registered_by if stored else by,
        )
        item = {k: _s(str(v)) for k, v in view.model_dump(mode="json").items()}
        self._db.put_item(TableName=self._table, Item=item)
        return view, True

    def get(self, code: str) -> AreaView | None:
        item = self._db.get_item(TableName=self._table, Key={"county": _s(code[:6]), "code": _s(code)}).get("Item")
        return AreaView.model_validate({k: v["S"] for k, v in item.items()}) if item else None

    def in_county(self, county: str) -> list[AreaView]:
        # area codes are digits: the checkpoints ("checkpoint#...") sort after them
        values = {":c": _s(county), ":letters": _s("a")}
        items = self._query("county = :c AND code < :letters", values)
        return [AreaView.model_validate({k: v["S"] for k, v in i.items()}) for i in items]

    def _query(self, condition: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return every_item(
            self._db, "query", TableName=self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values
        )

    # ------------------------------------------------------------------ checkpoints
    def put_checkpoint(self, checkpoint_id: str, area: str, by: str, at: datetime) -> bool:
        """Place a checkpoint in an area (a county, town or village: its county's partition); False when
        it was there already. A checkpoint moved to another county is taken out of the old one."""
        old = self.checkpoint(checkpoint_id)
        if old == area:
            return False
        if old is not None and old[:6] != area[:6]:
            self._db.delete_item(TableName=self._table, Key={"county": _s(old[:6]), "code": _s(_cp(checkpoint_id))})
        item = {
            "county": _s(area[:6]),
            "code": _s(_cp(checkpoint_id)),
            "area": _s(area),
            "registered_at": _s(at.isoformat()),
            "registered_by": _s(by),
        }
        self._db.put_item(TableName=self._table, Item=item)
        self._db.put_item(  # where it is, by id (one read to find it again)
            TableName=self._table,
            Item={"county": _s(_cp(checkpoint_id)), "code": _s("where"), "area": _s(area)},
        )
        return True

    def checkpoint(self, checkpoint_id: str) -> str | None:
        item = self._db.get_item(
            TableName=self._table, Key={"county": _s(_cp(checkpoint_id)), "code": _s("where")}
        ).get("Item")
        return item["area"]["S"] if item else None

    def checkpoints(self, county: str) -> list[tuple[str, str]]:
        """(checkpoint id, area) of the checkpoints placed in a county."""
        values = {":c": _s(county), ":p": _s("checkpoint#")}
        items = self._query("county = :c AND begins_with(code, :p)", values)
        return [(i["code"]["S"].split("#", 1)[1], i["area"]["S"]) for i in items]


def _cp(checkpoint_id: str) -> str:
    return f"checkpoint#{checkpoint_id}"
