"""The audit trail's hash chain (pure): each day's records are numbered from 1 and each carries the
hash of the one before it (the first, a fixed genesis value), so a gap, an edit, a reordering or a
record slipped in shows when the day is verified. Used by the writer and by ``healthcode audit verify``
(which needs no access to the tables: it verifies what the API returns)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
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


# ------------------------------------------------------------------ signed digests (CloudTrail's way)
#
# Every hour a digest states, for the day's chain up to the end of that hour, how many records there
# are and the hash of the last one, with the signature of the digest before it; it is signed with a KMS
# key only the digest function may use, and kept in a bucket under Object Lock (compliance mode), where
# the writer cannot change it. Anyone with the public key can then check that the trail only grew: an
# edited (even rehashed), inserted or deleted record — the last one included — no longer matches.


def digest_document(
    day: str, hour: int, records: list[dict[str, Any]], previous_signature: str | None, key_id: str
) -> dict[str, Any]:
    """The digest of ``day``'s chain up to the end of ``hour`` (Asia/Shanghai), from the day's records
    written before then (in order)."""
    return {
        "period": f"{day}T{hour:02d}",
        "day": day,
        "records": len(records),
        "last_hash": records[-1]["hash"] if records else GENESIS,
        "previous_signature": previous_signature,
        "key_id": key_id,
    }


def daily_document(
    day: str, records: list[dict[str, Any]], hourly: list[dict[str, Any]], previous_signature: str | None, key_id: str
) -> dict[str, Any]:
    """The digest of a whole ``day`` (signed once its last hour is): every record of the day, the
    signatures of its hourly digests (hashed), and the previous day's digest's signature — a chain of
    days, so a day whose hourly digests were all replaced still breaks the chain."""
    return {
        "period": day,
        "day": day,
        "records": len(records),
        "last_hash": records[-1]["hash"] if records else GENESIS,
        "hours": len(hourly),
        "hourly_signatures": _signatures_hash(hourly),
        "previous_signature": previous_signature,
        "key_id": key_id,
    }


def _signatures_hash(hourly: list[dict[str, Any]]) -> str:
    return hashlib.sha256("\n".join(str(d.get("signature")) for d in hourly).encode()).hexdigest()


def check_daily(
    records: list[dict[str, Any]],
    hourly: list[dict[str, Any]],
    daily: dict[str, Any],
    previous: dict[str, Any] | None,
    signature_ok: Any,
) -> list[str]:
    """What is wrong with a whole day against its signed daily digest: its signature, its place after
    the previous day's (when that one is given), the day's record count and last record, and the hourly
    digests it covers (one replaced, dropped or added shows)."""
    day = daily.get("day", "?")
    problems: list[str] = []
    if not signature_ok(canonical(daily), daily.get("signature", "")):
        problems.append(f"daily digest {day}: its signature does not verify with the public key")
    if previous is not None and daily.get("previous_signature") != previous.get("signature"):
        problems.append(f"daily digest {day}: does not follow the previous day's (one is missing or replaced)")
    if daily.get("records") != len(records):
        problems.append(
            f"daily digest {day}: {daily.get('records')} records signed, {len(records)} found "
            "(a record was deleted or inserted)"
        )
    last = records[-1] if records else None
    if (last.get("hash") if last else GENESIS) != daily.get("last_hash") or (last and last.get("hash") != digest(last)):
        problems.append(f"daily digest {day}: the day's last record was changed (even if its hash was recomputed)")
    if daily.get("hours") != len(hourly) or daily.get("hourly_signatures") != _signatures_hash(hourly):
        problems.append(f"daily digest {day}: the hourly digests it signed were replaced, dropped or added")
    return problems


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes a digest's signature covers: its canonical JSON without the signature."""
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def check_digests(
    records: list[dict[str, Any]], digests: list[dict[str, Any]], signature_ok: Any, before: Any
) -> list[str]:
    """What is wrong with a day's ``records`` against its signed ``digests`` (in period order):
    ``signature_ok(bytes, signature) -> bool`` checks with the public key; ``before(record, period) ->
    bool`` says whether a record was written before the end of a period. Empty: the trail only grew."""
    problems: list[str] = []
    previous: str | None = None
    for i, d in enumerate(digests):
        period = d.get("period", "?")
        if not signature_ok(canonical(d), d.get("signature", "")):
            problems.append(f"digest {period}: its signature does not verify with the public key")
        if i and d.get("previous_signature") != previous:
            problems.append(f"digest {period}: does not follow the digest before it (one is missing or replaced)")
        previous = d.get("signature")
        covered = [r for r in records if before(r, period)]
        if len(covered) != d.get("records"):
            problems.append(
                f"digest {period}: {d.get('records')} records signed, {len(covered)} found "
                "(a record was deleted or inserted)"
            )
        last = covered[-1].get("hash") if covered else GENESIS
        if last != d.get("last_hash") or (covered and covered[-1].get("hash") != digest(covered[-1])):
            problems.append(f"digest {period}: the last record signed was changed (even if its hash was recomputed)")
    return problems


def period_end(period: str) -> datetime:
    """The end of a digest's period (``YYYY-MM-DDTHH``, Asia/Shanghai) as an aware datetime."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    start = datetime.strptime(period, "%Y-%m-%dT%H").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return start + timedelta(hours=1)


def written_before(record: dict[str, Any], period: str) -> bool:
    try:
        return datetime.fromisoformat(str(record.get("at"))) < period_end(period)
    except ValueError:
        return True  # a record whose time was mangled counts everywhere: the counts then disagree
