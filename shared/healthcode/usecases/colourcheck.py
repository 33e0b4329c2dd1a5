"""Colours that cannot be explained are found: every holder's stored colour re-derived from their facts,
the rules and levels in force and the overrides on the trail (the overrides table, approved and in
force). A colour nothing explains — written around the door, as a data company with database access
did in Zhengzhou — is reported, with the holder, the stored colour and what the trail gives instead. The
check repairs nothing: an auditor's report is the evidence, and the alarm says it happened.

Nightly, and on demand (role auditor). A run is a parallel scan in segments, each continued by a queue
message while its time lasts, like a full rescoring run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import NotFound

if TYPE_CHECKING:
    from healthcode.adapters.base import ColourCheckStore, HolderRepository, OverrideStore, StartKey
    from healthcode.models import Holder
    from healthcode.usecases.recolor import Recolor

logger = Logger(child=True)
MAX_FINDINGS_PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class Segment:
    check_id: str
    segment: int
    total: int
    after: StartKey = None


class ColourChecks:
    def __init__(
        self,
        holders: HolderRepository,
        recolor: Recolor,
        overrides: OverrideStore,
        store: ColourCheckStore,
        enqueue: Callable[[Segment], None],
        segments: int = 4,
    ) -> None:
        self._holders = holders
        self._recolor = recolor
        self._overrides = overrides
        self._store = store
        self._enqueue = enqueue
        self._segments = segments

    def start(self, by: str, now: datetime) -> dict[str, Any]:
        """Start a check of every holder (its segments queued); returns the check as recorded."""
        check_id = f"cc-{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        record = self._store.start(check_id, self._segments, by, now)
        for segment in range(self._segments):
            self._enqueue(Segment(check_id, segment, self._segments))
        logger.info("colour check started", extra={"check_id": check_id, "segments": self._segments})
        return record

    def latest(self) -> dict[str, Any]:
        found = self._store.latest()
        if found is None:
            raise NotFound("No colour check has run yet.")
        return found

    def get(self, check_id: str) -> dict[str, Any]:
        found = self._store.get(check_id)
        if found is None:
            raise NotFound(f"No colour check {check_id}.")
        return found

    def run(self, seg: Segment, now: datetime, time_left: Callable[[], float]) -> int:
        """Check pages of one segment while time lasts; queue the rest. Returns unexplained colours found."""
        after = seg.after
        found = 0
        while True:
            holders, after = self._holders.scan_segment(seg.segment, seg.total, after)
            findings = [f for h in holders if h.applied and (f := self.unexplained(h, now)) is not None]
            found += len(findings)
            done = after is None
            self._store.add(seg.check_id, len(holders), findings[:MAX_FINDINGS_PER_PAGE], len(findings), done, now)
            if done:
                return found
            if time_left() < 30:
                self._enqueue(Segment(seg.check_id, seg.segment, seg.total, after))
                return found

    def unexplained(self, h: Holder, now: datetime) -> dict[str, Any] | None:
        """Why ``h``'s stored colour is not what its facts, the rules and the trail give (None: it is)."""
        if h.rescore_pending:
            return None  # listed since it was last scored: its rescoring is on its way
        problems = []
        trail = []
        for carried in h.authority.overrides:
            rec = self._overrides.get(carried.override_id)
            if rec is None or rec.status != "in_force" or h.holder_id not in rec.holders or h.holder_id in rec.released:
                problems.append(f"carries override {carried.override_id}, which the trail has not put in force for it")
            else:
                trail.append(carried)
        explained = h.model_copy(update={"authority": h.authority.model_copy(update={"overrides": trail})})
        at = h.updated_at or now
        candidates = {self._recolor.assess(explained, moment).color.value for moment in (at, now)}
        if h.color.value not in candidates:
            problems.append(f"stored {h.color.value}; its facts, the rules and the trail give {'/'.join(sorted(candidates))}")
        if not problems:
            return None
        return {"holder_id": h.holder_id, "stored": h.color.value, "expected": sorted(candidates), "problems": problems}
