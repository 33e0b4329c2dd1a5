"""Use cases of the health authority: region levels, case lists, rulesets, rescoring runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode.errors import FieldError, InvalidInput, NotFound
from healthcode.messages import Daily, segments
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
from healthcode.scoring.rules import local_day
from healthcode.scoring.ruleset import Ruleset
from healthcode.usecases.validation import check_cases

if TYPE_CHECKING:
    from healthcode.adapters.base import RecomputeQueue, RulesetStore, RunLog
    from healthcode.usecases.changes import Changes

logger = Logger(child=True)
DEFAULT_SEGMENTS = 16


class Authority:
    def __init__(
        self,
        changes: Changes,
        rulesets: RulesetStore,
        runs: RunLog,
        queue: RecomputeQueue,
        segments: int = DEFAULT_SEGMENTS,
    ) -> None:
        self._changes = changes
        self._rulesets = rulesets
        self._runs = runs
        self._queue = queue
        self._segments = segments

    def set_region_level(self, code: str, req: RegionLevelRequest, by: str, now: datetime) -> RegionView:
        return self._changes.set_level(code, req.name, req.level, by, now)

    def record_cases(self, req: CaseListRequest, by: str, now: datetime) -> CaseListView:
        check_cases(req, local_day(now, self._rulesets.at(now)))
        known = self._changes.record_listings(req.cases, now)
        logger.info("case list recorded", extra={"entries": len(req.cases), "known": known, "by": by})
        return CaseListView(accepted=len(req.cases), known_holders=known, recorded_at=now)

    def start_rescoring(self, req: RescoringRequest, by: str, now: datetime) -> RescoringView:
        """Queue rescoring now: the due holders (the daily schedule's work), or everyone (a full run)."""
        logger.info("rescoring queued", extra={"scope": req.scope, "by": by})
        if req.scope == "due":
            self._queue.send(Daily(by=by, at=now))
            return RescoringView(scope=req.scope, queued_at=now)
        total = req.segments or self._segments
        version = self._rulesets.at(now).version
        run_id = f"{version}-{now.strftime('%Y%m%dT%H%M%S%f')}"
        if self._runs.create(run_id, total, version, by, now):
            for message in segments(run_id, total):
                self._queue.send(message)
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

    def publish_ruleset(self, req: RulesetPublishRequest, by: str) -> RulesetView:
        """Publish a new ruleset version; it takes effect at its ``effective_from`` (a full run follows)."""
        try:
            ruleset = Ruleset.from_document(req.document)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                "This is not a ruleset document.", [FieldError("document", f"{type(exc).__name__}: {exc}")]
            ) from exc
        self._rulesets.publish(ruleset)
        logger.info("ruleset published", extra={"version": ruleset.version, "by": by})
        return RulesetView(version=ruleset.version, effective_from=ruleset.effective_from)
