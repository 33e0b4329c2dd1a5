"""The statistics table: one small delta item per holder change, and the sums made from them.

* ``delta#<day>#<bucket>`` / ``<hour>#<holder>#<version>``: what one change did (``o``: the (place,
  colour) it left, ``n``: the one it joined). Keyed by the change itself, so a redelivered stream
  record or a retried write puts the same item again: nothing is counted twice. 32 buckets by holder
  spread a day's writes over 32 partition keys. Kept 45 days (TTL).
* ``hour`` / ``<hour>``: the sum of an hour's deltas (``final`` once no late delta is expected).
* ``day`` / ``<day>``: the counts at the end of a day (cumulative), and the region levels then.
* ``index#<city>`` / ``<day>``: the smart control index of the city's counties that day.
* ``reconcile#<run>`` / ``page#<segment>#<page>``: a reconciliation's count of one scanned page of
  holders; ``start`` / ``result``: the counts when it started, and what it found and repaired. A
  repair is a delta weighted ``k`` (``fix``), keyed by the run and place: put twice, counted once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.adapters.paging import every_item
from healthcode.stats import Counts, Delta, local_day, local_hour

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BUCKETS = 32  # partition keys a day's deltas are spread over (infra/CAPACITY.md: < 200 writes/s each)
KEEP = timedelta(days=45)


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def bucket_of(holder_id: str) -> int:
    return zlib.crc32(holder_id.encode()) % BUCKETS


def delta_item(holder_id: str, version: int, at: datetime, before: str | None, after: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": _s(f"delta#{local_day(at).isoformat()}#{bucket_of(holder_id):02d}"),
        "sk": _s(f"{local_hour(at)}#{holder_id}#{version:010d}"),
        "expires_at": {"N": str(int((at + KEEP).timestamp()))},
    }
    if before:
        item["o"] = _s(before)
    if after:
        item["n"] = _s(after)
    return item


class DynamoStats:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    # ------------------------------------------------------------------ deltas
    def record(self, holder_id: str, version: int, at: datetime, before: str | None, after: str | None) -> None:
        """One change's delta (1 write unit: the item is far below 1 KB)."""
        self._db.put_item(TableName=self._table, Item=delta_item(holder_id, version, at, before, after))

    def deltas(self, day: date, from_hour: str = "") -> dict[str, list[Delta]]:
        """A day's deltas from ``from_hour`` on, by hour (one query per bucket, paged)."""
        out: dict[str, list[Delta]] = {}
        for bucket in range(BUCKETS):
            key = {":p": _s(f"delta#{day.isoformat()}#{bucket:02d}"), ":h": _s(from_hour)}
            for item in self._query("pk = :p AND sk >= :h", key):
                hour = item["sk"]["S"].split("#", 1)[0]
                change: Delta = (item.get("o", {}).get("S"), item.get("n", {}).get("S"))
                if "k" in item:  # a reconciliation's repair: weighted, no turn of anyone's code
                    change = (*change, int(item["k"]["N"]), True)
                out.setdefault(hour, []).append(change)
        return out

    # ------------------------------------------------------------------ sums
    def put_hour(self, hour: str, counts: Counts, final: bool, at: datetime) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": _s("hour"),
                "sk": _s(hour),
                "doc": _s(json.dumps(counts, sort_keys=True)),
                "final": {"BOOL": final},
                "expires_at": {"N": str(int((at + KEEP).timestamp()))},
            },
        )

    def hours(self, first_day: date, last_day: date) -> dict[str, tuple[Counts, bool]]:
        """The hour sums of the days ``first_day``..``last_day``: hour -> (counts, final)."""
        values = {":p": _s("hour"), ":a": _s(first_day.isoformat()), ":b": _s(f"{last_day.isoformat()}T99")}
        return {
            item["sk"]["S"]: (json.loads(item["doc"]["S"]), item["final"]["BOOL"])
            for item in self._query("pk = :p AND sk BETWEEN :a AND :b", values)
        }

    def put_day(self, day: date, counts: Counts, levels: dict[str, Any], at: datetime) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": _s("day"),
                "sk": _s(day.isoformat()),
                "doc": _s(json.dumps(counts, sort_keys=True)),
                "levels": _s(json.dumps(levels, sort_keys=True, ensure_ascii=False)),
                "rolled_at": _s(at.isoformat()),
            },
        )

    def day(self, on_or_before: date) -> tuple[date, Counts, dict[str, Any]] | None:
        """The latest day summed up on or before ``on_or_before``: (day, counts at its end, levels then)."""
        page = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :p AND sk <= :d",
            ExpressionAttributeValues={":p": _s("day"), ":d": _s(on_or_before.isoformat())},
            ScanIndexForward=False,
            Limit=1,
        )
        items = page.get("Items", [])
        if not items:
            return None
        item = items[0]
        return (
            date.fromisoformat(item["sk"]["S"]),
            json.loads(item["doc"]["S"]),
            json.loads(item.get("levels", {}).get("S", "{}")),
        )

    # ------------------------------------------------------------------ the index
    def put_index(self, day: date, city: str, rows: dict[str, Any], version: str) -> None:
        """One day's index rows of a city's counties (one item: at most a few dozen counties)."""
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"index#{city}"),
                "sk": _s(day.isoformat()),
                "doc": _s(json.dumps(rows, sort_keys=True)),
                "formula": _s(version),
            },
        )

    def index(self, city: str, first: date, last: date) -> list[tuple[date, str, dict[str, Any]]]:
        """(day, formula version, rows by county) of a city's days ``first``..``last``."""
        values = {":p": _s(f"index#{city}"), ":a": _s(first.isoformat()), ":b": _s(last.isoformat())}
        return [
            (date.fromisoformat(i["sk"]["S"]), i["formula"]["S"], json.loads(i["doc"]["S"]))
            for i in self._query("pk = :p AND sk BETWEEN :a AND :b", values)
        ]

    # ------------------------------------------------------------------ reconciliation
    def put_page(self, run_id: str, segment: int, page: int, counts: Counts, at: datetime) -> None:
        self._put_doc(f"reconcile#{run_id}", f"page#{segment:03d}#{page:06d}", counts, at)

    def pages(self, run_id: str) -> list[Counts]:
        values = {":p": _s(f"reconcile#{run_id}"), ":s": _s("page#")}
        return [json.loads(i["doc"]["S"]) for i in self._query("pk = :p AND begins_with(sk, :s)", values)]

    def put_reconciliation(self, run_id: str, part: str, doc: dict[str, Any], at: datetime) -> None:
        self._put_doc(f"reconcile#{run_id}", part, doc, at)

    def reconciliation(self, run_id: str, part: str) -> dict[str, Any] | None:
        item = self._db.get_item(
            TableName=self._table, Key={"pk": _s(f"reconcile#{run_id}"), "sk": _s(part)}, ConsistentRead=True
        ).get("Item")
        return json.loads(item["doc"]["S"]) if item else None

    def record_fix(self, run_id: str, at: datetime, key: str, k: int) -> None:
        """A repair of ``k`` holders at ``key`` (``place|colour``; negative: fewer), in the current hour."""
        item = {
            "pk": _s(f"delta#{local_day(at).isoformat()}#{bucket_of(key):02d}"),
            "sk": _s(f"{local_hour(at)}#fix#{run_id}#{key}"),
            "k": {"N": str(abs(k))},
            "expires_at": {"N": str(int((at + KEEP).timestamp()))},
            ("n" if k > 0 else "o"): _s(key),
        }
        self._db.put_item(TableName=self._table, Item=item)

    def _query(self, condition: str, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return every_item(
            self._db, "query", TableName=self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values
        )

    def _put_doc(self, pk: str, sk: str, doc: Any, at: datetime) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": _s(pk),
                "sk": _s(sk),
                "doc": _s(json.dumps(doc, sort_keys=True)),
                "expires_at": {"N": str(int((at + KEEP).timestamp()))},
            },
        )
