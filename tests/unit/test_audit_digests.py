"""Signed digests of the audit trail (issue 29), hourly and daily, on fakes with a real ECDSA key: a day
is signed as a whole once its last hour is, the days form a chain, and a day whose records or hourly
digests were changed afterwards fails the check with the public key alone."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from healthcode.auditchain import GENESIS, canonical, check_daily, check_digests, digest, written_before
from healthcode.usecases.audit import Actor, AuditTrail

ZONE = ZoneInfo("Asia/Shanghai")


class Log:
    def __init__(self) -> None:
        self.days: dict[str, list[dict[str, Any]]] = {}

    def append(self, day: str, entry: dict[str, Any]) -> dict[str, Any]:
        chain = self.days.setdefault(day, [])
        record = entry | {"day": day, "seq": len(chain) + 1, "prev_hash": chain[-1]["hash"] if chain else GENESIS}
        record["hash"] = digest(record)
        chain.append(record)
        return record

    def day(self, day: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.days.get(day, [])]


class Store:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    def put(self, document: dict[str, Any]) -> None:
        assert document["period"] not in self.docs, "a digest is written once (Object Lock)"
        self.docs[document["period"]] = dict(document)

    def get(self, period: str) -> dict[str, Any] | None:
        return self.docs.get(period)

    def of_day(self, day: str) -> list[dict[str, Any]]:
        return [self.docs[p] for p in sorted(self.docs) if p.startswith(f"{day}T")]


class Signer:
    key_id = "test-key"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, document: dict[str, Any]) -> str:
        return base64.b64encode(self._key.sign(canonical(document), ec.ECDSA(hashes.SHA256()))).decode()

    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


def checker(pem: str):
    key = serialization.load_pem_public_key(pem.encode())

    def ok(message: bytes, signature: str) -> bool:
        try:
            key.verify(base64.b64decode(signature), message, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]
        except (InvalidSignature, ValueError):
            return False
        return True

    return ok


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=ZONE)


def two_days() -> tuple[Log, Store, AuditTrail, Signer]:
    log, store, signer = Log(), Store(), Signer()
    trail = AuditTrail(log, store, signer)
    for day in ("2021-06-01", "2021-06-02"):
        for hour in (9, 15, 23):
            trail.record(Actor("officer", ("health_admin",)), "region.level", "330683", at(day, hour, 30), 3, 4)
        trail.digest(at(day, 23, 59))  # the hours up to 22:00-23:00
    trail.digest(at("2021-06-03", 0, 5))  # the last hour of the 2nd, and the 2nd as a whole
    return log, store, trail, signer


def test_a_day_is_signed_whole_once_its_last_hour_is_and_the_days_form_a_chain():
    log, store, trail, signer = two_days()
    published = trail.published_digests(datetime(2021, 6, 1).date(), datetime(2021, 6, 2).date())
    first, second = published.daily
    assert (first.day, first.records, first.hours) == ("2021-06-01", 3, 24)
    assert second.previous_signature == first.signature
    ok = checker(published.public_key_pem)
    for whole, previous in ((first, None), (second, first)):
        day = whole.day
        hourly = [d.model_dump() for d in published.digests if d.day == day]
        records = log.day(day)
        assert check_digests(records, hourly, ok, written_before) == []
        assert check_daily(records, hourly, whole.model_dump(), previous and previous.model_dump(), ok) == []
    assert store.get("2021-06-03") is None, "a day is signed whole only after its last hour"
    assert trail.digest(at("2021-06-03", 0, 10)) == [], "nothing is signed twice"


def test_a_rewritten_day_or_a_replaced_hourly_digest_fails_the_daily_check():
    log, store, trail, signer = two_days()
    published = trail.published_digests(datetime(2021, 6, 2).date(), datetime(2021, 6, 2).date())
    (whole,) = published.daily
    hourly = [d.model_dump() for d in published.digests]
    ok = checker(published.public_key_pem)

    rewritten = log.day("2021-06-02")
    rewritten[-1] = rewritten[-1] | {"after": 1}
    rewritten[-1]["hash"] = digest(rewritten[-1])
    problems = check_daily(rewritten, hourly, whole.model_dump(), None, ok)
    assert any("last record was changed" in p for p in problems), problems

    dropped = check_daily(log.day("2021-06-02")[:-1], hourly, whole.model_dump(), None, ok)
    assert any("deleted or inserted" in p for p in dropped), dropped

    # an hourly digest signed again (by whoever holds the key later) no longer matches the day's
    forged = dict(hourly[5]) | {"signature": signer.sign(hourly[5] | {"records": 0})}
    swapped = [*hourly[:5], forged, *hourly[6:]]
    assert any("hourly digests" in p for p in check_daily(log.day("2021-06-02"), swapped, whole.model_dump(), None, ok))

    # the previous day's digest replaced: the chain of days breaks
    other = dict(whole.model_dump()) | {"signature": "AAAA"}
    assert any("previous day's" in p for p in check_daily(log.day("2021-06-02"), hourly, whole.model_dump(), other, ok))


def test_a_failed_run_is_made_good_by_the_next_one_including_the_day():
    log, store, signer = Log(), Store(), Signer()
    trail = AuditTrail(log, store, signer)
    trail.record(Actor("officer"), "region.level", "330683", at("2021-06-01", 22, 10), 3, 4)
    signed = trail.digest(at("2021-06-02", 10, 0) + timedelta(minutes=1))  # no run since 21:00 the day before
    assert "2021-06-01T23" in signed and "2021-06-01" in signed and "2021-06-02T09" in signed
    assert store.get("2021-06-01")["records"] == 1
