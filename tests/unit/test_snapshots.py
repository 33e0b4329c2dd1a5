"""Snapshots on the hot paths: served from the environment's cache, refreshed ahead of time in the
background, never older than their stated bound; and a level change waits for every cache."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from healthcode.adapters.snapshots import Snapshot
from healthcode.messages import RegionChanged
from healthcode.settings import Settings
from healthcode.usecases.consequences import Consequences
from tests.fakes import World

NOW = datetime(2020, 2, 17, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_snapshot_is_served_from_cache_refreshed_ahead_and_never_older_than_its_bound():
    clock, reads, started = Clock(), [], []
    snap = Snapshot(lambda: reads.append(clock.t) or len(reads), max_age=30, monotonic=clock, spawn=started.append)
    assert snap.get() == 1 and reads == [1000.0]  # a cold environment reads it
    clock.t += 10
    assert snap.get() == 1 and started == []  # young: no read at all
    clock.t += 15  # 25 s old: still served, one background refresh started (not two)
    assert snap.get() == 1 and snap.get() == 1 and len(started) == 1 and len(reads) == 1
    started.pop()()  # the background refresh runs
    assert snap.get() == 2 and len(reads) == 2
    clock.t += 31  # frozen for a while: past the bound, the request reads it itself
    assert snap.get() == 3 and len(reads) == 3


def test_a_failed_background_refresh_keeps_the_old_value_until_the_bound():
    clock, started = Clock(), []
    values = iter([1])

    def load() -> int:
        return next(values)  # the second read fails (StopIteration stands for a throttled read)

    snap = Snapshot(load, max_age=30, monotonic=clock, spawn=started.append)
    assert snap.get() == 1
    clock.t += 25
    assert snap.get() == 1
    started.pop()()  # fails, logged
    clock.t += 1
    assert snap.get() == 1 and len(started) == 1  # a new refresh is tried
    clock.t += 10
    with pytest.raises(StopIteration):
        snap.get()  # past the bound there is no stale answer


def test_max_age_zero_reads_every_time():
    reads = []
    snap = Snapshot(lambda: reads.append(1) or len(reads), max_age=0)
    assert [snap.get(), snap.get()] == [1, 2]


def test_a_level_change_s_rescoring_waits_for_every_cache():
    w = World()
    settle = Settings.model_validate(
        {
            "HOLDERS_TABLE": "h",
            "REGIONS_TABLE": "r",
            "STAYS_TABLE": "s",
            "SCANS_TABLE": "c",
            "HISTORY_TABLE": "y",
            "CODE_ISSUER": "i",
        }
    ).region_settle_s
    assert settle == 30 + 30  # the levels' max age, plus the longest request still scoring with the old one
    consequences = Consequences(w.history, w.events, w.queue, settle)
    consequences.region_changed("330106", 1, 5, NOW)
    assert w.queue.sent == [RegionChanged(code="330106", at=NOW)] and w.queue.delays == [60]
