"""The authority's read side: code statistics, checkpoint counts and the five-colour map.

Counts are never computed by scanning holders. Every holder change leaves one delta item (written by
the consequences of the change, keyed by the change: a repeat counts once); :meth:`Statistics.aggregate`
(every minute) sums each open hour's deltas into an hour item and, once a day is over and its late
deltas are in (``grace``), rolls it into a day item: the counts at its end, and the region levels then.
A statistics read is one day item plus at most two days of hour items, whatever the population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from healthcode.errors import FieldError, InvalidInput, NotFound
from healthcode.models import (
    CheckpointScansView,
    ColorCounts,
    IndexDayView,
    IndexView,
    MapCountyView,
    MapView,
    StatsView,
)
from healthcode.stats import (
    COLORS,
    LevelSet,
    apply,
    county_levels,
    day_end,
    formula,
    hour_end,
    index_row,
    local_day,
    map_svg,
    merge,
    per_level,
    prefix_of,
    within,
)

if TYPE_CHECKING:
    from healthcode.adapters.base import LevelDetails, ScanCounts, StatsStore
    from healthcode.regions import RegionRegistry
    from healthcode.stats import Counts


FIRST_LOOK_BACK = timedelta(days=7)  # before the first day is rolled: how far back deltas are summed


@dataclass(frozen=True, slots=True)
class Aggregated:
    hours: int  # hour items written
    days: list[str]  # days rolled


class Statistics:
    def __init__(
        self,
        store: StatsStore,
        levels: LevelDetails,
        registry: RegionRegistry,
        scans: ScanCounts | None = None,
        map_region: str = "",
        grace: timedelta = timedelta(minutes=10),
        formula_version: str = "index-v1",
    ) -> None:
        """``map_region``: the province or city the map shows unless asked for another (the
        deployment's jurisdiction); ``grace``: how late a delta may arrive and still be in its hour."""
        self._store = store
        self._levels = levels
        self._registry = registry
        self._scans = scans
        self._map_region = map_region
        self._grace = grace
        self._formula = formula_version

    # ------------------------------------------------------------------ the job
    def aggregate(self, now: datetime) -> Aggregated:
        """Sum the open hours' deltas; roll each day that is over (and past the grace) into a day item."""
        today = local_day(now)
        rolled = self._store.day(today)
        first = rolled[0] + timedelta(days=1) if rolled else today - FIRST_LOOK_BACK
        base: Counts = rolled[1] if rolled else {}
        levels: dict[str, Any] = rolled[2] if rolled else {}
        written, days = 0, []
        day = first
        while day <= today:
            known = self._store.hours(day, day)
            done = {h for h, (_, final) in known.items() if final}
            closing = day < today and now >= day_end(day) + self._grace
            if closing:  # the whole day once more: a delta that came after its hour was summed is in
                done = set()
            hours = [f"{day.isoformat()}T{h:02d}" for h in range(24)]
            pending = next((h for h in hours if h not in done), None)
            if pending is not None:  # one query per bucket, from the first hour not final yet
                for hour, changes in sorted(self._store.deltas(day, pending).items()):
                    if hour in done:
                        continue  # final already: a delta that late is for the reconciliation
                    known[hour] = (apply({}, changes), now >= hour_end(hour) + self._grace)
                    self._store.put_hour(hour, known[hour][0], known[hour][1], now)
                    written += 1
            if closing:
                flow = merge(*(c for c, _ in known.values()))
                base = merge(base, flow)
                levels = self._levels_at(day_end(day), levels)
                self._store.put_day(day, base, levels, now)
                self._index_day(day, flow, base, levels)
                days.append(day.isoformat())
            elif day < today:
                break  # not past its grace yet: the days after it wait too
            day += timedelta(days=1)
        return Aggregated(written, days)

    def _index_day(self, day: date, flow: Counts, end: Counts, levels: dict[str, Any]) -> None:
        """The smart control index of every county with holders, stored once (never recomputed on read)."""
        doc = formula(self._formula)
        set_levels = {code: v["level"] for code, v in levels.items()}
        by_city: dict[str, dict[str, Any]] = {}
        for county in sorted(set(flow) | set(end)):
            if county not in self._registry or len(county) != 6:
                continue  # "unknown" residence: counted, not indexed
            level = self._registry.effective_level(county, set_levels)
            row = index_row(doc, flow.get(county, {}), end.get(county, {}), level)
            by_city.setdefault(county[:4], {})[county] = row
        for city, rows in by_city.items():
            self._store.put_index(day, city, rows, doc["version"])

    def index(self, region: str | None, first: date | None, last: date | None, now: datetime) -> IndexView:
        region = region or self._map_region or None
        if not region or region not in self._registry:
            raise NotFound(f"Unknown region code {region} (GB/T 2260).")
        last = last or local_day(now) - timedelta(days=1)
        first = first or last - timedelta(days=6)
        if first > last:
            raise InvalidInput("The period is empty.", [FieldError("from", "after to")])
        if (last - first).days > 92:
            raise InvalidInput("At most 93 days at a time.", [FieldError("to", "more than 92 days after from")])
        prefix = prefix_of(region)
        cities = sorted({c[:4] for c in self._registry.counties_under(region)})
        days: list[IndexDayView] = []
        for city in cities:
            for day, version, rows in self._store.index(city, first, last):
                for county, row in sorted(rows.items()):
                    if county.startswith(prefix):
                        found = self._registry.get(county)
                        days.append(
                            IndexDayView.model_validate(
                                row
                                | {
                                    "day": day,
                                    "county": county,
                                    "name": found.name if found else county,
                                    "formula": version,
                                }
                            )
                        )
        days.sort(key=lambda d: (d.day, d.county))
        return IndexView(region=region, name=self._name(region), first=first, last=last, days=days)

    def _levels_at(self, end: datetime, before: dict[str, Any]) -> dict[str, Any]:
        """The levels in force at ``end``: the current ones set before it, else the previous day's."""
        out = dict(before)
        for code, s in self._levels.details().items():
            if s.at is None or datetime.fromisoformat(s.at) <= end:
                out[code] = {"level": s.level, "at": s.at, "by": s.by}
        return out

    # ------------------------------------------------------------------ reads
    def counts_at(self, day: date) -> tuple[Counts, datetime | None]:
        """The counts at the end of ``day`` (today: now, up to the last minute's sums)."""
        rolled = self._store.day(day)
        if rolled and rolled[0] == day:
            return rolled[1], day_end(day)
        since = rolled[0] + timedelta(days=1) if rolled else day - timedelta(days=1)
        hours = self._store.hours(since, day)
        if not rolled and not hours:
            return {}, None
        return merge(rolled[1] if rolled else {}, *(c for c, _ in hours.values())), None

    def stats(self, region: str | None, on: date | None, now: datetime) -> StatsView:
        if region and region not in self._registry:
            raise NotFound(f"Unknown region code {region} (GB/T 2260).")
        today = local_day(now)
        day = on or today
        if day > today:
            raise InvalidInput("No statistics for a day that has not come.", [FieldError("at", "in the future")])
        counts, _ = self.counts_at(day)
        by_color = within(counts, region)
        issued = sum(by_color.values())
        return StatsView(
            region=region,
            name=self._name(region),
            on=day,
            codes_issued=issued,
            by_color=ColorCounts(**by_color),
            green_rate=round(by_color["green"] / issued, 4) if issued else None,
            places=len([p for p in counts if p.startswith(prefix_of(region))]),
        )

    def checkpoint_scans(self, checkpoint_id: str, on: date) -> CheckpointScansView:
        assert self._scans is not None, "checkpoint counts need the scan log"
        start = day_end(on - timedelta(days=1))
        scans = self._scans.day(checkpoint_id, start, start + timedelta(days=1))
        by_color = dict.fromkeys(COLORS, 0)
        unreadable = 0
        for color, _status in scans:
            if color in by_color:
                by_color[color] += 1
            else:
                unreadable += 1
        return CheckpointScansView(
            checkpoint_id=checkpoint_id,
            on=on,
            scans=len(scans),
            by_color=ColorCounts(**by_color),
            unreadable=unreadable,
        )

    # ------------------------------------------------------------------ the map
    def map(self, region: str | None, as_of: date | None, now: datetime) -> MapView:
        region = region or self._map_region or None
        if region and region not in self._registry:
            raise NotFound(f"Unknown region code {region} (GB/T 2260).")
        today = local_day(now)
        if as_of is None or as_of >= today:
            levels = self._levels.details()
            day = today
        else:
            rolled = self._store.day(as_of)
            if rolled is None or rolled[0] != as_of:
                raise NotFound(f"No map was kept for {as_of.isoformat()}: maps are kept from the first day summed up.")
            levels = {code: LevelSet(v["level"], v.get("at"), v.get("by")) for code, v in rolled[2].items()}
            day = as_of
        codes = self._registry.counties_under(region) if region else self._all_counties()
        counties = [(r.code, r.name, r.longitude, r.latitude) for c in codes if (r := self._registry.get(c))]
        ancestors = {code: self._registry.ancestors(code) for code, *_ in counties}
        shown = county_levels(counties, levels, ancestors)
        return MapView(
            region=region,
            name=self._name(region),
            as_of=day,
            counties=[MapCountyView.model_validate(c, from_attributes=True) for c in shown],
            per_level=per_level(shown),
        )

    def _name(self, region: str | None) -> str | None:
        found = self._registry.get(region) if region else None
        return found.name if found else None

    def _all_counties(self) -> list[str]:
        return sorted(
            {c for p in self._registry.codes() if p.endswith("0000") for c in self._registry.counties_under(p)}
        )

    def map_svg(self, region: str | None, as_of: date | None, now: datetime) -> str:
        view = self.map(region, as_of, now)
        shown = county_levels(
            [(c.code, c.name, c.longitude, c.latitude) for c in view.counties],
            {c.code: LevelSet(c.level, c.set_at, c.set_by) for c in view.counties},
            {c.code: (c.code,) for c in view.counties},
        )
        return map_svg(shown, f"{view.name or '全国'} 风险等级", view.as_of.isoformat())
