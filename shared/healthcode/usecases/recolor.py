"""The one colour-write path: build facts from a stored holder, score them with the pure rules, write
the result back conditionally, with the cause of the computation.

Every colour computation (apply, check-in, code view, every recompute path) goes through
:meth:`Recolor.__call__`, so they all get the same optimistic-locking retry. The holder write is the
one commit: its History entry and ``ColorChanged`` event are derived from the holders table's stream
(:mod:`healthcode.usecases.consequences`), so a change is never stored without them, nor they without it.
Use cases hold a ``Recolor``; it is a collaborator, not a use case (it knows nothing of who asked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import Unavailable, VersionConflict
from healthcode.models import Holder, LevelSnapshot, QuarantineView, ReasonView, StoredEpisode, StoredState
from healthcode.scoring.rules import Checkin, Contact, Episode, Facts, Override, State, Stay, SymptomReport, evaluate

if TYPE_CHECKING:
    from healthcode.adapters.base import HolderRepository, RegionLevels, RulesetStore
    from healthcode.regions import RegionRegistry
    from healthcode.scoring.rules import Assessment
    from healthcode.scoring.ruleset import Ruleset

logger = Logger(child=True)
MAX_ATTEMPTS = 5
# the service keeps check-ins and symptom reports at least this long (the README's retention table);
# the rulesets' windows are theirs: what a write keeps follows them (:func:`retention`)
RECORD_FLOOR_DAYS = 30


@dataclass(frozen=True, slots=True)
class Retention:
    """How far back a write keeps facts: stays and contacts that ended ``fact_days`` ago, check-ins and
    reports from ``record_days`` ago (and every check-in of the episode in progress)."""

    fact_days: int
    record_days: int


def retention(rulesets: Sequence[Ruleset], now: datetime) -> Retention:
    """What must be kept for the ruleset in force at ``now`` and every one announced after it: a fact
    a later ruleset would count is never pruned by an earlier one's shorter window."""
    in_force = [r for r in rulesets if r.effective_from <= now]
    kept = [*in_force[-1:], *(r for r in rulesets if r.effective_from > now)] or list(rulesets)
    return Retention(
        fact_days=max(r.fact_days for r in kept),
        record_days=max(RECORD_FLOOR_DAYS, *(r.symptom_window for r in kept)),
    )


def facts_of(h: Holder) -> Facts:
    contacts = [Contact(c.kind, c.on) for c in h.contacts] + [Contact(c.kind, c.on) for c in h.authority.contacts]
    return Facts(
        stays=tuple(Stay(s.region, s.arrived_on, s.left_on) for s in h.stays),
        contacts=tuple(contacts),
        reports=tuple(SymptomReport(r.on, tuple(r.symptoms), r.temperature) for r in h.reports),
        checkins=tuple(Checkin(c.on, c.temperature, tuple(c.symptoms)) for c in h.checkins),
        case=h.authority.case,
        overrides=tuple(Override(o.color, o.reason, o.until) for o in h.authority.overrides),
    )


def state_of(h: Holder) -> State:
    ep = h.state.episode
    episode = Episode(ep.color, ep.started_on, ep.covers, ep.is_case) if ep else None
    return State(episode, dict(h.state.discharged))


def with_assessment(h: Holder, a: Assessment, now: datetime, keep: Retention) -> Holder:
    ep = a.state.episode
    q = a.quarantine
    cutoff = a.today - timedelta(days=keep.record_days)
    # a quarantine counts its check-ins from its first day, however many it needs
    checkins_from = min(cutoff, ep.started_on) if ep is not None else cutoff
    return h.model_copy(
        update={
            "color": a.color,
            "score": a.score,
            "reasons": [ReasonView(factor=r.factor, points=r.points, detail=r.detail) for r in a.reasons],
            "ruleset_version": a.ruleset_version,
            "since": now if (a.color != h.color or h.since is None) else h.since,
            "quarantine": QuarantineView(
                kind=q.kind,
                checkins_required=q.checkins_required,
                checkins_done=q.checkins_done,
                started_on=q.started_on,
                note=q.note,
            )
            if q
            else None,
            "green_eligible_on": a.green_eligible_on,
            "due_on": a.due_on,
            "state": StoredState(
                episode=StoredEpisode(
                    color=ep.color, started_on=ep.started_on, covers=dict(ep.covers), is_case=ep.is_case
                )
                if ep
                else None,
                discharged=dict(a.state.discharged),
            ),
            "checkins": [c for c in h.checkins if c.on >= checkins_from],
            "reports": [r for r in h.reports if r.on >= cutoff],
            **pruned(h, a.today, keep.fact_days),
            "updated_at": now,
        }
    )


def pruned(h: Holder, today: date, fact_days: int) -> dict[str, Any]:
    """Stays and contacts that have left every window (they can no longer count) and overrides whose day
    has passed, dropped: an item stays small however often a holder declares."""
    since = today - timedelta(days=fact_days)
    auth = h.authority
    if any(c.on < since for c in auth.contacts) or any(o.until < today for o in auth.overrides):
        auth = auth.model_copy(
            update={
                "contacts": [c for c in auth.contacts if c.on >= since],
                "overrides": [o for o in auth.overrides if o.until >= today],
            }
        )
    return {
        "stays": [s for s in h.stays if s.left_on is None or s.left_on >= since],
        "contacts": [c for c in h.contacts if c.on >= since],
        "authority": auth,
    }


def _changed(old: Holder, new: Holder) -> bool:
    """Whether scoring changed anything the holder or a job can see. The ruleset version alone is not a
    change: a new ruleset that leaves a holder as they were costs a read, not a write (15 million)."""
    keys = ("color", "score", "reasons", "quarantine", "green_eligible_on", "due_on", "state")
    return any(getattr(old, k) != getattr(new, k) for k in keys)


class Recolor:
    def __init__(
        self,
        holders: HolderRepository,
        regions: RegionLevels,
        rulesets: RulesetStore,
        registry: RegionRegistry,
    ) -> None:
        self._holders = holders
        self._regions = regions
        self._rulesets = rulesets
        self._registry = registry

    def levels(self, h: Holder, snapshot: LevelSnapshot | None = None) -> dict[str, int]:
        """The level of every region ``h`` stayed in, from ``snapshot`` (default: this environment's
        cached one; a change reaches holders scored with an older one through the region's rescoring,
        which starts only once every cache has it: see ``Consequences``)."""
        codes = {s.region for s in h.stays}
        if not codes:
            return {}
        set_levels = (snapshot or self._regions.snapshot()).levels
        return {c: self._registry.effective_level(c, set_levels) for c in codes}

    def assess(self, h: Holder, now: datetime, levels: LevelSnapshot | None = None) -> Holder:
        names = {s.region: self._registry.full_name(s.region) for s in h.stays}
        a = evaluate(facts_of(h), state_of(h), self.levels(h, levels), self._rulesets.at(now), now, names)
        return with_assessment(h, a, now, retention(self._rulesets.versions(), now))

    def __call__(
        self,
        holder_id: str,
        now: datetime,
        cause: str | Callable[[], str],
        change: Callable[[Holder | None], Holder | None] | None = None,
        levels: LevelSnapshot | None = None,
        score: bool = True,
        current: Holder | None = None,
    ) -> tuple[Holder | None, bool]:
        """Read, change (optionally), re-score and conditionally write one holder.

        With ``score=False`` only the change is written (the recompute queue scores it later).

        A write that loses to a concurrent writer is re-read and re-scored, never overwritten.
        ``current``: a copy already read (a page of an index or a scan) to try first.
        Returns the holder as stored (None when there is no such holder and ``change`` made none) and
        whether this call wrote it.
        """
        for attempt in range(MAX_ATTEMPTS):
            if attempt or current is None:
                current = self._holders.get(holder_id)
            updated = change(current) if change else current
            if updated is None:
                return None, False
            why = cause() if callable(cause) else cause  # a cause may depend on what the change found
            if not score or not updated.applied:  # not scored here (or nothing to score yet)
                if current is not None and updated == current:
                    return current, False
                # an applied holder's facts changed unscored: the change's consequence (rescoring) is
                # taken from the table's stream, so it cannot be lost between two writes
                pending = updated.model_copy(update={"rescore_pending": updated.applied, "cause": why})
                try:
                    return self._holders.save(pending, current), True
                except VersionConflict:
                    continue
            scored = self.assess(updated, now, levels).model_copy(update={"cause": why, "rescore_pending": False})
            if (
                current is not None
                and updated == current
                and not _changed(current, scored)
                and not current.rescore_pending
            ):
                # nothing new in, nothing new out: no write (shown under the ruleset now in force)
                return current.model_copy(update={"ruleset_version": scored.ruleset_version}), False
            try:
                saved = self._holders.save(scored, current)
            except VersionConflict:
                logger.info("version conflict, re-reading", extra={"holder_id": holder_id, "cause": why})
                continue
            return saved, True
        raise Unavailable("The holder is being changed by someone else; try again.", retry_after=1)
