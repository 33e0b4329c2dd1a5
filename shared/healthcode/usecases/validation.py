"""Checks on requests that need the registry or today's date; every problem names its field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from healthcode.errors import FieldError, InvalidInput
from healthcode.i18n import N_
from healthcode.identity import IdType, id_number_problem, name_problem, normalize_id_number

if TYPE_CHECKING:
    from healthcode.models import ApplicationRequest, CaseEntry, CaseListRequest, StoredStay
    from healthcode.regions import RegionRegistry


def _region(errors: list[FieldError], field: str, code: str, registry: RegionRegistry) -> None:
    if code not in registry:
        errors.append(FieldError(field, N_("unknown region code {code} (GB/T 2260)").format(code=code)))


def check_application(req: ApplicationRequest, today: date, registry: RegionRegistry) -> None:
    errors: list[FieldError] = []
    hidden = name_problem(req.name)
    if hidden:
        errors.append(FieldError("name", hidden))
    problem = id_number_problem(req.id_type, normalize_id_number(req.id_number), today)
    if problem:
        errors.append(FieldError("id_number", problem))
    _region(errors, "residence_region", req.residence_region, registry)
    for i, stay in enumerate(req.travel_history):
        where = f"travel_history[{i}]"
        _region(errors, f"{where}.region", stay.region, registry)
        if stay.arrived_on > today:
            errors.append(FieldError(f"{where}.arrived_on", N_("must not be in the future")))
        if stay.left_on is not None:
            if stay.left_on < stay.arrived_on:
                errors.append(FieldError(f"{where}.left_on", N_("must not be before arrived_on")))
            if stay.left_on > today:
                errors.append(FieldError(f"{where}.left_on", N_("must not be in the future (use null while still there)")))
    c = req.contact
    if c.kind == "none":
        if c.on is not None:
            errors.append(FieldError("contact.on", N_("must be absent when kind is none")))
    elif c.on is None:
        errors.append(FieldError("contact.on", N_("the date of the contact is required")))
    elif c.on > today:
        errors.append(FieldError("contact.on", N_("must not be in the future")))
    if len(set(req.symptoms)) != len(req.symptoms):
        errors.append(FieldError("symptoms", N_("each symptom once")))
    if errors:
        raise InvalidInput(N_("The declaration has problems; nothing was saved."), errors)


def check_growth(before: Sequence[StoredStay], req: ApplicationRequest, today: date, window: int) -> None:
    """A re-application may add stays, extend one, or end an ongoing one on or after the last day it was
    declared ongoing; inside the window it cannot shorten or end earlier what was declared (422)."""
    known = {(s.region, s.arrived_on): s for s in before}
    errors: list[FieldError] = []
    for i, stay in enumerate(req.travel_history):
        old = known.get((stay.region, stay.arrived_on))
        if old is None or stay.left_on is None:
            continue  # a new stay, or one declared (still) ongoing: nothing taken back
        if old.left_on is not None and (today - old.left_on).days > window:
            continue  # it has left the window: it no longer counts either way
        earliest = old.left_on if old.left_on is not None else (old.confirmed_on or old.arrived_on)
        if stay.left_on < earliest:
            errors.append(
                FieldError(
                    f"travel_history[{i}].left_on",
                    N_(
                        "must not be before {earliest}, as declared before;"
                        " a correction goes through an appeal to the health authority"
                    ).format(earliest=earliest.isoformat()),
                )
            )
    if errors:
        raise InvalidInput(N_("A re-application cannot take back what was declared; nothing was saved."), errors)


def check_cases(req: CaseListRequest, today: date) -> None:
    check_entries(req.cases, today)


def check_entries(entries: Sequence[CaseEntry], today: date) -> None:
    errors: list[FieldError] = []
    for i, case in enumerate(entries):
        where = f"cases[{i}]"
        problem = id_number_problem(IdType(case.id_type), normalize_id_number(case.id_number), today)
        if problem:
            errors.append(FieldError(f"{where}.id_number", problem))
        if case.status in ("close_contact", "secondary_contact"):
            if case.on is None:
                errors.append(FieldError(f"{where}.on", N_("the contact date is required for contacts")))
            elif case.on > today:
                errors.append(FieldError(f"{where}.on", N_("must not be in the future")))
    if errors:
        raise InvalidInput(N_("The case list has problems; nothing was recorded."), errors)
