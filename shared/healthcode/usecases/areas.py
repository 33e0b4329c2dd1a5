"""Areas below county level, registered by the health authority: towns and streets (9 digits), villages
and communities (12 digits) of a known county; a village only under a registered town."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from healthcode.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from healthcode.adapters.base import AreaRegistry
    from healthcode.models import AreaRequest, AreaView
    from healthcode.regions import RegionRegistry


class Areas:
    def __init__(self, areas: AreaRegistry, registry: RegionRegistry) -> None:
        self._areas = areas
        self._registry = registry

    def register(self, code: str, req: AreaRequest, by: str, now: datetime) -> tuple[AreaView, AreaView | None, bool]:
        """(the area, as it was before or None, whether anything changed)."""
        county = self._registry.get(code[:6])
        if county is None or code[4:6] == "00":
            raise InvalidInput(
                "Not an area of a known county.", [FieldError("code", f"{code[:6]} is no county (GB/T 2260)")]
            )
        if len(code) == 12 and self._areas.get(code[:9]) is None:
            raise InvalidInput(
                "A village is registered under its town.", [FieldError("code", f"register its town {code[:9]} first")]
            )
        before = self._areas.get(code)
        view, changed = self._areas.put(code, req.name, by, now)
        return view, before, changed

    def place_checkpoint(self, checkpoint_id: str, area: str, by: str, now: datetime) -> tuple[str | None, bool]:
        """Put a checkpoint in a county, town or village (registered, for a town or village); returns
        where it was before and whether anything changed."""
        county = self._registry.get(area[:6])
        if county is None or area[4:6] == "00":
            raise InvalidInput("Not a place in a known county.", [FieldError("area", f"{area[:6]} is no county")])
        if len(area) > 6 and self._areas.get(area) is None:
            raise InvalidInput("Register the area first.", [FieldError("area", f"{area} is not a registered area")])
        before = self._areas.checkpoint(checkpoint_id)
        return before, self._areas.put_checkpoint(checkpoint_id, area, by, now)
