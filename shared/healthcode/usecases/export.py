"""A copy of my data (PIPL art. 45): everything stored about the caller and their dependants — the
declarations and facts as stored, the colour and its reasons, every colour change, the scans of their
codes, their notifications and appeals, overrides in force (in the stored record's authority part) — as
one JSON document. The holder's own ID number is in it (from their verified identity: it is stored
nowhere in clear); a dependant's is not (only its keyed hash is stored)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.errors import Conflict, NotFound, Unavailable, VersionConflict
from healthcode.i18n import N_
from healthcode.models import ExportView, HolderExport, LeaveView
from healthcode.scoring.rules import Color

if TYPE_CHECKING:
    from healthcode.adapters.base import Erasure, HolderRepository
    from healthcode.identity import IdType
    from healthcode.models import AppealsView, HistoryView, Holder, NotificationsView, ScansSeenView

    # what the other listings give (injected: a use case does not import another)
    Changes = Callable[[str, str | None, int], HistoryView]  # holder id, after, limit
    Scans = Callable[[Holder, str | None, int], ScansSeenView]
    Notifications = Callable[[str, str, str | None, int], NotificationsView]  # account, language, after, limit
    Appealed = Callable[[str, str | None, int, datetime], AppealsView]  # account, after, limit, now

PAGE = 100
MAX_PAGES = 100  # 10,000 items of a kind: far beyond what the retention periods let one person gather


def every(page: Callable[[str | None], Any]) -> list[Any]:
    """All items of a paged listing (``page(after) -> view with items and next``)."""
    out: list[Any] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        view = page(after)
        out += view.items
        after = view.next
        if not after:
            break
    return out


class Export:
    def __init__(
        self,
        holders: HolderRepository,
        changes: Changes,
        scans: Scans,
        notifications: Notifications,
        appeals: Appealed | None,
    ) -> None:
        self._holders = holders
        self._changes = changes
        self._scans = scans
        self._notifications = notifications
        self._appeals = appeals

    def of(self, sub: str, identity: tuple[IdType, str] | None, lang: str, now: datetime) -> ExportView:
        mine = self._holders.find_by_sub(sub)
        dependants = self._holders.dependants(sub)
        if mine is None and not dependants:
            raise NotFound(N_("Nothing is stored about this account: it has no code and no dependants."))
        appeals = self._appeals
        return ExportView(
            exported_at=now,
            account=sub,
            id_type=identity[0].value if identity else None,
            id_number=identity[1] if identity else None,
            me=self._holder(mine) if mine is not None else None,
            dependants=[self._holder(d) for d in dependants],
            notifications=every(lambda after: self._notifications(sub, lang, after, PAGE)),
            appeals=every(lambda after: appeals(sub, after, PAGE, now)) if appeals is not None else [],
        )

    def _holder(self, h: Holder) -> HolderExport:
        record: dict[str, Any] = h.model_dump(mode="json", exclude={"state"})  # (the scorer's bookkeeping)
        return HolderExport(
            record=record,
            history=every(lambda after: self._changes(h.holder_id, after, PAGE)),
            scans=every(lambda after: self._scans(h, after, PAGE)),
        )


class Leaving:
    """An account that wants to leave (PIPL art. 47): its declarations, contact data, colour history and
    inbox go, with its dependants' — at once while every code is green and nothing the authority listed
    is in force. A yellow or red code is the ground of a quarantine the authority enforces, and a case
    listing or an override is the authority's record: those stay until the code is green again and the
    listing is cleared (the answer says so), then the account can leave. Appeals stay with the authority
    (its decisions); the scan log keeps only a code id that now leads to no one, for its 28 days."""

    def __init__(self, holders: HolderRepository, erasure: Erasure) -> None:
        self._holders = holders
        self._erasure = erasure

    def leave(self, sub: str) -> LeaveView:
        mine = self._holders.find_by_sub(sub)
        people = ([mine] if mine is not None else []) + self._holders.dependants(sub)
        if not people:
            raise NotFound(N_("Nothing is stored about this account: it has no code and no dependants."))
        for h in people:
            if h.color is not Color.GREEN or h.authority.case or h.authority.overrides:
                until = h.green_eligible_on.isoformat() if h.green_eligible_on else None
                raise Conflict(
                    N_("A code of this account is not green or is on the health authority's lists; it is kept until"
                       " it is green and cleared (at the earliest {until}), then the account can leave.").format(
                        until=until or "—"
                    )
                )
        for h in people:
            try:
                self._erasure.erase(h, sub)
            except VersionConflict as exc:  # scored meanwhile: the request sent again reads it afresh
                raise Unavailable("A code of this account changed while it was being erased; try again.") from exc
        self._erasure.forget_inbox(sub)
        return LeaveView(erased=[h.holder_id for h in people])
