"""Use cases of the health authority: region levels, case lists, rescoring runs. All feed the queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from healthcode.errors import FieldError, conflict, invalid, not_found
from healthcode.identity import holder_id, normalize_id_number
from healthcode.models import (
    CaseListRequest,
    CaseListView,
    Holder,
    RegionLevelRequest,
    RegionView,
    RescoringRequest,
    RescoringView,
    RulesetPublishRequest,
    RulesetView,
    RunView,
    StoredContact,
)
from healthcode.scoring import local_day
from healthcode.validation import check_cases

if TYPE_CHECKING:
    from healthcode.assessor import Assessor
    from healthcode.events import RecomputeQueue
    from healthcode.keys import KeyRing
    from healthcode.rescoring import Rescoring
    from healthcode.store import DynamoRuns

logger = Logger(child=True)
HOLDER_BATCH = 50


class Authority:
    """The health authority's changes: region levels and case lists. Both feed the recompute queue."""

    def __init__(
        self,
        assessor: Assessor,
        queue: RecomputeQueue,
        keys: KeyRing,
        rescoring: Rescoring,
        runs: DynamoRuns,
        rulesets_table: Any,
    ) -> None:
        self._assessor = assessor
        self._queue = queue
        self._keys = keys
        self._rescoring = rescoring
        self._runs = runs
        self._rulesets_table = rulesets_table

    def set_region_level(self, code: str, req: RegionLevelRequest, by: str, now: datetime) -> RegionView:
        region = self._assessor.registry.get(code)
        if region is None:
            raise not_found(f"Unknown region code {code} (GB/T 2260).")
        self._assessor.regions.put(code, req.name, req.level, region.parent, by, now)
        self._queue.send({"kind": "region", "code": code, "at": now.isoformat()})
        logger.info("region level set", extra={"region": code, "level": req.level, "by": by})
        return RegionView(code=code, name=req.name, level=req.level, updated_at=now, updated_by=by)

    def start_rescoring(self, req: RescoringRequest, by: str, now: datetime) -> RescoringView:
        """Queue rescoring now: the due holders (the daily schedule's work), or everyone (a full run)."""
        logger.info("rescoring queued", extra={"scope": req.scope, "by": by})
        if req.scope == "due":
            self._queue.send({"kind": "daily", "by": by, "at": now.isoformat()})
            return RescoringView(scope=req.scope, queued_at=now)
        run_id = self._rescoring.start_run(now, by, segments=req.segments)
        return RescoringView(scope=req.scope, queued_at=now, run_id=run_id)

    def run(self, run_id: str) -> RunView:
        run = self._runs.get(run_id)
        if run is None:
            raise not_found(f"No rescoring run {run_id}.")
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
            ruleset = self._assessor.rulebook.publish(self._rulesets_table, req.document)
        except (KeyError, TypeError, ValueError) as exc:
            raise invalid(
                "This is not a ruleset document.", [FieldError("document", f"{type(exc).__name__}: {exc}")]
            ) from exc
        except self._rulesets_table.meta.client.exceptions.ConditionalCheckFailedException as exc:
            raise conflict(
                f"Ruleset version {req.document.get('version')} exists already; versions are never replaced."
            ) from exc
        logger.info("ruleset published", extra={"version": ruleset.version, "by": by})
        return RulesetView(version=ruleset.version, effective_from=ruleset.effective_from)

    def record_cases(self, req: CaseListRequest, by: str, now: datetime) -> CaseListView:
        check_cases(req, local_day(now, self._assessor.rules_at(now)))
        key = self._keys.holder_key()
        known: list[str] = []
        for entry in req.cases:
            hid = holder_id(key, entry.id_type, normalize_id_number(entry.id_number))

            def change(cur: Holder | None, entry: Any = entry, hid: str = hid) -> Holder:
                base = cur or Holder(holder_id=hid)  # kept for a later application
                auth = base.authority
                if entry.status in ("confirmed", "suspected"):
                    auth = auth.model_copy(update={"case": entry.status})
                elif entry.status == "cleared":
                    auth = auth.model_copy(update={"case": None, "contacts": [], "cleared_at": now})
                else:
                    contact = StoredContact(kind=entry.status, on=entry.on)
                    if contact not in auth.contacts:
                        auth = auth.model_copy(update={"contacts": [*auth.contacts, contact]})
                if auth == base.authority:
                    return base
                return base.model_copy(update={"authority": auth.model_copy(update={"updated_at": now})})

            saved, _ = self._assessor.rescore_and_save(hid, now, "authority list", change, score=False)
            if saved is not None and saved.applied:
                known.append(hid)
        for batch in _chunks(known, HOLDER_BATCH):
            self._queue.send({"kind": "holders", "holder_ids": batch, "cause": "authority list"})
        logger.info("case list recorded", extra={"entries": len(req.cases), "known": len(known), "by": by})
        return CaseListView(accepted=len(req.cases), known_holders=len(known), recorded_at=now)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
