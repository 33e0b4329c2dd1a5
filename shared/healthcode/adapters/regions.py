"""Region levels set by the health authority or a partner (the registry itself is static data)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoRegions:
    """Region levels set by the health authority (the registry itself is static data)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def overrides(self, codes: Iterable[str] | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        if codes is None:
            # The table holds only regions whose level was set: small, read whole by batch jobs.
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "ProjectionExpression": "code, #l",
                "ExpressionAttributeNames": {"#l": "level"},
            }
            while True:
                page = self._db.scan(**kwargs)
                for it in page.get("Items", []):
                    out[it["code"]["S"]] = int(it["level"]["N"])
                if "LastEvaluatedKey" not in page:
                    return out
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        wanted = sorted(set(codes))
        for i in range(0, len(wanted), 100):
            request = {
                self._table: {
                    "Keys": [{"code": _s(c)} for c in wanted[i : i + 100]],
                    "ProjectionExpression": "code, #l",
                    "ExpressionAttributeNames": {"#l": "level"},
                }
            }
            while request:
                resp = self._db.batch_get_item(RequestItems=request)
                for it in resp.get("Responses", {}).get(self._table, []):
                    out[it["code"]["S"]] = int(it["level"]["N"])
                request = resp.get("UnprocessedKeys") or {}
        return out

    def put(
        self, code: str, name: str | None, level: int, parent: str | None, by: str, at: datetime, default_name: str = ""
    ) -> str:
        """Set the level; the name too when given, else the stored one stays (``default_name`` the
        first time). Returns the name stored."""
        names = {"#l": "level", "#n": "name"}
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
        out = self._db.update_item(
            TableName=self._table,
            Key={"code": _s(code)},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return str(out["Attributes"]["name"]["S"])
