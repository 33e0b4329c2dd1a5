"""Close the loop: a colour change reaches its holder, the community office and partner cities.

* **The holder** (or the guardian of a dependant): a message in the inbox, read in their language.
* **The community office** of the holder's residence area (or county): a task when the holder turns
  yellow or red. Not acknowledged within ``ack_within`` it escalates one level up (an area to its
  county, a county to its city); times to acknowledgement are kept per office and day.
* **Partner cities** that registered a webhook for the event's kind and whose jurisdiction covers the
  holder's residence (or the region): a signed delivery, tried at once, then retried with exponential
  backoff and jitter for ``retry_for``; after that it is dead-lettered in the partner's delivery log.

Every step is keyed by the event, so a redelivered event changes nothing: one message, one task, one
delivery id (the receiver may still see an attempt twice if a lease expires mid-call, and de-duplicates
on ``X-HC-Delivery``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode import notices
from healthcode.adapters.base import decode_cursor, encode_cursor
from healthcode.errors import FieldError, Forbidden, InvalidInput, NotFound
from healthcode.models import (
    AckTimes,
    ColorChangedDetail,
    DeliveriesView,
    Delivery,
    DeliveryView,
    Notice,
    NotificationsView,
    NotificationView,
    RegionLevelDetail,
    Task,
    TasksView,
    TaskView,
)

if TYPE_CHECKING:
    from healthcode.adapters.base import (
        DeliveryLog,
        HolderRepository,
        Inbox,
        PhoneBook,
        Subscribers,
        TaskBoard,
        Texts,
        Webhooks,
    )

logger = Logger(child=True)
TASK_COLORS = frozenset({"yellow", "red"})
LEASE = timedelta(minutes=2)  # an attempt in flight; after it the retry sweep may take the delivery over


def escalation_office(office: str) -> str:
    """One level up: a town or village to its county, a county to its city, a city to its province."""
    if len(office) > 6:
        return office[:6]
    if office[4:6] != "00":
        return office[:4] + "00"
    if office[2:4] != "00":
        return office[:2] + "0000"
    return office


def retry_delay(attempt: int, base_s: float, cap_s: float, rand: float) -> timedelta:
    """After failed attempt ``attempt`` (1, 2, ...): exponential backoff with "equal jitter" (half fixed,
    half random), so receivers coming back are not hit by every sender at once."""
    delay = min(cap_s, base_s * 2 ** (attempt - 1))
    return timedelta(seconds=delay / 2 + rand * delay / 2)


@dataclass(frozen=True)
class NotifyPolicy:
    ack_within: timedelta = timedelta(minutes=15)
    retry_for: timedelta = timedelta(hours=24)
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 3600.0


@dataclass
class Outcome:
    messages: int = 0
    texts: int = 0
    texts_failed: int = 0
    tasks: int = 0
    deliveries: int = 0
    delivered: int = 0
    escalated: int = 0
    dead: int = 0


class Notifier:
    def __init__(
        self,
        inbox: Inbox,
        tasks: TaskBoard,
        deliveries: DeliveryLog,
        partners: Subscribers,
        webhooks: Callable[[], Webhooks],
        policy: NotifyPolicy | None = None,
        rand: Callable[[], float] = random.random,
        sms: tuple[PhoneBook, Texts] | None = None,
    ) -> None:
        """``sms``: where phone numbers are kept sealed and how texts go out (None: the inbox only, as
        on the local stack)."""
        self._inbox = inbox
        self._tasks = tasks
        self._deliveries = deliveries
        self._partners = partners
        self._webhooks = webhooks  # made when first needed: most events call no webhook
        self._policy = policy or NotifyPolicy()
        self._rand = rand
        self._sms = sms

    # -------------------------------------------------------------- events
    def handle(self, kind: str, detail: dict[str, object], now: datetime) -> Outcome:
        """One event from the bus (its ``detail-type`` and ``detail``); anything else is ValueError."""
        if kind == "ColorChanged":
            return self.color_changed(ColorChangedDetail.model_validate(detail), now)
        if kind == "RegionLevelChanged":
            return self.region_level_changed(RegionLevelDetail.model_validate(detail), now)
        raise ValueError(f"no notifications for {kind!r} events")

    def color_changed(self, e: ColorChangedDetail, now: datetime) -> Outcome:
        out = Outcome()
        if e.old_color is None and e.new_color.value == "green":
            return out  # a first declaration that came out green: the app shows it, nobody needs telling
        owner = e.sub or e.guardian
        if owner:
            notice = Notice(
                owner,
                e.id,
                e.at,
                e.holder_id,
                e.new_color.value,
                e.old_color.value if e.old_color else None,
                tuple(r.detail for r in e.reasons),
            )
            if self._inbox.add(notice):  # new: a redelivered event finds it and texts nobody again
                out.messages += 1
                self._text(e, out)
        if e.new_color.value in TASK_COLORS and e.residence_region:
            task = Task(
                task_id=e.id.replace("#", "."),  # usable in a URL path
                office=e.residence_region,
                holder_id=e.holder_id,
                masked_name=e.masked_name,
                color=e.new_color.value,
                old_color=e.old_color.value if e.old_color else None,
                changed_at=e.at,
                escalate_at=e.at + self._policy.ack_within,
            )
            out.tasks += self._tasks.add(task)
        data = {
            "holder": e.masked_name,
            "residence_region": e.residence_region,
            "old_color": e.old_color.value if e.old_color else None,
            "new_color": e.new_color.value,
            "reasons": [r.factor for r in e.reasons],
        }
        self._fan_out("color_changed", e.id, e.at, e.residence_region or "", data, now, out)
        return out

    def _text(self, e: ColorChangedDetail, out: Outcome) -> None:
        """The same message as an SMS, in the deployment's language. A failure is counted and logged
        (never the number) and not retried: the inbox has the message."""
        if self._sms is None:
            return
        phones, texts = self._sms
        try:
            phone = phones.phone_of(e.holder_id)
            if phone is None:
                return
            color = e.new_color.value
            texts.send(phone, f"【健康码】{notices.title(color)}：{notices.body(color)}")
            out.texts += 1
        except Exception:  # SMS is a courtesy on top of the inbox: it never fails the event
            out.texts_failed += 1
            logger.warning("SMS not sent", extra={"holder_id": e.holder_id}, exc_info=True)

    def region_level_changed(self, e: RegionLevelDetail, now: datetime) -> Outcome:
        out = Outcome()
        data = {"region": e.code, "old_level": e.old_level, "new_level": e.new_level}
        self._fan_out("region_level_changed", e.id, e.at, e.code, data, now, out)
        return out

    def _fan_out(
        self, kind: str, event_id: str, at: datetime, region: str, data: Mapping[str, object], now: datetime, out: Outcome
    ) -> None:
        for partner_id, hook in sorted(self._partners.subscribers(kind).items()):
            if not region.startswith(hook["jurisdiction"]):
                continue
            delivery_id = hashlib.sha256(f"{partner_id}|{event_id}".encode()).hexdigest()[:32]
            body = json.dumps(
                {"delivery_id": delivery_id, "kind": kind, "event_id": event_id, "at": at.isoformat(), "data": data},
                ensure_ascii=False,
                sort_keys=True,
            )
            # recorded as taken for its first attempt (made now): the sweep takes it over after the lease
            d = Delivery(partner_id, delivery_id, event_id, kind, body, at, attempts=1, next_attempt_at=now + LEASE)
            if not self._deliveries.add(d):
                continue  # a redelivered event: the first delivery (or its retries) carries it
            out.deliveries += 1
            self._send(d, hook["url"], now, out)

    def _attempt(self, d: Delivery, url: str, now: datetime, out: Outcome) -> None:
        taken = self._deliveries.claim(d, now + LEASE)
        if taken is not None:  # else another worker has it
            self._send(taken, url, now, out)

    def _send(self, d: Delivery, url: str, now: datetime, out: Outcome) -> None:
        """One attempt of a delivery already taken (``d.attempts`` counts this one)."""
        secret = self._partners.signing_secret(d.partner_id)
        try:
            if secret is None:
                raise RuntimeError("the partner has no secret to sign with")
            self._webhooks().post(url, d.body, secret, d.delivery_id, d.kind, now)
        except Exception as exc:  # any failure of the receiver or the way there: retried
            error = str(exc) or type(exc).__name__
            retry_at = None
            if now - d.created_at < self._policy.retry_for:
                p = self._policy
                retry_at = now + retry_delay(d.attempts, p.backoff_base_s, p.backoff_cap_s, self._rand())
            self._deliveries.failed(d, error, retry_at)
            out.dead += retry_at is None
            logger.info(
                "webhook attempt failed",
                extra={"partner": d.partner_id, "delivery": d.delivery_id, "attempt": d.attempts, "error": error},
            )
            return
        self._deliveries.delivered(d, now)
        out.delivered += 1

    # -------------------------------------------------------------- the sweep (every minute)
    def sweep(self, now: datetime) -> Outcome:
        """Escalate overdue tasks; retry deliveries whose next attempt is due."""
        out = Outcome()
        for task_id in self._tasks.overdue(now):
            task = self._tasks.get(task_id)
            if task is not None and self._tasks.escalate(task_id, escalation_office(task.office)):
                out.escalated += 1
        hooks: dict[str, dict[str, str]] = {}
        for kind in ("color_changed", "region_level_changed"):
            hooks |= {pid: h for pid, h in self._partners.subscribers(kind).items()}
        for d in self._deliveries.due(now):
            hook = hooks.get(d.partner_id)
            if hook is None:  # the partner removed its webhook or was suspended: nothing to deliver to
                self._deliveries.failed(d, "the partner has no webhook any more", None)
                out.dead += 1
                continue
            self._attempt(d, hook["url"], now, out)
        return out


# ------------------------------------------------------------------------------ reading


class Inboxes:
    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    def mine(self, sub: str, lang: str, after: str | None, limit: int) -> NotificationsView:
        found, nxt = self._inbox.page(sub, limit, decode_cursor(after))
        items = [
            NotificationView(
                notification_id=n.notification_id,
                at=n.at,
                holder_id=n.holder_id,
                color=n.color,
                old_color=n.old_color,
                title=notices.title(n.color, lang),
                body=notices.body(n.color, lang),
                reasons=list(n.reasons),
            )
            for n in found
        ]
        return NotificationsView(items=items, next=encode_cursor(nxt))


def _minutes(task: Task) -> float | None:
    if task.acknowledged_at is None:
        return None
    return round((task.acknowledged_at - task.changed_at).total_seconds() / 60, 1)


class Offices:
    """Community offices' tasks: listed by area, acknowledged by a community worker of that area."""

    def __init__(self, tasks: TaskBoard, holders: HolderRepository | None = None) -> None:
        """``holders``: to find a worker's own resident account (they decide nothing that concerns it)."""
        self._tasks = tasks
        self._holders = holders

    @staticmethod
    def _may_see(areas: frozenset[str], is_admin: bool, office: str) -> bool:
        return is_admin or any(office.startswith(a) for a in areas)

    def _view(self, t: Task, lang: str) -> TaskView:
        return TaskView(
            task_id=t.task_id,
            kind=t.kind if t.kind in ("guardianship", "late_scan") else "colour",
            office=t.office,
            holder=t.masked_name,
            holder_id=t.holder_id,
            masked_id=t.masked_id,
            color=t.color or None,
            old_color=t.old_color,
            outcome=t.outcome if t.outcome in ("confirmed", "refused") else None,
            changed_at=t.changed_at,
            instruction=notices.instruction(t.kind if t.kind in ("guardianship", "late_scan") else t.color, lang),
            status=t.status,
            escalated_to=t.escalated_to,
            acknowledged_by=t.acknowledged_by,
            acknowledged_at=t.acknowledged_at,
            minutes_to_ack=_minutes(t),
        )

    def listing(
        self,
        area: str,
        status: str | None,
        day: date,
        areas: frozenset[str],
        is_admin: bool,
        lang: str,
        after: str | None,
        limit: int,
    ) -> TasksView:
        if not self._may_see(areas, is_admin, area):
            raise Forbidden(f"Your account does not cover area {area}.")
        found, nxt = self._tasks.page(area, status, limit, decode_cursor(after))
        buckets = self._tasks.ack_minutes(area, day)
        times = AckTimes(
            office=area,
            day=day,
            acknowledged=sum(buckets.values()),
            median_minutes=notices.quantile(buckets, 0.5),
            p90_minutes=notices.quantile(buckets, 0.9),
        )
        return TasksView(items=[self._view(t, lang) for t in found], next=encode_cursor(nxt), ack_times=times)

    def acknowledge(
        self,
        task_id: str,
        by: str,
        areas: frozenset[str],
        lang: str,
        now: datetime,
        outcome: str | None = None,
        person: str | None = None,
    ) -> TaskView:
        """Acknowledge a task; a guardianship task with what the worker found in person (``outcome``),
        never by the worker it concerns (``person``: their own holder id, or their own request)."""
        task = self._tasks.get(task_id)
        if task is None or not (
            self._may_see(areas, False, task.office)
            or (task.escalated_to is not None and self._may_see(areas, False, task.escalated_to))
        ):
            raise NotFound(f"No task {task_id} in your areas.")
        if (task.kind == "guardianship") != (outcome is not None):
            problem = "required: confirmed or refused" if outcome is None else "only for a guardianship task"
            raise InvalidInput("The acknowledgement has problems.", [FieldError("outcome", problem)])
        if task.kind == "guardianship":
            if person is None:
                raise Forbidden("Your account has no verified identity: it can read tasks, not decide one.")
            own = self._holders.get(person) if self._holders is not None else None
            accounts = {by, own.sub if own else None}
            if task.guardian in accounts or person in (task.holder_id, task.guardian_person):
                raise Forbidden("You cannot decide a guardianship that concerns you: another community worker must.")
        if task.status != "open":
            return self._view(task, lang)  # a repeated acknowledgement: the first one stands
        done = self._tasks.acknowledge(task, by, now, outcome)
        current = done or self._tasks.get(task_id)
        assert current is not None
        return self._view(current, lang)


class DeliveryLogView:
    def __init__(self, deliveries: DeliveryLog) -> None:
        self._deliveries = deliveries

    def of(self, partner_id: str, after: str | None, limit: int) -> DeliveriesView:
        found, nxt = self._deliveries.page(partner_id, limit, decode_cursor(after))
        return DeliveriesView(
            items=[DeliveryView.model_validate(d, from_attributes=True) for d in found],
            next=encode_cursor(nxt),
        )
