"""The benchmarks still run against today's code (tiny populations; the figures come from make bench),
and the properties they report still hold: jobs read only what they must, no key runs hot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks.run import (
    bench_daily,
    bench_full_run,
    bench_heat,
    bench_notify,
    bench_region,
    job_heat,
    project_jobs,
)
from healthcode import clock


@pytest.mark.heavy
def test_the_rescoring_benchmarks_run_and_read_only_what_they_must():
    try:
        run_them()
    finally:
        clock.set_source(lambda: datetime.now(UTC))


def run_them():
    daily = bench_daily(300, 20)
    assert daily["holder_items_read"] == 20 and daily["changed"] == 20
    assert daily["shard_messages"] == 64  # one per due shard
    region = bench_region(300, 20)
    assert region["holder_items_read"] == 20 and region["changed"] == 20
    unchanged = bench_full_run(200)
    assert unchanged["holders_read"] == 200 and unchanged["holders_changed"] == 0
    assert unchanged["wru_per_holder"] < 0.05  # a ruleset that changes no one writes (almost) nothing
    changed = bench_full_run(100, stale=True)
    assert changed["holders_changed"] == 100
    projection = project_jobs(daily, region, unchanged, changed)
    assert projection["daily_minutes"] > 0 and projection["full_run_minutes"]["100% changed"] > 0
    assert job_heat(region, daily, projection)["heat"] >= 0


def test_the_notification_benchmark_runs_and_each_change_costs_what_the_plan_says():
    try:
        n = bench_notify(20)
    finally:
        clock.set_source(lambda: datetime.now(UTC))
    assert n["tasks"] == n["webhooks"] == 20
    # inbox 1; task 1 + 3 index copies; delivery 1 + its retry-index copy, then delivered (the same two)
    assert n["wru_per_notification"] == 9


def test_no_partition_key_runs_hotter_than_half_its_limit_at_the_design_mix():
    try:
        heat = bench_heat(4)
    finally:
        clock.set_source(lambda: datetime.now(UTC))
    assert heat["max_heat"] <= 0.5, heat["rows"][:3]
