"""Use cases of residents: apply (declare), see one's code, check in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from healthcode.adapters.base import decode_cursor, encode_cursor
from healthcode.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from healthcode.i18n import N_
from healthcode.identity import IdType, holder_id, mask_name, mask_phone, normalize_id_number
from healthcode.models import (
    ApplicationRequest,
    CauseKind,
    CheckinRequest,
    CodeView,
    ColorChangeView,
    DependantCode,
    DependantsView,
    HistoryView,
    Holder,
    RulesetListing,
    RulesetsView,
    StoredCheckin,
    StoredContact,
    StoredReport,
    StoredStay,
    TokenView,
)
from healthcode.scoring.rules import local_day
from healthcode.usecases.validation import check_application, check_growth

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from healthcode.adapters.base import (
        AreaRegistry,
        HistoryLog,
        HolderRepository,
        Keys,
        PhoneBook,
        RulesetStore,
        StayIndex,
    )
    from healthcode.regions import RegionRegistry
    from healthcode.usecases.recolor import Recolor


logger = Logger(child=True)
# what started a colour computation, as recorded (History, ColorChanged) -> the kind a holder is shown
_CAUSES: tuple[tuple[str, CauseKind], ...] = (
    ("application", "declaration"),
    ("check-in", "check-in"),
    ("risk level of region", "region level"),
    ("authority list", "case list"),
    ("contact report by partner", "partner report"),
    ("new ruleset", "ruleset"),
    ("override", "override"),
    ("appeal", "appeal"),
    ("time passed", "time passing"),
)


def cause_kind(cause: str) -> CauseKind:
    other: CauseKind = "other"
    return next((kind for prefix, kind in _CAUSES if cause.startswith(prefix)), other)


Identity = tuple[IdType, str]  # a verified (id type, normalized id number)
MAX_STAYS_IN_WINDOW = 150  # a holder's item stays well under 64 KB (tests/integration/test_integrity.py)
MAX_CONTACTS = 50


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
        phones: PhoneBook | None = None,
        history: HistoryLog | None = None,
        areas: AreaRegistry | None = None,
        confirmed_guardian: Callable[[str, str], bool] | None = None,
    ) -> None:
        """``phones``: where a declared phone number is kept sealed, for SMS (None: not kept at all);
        ``history``: the holders' colour changes, for their history route; ``areas``: the registered
        towns and villages a declared ``residence_area`` must be one of; ``confirmed_guardian(sub,
        holder_id)``: whether a community worker confirmed in person that the account cares for the person
        (the other way to a dependant, beside the identity provider's ``wards``)."""
        self._confirmed_guardian = confirmed_guardian
        self._recolor = recolor
        self._holders = holders
        self._stays = stays
        self._rulesets = rulesets
        self._registry = registry
        self._keys = keys
        self._areas = areas
        self._phones = phones
        self._history = history
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="[sub, key]",
            payload_validation_jmespath="[identity, request]",
            expires_after_seconds=24 * 3600,
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

    def apply_once(
        self,
        sub: str,
        identity: Identity | None,
        key: str | None,
        req: ApplicationRequest,
        now: datetime,
        wards: frozenset[Identity] = frozenset(),
    ) -> CodeView:
        """Apply; with an ``Idempotency-Key`` a retry returns the first answer and writes nothing."""
        if not key or self._apply_once is None:
            return self.apply(sub, identity, req, now, wards)
        if len(key) > 128:
            raise InvalidInput(
                "The Idempotency-Key header is too long.", [FieldError("Idempotency-Key", "at most 128 characters")]
            )
        command = {
            "sub": sub,
            "identity": list(identity) if identity else None,
            "wards": sorted(list(w) for w in wards),
            "key": key,
            "request": req.model_dump(mode="json"),
            "now": now.isoformat(),
        }
        try:
            return cast("CodeView", self._apply_once(command=command))
        except IdempotencyValidationError as exc:
            raise Conflict(N_("This Idempotency-Key was used for a different declaration.")) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict(N_("A request with this Idempotency-Key is still being processed; retry shortly.")) from exc

    def _apply_command(self, command: dict[str, Any]) -> CodeView:
        req = ApplicationRequest.model_validate(command["request"])
        identity = (IdType(command["identity"][0]), command["identity"][1]) if command["identity"] else None
        wards = frozenset((IdType(t), n) for t, n in command.get("wards", []))
        return self.apply(command["sub"], identity, req, datetime.fromisoformat(command["now"]), wards)

    def _check_area(self, county: str, area: str) -> None:
        if not area.startswith(county) or len(county) != 6:
            problem = N_("must be a town or village of residence_region {county}").format(county=county)
        elif self._areas is None or self._areas.get(area) is None:
            problem = N_("{area} is not an area the health authority registered").format(area=area)
        else:
            return
        raise InvalidInput(N_("The declaration has problems; nothing was saved."), [FieldError("residence_area", problem)])

    def apply(
        self,
        sub: str,
        identity: Identity | None,
        req: ApplicationRequest,
        now: datetime,
        wards: frozenset[Identity] = frozenset(),
    ) -> CodeView:
        """Declare for oneself (the caller's verified identity) or, marked ``dependant``, for a dependant:
        only a person the identity provider asserts is in the caller's care (``wards``, as a household
        register would). When a person takes over their own code, what others declared for them is set
        aside and they are scored on their own declaration (the cause says so in their history).

        Nothing is looked up before the caller is known to be allowed to apply for this identity, so no
        answer tells whether someone else's ID number has a code. A re-application adds to what was
        declared; it cannot shorten or end earlier anything already declared inside the window.
        """
        rules = self._rulesets.at(now)
        today = local_day(now, rules)
        check_application(req, today, self._registry)
        if req.residence_area is not None:
            self._check_area(req.residence_region, req.residence_area)
        declared = (req.id_type, normalize_id_number(req.id_number))
        if identity is None:
            raise Forbidden(N_("Your account has no verified identity: sign in with real-name verification to apply."))
        own = identity == declared
        if own and req.dependant:
            raise InvalidInput(
                "You cannot be your own dependant.", [FieldError("dependant", "false when applying for yourself")]
            )
        if not own and not req.dependant:
            raise Forbidden(N_("You can apply for your own verified identity, or for a dependant with dependant: true."))
        hid = holder_id(self._keys.holder_key(), req.id_type, declared[1])
        # before any look-up of the person: the same answer whoever they are and whether they have a code
        if not own and declared not in wards and not self._confirmed_in_person(sub, hid):
            raise Forbidden(N_("You cannot apply for this person as your dependant."))
        window = rules.stay_window

        took_over: list[bool] = []  # set by the change, read by the cause (after the change ran)

        def change(cur: Holder | None) -> Holder:
            base = cur or Holder(holder_id=hid)
            if own and base.sub is not None and base.sub != sub:
                raise Conflict(N_("Your identity is bound to another account of yours; contact the service to move it."))
            took_over.clear()
            if own and base.sub is None and base.guardian is not None:
                # the person takes over: what a guardian declared for them is set aside (the authority's
                # facts stay), and they are scored on what they declare themselves
                took_over.append(True)
                base = base.model_copy(update={"stays": [], "contacts": [], "reports": [], "checkins": []})
            if not own and (base.sub is not None or base.guardian not in (None, sub)):
                raise Forbidden(N_("You cannot apply for this person as your dependant."))
            check_growth(base.stays, req, today, window)
            # A declaration adds to what was declared before: a stay can be extended or ended (not
            # shortened), nothing is withdrawn by re-applying (corrections go through an appeal).
            stays = {(s.region, s.arrived_on): s for s in base.stays}
            for t in req.travel_history:
                stays[(t.region, t.arrived_on)] = StoredStay(
                    region=t.region,
                    arrived_on=t.arrived_on,
                    left_on=t.left_on,
                    confirmed_on=today if t.left_on is None else None,
                )
            in_window = [s for s in stays.values() if s.left_on is None or (today - s.left_on).days <= window]
            if len(in_window) > MAX_STAYS_IN_WINDOW:
                raise InvalidInput(
                    "Too many stays.",
                    [FieldError("travel_history", f"at most {MAX_STAYS_IN_WINDOW} stays within {window} days")],
                )
            contacts = list(base.contacts)
            c = req.contact
            if c.kind != "none" and c.on is not None and all((x.kind, x.on) != (c.kind, c.on) for x in contacts):
                contacts.append(StoredContact(kind=c.kind, on=c.on))
            if len(contacts) > MAX_CONTACTS:
                raise InvalidInput("Too many contacts.", [FieldError("contact", f"at most {MAX_CONTACTS} declared")])
            reports = [r for r in base.reports if r.on != today]
            earlier = next((r for r in base.reports if r.on == today), None)
            symptoms = sorted(set(req.symptoms) | set(earlier.symptoms if earlier else ()))
            temps = [t for t in (req.temperature, earlier.temperature if earlier else None) if t is not None]
            if symptoms or temps:
                reports.append(StoredReport(on=today, symptoms=symptoms, temperature=max(temps) if temps else None))
            account = {"sub": sub, "guardian": None} if own else {"guardian": sub}
            return base.model_copy(
                update={
                    **account,
                    "code_id": base.code_id or uuid.uuid4().hex,
                    "id_type": req.id_type,
                    "masked_name": mask_name(req.name),
                    "masked_phone": mask_phone(req.phone),
                    "residence_region": req.residence_region,
                    "residence_area": req.residence_area,
                    "stays": sorted(stays.values(), key=lambda s: (s.arrived_on, s.region)),
                    "contacts": contacts,
                    "reports": reports,
                    "applied_at": base.applied_at or now,
                }
            )

        # The stays index is written first: an entry without a saved holder only costs a no-op
        # rescoring later, while a holder without its entries would miss a region change.
        self._stays.record(hid, ((s.region, s.arrived_on, s.left_on) for s in req.travel_history))
        def cause() -> str:
            if took_over:
                return "application: took over from a guardian, whose declarations were set aside"
            return "application" if own else "application by a guardian"

        saved, _ = self._recolor(hid, now, cause, change)
        assert saved is not None
        if self._phones is not None:  # sealed for the notify function's SMS; a retry seals it again
            self._phones.keep(hid, req.phone)
        if not own:
            logger.info("dependant applied for", extra={"guardian": sub, "holder_id": hid})
        return self.view(saved, now)

    def _confirmed_in_person(self, sub: str, hid: str) -> bool:
        return self._confirmed_guardian is not None and self._confirmed_guardian(sub, hid)

    def holder_of(self, req: ApplicationRequest) -> str:
        """The holder id a declaration is for (the keyed hash of its ID number): for the audit trail."""
        return holder_id(self._keys.holder_key(), req.id_type, normalize_id_number(req.id_number))

    def history(self, sub: str, after: str | None, limit: int) -> HistoryView:
        """My colour changes, newest first: when, from what to what, why, the reasons then, the rules."""
        holder = self._holders.find_by_sub(sub)
        if holder is None or self._history is None:
            raise NotFound(N_("No code yet: apply first."))
        return self.changes(holder.holder_id, after, limit)

    def changes(self, holder_id: str, after: str | None, limit: int) -> HistoryView:
        """A holder's colour changes, newest first (for one the caller may see: theirs, a dependant's)."""
        if self._history is None:
            return HistoryView(items=[], next=None)
        changes, nxt = self._history.page(holder_id, limit, decode_cursor(after))
        items = [
            ColorChangeView(
                at=c.at,
                old_color=c.old_color,
                new_color=c.new_color,
                score=c.score,
                cause=cause_kind(c.cause),
                detail=c.cause,
                reasons=c.reasons,
                ruleset_version=c.ruleset_version,
            )
            for c in changes
        ]
        return HistoryView(items=items, next=encode_cursor(nxt))

    def dependants(self, sub: str, now: datetime) -> DependantsView:
        """The codes of the dependants this account applied for (each brought up to date)."""
        out = []
        for h in self._holders.dependants(sub):
            saved, _ = self._recolor(h.holder_id, now, "time passed", current=h)
            assert saved is not None and saved.code_id is not None
            out.append(DependantCode(**self.view(saved, now).model_dump(), dependant_id=saved.code_id))
        return DependantsView(dependants=out)

    def code(self, sub: str, now: datetime) -> CodeView:
        h = self._mine(sub)
        # catches up, writes only on change; the copy just read (consistently) is the one tried first
        saved, _ = self._recolor(h.holder_id, now, "time passed", current=h)
        assert saved is not None
        return self.view(saved, now)

    def check_in(self, sub: str, req: CheckinRequest, now: datetime) -> CodeView:
        h = self._mine(sub) if req.dependant_id is None else self._dependant(sub, req.dependant_id)
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

        saved, _ = self._recolor(h.holder_id, now, "check-in", change, current=h)
        assert saved is not None
        return self.view(saved, now)

    def rulesets(self, now: datetime) -> RulesetsView:
        """Every version with its effective time: what applied, what applies, what is announced."""
        versions = self._rulesets.versions()
        current = self._rulesets.at(now).version
        passed = True
        items = []
        for r in versions:
            if r.version == current:
                status, passed = "in force", False
            else:
                status = "superseded" if passed and r.effective_from <= now else "announced"
            items.append(RulesetListing(version=r.version, effective_from=r.effective_from, status=status))
        return RulesetsView(items=items)

    def current_ruleset(self, now: datetime) -> dict[str, Any]:
        """The ruleset document in force (published, so anyone can check how a colour is computed)."""
        return self._rulesets.at(now).document

    def _dependant(self, sub: str, dependant_id: str) -> Holder:
        found = next((h for h in self._holders.dependants(sub) if h.code_id == dependant_id), None)
        if found is None:
            raise NotFound(N_("You have no dependant with this dependant_id."))
        return found

    def _mine(self, sub: str) -> Holder:
        h = self._holders.find_by_sub(sub)
        if h is None:
            raise NotFound(N_("You have no health code yet: apply first (POST /v1/applications)."))
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
