"""Recompute colours when time passes, regions change, lists arrive or a new ruleset takes effect.

Every job reads only what changed and pages through it; a worker close to its timeout puts its
continuation back on the queue (nothing lost, nothing done twice: holder writes are conditional and
idempotent, run progress advances conditionally). Jobs arrive as typed messages
(:mod:`healthcode.messages`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from aws_lambda_powertools import Logger

from healthcode.messages import FULL_RUN_SEGMENTS, RECONCILE, Daily, FullRunSegment, HoldersListed, RegionChanged
from healthcode.scoring.rules import local_day
from healthcode.scoring.ruleset import DEFAULT_VERSION
from healthcode.stats import apply, key_of
from healthcode.usecases.isolation import Isolated, isolated

if TYPE_CHECKING:
    from healthcode.adapters.base import (
        HolderRepository,
        RecomputeQueue,
        RegionLevels,
        RulesetStore,
        RunLog,
        StartKey,
        StatsStore,
        StayIndex,
    )
    from healthcode.messages import RecomputeMessage
    from healthcode.models import Holder, LevelSnapshot
    from healthcode.regions import RegionRegistry
    from healthcode.usecases.recolor import Recolor

logger = Logger(child=True)
TimeLeft = Callable[[], float]  # seconds before the invocation times out
MARGIN_S = 20.0  # stop and re-enqueue when less than this is left (a page takes a few seconds at most)


def _forever() -> float:
    return math.inf


class Outcome(NamedTuple):
    changed: int
    failed: int


class Recompute:
    def __init__(
        self,
        recolor: Recolor,
        holders: HolderRepository,
        stays: StayIndex,
        regions: RegionLevels,
        registry: RegionRegistry,
        rulesets: RulesetStore,
        queue: RecomputeQueue,
        runs: RunLog | None,
        segments: int = FULL_RUN_SEGMENTS,
        margin_s: float = MARGIN_S,
        stats: StatsStore | None = None,
    ) -> None:
        self._recolor = recolor
        self._holders = holders
        self._stays = stays
        self._regions = regions
        self._registry = registry
        self._rulesets = rulesets
        self._queue = queue
        self._runs = runs
        self._segments = segments
        self._margin = margin_s
        self._stats = stats
        self._failed = 0

    def handle(self, message: RecomputeMessage, now: datetime, time_left: TimeLeft = _forever) -> Outcome:
        """Process one message: how many holders changed, and how many failed (each recorded with its
        reason; the job went on without them)."""
        self._failed = 0
        match message:
            case RegionChanged():
                changed = self.region_changed(message, now, time_left)
            case HoldersListed():
                changed = self.holders(message.holder_ids, now, message.cause)
            case Daily():
                changed = self.daily(message, now, time_left)
            case FullRunSegment():
                changed = self.segment(message, now, time_left)
            case _:
                raise ValueError(f"unknown recompute message {message!r}")
        return Outcome(changed, self._failed)

    # ------------------------------------------------------------------ daily
    def daily(self, message: Daily, now: datetime, time_left: TimeLeft = _forever) -> int:
        """Rescore the holders whose due date has come. The schedule's message fans out, one message
        per due shard (they run in parallel, up to the queue's concurrency); a shard's message walks
        its shard page by page and re-enqueues where it stopped when time runs short. It also starts a
        full run if a new ruleset took effect."""
        if message.shard is None:
            self.start_run_for_new_ruleset(now)
            for shard in range(self._holders.due_shards):
                self._queue.send(Daily(by=message.by, at=message.at, shard=shard))
            return 0
        today = local_day(now, self._rulesets.at(now))
        levels = self._regions.snapshot(fresh=True)
        changed = 0
        key: StartKey = message.start_key
        while True:
            if time_left() < self._margin:
                self._queue.send(
                    Daily(by=message.by, at=message.at, shard=message.shard, start_key=key, continued=True)
                )
                return changed
            page, key = self._holders.due_page(today, message.shard, key)
            changed += sum(self._rescore(h.holder_id, now, "time passed", levels, h) for h in page)
            if key is None:
                return changed

    # ------------------------------------------------------------------ region levels
    def region_changed(self, message: RegionChanged, now: datetime, time_left: TimeLeft = _forever) -> int:
        """Rescore exactly the holders who stayed in the region (or below it) within the window: one
        message per county part (``county`` indexes counties × parts of the stays index), each paging
        through its entries and handing every page of holders on as a :class:`HoldersListed` message
        (any worker takes it)."""
        code = message.code
        parts = self._stays.parts
        counties = self._registry.counties_under(code)
        if message.county is None:
            for index in range(len(counties) * parts):
                self._queue.send(RegionChanged(code=code, at=message.at, county=index))
            return 0
        if message.county >= len(counties) * parts:
            return 0
        county, part = counties[message.county // parts], message.county % parts
        rules = self._rulesets.at(now)
        since = local_day(now, rules) - timedelta(days=rules.stay_window)
        cause = f"risk level of region {code} changed"
        key: StartKey = message.start_key
        while True:
            if time_left() < self._margin:
                self._queue.send(RegionChanged(code=code, at=message.at, county=message.county, start_key=key))
                return 0
            ids, key = self._stays.holders(county, since, key, part)
            if ids:
                self._queue.send(HoldersListed(holder_ids=ids, cause=cause))
            if key is None:
                return 0

    # ------------------------------------------------------------------ listed holders
    def holders(self, holder_ids: Iterable[str], now: datetime, cause: str) -> int:
        levels = self._regions.snapshot(fresh=True)
        return sum(self._rescore(hid, now, cause, levels) for hid in holder_ids)

    # ------------------------------------------------------------------ full runs
    def start_run_for_new_ruleset(self, now: datetime) -> str | None:
        """Start one full run when a published ruleset has taken effect (its id makes it once only)."""
        version = self._rulesets.at(now).version
        if version == DEFAULT_VERSION or self._runs is None:
            return None
        run_id = f"ruleset-{version}"
        if not self._runs.create(run_id, self._segments, version, "ruleset activation", now):
            return None
        # its segment messages follow from the runs table's stream (consequences.py)
        logger.info("full rescoring started", extra={"run": run_id, "segments": self._segments, "ruleset": version})
        return run_id

    def segment(self, message: FullRunSegment, now: datetime, time_left: TimeLeft = _forever) -> int:
        assert self._runs is not None
        run_id, segment, total = message.run, message.segment, message.total
        run = self._runs.get(run_id)
        if run is None:
            raise ValueError(f"no rescoring run {run_id}")
        page = int(run[f"page_{segment}"])
        if page < 0:
            return 0  # this segment is finished (a duplicate delivery)
        # The run record, not the message, says where the segment stands: a re-delivered or stale
        # message resumes from the last page recorded.
        key: StartKey = json.loads(run[f"key_{segment}"]) if page > 0 else None
        levels = self._regions.snapshot(fresh=True)
        changed_total = 0
        while True:
            if time_left() < self._margin:
                self._queue.send(FullRunSegment(run=run_id, segment=segment, total=total, page=page))
                return changed_total
            holders, next_key = self._holders.scan_segment(segment, total, key)
            if run["ruleset_version"] == RECONCILE:  # count, change nothing (a repeat puts the same page)
                assert self._stats is not None, "a reconciliation needs the stats table"
                self._stats.put_page(run_id, segment, page, apply({}, [(None, key_of(h)) for h in holders]), now)
                if not self._runs.advance(run_id, segment, page, next_key, len(holders), 0, now) or not next_key:
                    return 0
                page, key = page + 1, next_key
                continue
            # A holder this run already changed (a worker died after writing it, before recording the
            # page) carries the run's cause: it counts as changed once, when the page is recorded.
            cause = f"new ruleset in force (run {run_id})"
            changed = sum(
                1 if h.cause == cause else self._rescore(h.holder_id, now, cause, levels, h)
                for h in holders
                if h.applied
            )
            if not self._runs.advance(run_id, segment, page, next_key, len(holders), changed, now):
                return changed_total  # another delivery of this segment got here first; it carries on
            changed_total += changed
            if next_key is None:
                return changed_total
            page, key = page + 1, next_key

    # ------------------------------------------------------------------
    def _rescore(
        self, hid: str, now: datetime, cause: str, levels: LevelSnapshot, current: Holder | None = None
    ) -> int:
        """Rescore one holder on its own: a failure is retried once, then recorded, and the job goes on."""
        try:
            _, wrote = isolated(lambda: self._recolor(hid, now, cause, levels=levels, current=current))
        except Isolated as exc:
            self._failed += 1
            logger.warning("holder not rescored", extra={"holder_id": hid, "cause": cause, "reason": exc.reason})
            if self._runs is not None:
                self._runs.record_failure(cause, hid, exc.reason, now)
            return 0
        return int(wrote)
