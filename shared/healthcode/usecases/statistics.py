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

from aws_lambda_powertools import Logger

from healthcode.errors import FieldError, InvalidInput, NotFound
from healthcode.messages import FULL_RUN_SEGMENTS, RECONCILE
from healthcode.models import (
    AreaColorView,
    AreaScansView,
    AreasView,
    CheckpointScansView,
    ColorCounts,
    IndexDayView,
    IndexView,
    MapCountyView,
    MapView,
    ProposalsView,
    ProposalView,
    ReconciliationView,
    StatsView,
)
from healthcode.stats import (
    COLORS,
    LevelSet,
    MapCounty,
    apply,
    area_color,
    by_county,
    colors_only,
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
    proposed_level,
    suppress,
    turned_red,
    within,
)

if TYPE_CHECKING:
    from healthcode.adapters.base import AreaRegistry, LevelDetails, RunLog, ScanCounts, StatsStore
    from healthcode.regions import RegionRegistry
    from healthcode.stats import Counts


logger = Logger(child=True)
FIRST_LOOK_BACK = timedelta(days=7)  # how far back deltas are summed at first, or after a gap


@dataclass(frozen=True, slots=True)
class Aggregated:
    hours: int  # hour items written
    days: list[str]  # days rolled
    drift: int | None = None  # a reconciliation finished now: how many places it found off (repaired)


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
        runs: RunLog | None = None,
        segments: int = FULL_RUN_SEGMENTS,
        areas: AreaRegistry | None = None,
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
        self._runs = runs
        self._segments = segments
        self._areas = areas

    # ------------------------------------------------------------------ the job
    def aggregate(self, now: datetime) -> Aggregated:
        """Sum the open hours' deltas; roll each day that is over (and past the grace) into a day item."""
        today = local_day(now)
        rolled = self._store.day(today)
        # after a gap (none in a deployment, where this runs every minute; the local stack's dev clock
        # jumps), at most the last FIRST_LOOK_BACK days are summed again: the reconciliation repairs the rest
        first = max(rolled[0] + timedelta(days=1) if rolled else today - FIRST_LOOK_BACK, today - FIRST_LOOK_BACK)
        base: Counts = rolled[1] if rolled else {}
        levels: dict[str, Any] = rolled[2] if rolled else {}
        written, days = 0, []
        day, rolling = first, True
        while day <= today:
            known = self._store.hours(day, day)
            done = {h for h, (_, final) in known.items() if final}
            # days roll in order: one still in its grace holds back the days after it (their hours are summed)
            closing = rolling and day < today and now >= day_end(day) + self._grace
            rolling = closing
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
            day += timedelta(days=1)
        drift = None
        for run_day in (today - timedelta(days=1), today):
            found = self._finish_reconciliation(f"reconcile-{run_day.isoformat()}", now)
            drift = found if found is not None else drift
        return Aggregated(written, days, drift)

    # ------------------------------------------------------------------ reconciliation
    def start_reconciliation(self, now: datetime) -> str | None:
        """The nightly check of the counts against the holders: a full run that only counts (a parallel
        scan over the full-run machinery: segments, pages, resumption), once a day. Returns its id, or
        None when today's has started already."""
        assert self._runs is not None, "a reconciliation needs the runs table"
        run_id = f"reconcile-{local_day(now).isoformat()}"
        if self._store.reconciliation(run_id, "start") is None:
            start = colors_only(self.counts_at(local_day(now))[0])
            self._store.put_reconciliation(run_id, "start", {"at": now.isoformat(), "counts": start}, now)
        if not self._runs.create(run_id, self._segments, RECONCILE, "nightly reconciliation", now):
            return None
        return run_id

    def _finish_reconciliation(self, run_id: str, now: datetime) -> int | None:
        """Once every segment is counted: compare with the counts and repair the places that did not
        change while the scan ran (their counts then were the same at its start and now); the others are
        reported, and checked again the next night."""
        if self._runs is None or self._store.reconciliation(run_id, "result") is not None:
            return None
        run = self._runs.get(run_id)
        if run is None or run["segments_done"] < run["segments_total"]:
            return None
        scanned = colors_only(merge(*self._store.pages(run_id)))
        started = self._store.reconciliation(run_id, "start") or {"counts": {}}
        counted = colors_only(self.counts_at(local_day(now))[0])
        drift: dict[str, dict[str, int]] = {}
        moving: list[str] = []
        for place in sorted(set(scanned) | set(counted) | set(started["counts"])):
            if started["counts"].get(place) != counted.get(place):
                moving.append(place)  # changed while the scan ran: the two cannot be compared
                continue
            off = {c: scanned.get(place, {}).get(c, 0) - counted.get(place, {}).get(c, 0) for c in COLORS}
            if any(off.values()):
                drift[place] = off
        for place, off in drift.items():
            for color, k in off.items():
                if k:
                    self._store.record_fix(run_id, now, f"{place}|{color}", k)
        result = {
            "run_id": run_id,
            "finished_at": now.isoformat(),
            "holders_read": run["holders_read"],
            "places": len(set(scanned) | set(counted)),
            "drift": drift,
            "repaired": bool(drift),
            "changed_during_scan": moving,
        }
        self._store.put_reconciliation(run_id, "result", result, now)
        logger.info("statistics reconciled", extra={k: v for k, v in result.items() if k != "drift"})
        return len(drift)

    def reconciliation(self, on: date) -> ReconciliationView:
        run_id = f"reconcile-{on.isoformat()}"
        result = self._store.reconciliation(run_id, "result")
        if result is not None:
            return ReconciliationView.model_validate(result | {"on": on, "finished": True})
        run = self._runs.get(run_id) if self._runs is not None else None
        if run is None:
            raise NotFound(f"No reconciliation ran on {on.isoformat()}.")
        return ReconciliationView(
            run_id=run_id, on=on, finished=False, holders_read=run["holders_read"], places=0, drift={}, repaired=False
        )

    def _index_day(self, day: date, flow: Counts, end: Counts, levels: dict[str, Any]) -> None:
        """The smart control index of every county with holders, stored once (never recomputed on read)."""
        doc = formula(self._formula)
        set_levels = {code: v["level"] for code, v in levels.items()}
        by_city: dict[str, dict[str, Any]] = {}
        flow, end = by_county(flow), by_county(end)
        for county in sorted(set(flow) | set(end)):
            if county not in self._registry or len(county) != 6:
                continue  # "unknown" residence: counted, not indexed
            level = self._registry.effective_level(county, set_levels)
            row = index_row(doc, flow.get(county, {}), end.get(county, {}), level)
            by_city.setdefault(county[:4], {})[county] = row
        for city, rows in by_city.items():
            self._store.put_index(day, city, rows, doc["version"])

    def index(
        self, region: str | None, first: date | None, last: date | None, now: datetime, exact: bool = False
    ) -> IndexView:
        """The index per county and day; in public (``exact`` False) small numbers suppressed."""
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
                        shown = {k: v for k, v in row.items() if k != "people"} if exact else suppress(row)
                        days.append(
                            IndexDayView.model_validate(
                                shown
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

    def proposals(self, region: str | None, now: datetime) -> ProposalsView:
        """Where the published levels rule proposes another level than the one in force: counties with
        holders under ``region``, from the last day summed and the one 14 days before it (two items)."""
        region = region or self._map_region or None
        if not region or region not in self._registry:
            raise NotFound(f"Unknown region code {region} (GB/T 2260).")
        doc = formula("levels-v1")
        rolled = self._store.day(local_day(now) - timedelta(days=1))
        if rolled is None:
            raise NotFound("No day has been summed yet: proposals start the day after the first one.")
        day, end = rolled[0], by_county(rolled[1])
        before = self._store.day(day - timedelta(days=doc["days"]))
        start = by_county(before[1]) if before else {}
        set_levels = {code: s.level for code, s in self._levels.details().items()}
        prefix = prefix_of(region)
        out = []
        for county in sorted(end):
            if not county.startswith(prefix) or len(county) != 6 or county not in self._registry:
                continue
            holders = sum(end[county].get(c, 0) for c in COLORS)
            proposal = proposed_level(doc, turned_red(end[county]) - turned_red(start.get(county, {})), holders)
            current = self._registry.effective_level(county, set_levels)
            if proposal is not None and proposal[0] != current:
                found = self._registry.get(county)
                out.append(
                    ProposalView(
                        code=county,
                        name=found.name if found else county,
                        current_level=current,
                        proposed_level=proposal[0],
                        indicator=doc["indicator"],
                        value=proposal[1],
                        holders=holders,
                    )
                )
        return ProposalsView(region=region, rule=doc["version"], as_of=day, proposals=out)

    def areas(self, county: str, color: str | None, now: datetime) -> AreasView:
        """A county's registered towns and villages with their holders by colour and the colour the
        published rule gives them (e.g. the green villages a county recruits volunteers from)."""
        found = self._registry.get(county)
        if found is None or len(county) != 6 or county[4:6] == "00":
            raise NotFound(f"Unknown county code {county} (GB/T 2260).")
        assert self._areas is not None, "area colours need the areas table"
        doc = formula(self._formula)
        counts, _ = self.counts_at(local_day(now))
        out = []
        for area in sorted(self._areas.in_county(county), key=lambda a: a.code):
            by_color = within(counts, area.code)
            shade = area_color(doc["area_color"], by_color)
            if color is None or shade == color:
                out.append(
                    AreaColorView(
                        code=area.code,
                        name=area.name,
                        parent=area.parent,
                        holders=sum(by_color.values()),
                        by_color=ColorCounts(**by_color),
                        color=shade,
                    )
                )
        return AreasView(county=county, name=found.name, rule=doc["version"], areas=out)

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
        since = rolled[0] + timedelta(days=1) if rolled else day - FIRST_LOOK_BACK
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

    def area_scans(self, area: str, on: date) -> AreaScansView:
        """The scans of a day at every checkpoint placed in a county, town or village (and below it)."""
        if self._registry.get(area) is None or area[4:6] == "00":
            raise NotFound(f"Unknown area code {area}.")
        assert self._areas is not None, "area counts need the areas table"
        placed = sorted(c for c, where in self._areas.checkpoints(area[:6]) if where.startswith(area))
        per = [self.checkpoint_scans(c, on) for c in placed]
        total = {color: sum(getattr(p.by_color, color) for p in per) for color in COLORS}
        return AreaScansView(
            area=area,
            on=on,
            scans=sum(p.scans for p in per),
            by_color=ColorCounts(**total),
            unreadable=sum(p.unreadable for p in per),
            checkpoints=per,
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
        region, day, shown = self._map(region, as_of, now)
        return MapView(
            region=region,
            name=self._name(region),
            as_of=day,
            counties=[MapCountyView.model_validate(c, from_attributes=True) for c in shown],
            per_level=per_level(shown),
        )

    def map_svg(self, region: str | None, as_of: date | None, now: datetime) -> str:
        region, day, shown = self._map(region, as_of, now)
        return map_svg(shown, f"{self._name(region) or '全国'} 风险等级", day.isoformat())

    def _map(self, region: str | None, as_of: date | None, now: datetime) -> tuple[str | None, date, list[MapCounty]]:
        """The region shown, the day, and every county under it with the level that applied then."""
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
        return region, day, county_levels(counties, levels, ancestors)

    def _name(self, region: str | None) -> str | None:
        found = self._registry.get(region) if region else None
        return found.name if found else None

    def _all_counties(self) -> list[str]:
        return sorted(
            {c for p in self._registry.codes() if p.endswith("0000") for c in self._registry.counties_under(p)}
        )
