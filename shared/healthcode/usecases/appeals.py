"""Appeals (变色申述复核, GB/T 38963): a resident says one reason of their code (or a dependant's) is
wrong; a health_admin upholds it, with a correction that removes the wrong facts and rescores the
holder at once, or rejects it, with a reason the holder reads. One open appeal per holder and factor;
an appeal open longer than the deadline is flagged and counted."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.adapters.base import decode_cursor, encode_cursor
from healthcode.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unavailable, VersionConflict
from healthcode.identity import Official, concerns
from healthcode.models import (
    AppealDecisionRequest,
    AppealRecord,
    AppealRequest,
    AppealsView,
    AppealView,
    Correction,
    Holder,
)
from healthcode.scoring.rules import rank

if TYPE_CHECKING:
    from collections.abc import Callable

    from healthcode.adapters.base import AppealStore, HolderRepository, OverrideStore, RulesetStore
    from healthcode.usecases.recolor import Recolor

logger = Logger(child=True)
ATTEMPTS = 5
# the appealed factor -> the reason factors of a code it covers
REASON_FACTORS: dict[str, tuple[str, ...]] = {
    "case": ("confirmed", "suspected"),
    "close_contact": ("close_contact",),
    "secondary_contact": ("secondary_contact",),
    "stay": ("stay",),
    "fever": ("fever",),
    "symptoms": ("symptoms",),
    "override": ("override",),
}


class Appeals:
    def __init__(
        self,
        store: AppealStore,
        holders: HolderRepository,
        recolor: Recolor,
        overrides: OverrideStore,
        rulesets: RulesetStore,
        deadline: timedelta = timedelta(hours=24),
    ) -> None:
        self._store = store
        self._holders = holders
        self._recolor = recolor
        self._overrides = overrides
        self._rulesets = rulesets
        self._deadline = deadline

    # ---------------------------------------------------------------- residents
    def file(self, sub: str, req: AppealRequest, now: datetime) -> tuple[AppealView, bool]:
        """File an appeal about one factor of the caller's code (or a dependant's). Returns it and
        whether it is new: the same appeal sent again while open is a retry and returns the first."""
        appellant = self._appellant(sub, req.dependant_id)
        h, _ = self._recolor(appellant.holder_id, now, "time passed", current=appellant)  # the reasons as of now
        assert h is not None
        then = [r for r in h.reasons if r.factor in REASON_FACTORS[req.factor]]
        if not then:
            have = sorted({r.factor for r in h.reasons}) or ["none: the code is green"]
            raise InvalidInput(
                "Your code has no reason of this kind to appeal.",
                [FieldError("factor", f"no reason of the code is {req.factor}; its reasons: {', '.join(have)}")],
            )
        rec = AppealRecord(
            appeal_id="ap-" + uuid.uuid4().hex[:24],
            holder_id=h.holder_id,
            owner=sub,
            factor=req.factor,
            reason=req.reason,
            evidence=req.evidence,
            masked_name=h.masked_name,
            reasons_then=then,
            filed_at=now,
        )
        for _ in range(ATTEMPTS):
            try:
                existing = self._store.file(rec)
            except VersionConflict:
                continue  # the open one was decided in between: file this one
            if existing is None:
                logger.info("appeal filed", extra={"appeal_id": rec.appeal_id, "factor": req.factor})
                return self._view(rec, now), True
            if (existing.owner, existing.reason, existing.evidence) == (sub, req.reason, req.evidence):
                return self._view(existing, now), False
            raise Conflict(
                f"An appeal about {req.factor} of this code is open already ({existing.appeal_id}); "
                "it is decided before another one."
            )
        raise Unavailable("Try again.", retry_after=1)

    def mine(self, sub: str, after: str | None, limit: int, now: datetime) -> AppealsView:
        recs, nxt = self._store.by_owner(sub, limit, decode_cursor(after))
        return AppealsView(items=[self._view(r, now) for r in recs], next=encode_cursor(nxt))

    # ---------------------------------------------------------------- the authority
    def listing(self, status: str, after: str | None, limit: int, now: datetime) -> AppealsView:
        """Appeals of a status, oldest first (the longest waiting on top); open ones past the
        deadline are flagged, and counted."""
        recs, nxt = self._store.by_status(status, limit, decode_cursor(after))
        overdue = self._store.open_before(now - self._deadline) if status == "open" else None
        return AppealsView(items=[self._view(r, now) for r in recs], overdue=overdue, next=encode_cursor(nxt))

    def decide(
        self, appeal_id: str, req: AppealDecisionRequest, by: Official, now: datetime
    ) -> tuple[AppealView, bool]:
        """Uphold (the correction removes the appealed facts; the holder is rescored at once, the reason
        in their history) or reject (the reason is what the holder reads). Returns the appeal and
        whether this call decided it (False: the same decision again, a retry).

        The decider is a person, not an account: an official whose token carries no verified identity
        may not decide, nor may anyone decide an appeal about their own code or a dependant's. A decision
        is bound to the code it decided on: sent again once the code changed (listed again, rescored), it
        changes nothing and says so (409)."""
        person = _identified(by)
        for _ in range(ATTEMPTS):
            rec = self._get(appeal_id)
            h = self._holders.get(rec.holder_id)
            if rec.status != "open":
                same = rec.decided_by == by.sub and rec.decision_reason == req.reason
                if not (same and (rec.status == "upheld") == (req.decision == "uphold")):
                    raise Conflict(f"Appeal {appeal_id} was {rec.status} by {rec.decided_by} already.")
                if rec.status == "upheld" and not rec.corrected:  # a retry: finish the correction it started
                    rec = self._correct(rec, now)
                elif rec.holder_version is not None and h is not None and h.version != rec.holder_version:
                    raise Conflict(
                        f"Appeal {appeal_id} was decided on the code as it was then; the code changed since "
                        f"(now {h.color}, {', '.join(r.factor for r in h.reasons) or 'no reasons'}): nothing was "
                        "changed. A new appeal decides about the code as it is."
                    )
                return self._view(rec, now), False
            if h is None:
                raise NotFound("The appeal's holder no longer exists.")
            self._not_their_own(person, rec, h)
            correction: dict[str, Any] | None = None
            if req.decision == "uphold":
                fix = req.correction or Correction()
                fever_at = self._rulesets.at(now).fever_temperature
                problem = _correction_problem(rec.factor, fix, h, fever_at)
                if problem:
                    raise InvalidInput("The correction removes nothing.", [problem])
                correction = fix.model_dump(mode="json", exclude_none=True)
                corrected = _remover(rec.factor, fix, now, fever_at)(h)
                lowers = rec.factor == "case" or (
                    corrected is not None and rank(self._recolor.assess(corrected, now).color) < rank(h.color)
                )
                if lowers and rec.uphold_proposed_person in (None, person):
                    # clearing a case or lowering a colour takes two people: this one proposes it
                    if rec.uphold_proposed_person == person:
                        return self._view(rec, now), False  # proposed already: a second person confirms
                    asked = rec.model_copy(update={"uphold_proposed_by": by.sub, "uphold_proposed_person": person})
                    try:
                        saved = self._store.save(asked)
                    except VersionConflict:
                        continue
                    logger.info("appeal uphold proposed", extra={"appeal_id": appeal_id})
                    return self._view(saved, now), True
            decided = rec.model_copy(
                update={
                    "status": "upheld" if req.decision == "uphold" else "rejected",
                    "decided_at": now,
                    "decided_by": by.sub,
                    "decided_by_person": person,
                    "decision_reason": req.reason,
                    "correction": correction,
                    "holder_version": h.version,
                }
            )
            try:
                saved = self._store.decide(decided)
            except VersionConflict:
                continue
            logger.info("appeal decided", extra={"appeal_id": appeal_id, "decision": req.decision})
            if saved.status == "upheld":
                saved = self._correct(saved, now)
            return self._view(saved, now), True
        raise Unavailable("The appeal is being decided by someone else; try again.", retry_after=1)

    def _not_their_own(self, person: str, rec: AppealRecord, h: Holder) -> None:
        """Nobody decides about their own code or a dependant's, whichever account they use."""
        own = self._holders.get(person)
        account = own.sub if own is not None else None
        if concerns(person, h.holder_id, h.guardian, account) or (account is not None and rec.owner == account):
            raise Forbidden("You may not decide an appeal about your own code or a dependant's; another person decides.")

    # ---------------------------------------------------------------- helpers
    def _correct(self, rec: AppealRecord, now: datetime) -> AppealRecord:
        """Apply an upheld appeal's correction to its holder (rescored at once), then record that it is
        done and the holder's version after it: a resend never applies it again."""
        fix = Correction.model_validate(rec.correction or {})
        if rec.factor == "override":
            self._release(rec.holder_id)
        cause = f"appeal {rec.appeal_id} upheld: {rec.decision_reason}"
        fever_at = self._rulesets.at(now).fever_temperature
        saved, _ = self._recolor(rec.holder_id, now, cause, _remover(rec.factor, fix, now, fever_at))
        done = rec.model_copy(
            update={
                "color_after": saved.color if saved else None,
                "corrected": True,
                "holder_version": saved.version if saved else None,
            }
        )
        for _ in range(ATTEMPTS):
            try:
                return self._store.save(done)
            except VersionConflict:
                current = self._get(rec.appeal_id)
                if current.corrected:
                    return current
                done = current.model_copy(update=done.model_dump(include={"color_after", "corrected", "holder_version"}))
        raise Unavailable("The appeal is being changed by someone else; try again.", retry_after=1)

    def _release(self, holder: str) -> None:
        """Take ``holder`` out of every override it carries, in the override's record (so a retried
        approval cannot put it back); the holder's own item is corrected by the caller."""
        h = self._holders.get(holder)
        for carried in h.authority.overrides if h else []:
            for _ in range(ATTEMPTS):
                rec = self._overrides.get(carried.override_id)
                if rec is None or holder in rec.released:
                    break
                try:
                    self._overrides.save(rec.model_copy(update={"released": [*rec.released, holder]}))
                except VersionConflict:
                    continue
                break

    def _get(self, appeal_id: str) -> AppealRecord:
        rec = self._store.get(appeal_id)
        if rec is None:
            raise NotFound(f"No appeal {appeal_id}.")
        return rec

    def _appellant(self, sub: str, dependant_id: str | None) -> Holder:
        if dependant_id is None:
            h = self._holders.find_by_sub(sub)
            if h is None:
                raise NotFound("You have no health code yet: apply first (POST /v1/applications).")
            return h
        found = next((d for d in self._holders.dependants(sub) if d.code_id == dependant_id), None)
        if found is None:
            raise NotFound("You have no dependant with this dependant_id.")
        return found

    def _view(self, rec: AppealRecord, now: datetime) -> AppealView:
        shown = rec.model_dump(include=set(AppealView.model_fields) - {"overdue"})
        return AppealView(**shown, overdue=rec.status == "open" and now - rec.filed_at > self._deadline)


def _identified(by: Official) -> str:
    if by.person is None:
        raise Forbidden(
            "Your account carries no verified identity: an official must be identified to decide an appeal."
        )
    return by.person


def _correction_problem(factor: str, fix: Correction, h: Holder, fever_at: float) -> FieldError | None:
    """Why upholding ``factor`` with ``fix`` would remove nothing from ``h`` (None: it removes something)."""
    if factor == "stay" and fix.region is None:
        return FieldError("correction.region", "required: the region of the mistaken stay")
    if _remover(factor, fix, None, fever_at)(h) == h:
        return FieldError("correction", f"the holder has no {factor} fact that matches it")
    return None


def _remover(
    factor: str, fix: Correction, now: datetime | None, fever_at: float
) -> Callable[[Holder | None], Holder | None]:
    """The change that takes the appealed facts off a holder (narrowed by ``fix``)."""

    def on_day(day: object) -> bool:
        return fix.on is None or day == fix.on

    def change(h: Holder | None) -> Holder | None:
        if h is None:
            return None
        auth = h.authority
        update: dict[str, Any] = {}
        if factor == "case" and auth.case:
            update["authority"] = auth.model_copy(update={"case": None, "cleared_at": now or auth.cleared_at})
        elif factor in ("close_contact", "secondary_contact"):
            keep = [c for c in h.contacts if not (c.kind == factor and on_day(c.on))]
            listed = [c for c in auth.contacts if not (c.kind == factor and on_day(c.on))]
            if keep != h.contacts:
                update["contacts"] = keep
            if listed != auth.contacts:
                update["authority"] = auth.model_copy(update={"contacts": listed})
        elif factor == "stay":
            keep_stays = [
                s
                for s in h.stays
                if not (s.region == fix.region and (fix.arrived_on is None or s.arrived_on == fix.arrived_on))
            ]
            if keep_stays != h.stays:
                update["stays"] = keep_stays
        elif factor in ("fever", "symptoms"):
            update |= _without_symptoms(h, factor == "fever", on_day, fever_at)
        elif factor == "override" and auth.overrides:
            update["authority"] = auth.model_copy(update={"overrides": []})
        return h.model_copy(update=update) if update else h

    return change


def _without_symptoms(h: Holder, fever: bool, on_day: Callable[[object], bool], fever_at: float) -> dict[str, Any]:
    """Reports and check-ins without the appealed fever (a fever reading's check-in is dropped: the day
    is then one without a check-in) or without the other symptoms."""
    reports, checkins = [], []
    for r in h.reports:
        if on_day(r.on):
            if fever:
                r = r.model_copy(update={"symptoms": [s for s in r.symptoms if s != "fever"], "temperature": None})
            else:
                r = r.model_copy(update={"symptoms": [s for s in r.symptoms if s == "fever"]})
        if r.symptoms or r.temperature is not None:
            reports.append(r)
    for c in h.checkins:
        if on_day(c.on):
            if fever:
                if c.temperature >= fever_at:
                    continue
                c = c.model_copy(update={"symptoms": [s for s in c.symptoms if s != "fever"]})
            else:
                c = c.model_copy(update={"symptoms": [s for s in c.symptoms if s == "fever"]})
        checkins.append(c)
    out: dict[str, Any] = {}
    if reports != h.reports:
        out["reports"] = reports
    if checkins != h.checkins:
        out["checkins"] = checkins
    return out
