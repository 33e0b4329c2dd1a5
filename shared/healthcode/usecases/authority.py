"""Use cases of the health authority: region levels, case lists, rulesets, rescoring runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from healthcode.lazy import Lazy, resolve
from healthcode.messages import FULL_RUN_SEGMENTS, Daily
from healthcode.models import (
    CaseListRequest,
    CaseListView,
    RegionLevelRequest,
    RegionView,
    RescoringRequest,
    RescoringView,
    RulesetPublishRequest,
    RulesetView,
    RunView,
)
from healthcode.scoring.checks import broken_promises, dry_run, problems, timeline_changes
from healthcode.scoring.rules import local_day
from healthcode.scoring.ruleset import Ruleset, ruleset_schema
from healthcode.usecases.validation import check_cases

if TYPE_CHECKING:
    from healthcode.adapters.base import RecomputeQueue, RulesetStore, RunLog
    from healthcode.identity import Official
    from healthcode.usecases.changes import Changes

logger = Logger(child=True)


class Authority:
    def __init__(
        self,
        changes: Changes | Lazy[Changes],
        rulesets: RulesetStore | Lazy[RulesetStore],
        runs: RunLog,
        queue: RecomputeQueue | Lazy[RecomputeQueue],
        segments: int = FULL_RUN_SEGMENTS,
        notice: timedelta = timedelta(hours=48),
    ) -> None:
        """``changes``, ``rulesets``, ``queue``: the collaborators, or :class:`Lazy` ones made when first
        needed (reading a run's progress needs none of them, nor their clients, at a cold start)."""
        self._changes_given, self._rulesets_given, self._queue_given = changes, rulesets, queue
        self._runs = runs
        self._segments = segments
        self._notice = notice  # how long before it applies a ruleset must be published

    @property
    def _changes(self) -> Changes:
        return resolve(self._changes_given)

    @property
    def _rulesets(self) -> RulesetStore:
        return resolve(self._rulesets_given)

    @property
    def _queue(self) -> RecomputeQueue:
        return resolve(self._queue_given)

    def set_region_level(self, code: str, req: RegionLevelRequest, by: str, now: datetime) -> RegionView:
        return self._changes.set_level(code, req.name, req.level, by, now)

    def record_cases(self, req: CaseListRequest, by: str, now: datetime) -> CaseListView:
        check_cases(req, local_day(now, self._rulesets.at(now)))
        known, failed = self._changes.record_listings(req.cases, now)
        logger.info("case list recorded", extra={"entries": len(req.cases), "known": known, "failed": len(failed)})
        return CaseListView(accepted=len(req.cases) - len(failed), known_holders=known, recorded_at=now, failed=failed)

    def listed_holders(self, req: CaseListRequest) -> list[str]:
        return self._changes.holder_ids(req.cases)

    def start_rescoring(self, req: RescoringRequest, by: str, now: datetime) -> RescoringView:
        """Queue rescoring now: the due holders (the daily schedule's work), or everyone (a full run)."""
        logger.info("rescoring queued", extra={"scope": req.scope, "by": by})
        if req.scope == "due":
            self._queue.send(Daily(by=by, at=now))
            return RescoringView(scope=req.scope, queued_at=now)
        total = req.segments or self._segments
        version = self._rulesets.at(now).version
        run_id = f"{version}-{now.strftime('%Y%m%dT%H%M%S%f')}"
        # one write: the run's segment messages follow from the runs table's stream (consequences.py)
        self._runs.create(run_id, total, version, by, now)
        return RescoringView(scope=req.scope, queued_at=now, run_id=run_id)

    def run(self, run_id: str) -> RunView:
        run = self._runs.get(run_id)
        if run is None:
            raise NotFound(f"No rescoring run {run_id}.")
        return RunView(
            run_id=run_id,
            ruleset_version=run["ruleset_version"],
            segments_total=run["segments_total"],
            segments_done=run["segments_done"],
            holders_read=run["holders_read"],
            holders_changed=run["holders_changed"],
            started_at=run["started_at"],
            started_by=run["started_by"],
            finished=run["segments_done"] >= run["segments_total"],
        )

    def publish_ruleset(
        self, req: RulesetPublishRequest, by: str, now: datetime, person: str | None = None
    ) -> RulesetView:
        """Publish a new ruleset version; it takes effect at its ``effective_from`` (a full run follows).

        The document must match the published schema (``GET /v1/rulesets/schema``), its numbers must
        fit together, and product.md's worked timelines must score under it. It is announced at least
        the notice period ahead (48 h), unless it is an emergency: then it needs a reason and waits for
        a second health_admin's approval. A version is immutable: the same document again is accepted
        as a retry, another document under it is a conflict.
        """
        ruleset = checked_ruleset(req.document)
        if self._rulesets.withdrawn(ruleset.version):
            raise Conflict(f"Ruleset version {ruleset.version} was withdrawn; versions are never reused.")
        stored = next((r for r in self._rulesets.versions(force=True) if r.version == ruleset.version), None)
        if stored is not None:
            if stored.document != ruleset.document:
                raise Conflict(f"Ruleset version {ruleset.version} exists already; versions are never replaced.")
            return RulesetView(version=ruleset.version, effective_from=ruleset.effective_from)  # a retry
        if req.emergency:
            if not req.reason:
                raise InvalidInput("An emergency needs its reason.", [FieldError("reason", "required with emergency")])
            proposed = self._rulesets.proposed(ruleset.version)
            if proposed is None:
                self._rulesets.propose(ruleset, by, req.reason, now, person)
            elif proposed["document"] != ruleset.document or proposed["proposed_by"] != by:
                raise Conflict(f"Ruleset version {ruleset.version} is already awaiting approval.")
            logger.info("emergency ruleset proposed", extra={"version": ruleset.version, "by": by})
            view = RulesetView(version=ruleset.version, effective_from=ruleset.effective_from, emergency=True)
            return view.model_copy(update={"status": "awaiting approval"})
        ahead = ruleset.effective_from - now
        if ahead < self._notice:
            hours = self._notice.total_seconds() / 3600
            raise InvalidInput(
                "Rules are announced before they apply.",
                [
                    FieldError(
                        "document.effective_from",
                        f"takes effect {max(ahead.total_seconds(), 0) / 3600:.1f} h after publication; at least "
                        f"{hours:g} h are needed (or publish with emergency and a reason, for a second approval)",
                    )
                ],
            )
        self._publish(ruleset, by)
        changes = timeline_changes(self._rulesets.at(ruleset.effective_from - timedelta(seconds=1)), ruleset)
        return RulesetView(version=ruleset.version, effective_from=ruleset.effective_from, timelines_changed=changes)

    def approve_ruleset(self, version: str, by: str, person: str | None = None) -> RulesetView:
        """A second person approves an emergency publication: it is published (and in force at its
        time). The proposer cannot approve their own, with any of their accounts."""
        proposed = self._rulesets.proposed(version)
        if proposed is None:
            raise NotFound(f"No emergency ruleset {version} awaits approval.")
        same_person = person is not None and proposed.get("proposed_person") == person
        if proposed["proposed_by"] == by or same_person:
            raise Forbidden("A second health_admin must approve an emergency ruleset, not its proposer.")
        ruleset = checked_ruleset(proposed["document"])
        if not any(r.version == version for r in self._rulesets.versions(force=True)):
            self._publish(ruleset, by)
        return RulesetView(version=version, effective_from=ruleset.effective_from, emergency=True)

    def withdraw_ruleset(self, version: str, who: Official, now: datetime) -> dict[str, Any]:
        """Withdraw an announced version before it applies: two people (identified, different persons).
        The first request asks; a second person's confirms, and the version is no longer published (its
        number stays used). Returns ``{"version", "status": "withdrawal asked" | "withdrawn", ...}``."""
        if who.person is None:
            raise Forbidden("Your account carries no verified identity: an official must be identified to withdraw rules.")
        if self._rulesets.withdrawn(version):
            return {"version": version, "status": "withdrawn"}
        ruleset = next((r for r in self._rulesets.versions(force=True) if r.version == version), None)
        if ruleset is None:
            raise NotFound(f"No published ruleset {version}.")
        if ruleset.effective_from <= now:
            raise Conflict(f"Ruleset {version} applies since {ruleset.effective_from.isoformat()}: publish a new version instead.")
        asked = self._rulesets.ask_withdrawal(version, who.sub, who.person, now)
        if asked["person"] == who.person:
            return {"version": version, "status": "withdrawal asked", "asked_by": asked["by"]}
        self._rulesets.withdraw(ruleset, asked, who.sub, now)
        logger.info("ruleset withdrawn", extra={"version": version})
        return {"version": version, "status": "withdrawn", "asked_by": asked["by"], "confirmed_by": who.sub}

    def _publish(self, ruleset: Ruleset, by: str) -> None:
        try:
            self._rulesets.publish(ruleset)
        except Conflict:
            stored = next((r for r in self._rulesets.versions(force=True) if r.version == ruleset.version), None)
            if stored is None or stored.document != ruleset.document:
                raise
        logger.info("ruleset published", extra={"version": ruleset.version, "by": by})


def checked_ruleset(document: dict[str, Any]) -> Ruleset:
    """The ruleset in ``document`` if it passes the schema, the semantic checks and the dry run (else 422)."""
    from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

    try:
        validate(event=document, schema=ruleset_schema())
    except SchemaValidationError as exc:
        where = "document" + "".join(f".{p}" for p in (exc.path or [])[1:])
        raise InvalidInput(
            "The ruleset does not match its schema.", [FieldError(where, str(exc.validation_message))]
        ) from exc
    try:
        ruleset = Ruleset.from_document(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            "This is not a ruleset document.", [FieldError("document", f"{type(exc).__name__}: {exc}")]
        ) from exc
    wrong = problems(ruleset)
    if wrong:
        raise InvalidInput("The ruleset's numbers do not fit together.", [FieldError(f, m) for f, m in wrong])
    broken = broken_promises(ruleset)
    if broken:
        raise InvalidInput(
            "The ruleset breaks what the service promises whatever the rules; it is refused.",
            [FieldError(f, m) for f, m in broken],
        )
    failed = dry_run(ruleset)
    if failed:
        raise InvalidInput(
            "The ruleset cannot score product.md's worked timelines.", [FieldError("document", f) for f in failed]
        )
    return ruleset
