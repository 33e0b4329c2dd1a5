"""DynamoDB capacity units computed from real item sizes, because moto's ConsumedCapacity is a placeholder.

A meter hooks a boto3 client's events, sees every request and response, and prices each call by
DynamoDB's rules: reads in 4 KB units (half for eventually consistent reads, always the case on a
global secondary index), writes in 1 KB units, plus one write per global secondary index the item
lands in (sized by that index's projection, read from the template), doubled inside transactions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from healthcode_local.template import Template


def value_size(v: dict[str, Any]) -> int:
    ((kind, x),) = v.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        digits = len(str(Decimal(x)).replace("-", "").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(x)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) + 1 for k, e in x.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: e}) for e in x)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


@dataclass
class Usage:
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rru: float = 0.0
    wru: float = 0.0
    items_read: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by table or table/index

    def __sub__(self, other: Usage) -> Usage:
        out = Usage()
        out.rru, out.wru = self.rru - other.rru, self.wru - other.wru
        for k in set(self.calls) | set(other.calls):
            out.calls[k] = self.calls.get(k, 0) - other.calls.get(k, 0)
        for k in set(self.items_read) | set(other.items_read):
            out.items_read[k] = self.items_read.get(k, 0) - other.items_read.get(k, 0)
        return out

    def copy(self) -> Usage:
        return self - Usage()


class CapacityMeter:
    def __init__(self, client: Any, template: Template, names: dict[str, str]) -> None:
        """``names``: physical table name -> logical id in the template."""
        self.usage = Usage()
        self._indexes: dict[str, list[dict[str, Any]]] = {}
        for physical, logical in names.items():
            props = template.resources[logical]["Properties"]
            self._indexes[physical] = props.get("GlobalSecondaryIndexes", [])
        self._keys = {
            physical: [k["AttributeName"] for k in template.resources[logical]["Properties"]["KeySchema"]]
            for physical, logical in names.items()
        }
        self._known: dict[tuple[str, str], dict[str, Any]] = {}  # last item seen per key: index writes need the old one
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["hc_params"] = dict(params)

    def _key(self, table: str, item: dict[str, Any]) -> tuple[str, str]:
        return table, repr([item.get(k) for k in self._keys.get(table, [])])

    def _remember(self, table: str, items: list[dict[str, Any]]) -> None:
        if table in self._keys:
            for it in items:
                if all(k in it for k in self._keys[table]):
                    self._known[self._key(table, it)] = it

    def _index_write_units(self, table: str, old: dict[str, Any] | None, new: dict[str, Any]) -> float:
        """A global secondary index is written only when the item enters, leaves or changes in it."""
        units = 0.0
        for gsi in self._indexes.get(table, []):
            keys = [k["AttributeName"] for k in gsi["KeySchema"]]

            def projected(
                item: dict[str, Any] | None, gsi: dict[str, Any] = gsi, keys: list[str] = keys
            ) -> dict[str, Any] | None:
                if item is None or not all(k in item for k in keys):
                    return None  # sparse: not in this index
                if gsi["Projection"]["ProjectionType"] == "ALL":
                    return item
                wanted = set(keys) | set(self._keys[table]) | set(gsi["Projection"].get("NonKeyAttributes", []))
                return {k: v for k, v in item.items() if k in wanted}

            before, after = projected(old), projected(new)
            if before == after:
                continue
            if before is not None and after is not None and all(before[k] == after[k] for k in keys):
                units += math.ceil(item_size(after) / 1024)  # updated in place
                continue
            if before is not None:
                units += math.ceil(item_size(before) / 1024)  # deleted from the index
            if after is not None:
                units += math.ceil(item_size(after) / 1024)  # put into the index
        return units

    def _write(self, table: str, item: dict[str, Any], factor: float = 1.0) -> None:
        old = self._known.get(self._key(table, item))
        base = math.ceil(max(item_size(item), item_size(old) if old else 0) / 1024)
        self.usage.wru += factor * (base + self._index_write_units(table, old, item))
        self._remember(table, [item])

    def _read(self, key: str, items: list[dict[str, Any]], consistent: bool) -> None:
        size = sum(item_size(i) for i in items)
        units = max(math.ceil(size / 4096), 1)
        self.usage.rru += units if consistent else units / 2
        self.usage.items_read[key] += len(items)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        op = model.name
        p = context.get("hc_params", {})
        self.usage.calls[op] += 1
        if "Error" in parsed:
            if op in ("PutItem", "UpdateItem", "DeleteItem"):
                self.usage.wru += 1  # a failed conditional write still costs its units
            return
        if op == "GetItem":
            items = [parsed["Item"]] if "Item" in parsed else []
            self._read(p["TableName"], items, bool(p.get("ConsistentRead")))
            if "ProjectionExpression" not in p:
                self._remember(p["TableName"], items)
        elif op in ("Query", "Scan"):
            key = p["TableName"] + (f"/{p['IndexName']}" if "IndexName" in p else "")
            self._read(key, parsed.get("Items", []), bool(p.get("ConsistentRead")) and "IndexName" not in p)
        elif op == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                self._read(table, items, False)
        elif op == "PutItem":
            self._write(p["TableName"], p["Item"])
        elif op == "UpdateItem":
            self.usage.wru += 1  # run records and idempotency updates: small items
        elif op == "DeleteItem":
            self.usage.wru += 1
        elif op == "BatchWriteItem":
            for table, requests in p["RequestItems"].items():
                for r in requests:
                    if "PutRequest" in r:
                        self._write(table, r["PutRequest"]["Item"])
                    else:
                        self.usage.wru += 1
        elif op == "TransactWriteItems":
            for t in p["TransactItems"]:
                if "Put" in t:
                    self._write(t["Put"]["TableName"], t["Put"]["Item"], factor=2.0)
                else:
                    self.usage.wru += 2
