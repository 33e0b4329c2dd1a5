"""What follows a committed change, taken from the tables' streams (at least once, each step idempotent):

* a holder's colour changed: its History entry and the ``ColorChanged`` event (with an ``id`` that
  consumers de-duplicate on);
* a holder's colour or residence changed (or a code was issued): the delta the statistics sum, keyed by
  the change (:mod:`healthcode.usecases.statistics`);
* a holder was listed by the authority (or a partner) and not yet rescored: a rescoring message;
* a region's level changed: a ``RegionLevelChanged`` event, and a rescoring message for everyone who stayed there, delayed until every
  environment's cached level snapshot has the change (a colour written meanwhile from an older
  snapshot is rescored by that message: nothing is missed);
* a full rescoring run was created: one message per scan segment.

The write that made the change is the only commit; if any step here fails, the stream record is
delivered again and every step is repeated, so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from healthcode.adapters.base import HolderChange, RegionChange, RunStarted
from healthcode.messages import HoldersListed, RegionChanged, segments
from healthcode.models import ColorChange
from healthcode.stats import delta

if TYPE_CHECKING:
    from healthcode.adapters.base import ColorEvents, HistoryLog, RecomputeQueue, StatsStore
    from healthcode.models import Holder


class Consequences:
    def __init__(
        self,
        history: HistoryLog,
        events: ColorEvents,
        queue: RecomputeQueue,
        settle_s: int = 0,
        stats: StatsStore | None = None,
    ) -> None:
        """``settle_s``: how long a region's rescoring waits for the level caches (their max age plus
        the longest request that may still score with an older snapshot)."""
        self._history = history
        self._events = events
        self._queue = queue
        self._settle = settle_s
        self._stats = stats

    def follow(self, change: HolderChange | RegionChange | RunStarted) -> str:
        """Do what follows ``change``; returns what kind of change it was (for the metrics)."""
        if isinstance(change, RegionChange):
            self.region_changed(change.code, change.old_level, change.new_level, change.at)
            return "region"
        if isinstance(change, RunStarted):
            for message in segments(change.run_id, change.segments):
                self._queue.send(message)  # a repeat is harmless: a segment resumes from the run record
            return "run"
        self.holder_changed(change.old, change.new)
        return "holder"

    def holder_changed(self, old: Holder | None, new: Holder | None) -> None:
        moved = delta(old, new)
        if moved is not None and self._stats is not None:
            now = new if new is not None else old
            # only a scored write moves a count (and only it changes a colour): it stamps updated_at
            assert now is not None and now.updated_at is not None
            # a deletion is keyed one version on: a redelivery puts the same item again
            version = now.version if new is not None else now.version + 1
            self._stats.record(now.holder_id, version, now.updated_at, *moved)
        if new is None or not new.applied:
            return  # a deletion, or a listing kept for someone who has not applied: nothing follows yet
        old_color = old.color if old is not None and old.applied else None
        if old_color != new.color:
            assert new.updated_at is not None
            change = ColorChange(
                holder_id=new.holder_id,
                version=new.version,
                at=new.updated_at,  # a colour changes only in a scored write, which stamps it
                old_color=old_color,
                new_color=new.color,
                score=new.score,
                reasons=new.reasons,
                ruleset_version=new.ruleset_version,
                cause=new.cause or "unknown",
            )
            self._history.append(change)  # keyed by holder, time and version: a repeat overwrites itself
            self._events.color_changed(change, new)
        if new.rescore_pending:
            self._queue.send(HoldersListed(holder_ids=[new.holder_id], cause=new.cause or "authority list"))

    def region_changed(self, code: str, old_level: int | None, new_level: int | None, at: datetime | None) -> None:
        if new_level == old_level:
            return
        if at is not None:  # for partner cities that subscribed (their webhooks); a repeat has the same id
            self._events.region_level_changed(code, old_level, new_level, at)
        self._queue.send(RegionChanged(code=code, at=at), delay_s=self._settle)
