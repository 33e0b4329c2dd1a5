"""The audit trail's hash chain (pure): each day's records are numbered from 1 and each carries the
hash of the one before it (the first, a fixed genesis value), so a gap, an edit, a reordering or a
record slipped in shows when the day is verified. Used by the writer and by ``healthcode audit verify``
(which needs no access to the tables: it verifies what the API returns)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON without its own hash."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def verify(records: list[dict[str, Any]], day: str) -> list[str]:
    """What is wrong with ``day``'s records (in the order stored); an empty list: the chain holds."""
    problems: list[str] = []
    previous = GENESIS
    for expected, record in enumerate(records, start=1):
        seq = record.get("seq")
        if record.get("day") != day:
            problems.append(f"record {seq}: belongs to day {record.get('day')}")
        if seq != expected:
            problems.append(f"record {expected}: missing (found {seq} in its place)")
        if record.get("prev_hash") != previous:
            problems.append(f"record {seq}: does not follow the record before it")
        if record.get("hash") != digest(record):
            problems.append(f"record {seq}: its content was changed after it was written")
        previous = str(record.get("hash"))
    return problems
