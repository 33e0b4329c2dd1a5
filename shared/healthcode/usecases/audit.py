"""The audit trail of administrative acts: who (account and roles), when, what, on which target, the
state before and after, the request. Appended by every act of the health authority (and the key
rotation); read, and its hash chain verified, by the auditor, who can change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from healthcode.auditchain import verify
from healthcode.errors import FieldError, InvalidInput
from healthcode.models import AuditDayView, AuditRecordView, AuditView

if TYPE_CHECKING:
    from healthcode.adapters.base import AuditLog

ZONE = ZoneInfo("Asia/Shanghai")  # the trail's days are the authority's days
MAX_DAYS = 31


@dataclass(frozen=True)
class Actor:
    sub: str
    roles: tuple[str, ...] = ()
    request_id: str | None = None


class AuditTrail:
    def __init__(self, log: AuditLog) -> None:
        self._log = log

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
