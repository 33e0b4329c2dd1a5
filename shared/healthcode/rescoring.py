"""Use case of the scheduler and the queue: recompute colours when time passes, regions change or lists arrive."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.scoring import local_day

if TYPE_CHECKING:
    from healthcode.assessor import Assessor
    from healthcode.store import StayIndex


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
