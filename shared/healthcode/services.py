"""Use cases: one method per thing a user does. Handlers call these; these call the store and the rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from healthcode.errors import FieldError, conflict, invalid, not_found
from healthcode.identity import holder_id, mask_name, mask_phone, normalize_id_number
from healthcode.models import (
    ApplicationRequest,
    CaseListRequest,
    CaseListView,
    CheckinRequest,
    CodeView,
    Holder,
    RegionLevelRequest,
    RegionView,
    RescoringRequest,
    RescoringView,
    StoredCheckin,
    StoredContact,
    StoredReport,
    StoredStay,
    TokenView,
    VerificationRequest,
    VerificationView,
)
from healthcode.scoring import Color, local_day
from healthcode.validation import check_application, check_cases

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from healthcode.assessor import Assessor
    from healthcode.events import RecomputeQueue
    from healthcode.keys import KeyRing
    from healthcode.store import ScanLog, StayIndex

logger = Logger(child=True)

INSTRUCTIONS = {
    Color.GREEN: "Pass.",
    Color.YELLOW: "Stop: yellow code. Do not let in; the holder must go to home quarantine (up to 7 days).",
    Color.RED: "Stop: red code. Do not let in; keep distance and call the community health officer for centralized quarantine.",
}
UNUSABLE = {
    "expired": "Stop: this code has expired. Ask the holder to refresh the code in the app and scan again.",
    "invalid_signature": "Stop: this code is forged or altered. Do not let in; report it.",
    "unknown_issuer": "Stop: this code was not issued by a recognised health code service.",
    "unknown_code": "Stop: no holder has this code. Ask the holder to open the code in the app again.",
    "malformed": "Stop: this is not a health code. Ask the holder to open the code in the app.",
}
HOLDER_BATCH = 50


class Residents:
    """Apply, see one's code, check in."""

    def __init__(
        self, assessor: Assessor, stays: StayIndex, keys: KeyRing, idempotency: BasePersistenceLayer | None = None
    ) -> None:
        self._assessor = assessor
        self._stays = stays
        self._keys = keys
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="[sub, key]", payload_validation_jmespath="request", expires_after_seconds=24 * 3600
        )
        self._apply_once = (
            idempotent_function(
                data_keyword_argument="command",
                persistence_store=idempotency,
                config=self.idempotency_config,
                output_serializer=PydanticSerializer(CodeView),
            )(self._apply_command)
            if idempotency is not None
            else None
        )

    def apply_once(self, sub: str, key: str | None, req: ApplicationRequest, now: datetime) -> CodeView:
        """Apply; with an ``Idempotency-Key`` a retry returns the first answer and writes nothing."""
        if not key or self._apply_once is None:
            return self.apply(sub, req, now)
        if len(key) > 128:
            raise invalid(
                "The Idempotency-Key header is too long.", [FieldError("Idempotency-Key", "at most 128 characters")]
            )
        command = {"sub": sub, "key": key, "request": req.model_dump(mode="json"), "now": now.isoformat()}
        try:
            return self._apply_once(command=command)
        except IdempotencyValidationError as exc:
            raise conflict("This Idempotency-Key was used for a different declaration.") from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise conflict("A request with this Idempotency-Key is still being processed; retry shortly.") from exc

    def _apply_command(self, command: dict[str, Any]) -> CodeView:
        req = ApplicationRequest.model_validate(command["request"])
        return self.apply(command["sub"], req, datetime.fromisoformat(command["now"]))

    def apply(self, sub: str, req: ApplicationRequest, now: datetime) -> CodeView:
        rules, registry = self._assessor.rules, self._assessor.registry
        today = local_day(now, rules)
        check_application(req, today, registry)
        hid = holder_id(self._keys.holder_key(), req.id_type, normalize_id_number(req.id_number))
        bound = self._assessor.holders.find_by_sub(sub)
        if bound is not None and bound.holder_id != hid:
            raise conflict("This account already holds a code for another identity document.")

        def change(cur: Holder | None) -> Holder:
            if cur is not None and cur.sub is not None and cur.sub != sub:
                raise conflict("This identity document is already bound to another account.")
            base = cur or Holder(holder_id=hid)
            # A declaration adds to what was declared before: a stay can be updated (left_on) but
            # not withdrawn by re-applying (corrections go through an appeal), so re-applying
            # cannot wash a colour away.
            stays = {(s.region, s.arrived_on): s for s in base.stays}
            for s in req.travel_history:
                stays[(s.region, s.arrived_on)] = StoredStay(
                    region=s.region, arrived_on=s.arrived_on, left_on=s.left_on
                )
            contacts = list(base.contacts)
            c = req.contact
            if c.kind != "none" and c.on is not None and all((x.kind, x.on) != (c.kind, c.on) for x in contacts):
                contacts.append(StoredContact(kind=c.kind, on=c.on))
            reports = [r for r in base.reports if r.on != today]
            earlier = next((r for r in base.reports if r.on == today), None)
            symptoms = sorted(set(req.symptoms) | set(earlier.symptoms if earlier else ()))
            temps = [t for t in (req.temperature, earlier.temperature if earlier else None) if t is not None]
            if symptoms or temps:
                reports.append(StoredReport(on=today, symptoms=symptoms, temperature=max(temps) if temps else None))
            return base.model_copy(
                update={
                    "sub": sub,
                    "code_id": base.code_id or uuid.uuid4().hex,
                    "id_type": req.id_type,
                    "masked_name": mask_name(req.name),
                    "masked_phone": mask_phone(req.phone),
                    "residence_region": req.residence_region,
                    "stays": sorted(stays.values(), key=lambda s: (s.arrived_on, s.region)),
                    "contacts": contacts,
                    "reports": reports,
                    "applied_at": base.applied_at or now,
                }
            )

        # The stays index is written first: an entry without a saved holder only costs a no-op
        # rescoring later, while a holder without its entries would miss a region change.
        self._stays.record(hid, ((s.region, s.left_on) for s in req.travel_history))
        saved, _ = self._assessor.rescore_and_save(hid, now, "application", change)
        assert saved is not None
        return self.view(saved, now)

    def code(self, sub: str, now: datetime) -> CodeView:
        h = self._mine(sub)
        saved, _ = self._assessor.rescore_and_save(h.holder_id, now, "time passed")  # catches up, writes only on change
        assert saved is not None
        return self.view(saved, now)

    def check_in(self, sub: str, req: CheckinRequest, now: datetime) -> CodeView:
        h = self._mine(sub)
        today = local_day(now, self._assessor.rules)
        entry = StoredCheckin(on=today, temperature=float(req.temperature), symptoms=sorted(set(req.symptoms)), at=now)

        def change(cur: Holder | None) -> Holder:
            assert cur is not None
            # a second check-in on the same day replaces the first
            return cur.model_copy(update={"checkins": [c for c in cur.checkins if c.on != today] + [entry]})

        saved, _ = self._assessor.rescore_and_save(h.holder_id, now, "check-in", change)
        assert saved is not None
        return self.view(saved, now)

    def _mine(self, sub: str) -> Holder:
        h = self._assessor.holders.find_by_sub(sub)
        if h is None:
            raise not_found("You have no health code yet: apply first (POST /v1/applications).")
        return h

    def view(self, h: Holder, now: datetime) -> CodeView:
        assert h.code_id is not None
        token = self._keys.signer().issue(h.code_id, h.color.value, now)
        return CodeView(
            color=h.color,
            score=h.score,
            reasons=h.reasons,
            ruleset_version=h.ruleset_version,
            since=h.since or now,
            quarantine=h.quarantine,
            green_eligible_on=h.green_eligible_on,
            masked_name=h.masked_name,
            token=TokenView(value=token.value, expires_at=token.expires_at),
        )


class Checkpoints:
    """Scan a code: pass or stop, from the holder's colour now."""

    def __init__(self, assessor_holders: Any, scans: ScanLog, keys: KeyRing) -> None:
        self._holders = assessor_holders
        self._scans = scans
        self._keys = keys

    def verify(self, req: VerificationRequest, now: datetime) -> VerificationView:
        check = self._keys.verifier().check(req.token, now)
        if check.unknown_kid:
            check = self._keys.verifier(refresh=True).check(req.token, now)
        color: Color | None = None
        masked: str | None = None
        status = check.status
        if status == "valid":
            assert check.code_id is not None
            record = self._holders.code_status(check.code_id)
            if record is None:
                status = "unknown_code"
            else:
                color, masked = Color(record.color), record.masked_name
        self._scans.record(req.checkpoint_id, check.code_id or "-", color.value if color else None, status, now)
        if color is not None:
            decision = "pass" if color is Color.GREEN else "stop"
            instruction = INSTRUCTIONS[color]
            if check.color and check.color != color.value:
                instruction += f" The code shown says {check.color}; the holder's colour is now {color.value}."
        else:
            decision, instruction = "stop", UNUSABLE[status]
        return VerificationView(
            decision=decision,
            color=color,
            code_status=status,  # type: ignore[arg-type]
            instruction=instruction,
            masked_name=masked,
            checked_at=now,
            issuer=check.issuer,
        )


class Authority:
    """The health authority's changes: region levels and case lists. Both feed the recompute queue."""

    def __init__(self, assessor: Assessor, queue: RecomputeQueue, keys: KeyRing) -> None:
        self._assessor = assessor
        self._queue = queue
        self._keys = keys

    def set_region_level(self, code: str, req: RegionLevelRequest, by: str, now: datetime) -> RegionView:
        region = self._assessor.registry.get(code)
        if region is None:
            raise not_found(f"Unknown region code {code} (GB/T 2260).")
        self._assessor.regions.put(code, req.name, req.level, region.parent, by, now)
        self._queue.send({"kind": "region", "code": code, "at": now.isoformat()})
        logger.info("region level set", extra={"region": code, "level": req.level, "by": by})
        return RegionView(code=code, name=req.name, level=req.level, updated_at=now, updated_by=by)

    def start_rescoring(self, req: RescoringRequest, by: str, now: datetime) -> RescoringView:
        """Queue a rescoring run now (the same work the daily schedule does)."""
        self._queue.send({"kind": "daily", "by": by, "at": now.isoformat()})
        logger.info("rescoring queued", extra={"scope": req.scope, "by": by})
        return RescoringView(scope=req.scope, queued_at=now)

    def record_cases(self, req: CaseListRequest, by: str, now: datetime) -> CaseListView:
        check_cases(req, local_day(now, self._assessor.rules))
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


class Rescoring:
    """Recompute colours when time passes, regions change or lists arrive."""

    def __init__(self, assessor: Assessor, stays: StayIndex) -> None:
        self._assessor = assessor
        self._stays = stays

    def handle(self, message: dict[str, Any], now: datetime) -> int:
        """Process one recompute message; returns how many holders changed."""
        kind = message.get("kind")
        if kind == "region":
            return self.region_changed(str(message["code"]), now)
        if kind == "holders":
            return self.holders(list(message["holder_ids"]), now, str(message.get("cause", "authority list")))
        if kind == "daily":
            return self.daily(now)
        raise ValueError(f"unknown recompute message kind {kind!r}")

    def daily(self, now: datetime) -> int:
        today = local_day(now, self._assessor.rules)
        overrides = self._assessor.regions.overrides()
        return self._rescore(self._assessor.holders.due(today), now, "time passed", overrides)

    def region_changed(self, code: str, now: datetime) -> int:
        rules, registry = self._assessor.rules, self._assessor.registry
        since = local_day(now, rules) - timedelta(days=rules.stay_window)
        overrides = self._assessor.regions.overrides()
        seen: set[str] = set()

        def affected() -> Iterable[str]:
            for county in registry.counties_under(code):
                for hid in self._stays.holders(county, since):
                    if hid not in seen:
                        seen.add(hid)
                        yield hid

        return self._rescore(affected(), now, f"risk level of region {code} changed", overrides)

    def holders(self, holder_ids: list[str], now: datetime, cause: str) -> int:
        return self._rescore(holder_ids, now, cause, None)

    def _rescore(self, holder_ids: Iterable[str], now: datetime, cause: str, overrides: Any) -> int:
        changed = 0
        for hid in holder_ids:
            _, wrote = self._assessor.rescore_and_save(hid, now, cause, overrides=overrides)
            changed += wrote
        return changed


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
