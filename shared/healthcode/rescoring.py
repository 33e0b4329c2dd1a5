"""Recompute colours when time passes, regions change, lists arrive or a new ruleset takes effect.

Every job reads only what changed and pages through it; a worker close to its timeout puts its
continuation back on the queue (nothing lost, nothing done twice: holder writes are conditional and
idempotent, run progress advances conditionally).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.ruleset import DEFAULT_VERSION
from healthcode.scoring import local_day

if TYPE_CHECKING:
    from healthcode.assessor import Assessor
    from healthcode.events import RecomputeQueue
    from healthcode.models import Holder
    from healthcode.store import DynamoRuns, StayIndex

logger = Logger(child=True)
TimeLeft = Callable[[], float]  # seconds before the invocation times out
MARGIN_S = 20.0  # stop and re-enqueue when less than this is left (a page takes a few seconds at most)
DEFAULT_SEGMENTS = 16


def _forever() -> float:
    return math.inf


class Rescoring:
    def __init__(
        self,
        assessor: Assessor,
        stays: StayIndex,
        queue: RecomputeQueue,
        runs: DynamoRuns | None,
        segments: int = DEFAULT_SEGMENTS,
    ) -> None:
        self._assessor = assessor
        self._stays = stays
        self._queue = queue
        self._runs = runs
        self._segments = segments

    def handle(self, message: dict[str, Any], now: datetime, time_left: TimeLeft = _forever) -> int:
        """Process one recompute message; returns how many holders changed."""
        kind = message.get("kind")
        if kind == "region":
            return self.region_changed(
                str(message["code"]), now, time_left, int(message.get("county", 0)), message.get("start_key")
            )
        if kind == "holders":
            return self.holders(list(message["holder_ids"]), now, str(message.get("cause", "authority list")))
        if kind == "daily":
            return self.daily(now, time_left)
        if kind == "segment":
            return self.segment(message, now, time_left)
        raise ValueError(f"unknown recompute message kind {kind!r}")

    # ------------------------------------------------------------------ daily
    def daily(self, now: datetime, time_left: TimeLeft = _forever) -> int:
        """Rescore the holders whose due date has come; start a full run if a new ruleset took effect."""
        self.start_run_for_new_ruleset(now)
        today = local_day(now, self._assessor.rules_at(now))
        overrides = self._assessor.regions.overrides()
        changed = 0
        for holder in self._assessor.holders.due(today):
            if time_left() < MARGIN_S:
                # the rest are still due: the next message carries on with them
                self._queue.send({"kind": "daily", "continued": True})
                break
            changed += self._rescore(holder.holder_id, now, "time passed", overrides, holder)
        return changed

    # ------------------------------------------------------------------ region levels
    def region_changed(
        self,
        code: str,
        now: datetime,
        time_left: TimeLeft = _forever,
        county_from: int = 0,
        start_key: dict[str, Any] | None = None,
    ) -> int:
        """Rescore exactly the holders who stayed in ``code`` (or below it) within the window."""
        rules, registry = self._assessor.rules_at(now), self._assessor.registry
        since = local_day(now, rules) - timedelta(days=rules.stay_window)
        overrides = self._assessor.regions.overrides()
        counties = registry.counties_under(code)
        changed = 0
        cause = f"risk level of region {code} changed"
        for index in range(county_from, len(counties)):
            key = start_key if index == county_from else None
            while True:
                if time_left() < MARGIN_S:
                    self._queue.send({"kind": "region", "code": code, "county": index, "start_key": key})
                    return changed
                ids, key = self._stays.holders(counties[index], since, key)
                for hid in ids:
                    changed += self._rescore(hid, now, cause, overrides)
                if key is None:
                    break
        return changed

    # ------------------------------------------------------------------ case lists
    def holders(self, holder_ids: Iterable[str], now: datetime, cause: str) -> int:
        return sum(self._rescore(hid, now, cause, None) for hid in holder_ids)

    # ------------------------------------------------------------------ full runs
    def start_run(self, now: datetime, by: str, run_id: str | None = None, segments: int | None = None) -> str | None:
        """Start a full rescoring run: one queue message per parallel-scan segment.

        Returns the run id, or None when a run with that id exists already (started once only).
        """
        if self._runs is None:
            raise RuntimeError("no runs table configured")
        total = segments or self._segments
        version = self._assessor.rules_at(now).version
        run_id = run_id or f"{version}-{now.strftime('%Y%m%dT%H%M%S%f')}"
        if not self._runs.create(run_id, total, version, by, now):
            return None
        for segment in range(total):
            self._queue.send({"kind": "segment", "run": run_id, "segment": segment, "total": total, "page": 0})
        logger.info("full rescoring started", extra={"run": run_id, "segments": total, "ruleset": version})
        return run_id

    def start_run_for_new_ruleset(self, now: datetime) -> str | None:
        version = self._assessor.rules_at(now).version
        if version == DEFAULT_VERSION or self._runs is None:
            return None
        return self.start_run(now, "ruleset activation", run_id=f"ruleset-{version}")

    def segment(self, message: dict[str, Any], now: datetime, time_left: TimeLeft = _forever) -> int:
        assert self._runs is not None
        run_id, segment, total = str(message["run"]), int(message["segment"]), int(message["total"])
        run = self._runs.get(run_id)
        if run is None:
            raise ValueError(f"no rescoring run {run_id}")
        page = int(run[f"page_{segment}"])
        if page < 0:
            return 0  # this segment is finished (a duplicate delivery)
        # The run record, not the message, says where the segment stands: a re-delivered or stale
        # message resumes from the last page recorded.
        key = json.loads(run[f"key_{segment}"]) if page > 0 else None
        overrides = self._assessor.regions.overrides()
        changed_total = 0
        while True:
            if time_left() < MARGIN_S:
                self._queue.send({"kind": "segment", "run": run_id, "segment": segment, "total": total, "page": page})
                return changed_total
            holders, next_key = self._assessor.holders.scan_segment(segment, total, key)
            changed = sum(
                self._rescore(h.holder_id, now, "new ruleset in force", overrides, h) for h in holders if h.applied
            )
            if not self._runs.advance(run_id, segment, page, next_key, len(holders), changed, now):
                return changed_total  # another delivery of this segment got here first; it carries on
            changed_total += changed
            if next_key is None:
                return changed_total
            page, key = page + 1, next_key

    # ------------------------------------------------------------------
    def _rescore(self, hid: str, now: datetime, cause: str, overrides: Any, current: Holder | None = None) -> int:
        _, wrote = self._assessor.rescore_and_save(hid, now, cause, overrides=overrides, current=current)
        return int(wrote)
