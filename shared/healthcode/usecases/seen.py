"""Who looked at my code (PIPL art. 44, the right to know how one's data is processed): every
verification of the holder's code, and of each dependant's — when, which checkpoint (its id and the area
it is placed in, never the staff member) or which partner city, and the answer — as long as the scan log
keeps them, newest first, paged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from healthcode.adapters.base import decode_cursor, encode_cursor
from healthcode.errors import NotFound
from healthcode.i18n import N_
from healthcode.models import ScanSeenView, ScansSeenView

if TYPE_CHECKING:
    from healthcode.adapters.base import HolderRepository, ScanHistory
    from healthcode.models import Holder, Scan

PARTNER = "partner:"


class Seen:
    def __init__(
        self, holders: HolderRepository, scans: ScanHistory, where: Callable[[str], str | None] | None = None
    ) -> None:
        """``where(checkpoint_id)``: the area a checkpoint is placed in (None: areas not shown)."""
        self._holders = holders
        self._scans = scans
        self._where = where

    def of(self, sub: str, dependant_id: str | None, after: str | None, limit: int) -> ScansSeenView:
        return self.of_holder(self._holder(sub, dependant_id), after, limit)

    def of_holder(self, holder: Holder, after: str | None, limit: int) -> ScansSeenView:
        """A holder's scans (one the caller may see: theirs, a dependant's), newest first."""
        if holder.code_id is None:
            return ScansSeenView(items=[], next=None)
        found, nxt = self._scans.of_code(holder.code_id, limit, decode_cursor(after))
        areas: dict[str, str | None] = {}
        return ScansSeenView(items=[self._view(s, areas) for s in found], next=encode_cursor(nxt))

    def _holder(self, sub: str, dependant_id: str | None) -> Holder:
        if dependant_id is None:
            mine = self._holders.find_by_sub(sub)
            if mine is None:
                raise NotFound(N_("You have no health code yet: apply first (POST /v1/applications)."))
            return mine
        found = next((h for h in self._holders.dependants(sub) if h.code_id == dependant_id), None)
        if found is None:
            raise NotFound(N_("You have no dependant with this dependant_id."))
        return found

    def _view(self, s: Scan, areas: dict[str, str | None]) -> ScanSeenView:
        partner = s.by[len(PARTNER) :] if s.by.startswith(PARTNER) else None
        if partner is None and s.checkpoint_id not in areas:  # each checkpoint looked up once a page
            areas[s.checkpoint_id] = self._where(s.checkpoint_id) if self._where is not None else None
        return ScanSeenView(
            at=s.at,
            by="partner_city" if partner else "checkpoint",
            checkpoint_id=None if partner else s.checkpoint_id,
            area=None if partner else areas.get(s.checkpoint_id),
            partner=partner,
            decision="pass" if s.color == "green" else "stop",
            color=s.color,
            code_status=s.status,
        )
