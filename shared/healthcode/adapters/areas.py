"""Areas below county level (towns, villages, communities: 9- and 12-digit statistical codes) that the
health authority registered; keyed by county, so a county's areas are one query."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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
        out: list[AreaView] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "county = :c",
            "ExpressionAttributeValues": {":c": _s(county)},
        }
        while True:
            page = self._db.query(**kwargs)
            out += [AreaView.model_validate({k: v["S"] for k, v in i.items()}) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
