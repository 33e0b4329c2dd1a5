"""The notifier on in-memory adapters (no network, no AWS): exactly once through redelivery, retries and
give-up; jurisdictions; escalation; acknowledgement rights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from healthcode.errors import Forbidden, NotFound
from healthcode.usecases.notify import Notifier, NotifyPolicy, Offices
from tests.fakes import FakeDeliveries, FakeInbox, FakeSubscribers, FakeTasks, FakeWebhooks

T0 = datetime(2020, 2, 17, 1, 0, tzinfo=UTC)


def change(n: int, old="green", new="yellow", region="330102", sub="u", guardian=None):
    return {
        "id": f"h{n}#2",
        "holder_id": f"h{n}",
        "version": 2,
        "at": T0.isoformat(),
        "old_color": old,
        "new_color": new,
        "reasons": [{"factor": "stay", "points": 35, "detail": "stayed in 西湖区"}],
        "cause": "region level",
        "sub": sub,
        "guardian": guardian,
        "masked_name": "王*波",
        "residence_region": region,
    }


@pytest.fixture
def world():
    inbox, tasks, deliveries = FakeInbox(), FakeTasks(), FakeDeliveries()
    partners = FakeSubscribers(
        hooks={
            "hz": {"url": "https://hz.example/h", "events": ["color_changed"], "jurisdiction": "3301"},
            "nb": {
                "url": "https://nb.example/h",
                "events": ["color_changed", "region_level_changed"],
                "jurisdiction": "3302",
            },
        },
        secrets={"hz": "s1", "nb": "s2"},
    )
    hooks = FakeWebhooks()
    notifier = Notifier(inbox, tasks, deliveries, partners, lambda: hooks, NotifyPolicy(), rand=lambda: 1.0)
    return notifier, inbox, tasks, deliveries, hooks


def test_a_change_is_told_once_to_the_holder_the_office_and_the_partner_covering_the_residence(world):
    notifier, inbox, tasks, deliveries, hooks = world
    for _ in range(3):  # the event delivered three times
        notifier.handle("ColorChanged", change(1), T0)
    assert len(inbox.items) == 1 and len(tasks.items) == 1 and len(deliveries.items) == 1
    assert [url for url, _ in hooks.calls] == ["https://hz.example/h"]  # Ningbo's jurisdiction does not cover it


def test_a_dependants_change_goes_to_the_guardian_and_a_return_to_green_opens_no_task(world):
    notifier, inbox, tasks, _, _ = world
    notifier.handle("ColorChanged", change(2, sub=None, guardian="parent"), T0)
    notifier.handle("ColorChanged", change(3, old="yellow", new="green"), T0)
    notifier.handle("ColorChanged", change(4, old=None, new="green"), T0)  # a first green: nobody told
    assert sorted(owner for owner, _ in inbox.items) == ["parent", "u"]
    assert [t.holder_id for t in tasks.items.values()] == ["h2"]


def test_retries_back_off_then_give_up_after_the_retry_window(world):
    notifier, _, _, deliveries, hooks = world
    hooks.always_fail = True
    notifier.handle("ColorChanged", change(1), T0)
    now, swept = T0, 0
    while any(d.status == "pending" for d in deliveries.items.values()):
        now += timedelta(minutes=30)
        notifier.sweep(now)
        swept += 1
    (d,) = deliveries.items.values()
    assert d.status == "dead" and "receiver down" in d.last_error
    assert now - T0 >= timedelta(hours=24) and swept <= 60
    # backoff doubled: far fewer attempts than sweeps
    assert d.attempts < swept


def test_an_unknown_event_kind_or_a_malformed_detail_is_refused(world):
    notifier = world[0]
    with pytest.raises(ValueError):
        notifier.handle("Something", {}, T0)
    with pytest.raises(ValueError):
        notifier.handle("ColorChanged", {"id": "x"}, T0)


def test_overdue_tasks_escalate_once_and_only_workers_of_the_area_acknowledge(world):
    notifier, _, tasks, _, _ = world
    notifier.handle("ColorChanged", change(1, region="330106001"), T0)
    assert notifier.sweep(T0 + timedelta(minutes=14)).escalated == 0
    assert notifier.sweep(T0 + timedelta(minutes=16)).escalated == 1
    assert notifier.sweep(T0 + timedelta(minutes=17)).escalated == 0
    (task,) = tasks.items.values()
    assert task.escalated_to == "330106"
    offices = Offices(tasks)
    with pytest.raises(NotFound):
        offices.acknowledge(task.task_id, "w", frozenset({"330108"}), "zh-CN", T0)
    with pytest.raises(Forbidden):
        offices.listing("330106001", "open", T0.date(), frozenset({"330108"}), False, "zh-CN", None, 10)
    done = offices.acknowledge(task.task_id, "w", frozenset({"330106"}), "en", T0 + timedelta(minutes=20))
    assert done.status == "acknowledged" and done.minutes_to_ack == 20.0
    view = offices.listing("330106001", None, T0.date(), frozenset({"3301"}), False, "en", None, 10)
    assert view.ack_times.acknowledged == 1 and view.ack_times.median_minutes == 20.0
