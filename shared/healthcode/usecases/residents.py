"""Use cases of residents: apply (declare), see one's code, check in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from healthcode.errors import Conflict, FieldError, InvalidInput, NotFound
from healthcode.identity import holder_id, mask_name, mask_phone, normalize_id_number
from healthcode.models import (
    ApplicationRequest,
    CheckinRequest,
    CodeView,
    Holder,
    StoredCheckin,
    StoredContact,
    StoredReport,
    StoredStay,
    TokenView,
)
from healthcode.scoring.rules import local_day
from healthcode.usecases.validation import check_application

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from healthcode.adapters.base import HolderRepository, Keys, RulesetStore, StayIndex
    from healthcode.regions import RegionRegistry
    from healthcode.usecases.recolor import Recolor


class Residents:
    """Apply, see one's code, check in."""

    def __init__(
        self,
        recolor: Recolor,
        holders: HolderRepository,
        stays: StayIndex,
        rulesets: RulesetStore,
        registry: RegionRegistry,
        keys: Keys,
        idempotency: BasePersistenceLayer | None = None,
    ) -> None:
        self._recolor = recolor
        self._holders = holders
        self._stays = stays
        self._rulesets = rulesets
        self._registry = registry
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
            raise InvalidInput(
                "The Idempotency-Key header is too long.", [FieldError("Idempotency-Key", "at most 128 characters")]
            )
        command = {"sub": sub, "key": key, "request": req.model_dump(mode="json"), "now": now.isoformat()}
        try:
            return self._apply_once(command=command)
        except IdempotencyValidationError as exc:
            raise Conflict("This Idempotency-Key was used for a different declaration.") from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.") from exc

    def _apply_command(self, command: dict[str, Any]) -> CodeView:
        req = ApplicationRequest.model_validate(command["request"])
        return self.apply(command["sub"], req, datetime.fromisoformat(command["now"]))

    def apply(self, sub: str, req: ApplicationRequest, now: datetime) -> CodeView:
        today = local_day(now, self._rulesets.at(now))
        check_application(req, today, self._registry)
        hid = holder_id(self._keys.holder_key(), req.id_type, normalize_id_number(req.id_number))
        bound = self._holders.find_by_sub(sub)
        if bound is not None and bound.holder_id != hid:
            raise Conflict("This account already holds a code for another identity document.")

        def change(cur: Holder | None) -> Holder:
            if cur is not None and cur.sub is not None and cur.sub != sub:
                raise Conflict("This identity document is already bound to another account.")
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
        saved, _ = self._recolor(hid, now, "application", change)
        assert saved is not None
        return self.view(saved, now)

    def code(self, sub: str, now: datetime) -> CodeView:
        h = self._mine(sub)
        saved, _ = self._recolor(h.holder_id, now, "time passed")  # catches up, writes only on change
        assert saved is not None
        return self.view(saved, now)

    def check_in(self, sub: str, req: CheckinRequest, now: datetime) -> CodeView:
        h = self._mine(sub)
        today = local_day(now, self._rulesets.at(now))
        entry = StoredCheckin(on=today, temperature=float(req.temperature), symptoms=sorted(set(req.symptoms)), at=now)

        def change(cur: Holder | None) -> Holder:
            assert cur is not None
            # a second check-in on the same day replaces the first's temperature; its symptoms stay reported
            earlier = next((c for c in cur.checkins if c.on == today), None)
            merged = entry
            if earlier is not None:
                merged = entry.model_copy(update={"symptoms": sorted(set(earlier.symptoms) | set(entry.symptoms))})
            return cur.model_copy(update={"checkins": [c for c in cur.checkins if c.on != today] + [merged]})

        saved, _ = self._recolor(h.holder_id, now, "check-in", change)
        assert saved is not None
        return self.view(saved, now)

    def current_ruleset(self, now: datetime) -> dict[str, Any]:
        """The ruleset document in force (published, so anyone can check how a colour is computed)."""
        return self._rulesets.at(now).document

    def _mine(self, sub: str) -> Holder:
        h = self._holders.find_by_sub(sub)
        if h is None:
            raise NotFound("You have no health code yet: apply first (POST /v1/applications).")
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
