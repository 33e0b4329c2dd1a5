"""The authority's changes to the facts: a region's level, a listing of people. The health authority
and partner cities make them alike; this collaborator is what they share (it knows nothing of who
asked). Each is one write; the rescoring it implies follows from the table's stream
(:mod:`healthcode.usecases.consequences`), so it cannot be lost between two writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode.errors import NotFound
from healthcode.identity import holder_id, normalize_id_number
from healthcode.models import EntryFailure, Holder, RegionView, StoredContact
from healthcode.usecases.isolation import Isolated, isolated

if TYPE_CHECKING:
    from healthcode.adapters.base import Keys, RegionLevels
    from healthcode.models import CaseEntry
    from healthcode.regions import RegionRegistry
    from healthcode.usecases.recolor import Recolor

logger = Logger(child=True)


class Changes:
    def __init__(
        self,
        regions: RegionLevels,
        registry: RegionRegistry,
        recolor: Recolor,
        keys: Keys,
    ) -> None:
        self._regions = regions
        self._registry = registry
        self._recolor = recolor
        self._keys = keys

    def set_level(self, code: str, name: str | None, level: int, by: str, now: datetime) -> RegionView:
        """Store a region's level; everyone who stayed there is rescored (from the regions table's stream)."""
        region = self._registry.get(code)
        if region is None:
            raise NotFound(f"Unknown region code {code} (GB/T 2260).")
        stored = self._regions.put(code, name, level, region.parent, by, now, default_name=region.name)
        logger.info("region level set", extra={"region": code, "level": level, "by": by})
        return RegionView(code=code, name=stored, level=level, updated_at=now, updated_by=by)

    def holder_ids(self, entries: Iterable[CaseEntry]) -> list[str]:
        """The keyed holder ids of listed people (what the audit trail names; never their ID numbers)."""
        key = self._keys.holder_key()
        return [holder_id(key, e.id_type, normalize_id_number(e.id_number)) for e in entries]

    def record_listings(
        self, entries: Iterable[CaseEntry], now: datetime, cause: str = "authority list"
    ) -> tuple[int, list[EntryFailure]]:
        """Record what the lists say about each person (kept even before they apply); the holders who
        applied are marked for rescoring, which follows from the holders table's stream.

        Each entry is written on its own (retried once): one that cannot be written is answered as
        failed, with its reason, and the others are recorded. Returns how many listed people had
        applied, and the failures."""
        key = self._keys.holder_key()
        known = 0
        failed: list[EntryFailure] = []
        for index, entry in enumerate(entries):
            hid = holder_id(key, entry.id_type, normalize_id_number(entry.id_number))
            try:
                saved = isolated(partial(self._record_listing, entry, hid, now, cause))
            except Isolated as exc:
                logger.warning("listing not recorded", extra={"holder_id": hid, "reason": exc.reason})
                failed.append(EntryFailure(index=index, reason=exc.reason))
                continue
            known += int(saved is not None and saved.applied)
        return known, failed

    def _record_listing(self, entry: CaseEntry, hid: str, now: datetime, cause: str) -> Holder | None:
        return self._recolor(hid, now, cause, partial(_listed, entry=entry, hid=hid, now=now), score=False)[0]


def _listed(cur: Holder | None, entry: CaseEntry, hid: str, now: datetime) -> Holder:
    base = cur or Holder(holder_id=hid)
    auth = base.authority
    if entry.status in ("confirmed", "suspected"):
        auth = auth.model_copy(update={"case": entry.status})
    elif entry.status == "cleared":
        auth = auth.model_copy(update={"case": None, "contacts": [], "cleared_at": now})
    else:
        assert entry.on is not None  # checked with the list
        contact = StoredContact(kind=entry.status, on=entry.on)
        if contact not in auth.contacts:
            auth = auth.model_copy(update={"contacts": [*auth.contacts, contact]})
    if auth == base.authority:
        return base
    return base.model_copy(update={"authority": auth.model_copy(update={"updated_at": now})})
