"""Overrides under dual control: a health_admin proposes a colour for some holders (with a reason and
an expiry); it has no effect until a different person approves it, and a bulk one (more than the
threshold of holders proposed in an hour, by everyone together) also needs a health_director. The proposer or an
approver may withdraw it. In force, it is carried on each holder and applied by the pure rules
(:func:`healthcode.scoring.rules.evaluate`): first among the reasons, never making a listed case green,
gone the day after its last day. Written holders are rescored from the holders table's stream."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode.adapters.base import decode_cursor, encode_cursor, hour_of
from healthcode.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unavailable, VersionConflict
from healthcode.identity import IdType, Official, concerns, holder_id, id_number_problem, normalize_id_number
from healthcode.models import (
    Holder,
    OverrideCounts,
    OverrideRecord,
    OverrideRequest,
    OverridesView,
    OverrideView,
    StoredOverride,
)
from healthcode.scoring.rules import Color, local_day
from healthcode.usecases.isolation import Isolated, isolated

if TYPE_CHECKING:
    from collections.abc import Iterable

    from healthcode.adapters.base import HolderRepository, Keys, OverrideStore, RulesetStore
    from healthcode.usecases.recolor import Recolor

logger = Logger(child=True)
ADMIN = "health_admin"
DIRECTOR = "health_director"
ATTEMPTS = 5
EVERYONE = "*"  # the hourly count of holders in proposals, whoever proposed them


class Overrides:
    def __init__(
        self,
        store: OverrideStore,
        holders: HolderRepository,
        recolor: Recolor,
        keys: Keys,
        rulesets: RulesetStore,
        bulk_threshold: int = 20,
        max_days: int = 14,
    ) -> None:
        self._store = store
        self._holders = holders
        self._recolor = recolor
        self._keys = keys
        self._rulesets = rulesets
        self._bulk = bulk_threshold
        self._max_days = max_days

    # ---------------------------------------------------------------- propose
    def propose(self, req: OverrideRequest, who: Official, now: datetime) -> tuple[OverrideView, bool]:
        """Record a proposal (nothing changes for the holders yet). Returns it and whether it is new:
        the same proposal again within the hour is a retry and returns the first. The proposer is a
        person (an identified official) and proposes nothing about their own code or a dependant's."""
        person = _identified(who, "propose an override")
        by = who.sub
        own = self._own_account(person)
        today = local_day(now, self._rulesets.at(now))
        errors: list[FieldError] = []
        if req.until < today:
            errors.append(FieldError("until", "the last day in force must not be in the past"))
        elif req.until > today + timedelta(days=self._max_days):
            errors.append(
                FieldError(
                    "until",
                    f"at most {self._max_days} days ahead (on or before {today + timedelta(days=self._max_days)})",
                )
            )
        key = self._keys.holder_key()
        ids: list[str] = []
        for i, ref in enumerate(req.holders):
            number = normalize_id_number(ref.id_number)
            problem = id_number_problem(IdType(ref.id_type), number, today)
            if problem:
                errors.append(FieldError(f"holders[{i}].id_number", problem))
                continue
            hid = holder_id(key, ref.id_type, number)
            h = self._holders.get(hid)
            if h is None or not h.applied:
                errors.append(FieldError(f"holders[{i}]", "no health code for this person"))
            elif concerns(person, hid, h.guardian, own):
                errors.append(FieldError(f"holders[{i}]", "your own code or a dependant's: another person proposes"))
            elif req.color is Color.GREEN and h.authority.case:
                errors.append(
                    FieldError(
                        f"holders[{i}]",
                        f"listed as a {h.authority.case} case: an override cannot make a case green "
                        "(only the authority's cleared listing does)",
                    )
                )
            elif hid not in ids:
                ids.append(hid)
        if errors:
            raise InvalidInput("The override cannot be proposed; nothing was recorded.", errors)
        override_id = _proposal_id(by, req, ids, now)
        for _ in range(ATTEMPTS):
            existing = self._store.get(override_id)
            if existing is not None:
                return self._view(existing, today), False
            # bulk is counted across every proposer: two officials splitting one act still need the director
            earlier, this_hour = self._store.proposed_since(EVERYONE, now)
            rec = OverrideRecord(
                override_id=override_id,
                status="awaiting_approval",
                color=req.color,
                reason=req.reason,
                until=req.until,
                holders=ids,
                bulk=earlier + this_hour + len(ids) > self._bulk,
                proposed_by=by,
                proposed_at=now,
                proposer_person=person,
            )
            try:
                created = self._store.create(rec, this_hour, EVERYONE)
            except VersionConflict:
                continue  # another proposal by the same person counted first: count again
            if created:
                logger.info(
                    "override proposed", extra={"override_id": override_id, "holders": len(ids), "bulk": rec.bulk}
                )
                return self._view(rec, today), True
        raise Unavailable("Too many proposals at once; try again.", retry_after=1)

    # ---------------------------------------------------------------- approve, withdraw
    def approve(self, override_id: str, who: Official, now: datetime) -> tuple[OverrideView, bool]:
        """Approve as a second person (never the proposer, never twice, whichever account they use): a
        health_director fills the director's approval of a bulk override, otherwise the second
        health_admin's. Nobody approves an override of their own code or a dependant's. With every
        approval given it is in force, and written to each of its holders. Returns it and whether
        this call approved it (False: a retry of one's own approval)."""
        person = _identified(who, "approve an override")
        by, roles = who.sub, who.roles
        today = local_day(now, self._rulesets.at(now))
        for _ in range(ATTEMPTS):
            rec = self._get(override_id)
            if rec.status == "withdrawn":
                raise Conflict(f"Override {override_id} was withdrawn by {rec.withdrawn_by}; propose it again.")
            if by in rec.approvals.values():  # a retry of one's own approval: finish what it started
                if rec.status == "in_force":
                    self._write_holders(rec, now)
                return self._view(rec, today), False
            if by == rec.proposed_by or person == rec.proposer_person:
                raise Forbidden("A second person must approve an override, not its proposer (whichever account).")
            if person in rec.approver_persons:
                raise Forbidden("You approved this override already (with another account); a different person must.")
            own = self._own_account(person)
            if any(concerns(person, hid, h.guardian if h else None, own) for hid, h in self._holders_of(rec)):
                raise Forbidden("The override concerns your own code or a dependant's: another person approves.")
            if rec.until < today:
                raise Conflict(f"Override {override_id} expired on {rec.until} before it was approved.")
            needed = self._needed(rec)
            if not needed:
                raise Conflict(f"Override {override_id} is in force already; it needs no more approvals.")
            if DIRECTOR in needed and DIRECTOR in roles:
                slot = DIRECTOR
            elif ADMIN in needed and roles & {ADMIN, DIRECTOR}:
                slot = ADMIN
            else:
                raise Forbidden(f"This override awaits the approval of a {' and a '.join(needed)}.")
            approvals = rec.approvals | {slot: by}
            update: dict[str, object] = {"approvals": approvals, "approver_persons": [*rec.approver_persons, person]}
            if not self._needed(rec.model_copy(update=update)):
                update |= {"status": "in_force", "in_force_since": now}
            try:
                saved = self._store.save(rec.model_copy(update=update))
            except VersionConflict:
                continue
            logger.info("override approved", extra={"override_id": override_id, "slot": slot, "status": saved.status})
            if saved.status == "in_force":
                self._write_holders(saved, now)
            return self._view(saved, today), True
        raise Unavailable("The override is being changed by someone else; try again.", retry_after=1)

    def withdraw(self, override_id: str, who: Official, now: datetime) -> tuple[OverrideView, bool]:
        """Withdraw. Awaiting approval (or past its last day) it never takes effect: its proposer or an
        approver withdraws it alone. In force it changes colours, so it takes two people: its proposer or
        an approver asks, a second person (another identity) confirms, and its holders are rescored
        without it. Returns it and whether this call changed it."""
        person = _identified(who, "withdraw an override")
        by = who.sub
        today = local_day(now, self._rulesets.at(now))
        for _ in range(ATTEMPTS):
            rec = self._get(override_id)
            if rec.status == "withdrawn":
                if rec.in_force_since is not None:
                    self._write_holders(rec, now, remove=True)  # a retry: finish what it started
                return self._view(rec, today), False
            in_force = rec.status == "in_force" and rec.until >= today
            asked = rec.withdrawal_requested_person
            if in_force and asked is not None and person != asked:
                update: dict[str, object] = {"status": "withdrawn", "withdrawn_by": by, "withdrawn_at": now}
            else:
                if by != rec.proposed_by and by not in rec.approvals.values():
                    raise Forbidden("Only the override's proposer or one of its approvers may withdraw it.")
                if in_force and asked is not None:
                    return self._view(rec, today), False  # asked already: a second person confirms
                if in_force:
                    update = {"withdrawal_requested_by": by, "withdrawal_requested_person": person}
                else:
                    update = {"status": "withdrawn", "withdrawn_by": by, "withdrawn_at": now}
            try:
                saved = self._store.save(rec.model_copy(update=update))
            except VersionConflict:
                continue
            logger.info("override withdrawal", extra={"override_id": override_id, "status": saved.status})
            if saved.status == "withdrawn" and saved.in_force_since is not None:
                self._write_holders(saved, now, remove=True)
            return self._view(saved, today), True
        raise Unavailable("The override is being changed by someone else; try again.", retry_after=1)

    # ---------------------------------------------------------------- read
    def get(self, override_id: str, now: datetime) -> OverrideView:
        return self._view(self._get(override_id), local_day(now, self._rulesets.at(now)))

    def listing(self, status: str, after: str | None, limit: int, now: datetime) -> OverridesView:
        today = local_day(now, self._rulesets.at(now))
        recs, nxt = self._store.page(status, limit, decode_cursor(after))
        waiting, bulk_waiting = self._store.counts("awaiting_approval")
        in_force, bulk_in_force = self._store.counts("in_force")
        counts = OverrideCounts(
            awaiting_approval=waiting,
            in_force=in_force,
            bulk_awaiting_approval=bulk_waiting,
            bulk_in_force=bulk_in_force,
        )
        return OverridesView(items=[self._view(r, today) for r in recs], counts=counts, next=encode_cursor(nxt))

    # ---------------------------------------------------------------- helpers
    def _own_account(self, person: str) -> str | None:
        """The official's own resident account (their dependants are those it applied for), if any."""
        own = self._holders.get(person)
        return own.sub if own is not None else None

    def _holders_of(self, rec: OverrideRecord) -> Iterable[tuple[str, Holder | None]]:
        return ((hid, self._holders.get(hid)) for hid in rec.holders)

    def _get(self, override_id: str) -> OverrideRecord:
        rec = self._store.get(override_id)
        if rec is None:
            raise NotFound(f"No override {override_id}.")
        return rec

    @staticmethod
    def _needed(rec: OverrideRecord) -> list[str]:
        slots = [ADMIN, DIRECTOR] if rec.bulk else [ADMIN]
        return [s for s in slots if s not in rec.approvals]

    def _view(self, rec: OverrideRecord, today: date) -> OverrideView:
        expired = rec.status != "withdrawn" and rec.until < today
        return OverrideView(
            **rec.model_dump(include=set(OverrideView.model_fields) - {"status", "approvals_needed", "approved_by"}),
            status="expired" if expired else rec.status,
            approvals_needed=self._needed(rec) if rec.status == "awaiting_approval" else [],
            approved_by=list(rec.approvals.values()),
        )

    def _write_holders(self, rec: OverrideRecord, now: datetime, remove: bool = False) -> None:
        """Carry the override on (or take it off) each of its holders; each is rescored from the stream.
        One holder that cannot be written does not stop the others; the caller's retry finishes."""
        cause = (
            f"override {rec.override_id} withdrawn" if remove else f"override {rec.override_id} by the health authority"
        )
        carried = StoredOverride(
            override_id=rec.override_id,
            color=rec.color,
            reason=rec.reason,
            until=rec.until,
            approved_at=rec.in_force_since or now,
        )

        def change(cur: Holder | None) -> Holder | None:
            if cur is None:
                return None
            auth = cur.authority
            others = [o for o in auth.overrides if o.override_id != rec.override_id]
            wanted = others if remove else [*others, carried]
            if [o.override_id for o in wanted] == [o.override_id for o in auth.overrides]:
                return cur
            return cur.model_copy(update={"authority": auth.model_copy(update={"overrides": wanted})})

        failed = 0
        for hid in _not_released(rec):
            try:
                isolated(partial(self._recolor, hid, now, cause, change, score=False))
            except Isolated as exc:
                failed += 1
                logger.warning("override not written", extra={"holder_id": hid, "reason": exc.reason})
        if failed:
            raise Unavailable(f"{failed} holders could not be written yet; send the same request again.", retry_after=2)


def _identified(who: Official, act: str) -> str:
    if who.person is None:
        raise Forbidden(f"Your account carries no verified identity: an official must be identified to {act}.")
    return who.person


def _not_released(rec: OverrideRecord) -> Iterable[str]:
    return (h for h in rec.holders if h not in rec.released)


def _proposal_id(by: str, req: OverrideRequest, ids: list[str], now: datetime) -> str:
    """The same proposal by the same person within the clock hour has the same id (a retry)."""
    doc = [by, req.color.value, req.reason, req.until.isoformat(), sorted(ids), hour_of(now)]
    return "ov-" + hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:24]
