"""Use cases of the health authority: region levels, case lists, rescoring runs. All feed the queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import not_found
from healthcode.identity import holder_id, normalize_id_number
from healthcode.models import (
    CaseListRequest,
    CaseListView,
    Holder,
    RegionLevelRequest,
    RegionView,
    RescoringRequest,
    RescoringView,
    StoredContact,
)
from healthcode.scoring import local_day
from healthcode.validation import check_cases

if TYPE_CHECKING:
    from healthcode.assessor import Assessor
    from healthcode.events import RecomputeQueue
    from healthcode.keys import KeyRing

logger = Logger(child=True)
HOLDER_BATCH = 50


class Authority:
    """The health authority's changes: region levels and case lists. Both feed the recompute queue."""

    def __init__(self, assessor: Assessor, queue: RecomputeQueue, keys: KeyRing) -> None:
        self._assessor = assessor
        self._queue = queue
        self._keys = keys

    def set_region_level(self, code: str, req: RegionLevelRequest, by: str, now: datetime) -> RegionView:
        region = self._assessor.registry.get(code)
        if region is None:
            raise not_found(f"Unknown region code {code} (GB/T 2260).")
        self._assessor.regions.put(code, req.name, req.level, region.parent, by, now)
        self._queue.send({"kind": "region", "code": code, "at": now.isoformat()})
        logger.info("region level set", extra={"region": code, "level": req.level, "by": by})
        return RegionView(code=code, name=req.name, level=req.level, updated_at=now, updated_by=by)

    def start_rescoring(self, req: RescoringRequest, by: str, now: datetime) -> RescoringView:
        """Queue a rescoring run now (the same work the daily schedule does)."""
        self._queue.send({"kind": "daily", "by": by, "at": now.isoformat()})
        logger.info("rescoring queued", extra={"scope": req.scope, "by": by})
        return RescoringView(scope=req.scope, queued_at=now)

    def record_cases(self, req: CaseListRequest, by: str, now: datetime) -> CaseListView:
        check_cases(req, local_day(now, self._assessor.rules))
        key = self._keys.holder_key()
        known: list[str] = []
        for entry in req.cases:
            hid = holder_id(key, entry.id_type, normalize_id_number(entry.id_number))

            def change(cur: Holder | None, entry: Any = entry, hid: str = hid) -> Holder:
                base = cur or Holder(holder_id=hid)  # kept for a later application
                auth = base.authority
                if entry.status in ("confirmed", "suspected"):
                    auth = auth.model_copy(update={"case": entry.status})
                elif entry.status == "cleared":
                    auth = auth.model_copy(update={"case": None, "contacts": [], "cleared_at": now})
                else:
                    contact = StoredContact(kind=entry.status, on=entry.on)
                    if contact not in auth.contacts:
                        auth = auth.model_copy(update={"contacts": [*auth.contacts, contact]})
                if auth == base.authority:
                    return base
                return base.model_copy(update={"authority": auth.model_copy(update={"updated_at": now})})

            saved, _ = self._assessor.rescore_and_save(hid, now, "authority list", change, score=False)
            if saved is not None and saved.applied:
                known.append(hid)
        for batch in _chunks(known, HOLDER_BATCH):
            self._queue.send({"kind": "holders", "holder_ids": batch, "cause": "authority list"})
        logger.info("case list recorded", extra={"entries": len(req.cases), "known": len(known), "by": by})
        return CaseListView(accepted=len(req.cases), known_holders=len(known), recorded_at=now)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
