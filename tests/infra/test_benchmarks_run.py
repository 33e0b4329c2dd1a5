"""The benchmarks still run against today's code (tiny populations; the figures come from make bench)."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.run import bench_daily, bench_full_run, bench_region
from healthcode import clock


def test_the_rescoring_benchmarks_run_and_read_only_what_they_must():
    try:
        run_them()
    finally:
        clock.set_source(lambda: datetime.now(UTC))


def run_them():
    daily = bench_daily(300, 20)
    assert daily["holder_items_read"] == 20 and daily["changed"] == 20
    region = bench_region(300, 20)
    assert region["holder_items_read"] == 20 and region["changed"] == 20
    full = bench_full_run(200)
    assert full["holders_read"] == 200 and full["holders_per_s_per_worker"] > 0
