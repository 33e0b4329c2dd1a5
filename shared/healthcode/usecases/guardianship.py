"""Guardianship confirmed in person: the second way to become someone's guardian (issue 29), for a person
the identity provider does not list as in the caller's care — a neighbour living alone, a grandparent
registered in another household. The resident asks; the community office of the person's town or
village gets a task; a community worker meets both, checks the ID cards and the link, and confirms or
refuses it. Only a confirmed request lets the account apply for that person as a dependant.

Nothing here looks at the person's code: the request, its answer and its refusal are the same whether or
not the ID number holds one (no enumeration oracle). A request is identified by (account, person), so
asking again finds the same request; an account opens at most a few a day, so nobody floods an office.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from healthcode.errors import FieldError, Forbidden, InvalidInput, RateLimited
from healthcode.i18n import N_, gettext_
from healthcode.identity import IdType, holder_id, id_number_problem, mask_id_number, mask_name, name_problem
from healthcode.identity import normalize_id_number as normal
from healthcode.models import GuardianshipRequest, GuardianshipView, Task
from healthcode.scoring.rules import local_day

if TYPE_CHECKING:
    from healthcode.adapters.base import AreaRegistry, Keys, RulesetStore, TaskBoard

Identity = tuple[IdType, str]  # a verified (id type, normalized id number)
KIND = "guardianship"
REQUESTS_PER_DAY = 5  # an account's new requests a day, whoever they are for
ANSWER_WITHIN = timedelta(days=2)  # then the county office sees it too (the tasks' escalation)
NOTE = {
    "open": N_("Show this request number to the community worker of {office}: they meet you both in person."),
    "confirmed": N_("Confirmed in person: you can now apply for this person as your dependant."),
    "refused": N_("Refused in person by the community office of {office}; ask the office why."),
}


def task_id(sub: str, holder: str) -> str:
    """The request's id: one per (account, person), usable in a URL, telling neither."""
    pair = "\n".join((sub, holder)).encode()
    return f"{KIND}.{hashlib.sha256(pair).hexdigest()[:32]}"


class Guardianships:
    def __init__(self, tasks: TaskBoard, keys: Keys, rulesets: RulesetStore, areas: AreaRegistry) -> None:
        self._tasks = tasks
        self._keys = keys
        self._rulesets = rulesets
        self._areas = areas

    def request(
        self, sub: str, identity: Identity | None, req: GuardianshipRequest, now: datetime
    ) -> tuple[GuardianshipView, bool]:
        """Ask the person's community office to confirm in person; (the request, whether it is new)."""
        if identity is None:
            raise Forbidden(N_("Your account has no verified identity: sign in with real-name verification to apply."))
        today = local_day(now, self._rulesets.at(now))
        errors: list[FieldError] = []
        if problem := name_problem(req.name):
            errors.append(FieldError("name", problem))
        if problem := id_number_problem(req.id_type, normal(req.id_number), today):
            errors.append(FieldError("id_number", problem))
        if self._areas.get(req.residence_area) is None:
            errors.append(
                FieldError(
                    "residence_area",
                    N_("{area} is not an area the health authority registered").format(area=req.residence_area),
                )
            )
        if (req.id_type, normal(req.id_number)) == identity:
            errors.append(FieldError("id_number", N_("your own: you apply for yourself, not as a guardian")))
        if errors:
            raise InvalidInput(N_("The request has problems; nothing was saved."), errors)
        hid = holder_id(self._keys.holder_key(), req.id_type, req.id_number)
        task = Task(
            task_id=task_id(sub, hid),
            office=req.residence_area,
            holder_id=hid,
            masked_name=mask_name(req.name),
            color="",
            old_color=None,
            changed_at=now,
            escalate_at=now + ANSWER_WITHIN,
            kind=KIND,
            guardian=sub,
            guardian_person=holder_id(self._keys.holder_key(), *identity),
            masked_id=mask_id_number(req.id_number),
        )
        counter = f"{KIND}-requests#{hashlib.sha256(sub.encode()).hexdigest()[:32]}#{today.isoformat()}"
        outcome = self._tasks.add_counted(task, counter, REQUESTS_PER_DAY)
        if outcome == "limited":
            raise RateLimited(
                N_("At most {n} guardianship requests a day; try again tomorrow.").format(n=REQUESTS_PER_DAY),
                retry_after=3600,
            )
        current = self._tasks.get(task.task_id) or task  # asked again: the request already open, as it stands
        return _view(current), outcome == "added"

    def holder_of(self, req: GuardianshipRequest) -> str:
        """The holder id the request is about (for the audit trail: never the ID number)."""
        return holder_id(self._keys.holder_key(), req.id_type, req.id_number)

    def confirmed(self, sub: str, holder: str) -> bool:
        """Whether a community worker confirmed in person that the account ``sub`` cares for ``holder``."""
        t = self._tasks.get(task_id(sub, holder))
        return t is not None and t.kind == KIND and t.guardian == sub and t.outcome == "confirmed"


def _view(t: Task) -> GuardianshipView:
    status = t.outcome if t.status == "acknowledged" and t.outcome in ("confirmed", "refused") else "open"
    return GuardianshipView(
        task_id=t.task_id, office=t.office, status=status, note=gettext_(NOTE[status]).format(office=t.office)
    )
