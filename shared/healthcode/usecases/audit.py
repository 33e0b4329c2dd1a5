"""The audit trail of administrative acts: who (account and roles), when, what, on which target, the
state before and after, the request. Appended by every act of the health authority (and the key
rotation); read, and its hash chain verified, by the auditor, who can change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from healthcode.auditchain import daily_document, digest_document, verify
from healthcode.errors import FieldError, InvalidInput
from healthcode.models import (
    AuditDailyDigestView,
    AuditDayView,
    AuditDigestsView,
    AuditDigestView,
    AuditRecordView,
    AuditView,
)

if TYPE_CHECKING:
    from healthcode.adapters.base import AuditLog, DigestSigner, DigestStore

ZONE = ZoneInfo("Asia/Shanghai")  # the trail's days are the authority's days
MAX_DAYS = 31


@dataclass(frozen=True)
class Actor:
    sub: str
    roles: tuple[str, ...] = ()
    request_id: str | None = None


class AuditTrail:
    def __init__(self, log: AuditLog, digests: DigestStore | None = None, signer: DigestSigner | None = None) -> None:
        """``digests`` and ``signer``: where the signed hourly and daily digests are kept and what signs them
        (None: this environment neither writes nor publishes digests)."""
        self._log = log
        self._digests = digests
        self._signer = signer

    def record(
        self,
        actor: Actor,
        action: str,
        target: str,
        now: datetime,
        before: Any = None,
        after: Any = None,
        holders: list[str] | None = None,
    ) -> None:
        day = now.astimezone(ZONE).date().isoformat()
        entry = {
            "at": now.isoformat(),
            "actor": actor.sub,
            "roles": sorted(actor.roles),
            "action": action,
            "target": target,
            "before": before,
            "after": after,
            "holders": sorted(holders or []),
            "request_id": actor.request_id,
        }
        self._log.append(day, entry)

    def read(self, first: date, last: date, actor: str | None = None, holder: str | None = None) -> AuditView:
        if last < first or (last - first).days >= MAX_DAYS:
            raise InvalidInput(
                "The period cannot be read.", [FieldError("to", f"on or after from, at most {MAX_DAYS} days")]
            )
        records: list[AuditRecordView] = []
        days: list[AuditDayView] = []
        day = first
        while day <= last:
            stored = self._log.day(day.isoformat())
            problems = verify(stored, day.isoformat())
            days.append(
                AuditDayView(day=day.isoformat(), records=len(stored), chain_intact=not problems, problems=problems)
            )
            for r in stored:
                if (actor is None or r.get("actor") == actor) and (holder is None or holder in r.get("holders", [])):
                    try:
                        records.append(AuditRecordView.model_validate(r))
                    except ValidationError:  # a record tampered out of shape: the day's problems name it
                        continue
            day += timedelta(days=1)
        return AuditView(records=records, days=days)

    # ---------------------------------------------------------------- signed digests
    def digest(self, now: datetime, catch_up_hours: int = 48) -> list[str]:
        """Sign a digest for every complete hour since the last one (at most ``catch_up_hours`` back: a
        failed run is made good by the next); returns the periods signed. Each digest covers its day's
        chain up to the end of its hour and carries the previous digest's signature."""
        if self._digests is None or self._signer is None:
            return []
        hour = now.astimezone(ZONE).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        periods = [hour - timedelta(hours=n) for n in range(catch_up_hours)]
        missing: list[datetime] = []
        previous: dict[str, Any] | None = None
        for start in periods:  # newest first, back to the last digest found
            found = self._digests.get(_period(start))
            if found is not None:
                previous = found
                break
            missing.append(start)
        signed = []
        days: dict[str, list[dict[str, Any]]] = {}
        for start in reversed(missing):
            day = start.date().isoformat()
            if day not in days:
                days[day] = self._log.day(day)
            end = start + timedelta(hours=1)
            upto = [r for r in days[day] if datetime.fromisoformat(str(r["at"])) < end]
            doc = digest_document(
                day, start.hour, upto, previous["signature"] if previous else None, self._signer.key_id
            )
            doc["signature"] = self._signer.sign(doc)
            self._digests.put(doc)
            previous = doc
            signed.append(doc["period"])
        yesterday = (now.astimezone(ZONE) - timedelta(days=1)).date().isoformat()
        for day in sorted({p[:10] for p in signed if p.endswith("T23")} | {yesterday}):
            if self._sign_day(day, days.get(day)):
                signed.append(day)
        return signed

    def _sign_day(self, day: str, records: list[dict[str, Any]] | None) -> bool:
        """The daily digest of ``day`` once its last hour is signed (and not before, nor twice)."""
        assert self._digests is not None and self._signer is not None
        if self._digests.get(f"{day}T23") is None or self._digests.get(day) is not None:
            return False
        before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        previous = self._digests.get(before)
        doc = daily_document(
            day,
            records if records is not None else self._log.day(day),
            self._digests.of_day(day),
            previous["signature"] if previous else None,
            self._signer.key_id,
        )
        doc["signature"] = self._signer.sign(doc)
        self._digests.put(doc)
        return True

    def published_digests(self, first: date, last: date) -> AuditDigestsView:
        """The signed digests of the days (no personal data: counts, hashes, signatures) and the key
        that verifies them: anyone can check that the trail only grew."""
        if last < first or (last - first).days >= MAX_DAYS:
            raise InvalidInput(
                "The period cannot be read.", [FieldError("to", f"on or after from, at most {MAX_DAYS} days")]
            )
        if self._digests is None or self._signer is None:
            return AuditDigestsView(public_key_pem="", key_id="", algorithm="ECDSA_SHA_256", digests=[], daily=[])
        out: list[AuditDigestView] = []
        daily: list[AuditDailyDigestView] = []
        day = first
        while day <= last:
            out += [AuditDigestView.model_validate(d) for d in self._digests.of_day(day.isoformat())]
            whole = self._digests.get(day.isoformat())
            if whole is not None:
                daily.append(AuditDailyDigestView.model_validate(whole))
            day += timedelta(days=1)
        return AuditDigestsView(
            public_key_pem=self._signer.public_key_pem(),
            key_id=self._signer.key_id,
            algorithm="ECDSA_SHA_256",
            digests=out,
            daily=daily,
        )


def _period(start: datetime) -> str:
    return f"{start.date().isoformat()}T{start.hour:02d}"
