"""In-memory implementations of the Protocols in ``healthcode.adapters.base``, for use-case unit tests.

They behave like the DynamoDB adapters where a use case can tell the difference (conditional writes
raise the same domain errors, paged reads page), and keep what was written where a test can look.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from healthcode.adapters.base import RunStarted, StartKey
from healthcode.errors import Conflict, RateLimited, Unauthorized, VersionConflict
from healthcode.messages import RecomputeMessage
from healthcode.models import SECRET_OVERLAP, CodeRecord, ColorChange, Holder, LevelSnapshot, Partner
from healthcode.regions import registry
from healthcode.scoring.ruleset import Ruleset, load_ruleset
from healthcode.tokens import TokenSigner, TokenVerifier, generate_signing_key, public_jwks
from healthcode.usecases.consequences import Consequences
from healthcode.usecases.recolor import Recolor

ISSUER = "https://healthcode.test"


class FakeHolders:
    def __init__(self, page: int = 100, max_dependants: int = 5) -> None:
        self.items: dict[str, Holder] = {}
        self.accounts: dict[str, str] = {}  # sub -> holder id
        self.guardians: dict[str, set[str]] = {}  # sub -> dependants' holder ids
        self.page = page
        self.max_dependants = max_dependants
        self.stream: list[tuple[Holder | None, Holder]] = []  # (as it was, as it is), like the table's stream
        self.conflicts_to_raise = 0  # the next N saves lose to a "concurrent writer"
        self.unwritable: set[str] = set()  # holders whose every write fails (as an oversized item would)

    def get(self, holder_id: str) -> Holder | None:
        return self.items.get(holder_id)

    def find_by_sub(self, sub: str) -> Holder | None:
        return self.get(self.accounts[sub]) if sub in self.accounts else None  # as the adapter: then the holder

    def dependants(self, sub: str) -> list[Holder]:
        return [self.items[h] for h in sorted(self.guardians.get(sub, ())) if self.items[h].guardian == sub]

    def code_status(self, code_id: str) -> CodeRecord | None:
        h = next((h for h in self.items.values() if h.code_id == code_id), None)
        return CodeRecord(h.color.value, h.masked_name, h.holder_id) if h else None

    def save(self, holder: Holder, previous: Holder | None = None) -> Holder:
        stored = self.items.get(holder.holder_id)
        if self.conflicts_to_raise:
            self.conflicts_to_raise -= 1
            raise VersionConflict(holder.holder_id)
        if (stored.version if stored else 0) != holder.version:
            raise VersionConflict(holder.holder_id)
        if holder.holder_id in self.unwritable:
            raise RuntimeError("ValidationException: Item size has exceeded the maximum allowed size")
        hid = holder.holder_id
        binds = holder.sub and holder.sub != (previous.sub if previous else None)
        adds = holder.guardian and holder.guardian != (previous.guardian if previous else None)
        if binds and self.accounts.get(holder.sub, hid) != hid:
            raise Conflict("This account already holds a code for another identity document.")
        if adds and len(self.guardians.get(holder.guardian, set()) - {hid}) >= self.max_dependants:
            raise Conflict(f"An account may apply for at most {self.max_dependants} dependants.")
        if binds:
            self.accounts[holder.sub] = hid
        if adds:
            self.guardians.setdefault(holder.guardian, set()).add(hid)
        if previous and previous.guardian and previous.guardian != holder.guardian:
            self.guardians.get(previous.guardian, set()).discard(hid)
        saved = holder.model_copy(update={"version": holder.version + 1})
        self.stream.append((stored, saved))
        self.items[hid] = saved
        return saved

    due_shards = 2

    def due_page(self, day: date, shard: int, start_key: StartKey = None) -> tuple[list[Holder], StartKey]:
        after = str((start_key or {}).get("after", ""))  # key-based, as DynamoDB's ExclusiveStartKey
        due = [
            h
            for hid, h in sorted(self.items.items())
            if sum(hid.encode()) % self.due_shards == shard
            and hid > after
            and h.applied
            and h.due_on is not None
            and h.due_on <= day
        ]
        page = due[: self.page]
        return page, ({"after": page[-1].holder_id} if len(due) > self.page else None)

    def scan_segment(self, segment: int, total: int, start_key: StartKey) -> tuple[list[Holder], StartKey]:
        mine = sorted(h for i, h in enumerate(sorted(self.items)) if i % total == segment)
        start = int((start_key or {}).get("at", 0))
        page = [self.items[k] for k in mine[start : start + self.page]]
        end = start + self.page
        return page, ({"at": end} if end < len(mine) else None)


class FakeRegionLevels:
    def __init__(self) -> None:
        self.levels: dict[str, int] = {}
        self.writes: list[tuple[str, str, int, str]] = []
        self.stream: list[tuple[str, int | None, int, datetime]] = []
        self.names: dict[str, str] = {}
        self.version = 0  # the snapshot's: one more with every level written

    def snapshot(self, fresh: bool = False) -> LevelSnapshot:
        return LevelSnapshot(self.version, dict(self.levels))  # no cache here: always in step

    def put(
        self, code: str, name: str | None, level: int, parent: str | None, by: str, at: datetime, default_name: str = ""
    ) -> str:
        self.stream.append((code, self.levels.get(code), level, at))
        self.levels[code] = level
        self.version += 1
        self.names[code] = name or self.names.get(code) or default_name or code
        self.writes.append((code, self.names[code], level, by))
        return self.names[code]


class FakeStays:
    def __init__(self, page: int = 200) -> None:
        self.entries: dict[tuple[str, str, date, str], date | None] = {}  # (county, holder, arrived, region)
        self.page = page

    def record(self, holder_id: str, stays: Iterable[tuple[str, date, date | None]]) -> None:
        for region, arrived_on, left_on in stays:
            self.entries[(region[:6], holder_id, arrived_on, region)] = left_on

    parts = 2

    def holders(
        self, county: str, since: date, start_key: StartKey = None, part: int = 0
    ) -> tuple[list[str], StartKey]:
        ids = sorted(
            {
                h
                for (c, h, _, _), left in self.entries.items()
                if c == county and sum(h.encode()) % self.parts == part and (left is None or left >= since)
            }
        )
        start = int((start_key or {}).get("at", 0))
        end = start + self.page
        return ids[start:end], ({"at": end} if end < len(ids) else None)


@dataclass
class FakeScanLog:
    scans: list[tuple[str, str, str | None, str, str]] = field(default_factory=list)

    def record(self, checkpoint_id: str, code_id: str, color: str | None, status: str, at: datetime, by: str) -> bool:
        self.scans.append((checkpoint_id, code_id, color, status, by))
        return True


@dataclass
class FakeHistory:
    changes: list[ColorChange] = field(default_factory=list)

    def append(self, change: ColorChange) -> None:
        self.changes.append(change)

    def page(self, holder_id: str, limit: int, after: StartKey) -> tuple[list[ColorChange], StartKey]:
        mine = sorted((c for c in self.changes if c.holder_id == holder_id), key=lambda c: c.at, reverse=True)
        start = int(after["i"]["S"]) if after else 0
        nxt = {"i": {"S": str(start + limit)}} if start + limit < len(mine) else None
        return mine[start : start + limit], nxt


@dataclass
class FakeEvents:
    published: list[tuple[ColorChange, str | None]] = field(default_factory=list)
    levels: list[tuple[str, int | None, int | None]] = field(default_factory=list)

    def color_changed(self, change: ColorChange, holder: Holder) -> None:
        self.published.append((change, holder.sub))

    def region_level_changed(self, code: str, old_level: int | None, new_level: int | None, at: datetime) -> None:
        self.levels.append((code, old_level, new_level))


@dataclass
class FakeQueue:
    sent: list[RecomputeMessage] = field(default_factory=list)
    delays: list[int] = field(default_factory=list)

    def send(self, message: RecomputeMessage, delay_s: int = 0) -> None:
        self.sent.append(message)
        self.delays.append(delay_s)

    def take(self) -> list[RecomputeMessage]:
        out, self.sent, self.delays = self.sent, [], []
        return out


class FakeRuns:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, str, str]] = []
        self.stream: list[tuple[str, int]] = []  # runs created, as the runs table's stream shows them

    def create(self, run_id: str, segments: int, ruleset_version: str, by: str, at: datetime) -> bool:
        if run_id in self.runs:
            return False
        self.stream.append((run_id, segments))
        self.runs[run_id] = {
            "run_id": run_id,
            "segments_total": segments,
            "segments_done": 0,
            "holders_read": 0,
            "holders_changed": 0,
            "ruleset_version": ruleset_version,
            "started_by": by,
            "started_at": at.isoformat(),
            **{f"page_{i}": 0 for i in range(segments)},
        }
        return True

    def get(self, run_id: str) -> dict[str, Any] | None:
        return dict(self.runs[run_id]) if run_id in self.runs else None

    def record_failure(self, job: str, holder_id: str, reason: str, at: datetime) -> None:
        self.failures.append((job, holder_id, reason))

    def advance(
        self, run_id: str, segment: int, page: int, next_key: StartKey, read: int, changed: int, at: datetime
    ) -> bool:
        run = self.runs[run_id]
        if run[f"page_{segment}"] != page:
            return False
        run["holders_read"] += read
        run["holders_changed"] += changed
        if next_key is None:
            run[f"page_{segment}"] = -1
            run["segments_done"] += 1
        else:
            run[f"page_{segment}"] = page + 1
            run[f"key_{segment}"] = json.dumps(next_key)
        return True


class FakeRulesets:
    def __init__(self) -> None:
        self.published: dict[str, Ruleset] = {}

    def at(self, now: datetime) -> Ruleset:
        in_force = sorted(
            (r for r in [load_ruleset("v1"), *self.published.values()] if r.effective_from <= now),
            key=lambda r: r.effective_from,
        )
        return in_force[-1]

    def versions(self, force: bool = False) -> list[Ruleset]:
        return sorted([load_ruleset("v1"), *self.published.values()], key=lambda r: r.effective_from)

    def withdrawn(self, version: str) -> bool:
        return False

    def publish(self, ruleset: Ruleset) -> None:
        if ruleset.version in self.published or ruleset.version == "v1":
            raise Conflict(f"Ruleset version {ruleset.version} exists already; versions are never replaced.")
        self.published[ruleset.version] = ruleset


class FakePartners:
    def __init__(self) -> None:
        self.partners: dict[str, Partner] = {}
        self.secrets: dict[str, list[str]] = {}

    def get(self, partner_id: str) -> Partner | None:
        return self.partners.get(partner_id)

    def put(self, partner: Partner) -> None:
        self.partners[partner.partner_id] = partner

    def secrets_of(self, partner_id: str, now: datetime) -> list[str]:
        return list(self.secrets.get(partner_id, []))

    def rotate_secret(self, partner_id: str, now: datetime, grace: bool = True) -> str:
        new = f"secret-{len(self.secrets.get(partner_id, [])) + 1}"
        self.secrets[partner_id] = [new, *self.secrets.get(partner_id, [])][: 2 if grace else 1]
        assert SECRET_OVERLAP  # the previous one stays valid for the overlap (not modelled in time here)
        return new

    def trusted_issuers(self) -> dict[str, dict[str, Any]]:
        return {p.issuer: p.jwks for p in self.partners.values() if p.issuer and p.jwks and not p.suspended}

    def refresh_keys(self) -> dict[str, str]:
        return {}


class FakeNonces:
    def __init__(self) -> None:
        self.spent: set[tuple[str, str]] = set()
        self.counts: dict[str, int] = {}

    def spend(self, partner_id: str, nonce: str, now: datetime) -> None:
        if (partner_id, nonce) in self.spent:
            raise Unauthorized("This nonce was used already (a replay).")
        self.spent.add((partner_id, nonce))

    def count(self, partner: Partner, now: datetime) -> None:
        n = self.counts.get(partner.partner_id, 0)
        if n >= partner.rate_limit_per_minute:
            raise RateLimited(f"More than {partner.rate_limit_per_minute} requests this minute.", retry_after=30)
        self.counts[partner.partner_id] = n + 1


class FakeKeys:
    """Real ES256 signing and verification (pure crypto) with a key made for the test."""

    def __init__(self) -> None:
        self.private = generate_signing_key()
        self._jwks = public_jwks([self.private])

    def holder_key(self) -> bytes:
        return b"test-holder-key"

    def signer(self) -> TokenSigner:
        return TokenSigner(self.private, ISSUER, 300)

    def verifier(self, partners: dict[str, Any] | None = None, refresh: bool = False) -> TokenVerifier:
        return TokenVerifier({**(partners or {}), ISSUER: self._jwks})

    def jwks(self, force: bool = False) -> dict[str, Any]:
        return self._jwks


@dataclass
class World:
    """Every fake, and the collaborators built on them as the composition root would."""

    holders: FakeHolders = field(default_factory=FakeHolders)
    regions: FakeRegionLevels = field(default_factory=FakeRegionLevels)
    stays: FakeStays = field(default_factory=FakeStays)
    scans: FakeScanLog = field(default_factory=FakeScanLog)
    history: FakeHistory = field(default_factory=FakeHistory)
    events: FakeEvents = field(default_factory=FakeEvents)
    queue: FakeQueue = field(default_factory=FakeQueue)
    runs: FakeRuns = field(default_factory=FakeRuns)
    rulesets: FakeRulesets = field(default_factory=FakeRulesets)
    partners: FakePartners = field(default_factory=FakePartners)
    nonces: FakeNonces = field(default_factory=FakeNonces)
    keys: FakeKeys = field(default_factory=FakeKeys)

    def __post_init__(self) -> None:
        self.registry = registry()
        self.recolor = Recolor(self.holders, self.regions, self.rulesets, self.registry)
        self.consequences = Consequences(self.history, self.events, self.queue)

    def deliver(self) -> int:
        """Follow what the tables' streams hold, as the publish function does; returns records followed."""
        n = 0
        while self.holders.stream or self.regions.stream or self.runs.stream:
            while self.runs.stream:
                self.consequences.follow(RunStarted(*self.runs.stream.pop(0)))
                n += 1
            while self.holders.stream:
                old, new = self.holders.stream.pop(0)
                self.consequences.holder_changed(old, new)
                n += 1
            while self.regions.stream:
                code, old_level, new_level, at = self.regions.stream.pop(0)
                self.consequences.region_changed(code, old_level, new_level, at)
                n += 1
        return n


# ------------------------------------------------------------------------------ notifications


@dataclass
class FakeInbox:
    items: dict[tuple[str, str], Any] = field(default_factory=dict)

    def add(self, notice: Any) -> bool:
        key = (notice.owner, notice.notification_id)
        if key in self.items:
            return False
        self.items[key] = notice
        return True

    def page(self, owner: str, limit: int, after: StartKey) -> tuple[list[Any], StartKey]:
        mine = sorted((n for (o, _), n in self.items.items() if o == owner), key=lambda n: n.at, reverse=True)
        start = int(after["i"]["S"]) if after else 0
        nxt = {"i": {"S": str(start + limit)}} if start + limit < len(mine) else None
        return mine[start : start + limit], nxt


@dataclass
class FakeTasks:
    items: dict[str, Any] = field(default_factory=dict)
    times: dict[tuple[str, date], dict[int, int]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, task: Any) -> bool:
        if task.task_id in self.items:
            return False
        self.items[task.task_id] = task
        return True

    def get(self, task_id: str) -> Any:
        return self.items.get(task_id)

    def page(self, office: str, status: str | None, limit: int, after: StartKey) -> tuple[list[Any], StartKey]:
        found = [
            t
            for t in self.items.values()
            if (t.office == office or (status == "open" and t.escalated_to == office))
            and (status is None or t.status == status)
        ]
        return sorted(found, key=lambda t: t.changed_at, reverse=True)[:limit], None

    def add_counted(self, task: Any, counter: str, limit: int) -> str:
        if task.task_id in self.items:
            return "exists"
        if self.counters.get(counter, 0) >= limit:
            return "limited"
        self.counters[counter] = self.counters.get(counter, 0) + 1
        self.items[task.task_id] = task
        return "added"

    def acknowledge(self, task: Any, by: str, at: datetime, outcome: str | None = None) -> Any:
        from dataclasses import replace

        if self.items[task.task_id].status != "open":
            return None
        done = replace(task, status="acknowledged", acknowledged_by=by, acknowledged_at=at, outcome=outcome)
        self.items[task.task_id] = done
        day = self.times.setdefault((task.office, task.changed_at.date()), {})
        minute = int((at - task.changed_at).total_seconds() // 60)
        day[minute] = day.get(minute, 0) + 1
        return done

    def ack_minutes(self, office: str, day: date) -> dict[int, int]:
        return dict(self.times.get((office, day), {}))

    def overdue(self, now: datetime, limit: int = 500) -> list[str]:
        return [
            t.task_id
            for t in self.items.values()
            if t.status == "open" and t.escalated_to is None and t.escalate_at <= now
        ][:limit]

    def escalate(self, task_id: str, to: str) -> bool:
        from dataclasses import replace

        t = self.items[task_id]
        if t.status != "open" or t.escalated_to is not None:
            return False
        self.items[task_id] = replace(t, escalated_to=to)
        return True


@dataclass
class FakeDeliveries:
    items: dict[tuple[str, str], Any] = field(default_factory=dict)

    def add(self, d: Any) -> bool:
        key = (d.partner_id, d.delivery_id)
        if key in self.items:
            return False
        self.items[key] = d
        return True

    def claim(self, d: Any, lease_until: datetime) -> Any:
        from dataclasses import replace

        now = self.items[(d.partner_id, d.delivery_id)]
        if now.status != "pending" or now.attempts != d.attempts:
            return None
        taken = replace(now, attempts=now.attempts + 1, next_attempt_at=lease_until)
        self.items[(d.partner_id, d.delivery_id)] = taken
        return taken

    def delivered(self, d: Any, at: datetime) -> None:
        from dataclasses import replace

        self.items[(d.partner_id, d.delivery_id)] = replace(
            d, status="delivered", delivered_at=at, next_attempt_at=None
        )

    def failed(self, d: Any, error: str, retry_at: datetime | None) -> None:
        from dataclasses import replace

        status = "pending" if retry_at else "dead"
        self.items[(d.partner_id, d.delivery_id)] = replace(
            d, status=status, next_attempt_at=retry_at, last_error=error
        )

    def due(self, now: datetime, limit: int = 500) -> list[Any]:
        return [
            d
            for d in self.items.values()
            if d.status == "pending" and d.next_attempt_at is not None and d.next_attempt_at <= now
        ][:limit]

    def page(self, partner_id: str, limit: int, after: StartKey) -> tuple[list[Any], StartKey]:
        return [d for (p, _), d in self.items.items() if p == partner_id][:limit], None


@dataclass
class FakeSubscribers:
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def subscribers(self, kind: str) -> dict[str, dict[str, Any]]:
        return {pid: h for pid, h in self.hooks.items() if kind in h["events"]}

    def signing_secret(self, partner_id: str) -> str | None:
        return self.secrets.get(partner_id)


@dataclass
class FakeWebhooks:
    """A receiver that fails its first ``fail_first`` calls of each delivery (or all of them)."""

    fail_first: int = 0
    always_fail: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)  # (url, delivery id)

    def post(self, url: str, body: str, secret: str, delivery_id: str, kind: str, now: datetime) -> None:
        self.calls.append((url, delivery_id))
        if self.always_fail or sum(1 for _, d in self.calls if d == delivery_id) <= self.fail_first:
            raise ConnectionError("receiver down")
