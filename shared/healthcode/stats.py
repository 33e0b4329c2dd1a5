"""Statistics of codes and the five-colour map, as pure functions (no I/O).

Counts are kept per *place*, a holder's residence county (GB/T 2260, six digits): how many holders hold a
green, yellow or red code there. A holder change moves one holder from one (place, colour) to another;
:func:`delta` says which, :func:`apply` adds deltas to counts, :func:`within` sums the places under a
province, city or county.

The map shows each county's risk level as Zhejiang's five colours (一图): 1 green, 2 blue, 3 yellow,
4 orange, 5 red. A level set on a city or province applies to every county below it without its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from healthcode.models import Holder

ZONE = ZoneInfo("Asia/Shanghai")  # days and hours of the statistics, as the authority reads them
COLORS = ("green", "yellow", "red")
LEVEL_COLORS = {1: "green", 2: "blue", 3: "yellow", 4: "orange", 5: "red"}
LEVEL_FILL = {1: "#2e9e44", 2: "#2f6fd6", 3: "#f2c200", 4: "#f07f13", 5: "#d62c1f"}
LEVEL_NAMES_ZH = {1: "低风险", 2: "较低风险", 3: "中风险", 4: "较高风险", 5: "高风险"}

Counts = dict[str, dict[str, int]]  # place -> {"green": n, "yellow": n, "red": n}
# (from, to): one holder left ``from`` ("place|colour") and joined ``to``; a reconciliation's repair
# adds a weight and True (k holders moved, nobody's code turned)
Delta = tuple[str | None, str | None] | tuple[str | None, str | None, int, bool]


# ----------------------------------------------------------------------------- counting


def key_of(holder: Holder | None) -> str | None:
    """Where a holder counts: ``"<place>|<colour>"``, the place its declared residence area (a town or
    village: its code begins with its county's) else its county; None when it counts nowhere."""
    if holder is None or not holder.applied:
        return None
    place = getattr(holder, "residence_area", None) or holder.residence_region or "unknown"
    return f"{place}|{holder.color}"


def delta(old: Holder | None, new: Holder | None) -> tuple[str | None, str | None] | None:
    """What a change of one holder does to the counts: (from, to) keys; None when it does nothing."""
    before, after = key_of(old), key_of(new)
    return None if before == after else (before, after)


def apply(counts: Counts, deltas: Iterable[Delta]) -> Counts:
    """``counts`` plus ``deltas`` (a new mapping; places that reach all zeros are dropped). Besides the
    holders by colour: ``new_<colour>`` counts codes issued in that colour, ``to_<colour>`` codes that
    turned that colour from another (a move to another county in the same colour is no turn): the
    index's daily flows."""
    out = {place: dict(c) for place, c in counts.items()}
    for change in deltas:
        before, after = change[0], change[1]
        weight, fix = (change[2], change[3]) if len(change) == 4 else (1, False)
        for key, step in ((before, -weight), (after, weight)):
            if key:
                place, color = key.split("|", 1)
                row = out.setdefault(place, dict.fromkeys(COLORS, 0))
                row[color] = row.get(color, 0) + step
        if fix:
            continue
        if after and (before is None or before.split("|", 1)[1] != after.split("|", 1)[1]):
            place, color = after.split("|", 1)
            turn = f"new_{color}" if before is None else f"to_{color}"
            out[place][turn] = out[place].get(turn, 0) + 1
    return {p: c for p, c in out.items() if any(c.values())}


def colors_only(counts: Counts) -> Counts:
    """The holders by colour of each place (without the day's flows), places with anyone."""
    out = {p: {color: c.get(color, 0) for color in COLORS} for p, c in counts.items()}
    return {p: c for p, c in out.items() if any(c.values())}


def by_county(counts: Counts) -> Counts:
    """The counts of each county, its towns' and villages' summed into it."""
    out: Counts = {}
    for place, c in counts.items():
        row = out.setdefault(place[:6], {})
        for k, n in c.items():
            row[k] = row.get(k, 0) + n
    return out


def area_color(rule: Mapping[str, Any], by_color: Mapping[str, int]) -> str:
    """An area's colour by the published rule: red if any resident is red, yellow if more than the
    rule's share are yellow, else green (Wencheng's village colours)."""
    holders = sum(by_color.get(c, 0) for c in COLORS)
    if by_color.get("red", 0) >= rule["red_if_red_at_least"]:
        return "red"
    if holders and by_color.get("yellow", 0) / holders > rule["yellow_if_yellow_share_over"]:
        return "yellow"
    return "green"


def merge(*parts: Counts) -> Counts:
    out: Counts = {}
    for part in parts:
        for place, c in part.items():
            row = out.setdefault(place, dict.fromkeys(COLORS, 0))
            for color, n in c.items():
                row[color] = row.get(color, 0) + n
    return {p: c for p, c in out.items() if any(c.values())}


def prefix_of(region: str | None) -> str:
    """The place prefix a region code stands for: 330000 -> 33, 330100 -> 3301, 330106 -> 330106; a town
    or village code (9 or 12 digits) stands for itself (a town's villages begin with its code)."""
    if not region:
        return ""
    if len(region) != 6:
        return region
    if region.endswith("0000"):
        return region[:2]
    if region.endswith("00"):
        return region[:4]
    return region


def within(counts: Counts, region: str | None) -> dict[str, int]:
    """Holders by colour in the places under ``region`` (None: everywhere)."""
    prefix = prefix_of(region)
    total = dict.fromkeys(COLORS, 0)
    for place, c in counts.items():
        if place.startswith(prefix):
            for color in COLORS:
                total[color] += c.get(color, 0)
    return total


# ----------------------------------------------------------------------------- the smart control index


def formula(version: str = "index-v1") -> dict[str, Any]:
    """A published index formula document (``formulas/<version>.json``)."""
    from importlib import resources

    doc: dict[str, Any] = json.loads(
        resources.files("healthcode.formulas").joinpath(f"{version}.json").read_text("utf-8")
    )
    return doc


def _score(value: float, best: float, worst: float) -> float:
    """100 at ``best``, 0 at ``worst``, linear between, clamped outside."""
    return round(100 * min(max((value - worst) / (best - worst), 0.0), 1.0), 2)


def index_row(doc: dict[str, Any], flow: Mapping[str, int], end: Mapping[str, int], level: int) -> dict[str, Any]:
    """One county's index for one day: ``flow`` the day's turns (``to_<colour>``), ``end`` the holders by
    colour at its end, ``level`` its risk level then. Every raw value, score and weight is returned."""
    holders = sum(end.get(c, 0) for c in COLORS)
    per_100k = 100_000 / holders if holders else 0.0
    raw = {
        "new_red_per_100k": (flow.get("to_red", 0) + flow.get("new_red", 0)) * per_100k,
        "new_yellow_per_100k": (flow.get("to_yellow", 0) + flow.get("new_yellow", 0)) * per_100k,
        "non_green_share": (holders - end.get("green", 0)) / holders if holders else 0.0,
        "green_rate": end.get("green", 0) / holders if holders else 1.0,
        "returned_green_per_100k": flow.get("to_green", 0) * per_100k,
        "risk_level": float(level),
    }
    subs: dict[str, float] = {}
    indicators = []
    for part in ("control", "smoothness"):
        total = weights = 0.0
        for ind in doc[part]:
            value = round(raw[ind["id"]], 4)
            score = _score(value, ind["best"], ind["worst"])
            indicators.append(
                {"id": ind["id"], "sub_index": part, "value": value, "score": score, "weight": ind["weight"]}
            )
            total, weights = total + score * ind["weight"], weights + ind["weight"]
        subs[part] = round(total / weights, 2)
    w = doc["index"]
    index = round(
        (subs["control"] * w["control"] + subs["smoothness"] * w["smoothness"]) / (w["control"] + w["smoothness"]), 2
    )
    new_red = flow.get("to_red", 0) + flow.get("new_red", 0)
    new_yellow = flow.get("to_yellow", 0) + flow.get("new_yellow", 0)
    green = end.get("green", 0)
    return {
        "holders": holders,
        "index": index,
        "control": subs["control"],
        "smoothness": subs["smoothness"],
        "indicators": indicators,
        # the people behind each rate or share (a share's complement tells as much: 33 of 35 green is
        # 2 of 35 not), for publishing small numbers suppressed (see ``suppress``)
        "people": {
            "new_red_per_100k": new_red,
            "new_yellow_per_100k": new_yellow,
            "non_green_share": min(holders - green, green),
            "green_rate": min(holders - green, green),
            "returned_green_per_100k": flow.get("to_green", 0),
        },
    }


SMALL = 10  # a figure about fewer people than this is published as "<10" (or not at all)


def small(n: int) -> bool:
    return 0 < n < SMALL


def suppress(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as published: a county with fewer than SMALL holders shows "<10" and no index; a rate or
    share about 1..9 people shows no value; an index or sub-index any suppressed value feeds is not shown
    either (its weights are published: it would give the value back). A row stored before the people were
    kept counts everything as small. Officials with a role read the exact row."""
    people: dict[str, int] = row.get("people") or {}
    out = {k: v for k, v in row.items() if k != "people"}
    few = small(int(row["holders"])) or int(row["holders"]) == 0
    hidden = set()
    indicators = []
    for ind in row["indicators"]:
        behind = people.get(ind["id"])
        cut = ind["id"] != "risk_level" and (few or behind is None or small(behind))
        if cut:
            hidden.add(ind["sub_index"])
        indicators.append(ind | {"value": None, "score": None, "suppressed": True} if cut else ind)
    out["indicators"] = indicators
    if few:
        out["holders"] = f"<{SMALL}"
    for part in hidden:
        out[part] = None
    if hidden:
        out["index"] = None
    return out


def proposed_level(doc: dict[str, Any], new_red: int, holders: int) -> tuple[int, float] | None:
    """The level the rule proposes for a county (and the indicator's value), or None below min_holders."""
    if holders < doc["min_holders"]:
        return None
    value = round(new_red * 100_000 / holders, 2)
    level = next(t["level"] for t in doc["thresholds"] if value >= t["at_least"])
    return level, value


def turned_red(row: Mapping[str, int]) -> int:
    """Codes that turned red or were issued red, cumulated in a day item's counts."""
    return row.get("to_red", 0) + row.get("new_red", 0)


# ----------------------------------------------------------------------------- time


def local_hour(at: datetime) -> str:
    """The statistics hour of ``at``: ``YYYY-MM-DDTHH`` in Asia/Shanghai."""
    return at.astimezone(ZONE).strftime("%Y-%m-%dT%H")


def hour_end(hour: str) -> datetime:
    return datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=ZONE) + timedelta(hours=1)


def day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), ZONE)


def local_day(at: datetime) -> date:
    return at.astimezone(ZONE).date()


# ----------------------------------------------------------------------------- the map


@dataclass(frozen=True, slots=True)
class LevelSet:
    """A level the authority or a partner set on a region (county, city or province)."""

    level: int
    at: str | None
    by: str | None


@dataclass(frozen=True, slots=True)
class MapCounty:
    code: str
    name: str
    level: int
    color: str
    set_at: str | None
    set_by: str | None
    set_on: str | None  # the region whose level applies (the county itself, its city or province); None: never set
    longitude: float | None
    latitude: float | None


def county_levels(
    counties: Iterable[tuple[str, str, float | None, float | None]],
    levels: Mapping[str, LevelSet],
    ancestors: Mapping[str, Iterable[str]],
) -> list[MapCounty]:
    """Every county with the level that applies to it: its own, else its city's, else its province's,
    else 1. ``counties``: (code, name, longitude, latitude); ``ancestors``: county -> itself and above."""
    out = []
    for code, name, lon, lat in counties:
        applied = next(((c, levels[c]) for c in ancestors[code] if c in levels), None)
        level = applied[1].level if applied else 1
        out.append(
            MapCounty(
                code=code,
                name=name,
                level=level,
                color=LEVEL_COLORS[level],
                set_at=applied[1].at if applied else None,
                set_by=applied[1].by if applied else None,
                set_on=applied[0] if applied else None,
                longitude=lon,
                latitude=lat,
            )
        )
    return out


def per_level(counties: Iterable[MapCounty]) -> dict[str, int]:
    counts = {LEVEL_COLORS[level]: 0 for level in LEVEL_COLORS}
    for c in counties:
        counts[c.color] += 1
    return counts


def map_svg(counties: list[MapCounty], title: str, as_of: str, width: int = 800) -> str:
    """The map as an SVG picture: each county a coloured mark at its coordinates (equirectangular,
    scaled to the counties shown), its name under it, a legend of the five colours and the date."""
    placed = [(c, c.longitude, c.latitude) for c in counties if c.longitude is not None and c.latitude is not None]
    legend_h, margin = 40, 40
    lons = [lon for _, lon, _ in placed]
    lats = [lat for _, _, lat in placed]
    if placed:
        span_lon, span_lat = max(max(lons) - min(lons), 0.01), max(max(lats) - min(lats), 0.01)
        scale = (width - 2 * margin) / max(span_lon, span_lat)
        height = int(span_lat * scale) + 2 * margin + legend_h + 30
    else:
        scale, height = 1.0, 200
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img">',
        f"<title>{escape(title)} {escape(as_of)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{margin}" y="26" font-size="18">{escape(title)} · {escape(as_of)}</text>',
    ]
    for c, lon, lat in placed:
        x = margin + (lon - min(lons)) * scale
        y = 30 + margin + (max(lats) - lat) * scale
        parts.append(
            f"<g><title>{escape(c.name)} {c.code}: {LEVEL_NAMES_ZH[c.level]} ({c.color}, level {c.level})</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{LEVEL_FILL[c.level]}" stroke="#333" stroke-width="0.5"'
            f' data-code="{c.code}" data-level="{c.level}"/>'
            f'<text x="{x:.1f}" y="{y + 20:.1f}" font-size="10" text-anchor="middle">{escape(c.name)}</text></g>'
        )
    y = height - legend_h + 10
    for i, level in enumerate(LEVEL_COLORS):
        x = margin + i * 140
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{LEVEL_FILL[level]}"/>'
            f'<text x="{x + 20}" y="{y + 12}" font-size="12">{level} {LEVEL_NAMES_ZH[level]} {LEVEL_COLORS[level]}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
