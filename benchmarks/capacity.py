"""DynamoDB capacity units computed from real item sizes, because moto's ConsumedCapacity is a placeholder.

A meter hooks boto3 clients' events (every client that talks to DynamoDB: the functions' client and
the resource the Powertools parameters provider uses), sees every request and response, and prices
each call by DynamoDB's published rules:

* reads: item size rounded up to 4 KB; half for eventually consistent reads (always the case on a
  global secondary index), double inside a transaction. A Query or Scan sums the sizes of every item
  it *evaluated* (a FilterExpression removes items after they are read, a ProjectionExpression
  attributes after they are read: neither lowers the units) and rounds once per request; BatchGetItem
  rounds every item on its own. A read that finds nothing costs one unit (half if eventual).
* writes: 1 KB units of the larger of the item before and after (PutItem, UpdateItem), of the deleted
  item (DeleteItem), at least one; one more write per global secondary index the item enters, leaves
  or changes in (sized by that index's projection); doubled inside transactions.
* a write whose condition fails still costs units: the size of the existing item, or one when there
  is none (the same for every action of a cancelled transaction, doubled).

To see what a request did to an item, the meter reads the item before and after through a second,
unmetered client on the same backend ("shadow"); those reads are not counted.
Units are also kept per partition key value (table or table/index plus the key's value), for the
per-partition heat figure.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from healthcode_local.template import Template

KB = 1024
READ_UNIT = 4 * KB
CHARGED_FAILURES = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})


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


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in (item or {}).items())


def write_units(size: int) -> int:
    return max(math.ceil(size / KB), 1)


def read_units(size: int, consistent: bool) -> float:
    units = max(math.ceil(size / READ_UNIT), 1)
    return float(units) if consistent else units / 2


@dataclass
class Usage:
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rru: float = 0.0
    wru: float = 0.0
    items_read: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by table or table/index
    by_key: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    # (table or table/index, partition key value, "r" or "w") -> units

    def __sub__(self, other: Usage) -> Usage:
        out = Usage()
        out.rru, out.wru = self.rru - other.rru, self.wru - other.wru
        for k in set(self.calls) | set(other.calls):
            out.calls[k] = self.calls.get(k, 0) - other.calls.get(k, 0)
        for k in set(self.items_read) | set(other.items_read):
            out.items_read[k] = self.items_read.get(k, 0) - other.items_read.get(k, 0)
        for key in set(self.by_key) | set(other.by_key):
            d = self.by_key.get(key, 0.0) - other.by_key.get(key, 0.0)
            if d:
                out.by_key[key] = d
        return out

    def copy(self) -> Usage:
        return self - Usage()


def _referenced(params: dict[str, Any], expressions: tuple[str, ...]) -> dict[str, Any]:
    """``params`` keeping only the expression names and values the given expressions use."""
    text = " ".join(str(params.get(e, "")) for e in expressions)
    out = {k: v for k, v in params.items() if k not in ("ProjectionExpression", "FilterExpression", "Select")}
    for attr, pattern in (("ExpressionAttributeNames", r"#\w+"), ("ExpressionAttributeValues", r":\w+")):
        used = set(re.findall(pattern, text))
        kept = {k: v for k, v in params.get(attr, {}).items() if k in used}
        if kept:
            out[attr] = kept
        else:
            out.pop(attr, None)
    return out


class CapacityMeter:
    def __init__(self, client: Any, template: Template, names: dict[str, str], shadow: Any = None) -> None:
        """``names``: physical table name -> logical id in the template. ``shadow``: an unmetered client
        on the same backend (made from ``client`` when not given)."""
        import boto3

        self.usage = Usage()
        self._indexes: dict[str, list[dict[str, Any]]] = {}
        self._keys: dict[str, list[str]] = {}
        for physical, logical in names.items():
            props = template.resources[logical]["Properties"]
            self._indexes[physical] = props.get("GlobalSecondaryIndexes", [])
            self._keys[physical] = [k["AttributeName"] for k in props["KeySchema"]]
        self._shadow = shadow or boto3.client(
            "dynamodb", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name
        )
        self.watch(client)

    def watch(self, client: Any) -> None:
        """Meter this client too (e.g. a resource's ``meta.client``)."""
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    # ------------------------------------------------------------------ the items before and after
    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self._keys.get(table, []) if k in item}

    def _current(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        if table not in self._keys or len(key) != len(self._keys[table]):
            return None
        return self._shadow.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _targets(self, op: str, p: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, float]]:
        """(table, key, action, factor) for every item a write request touches."""
        if op == "PutItem":
            return [(p["TableName"], self._key_of(p["TableName"], p["Item"]), "Put", 1.0)]
        if op in ("UpdateItem", "DeleteItem"):
            return [(p["TableName"], p["Key"], op[:-4], 1.0)]
        if op == "BatchWriteItem":
            out = []
            for table, requests in p["RequestItems"].items():
                for r in requests:
                    if "PutRequest" in r:
                        out.append((table, self._key_of(table, r["PutRequest"]["Item"]), "Put", 1.0))
                    else:
                        out.append((table, r["DeleteRequest"]["Key"], "Delete", 1.0))
            return out
        if op == "TransactWriteItems":
            out = []
            for t in p["TransactItems"]:
                ((action, body),) = t.items()
                key = self._key_of(body["TableName"], body["Item"]) if action == "Put" else body["Key"]
                out.append((body["TableName"], key, action, 2.0))
            return out
        return []

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["hc_params"] = dict(params)
        targets = self._targets(model.name, params)
        context["hc_before"] = [(t, k, a, f, self._current(t, k)) for t, k, a, f in targets]

    # ------------------------------------------------------------------ pricing
    def _charge(self, where: str, pk: Any, units: float, kind: str) -> None:
        if kind == "r":
            self.usage.rru += units
        else:
            self.usage.wru += units
        self.usage.by_key[(where, repr(pk), kind)] += units

    def _index_writes(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None, factor: float) -> None:
        """A global secondary index is written only when the item enters, leaves or changes in it."""
        for gsi in self._indexes.get(table, []):
            keys = [k["AttributeName"] for k in gsi["KeySchema"]]
            where = f"{table}/{gsi['IndexName']}"

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
                self._charge(where, after[keys[0]], factor * write_units(item_size(after)), "w")  # in place
                continue
            if before is not None:
                self._charge(where, before[keys[0]], factor * write_units(item_size(before)), "w")  # removed
            if after is not None:
                self._charge(where, after[keys[0]], factor * write_units(item_size(after)), "w")  # added

    def _read(self, where: str, pk: Any, sizes: list[int], consistent: bool, returned: int, factor: float = 1) -> None:
        self._charge(where, pk, factor * read_units(sum(sizes), consistent), "r")
        self.usage.items_read[where] += returned

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        op = model.name
        p = context.get("hc_params", {})
        before = context.get("hc_before", [])
        self.usage.calls[op] += 1
        error = parsed.get("Error", {}).get("Code")
        if error:
            if error in CHARGED_FAILURES:
                for table, key, _action, factor, old in before:
                    self._charge(table, key.get(self._keys[table][0]), factor * write_units(item_size(old)), "w")
            return  # throttled or invalid requests consume nothing
        if op == "GetItem":
            table = p["TableName"]
            item = parsed.get("Item")
            if item is not None and "ProjectionExpression" in p:
                item = self._current(table, p["Key"])  # the units are the whole item's
            self._read(table, p["Key"][self._keys[table][0]], [item_size(item)], bool(p.get("ConsistentRead")), 1)
        elif op == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = bool(p["RequestItems"][table].get("ConsistentRead"))
                for it in items:
                    full = (
                        self._current(table, self._key_of(table, it))
                        if "ProjectionExpression" in p["RequestItems"][table]
                        else it
                    )
                    self._read(table, it[self._keys[table][0]], [item_size(full)], consistent, 1)  # each on its own
        elif op in ("Query", "Scan"):
            self._query(op, p, parsed)
        elif op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
            unprocessed = parsed.get("UnprocessedItems") or {}
            for table, key, action, factor, old in before:
                if any(
                    self._key_of(table, r.get("PutRequest", {}).get("Item", {})) == key
                    or r.get("DeleteRequest", {}).get("Key") == key
                    for r in unprocessed.get(table, [])
                ):
                    continue  # not written: it comes back to be retried, and is charged then
                if action == "ConditionCheck":
                    self._charge(table, key.get(self._keys[table][0]), factor * write_units(item_size(old)), "w")
                    continue
                new = None if action == "Delete" else self._current(table, key)
                size = item_size(old) if action == "Delete" else max(item_size(old), item_size(new))
                self._charge(table, key.get(self._keys[table][0]), factor * write_units(size), "w")
                self._index_writes(table, old, new, factor)
        elif op == "TransactGetItems":
            for t, got in zip(p["TransactItems"], parsed.get("Responses", []), strict=False):
                g = t["Get"]
                full = self._current(g["TableName"], g["Key"]) if got.get("Item") else None
                self._read(g["TableName"], g["Key"][self._keys[g["TableName"]][0]], [item_size(full)], True, 1, 2)

    def _query(self, op: str, p: dict[str, Any], parsed: dict[str, Any]) -> None:
        table = p["TableName"]
        index = p.get("IndexName")
        where = table + (f"/{index}" if index else "")
        evaluated = parsed.get("Items", [])
        if "FilterExpression" in p or "ProjectionExpression" in p or p.get("Select") == "COUNT":
            # the same request without them: the items it evaluated, as stored (in the index)
            bare = _referenced(p, ("KeyConditionExpression",))
            evaluated = getattr(self._shadow, "query" if op == "Query" else "scan")(**bare).get("Items", [])
        consistent = bool(p.get("ConsistentRead")) and index is None
        if op == "Query":
            hash_key = self._hash_key(table, index)
            pk = evaluated[0][hash_key] if evaluated else "(none)"
        else:
            pk = "(scan)"  # a scan reads every partition, not one
        self._read(where, pk, [item_size(i) for i in evaluated], consistent, len(parsed.get("Items", [])))

    def _hash_key(self, table: str, index: str | None) -> str:
        if index is None:
            return self._keys[table][0]
        gsi = next(g for g in self._indexes[table] if g["IndexName"] == index)
        return str(gsi["KeySchema"][0]["AttributeName"])
