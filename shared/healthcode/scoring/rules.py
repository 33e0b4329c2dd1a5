"""Pure scoring: a holder's facts + region levels + prior episode state + ruleset + now -> assessment.

No I/O and no clock reads: everything the rules need comes in as arguments, so the same inputs
always give the same colour. This is the one place the scoring rules live.

Vocabulary
----------
A *risk source* is one fact that earns points: a stay, a contact, a case listing, a symptom on the
day it was reported. Each has a stable key (``stay:330102:2020-02-01``) so an episode can remember
which risk it was for. An *episode* is the quarantine that starts when a holder turns yellow or red;
it ends when the required clean daily check-ins are done (its risk is then *discharged*: remembered
with the points it had, so only new or increased risk counts again), or when its risk leaves the
window. New or increased risk starts a new episode, which restarts the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from healthcode.scoring.ruleset import Ruleset


class Color(StrEnum):
    """The published colour enum. ``unknown`` is for codes whose holder cannot be found."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_RANK = {Color.GREEN: 0, Color.YELLOW: 1, Color.RED: 2}


def rank(c: Color) -> int:
    return _RANK[c]


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Stay:
    region: str
    arrived_on: date
    left_on: date | None  # None: still there


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str  # close_contact | secondary_contact
    on: date


@dataclass(frozen=True, slots=True)
class SymptomReport:
    """Symptoms reported on a day, at application or at a check-in."""

    on: date
    symptoms: tuple[str, ...] = ()
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Checkin:
    on: date
    temperature: float
    symptoms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known about a holder that the rules look at."""

    stays: tuple[Stay, ...] = ()
    contacts: tuple[Contact, ...] = ()  # declared by the holder or listed by the authority
    reports: tuple[SymptomReport, ...] = ()  # symptoms declared at application
    checkins: tuple[Checkin, ...] = ()
    case: str | None = None  # authority list: confirmed | suspected (None once cleared)


class Episode(NamedTuple):
    color: Color
    started_on: date
    covers: Mapping[str, int]  # risk source key -> points when the episode took it on
    is_case: bool = False


class State(NamedTuple):
    """What the rules remember between evaluations."""

    episode: Episode | None = None
    discharged: Mapping[str, tuple[int, date]] = MappingProxyType({})  # key -> (points, until)


# ----------------------------------------------------------------------------- outputs


class Reason(NamedTuple):
    factor: str
    points: int
    detail: str


class Quarantine(NamedTuple):
    kind: str
    checkins_required: int | None
    checkins_done: int
    started_on: date


class Assessment(NamedTuple):
    color: Color
    score: int
    reasons: tuple[Reason, ...]
    quarantine: Quarantine | None
    green_eligible_on: date | None
    due_on: date | None  # the next day time alone could change the colour (for the scheduler)
    state: State
    ruleset_version: str
    today: date


class _Source(NamedTuple):
    key: str
    factor: str
    points: int
    detail: str
    until: date | None  # last day it counts; None: no end in sight (ongoing stay, case)
    grows: bool = False  # ongoing stay whose points rise each day


# ----------------------------------------------------------------------------- rules


def local_day(now: datetime, rules: Ruleset) -> date:
    """The calendar day of ``now`` in the ruleset's time zone (check-ins are one per such day)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(rules.zone).date()


def is_clean(checkin: Checkin, rules: Ruleset) -> bool:
    return checkin.temperature < rules.fever_temperature and not checkin.symptoms


def _sources(
    facts: Facts, levels: Mapping[str, int], rules: Ruleset, today: date, names: Mapping[str, str]
) -> list[_Source]:
    out: list[_Source] = []
    if facts.case:
        pts = rules.case_points.get(facts.case, 0)
        out.append(_Source("case", facts.case, pts, f"listed by the health authority as a {facts.case} case", None))

    seen: set[str] = set()
    for c in facts.contacts:
        age = (today - c.on).days
        if age < 0 or age > rules.contact_window:
            continue
        key = f"contact:{c.kind}:{c.on.isoformat()}"
        if key in seen:
            continue
        seen.add(key)
        label = "close contact" if c.kind == "close_contact" else "secondary contact"
        out.append(
            _Source(
                key,
                c.kind,
                rules.contact_points[c.kind],
                f"{label} on {c.on.isoformat()} (counts until {(c.on + timedelta(days=rules.contact_window)).isoformat()})",
                c.on + timedelta(days=rules.contact_window),
            )
        )

    for s in facts.stays:
        if s.arrived_on > today:
            continue
        end = s.left_on if s.left_on is not None else today
        if s.left_on is not None and (today - s.left_on).days > rules.stay_window:
            continue
        level = levels.get(s.region, 1)
        days = min(max((end - s.arrived_on).days, rules.stay_min_days), rules.stay_max_days)
        pts = rules.stay_base[level] + rules.stay_per_day[level] * days
        if pts <= 0:
            continue
        place = names.get(s.region, s.region)
        until = None if s.left_on is None else s.left_on + timedelta(days=rules.stay_window)
        span = f"since {s.arrived_on.isoformat()}" if s.left_on is None else f"until {s.left_on.isoformat()}"
        grows = s.left_on is None and rules.stay_per_day[level] > 0 and days < rules.stay_max_days
        out.append(
            _Source(
                f"stay:{s.region}:{s.arrived_on.isoformat()}",
                "stay",
                pts,
                f"{days} day{'s' if days != 1 else ''} in {place} ({s.region}, risk level {level}) {span}",
                until,
                grows,
            )
        )

    def symptoms_on(day: date, names_: Iterable[str], temperature: float | None) -> None:
        age = (today - day).days
        if age < 0 or age >= rules.symptom_window:
            return
        until = day + timedelta(days=rules.symptom_window - 1)
        kinds = set(names_)
        if "fever" in kinds or (temperature is not None and temperature >= rules.fever_temperature):
            kinds.discard("fever")
            t = f" ({temperature:.1f} °C)" if temperature is not None and temperature >= rules.fever_temperature else ""
            out.append(_Source(f"symptom:{day.isoformat()}:fever", "fever", rules.fever_points, f"fever{t}", until))
        for kind in sorted(kinds & rules.symptom_kinds):
            out.append(
                _Source(
                    f"symptom:{day.isoformat()}:{kind}", "symptom", rules.symptom_each, kind.replace("_", " "), until
                )
            )

    for r in facts.reports:
        symptoms_on(r.on, r.symptoms, r.temperature)
    for ci in facts.checkins:
        symptoms_on(ci.on, ci.symptoms, ci.temperature)
    return out


def _total(sources: list[_Source], rules: Ruleset) -> tuple[int, list[Reason]]:
    """Sum the sources into a score and the reasons that explain it (one line per factor)."""
    score = 0
    reasons: list[Reason] = []
    fever: list[_Source] = []
    symptom_days: dict[str, list[str]] = {}
    for s in sources:
        if s.factor == "fever":
            fever.append(s)
        elif s.factor == "symptom":
            symptom_days.setdefault(s.detail, []).append(s.key.split(":")[1])
        else:
            score += s.points
            reasons.append(Reason(s.factor, s.points, s.detail))
    if fever:
        days = sorted({s.key.split(":")[1] for s in fever})
        detail = fever[-1].detail + " reported on " + ", ".join(days)
        score += rules.fever_points
        reasons.append(Reason("fever", rules.fever_points, detail))
    if symptom_days:
        pts = min(rules.symptom_each * len(symptom_days), rules.symptom_max)
        score += pts
        listed = "; ".join(f"{k} ({', '.join(sorted(v))})" for k, v in sorted(symptom_days.items()))
        reasons.append(Reason("symptoms", pts, f"{listed}: {rules.symptom_each} each, at most {rules.symptom_max}"))
    return score, reasons


def _color(score: int, rules: Ruleset) -> Color:
    if score >= rules.red_at:
        return Color.RED
    if score >= rules.yellow_at:
        return Color.YELLOW
    return Color.GREEN


def _count_checkins(
    checkins: Iterable[Checkin], started_on: date, today: date, required: int | None, rules: Ruleset
) -> tuple[int, date | None]:
    """Walk the days after ``started_on``: a clean check-in adds one, a missed day or symptoms restart.

    Returns the run still unbroken today (no check-in yet today is not a missed day) and the first
    day the run reached ``required`` (None if it never did).
    """
    by_day = {c.on: c for c in checkins if started_on < c.on <= today}
    run = 0
    day = started_on + timedelta(days=1)
    while day <= today:
        c = by_day.get(day)
        if c is not None and is_clean(c, rules):
            run += 1
            if required and run >= required:
                return run, day
        elif not (day == today and c is None):
            run = 0
        day += timedelta(days=1)
    return run, None


def _undischarged(sources: list[_Source], discharged: Mapping[str, tuple[int, date]]) -> list[_Source]:
    if not discharged:
        return sources
    return [s for s in sources if s.key not in discharged or s.points > discharged[s.key][0]]


def _discharge(discharged: dict[str, tuple[int, date]], sources: Iterable[_Source], today: date) -> None:
    for s in sources:
        # remember it while it could still count: ongoing sources for a generous horizon
        until = s.until if s.until is not None else today + timedelta(days=3650)
        prev = discharged.get(s.key)
        if prev is None or prev[0] < s.points:
            discharged[s.key] = (s.points, until)


def _green_by_window(und: list[_Source], today: date, rules: Ruleset) -> date | None:
    """The first day the remaining risk, left alone, drops below yellow as sources leave the window."""
    ends = sorted({s.until for s in und if s.until is not None and s.until >= today})
    for end in ends:
        day = end + timedelta(days=1)
        still = [s for s in und if s.until is None or s.until >= day]
        if _color(_total(still, rules)[0], rules) is Color.GREEN:
            return day
    return None


def evaluate(
    facts: Facts,
    state: State,
    levels: Mapping[str, int],
    rules: Ruleset,
    now: datetime,
    region_names: Mapping[str, str] | None = None,
) -> Assessment:
    """Score a holder at ``now``.

    Parameters
    ----------
    facts:
        declarations, check-ins, contacts and authority status.
    state:
        the episode and discharged risk remembered from the previous evaluation.
    levels:
        region code -> risk level 1..5 for every region in ``facts.stays`` (missing: level 1).
    rules:
        the ruleset in force.
    now:
        a timezone-aware instant; its calendar day in the ruleset's zone is "today".
    region_names:
        optional code -> name, used only to make reasons readable.
    """
    today = local_day(now, rules)
    names = region_names or {}
    sources = _sources(facts, levels, rules, today, names)
    keys = {s.key for s in sources}
    discharged = {k: v for k, v in state.discharged.items() if v[1] >= today and k in keys}
    episode = state.episode

    # A case episode ends only by clearance: when the authority no longer lists the case,
    # everything that episode was for is discharged.
    if episode is not None and episode.is_case and "case" not in keys:
        _discharge(discharged, (s for s in sources if s.key in episode.covers), today)
        episode = None

    und = _undischarged(sources, discharged)
    score, reasons = _total(und, rules)
    color = _color(score, rules)

    if color is Color.GREEN:
        episode = None
    else:
        is_case = any(s.key == "case" for s in und)
        new_risk = episode is None or any(s.key not in episode.covers or s.points > episode.covers[s.key] for s in und)
        if new_risk:
            # the colour is always the one the score gives, so reasons and colour never disagree
            episode = Episode(color, today, {s.key: s.points for s in und}, is_case)
        else:
            assert episode is not None
            episode = Episode(color, episode.started_on, episode.covers, is_case)
            required = rules.checkins_required.get(color.value)
            if not is_case and required:
                _, done_on = _count_checkins(facts.checkins, episode.started_on, today, required, rules)
                if done_on is not None:
                    _discharge(discharged, und, today)
                    und = _undischarged(sources, discharged)
                    score, reasons = _total(und, rules)
                    color = _color(score, rules)  # green: everything left was covered
                    episode = None

    quarantine: Quarantine | None = None
    green_on: date | None = None
    if episode is not None:
        q_key = "case" if episode.is_case else episode.color.value
        required = rules.checkins_required.get(q_key)
        run, _ = _count_checkins(facts.checkins, episode.started_on, today, None, rules)
        quarantine = Quarantine(rules.quarantine_kind[q_key], required, run, episode.started_on)
        if not episode.is_case and required:
            checked_today = any(c.on == today for c in facts.checkins if c.on > episode.started_on)
            first = max(episode.started_on + timedelta(days=1), today + timedelta(days=1) if checked_today else today)
            by_checkins = first + timedelta(days=required - run - 1)
            by_window = _green_by_window(und, today, rules)
            green_on = min(by_checkins, by_window) if by_window else by_checkins

    # The scheduler only needs a holder when time alone can change the colour: a risk source
    # leaves the window, or an ongoing stay earns more points tomorrow.
    due: date | None = None
    if color is not Color.GREEN:
        ends = [s.until + timedelta(days=1) for s in und if s.until is not None and s.until >= today]
        due = min(ends) if ends else None
    if any(s.grows for s in und):
        tomorrow = today + timedelta(days=1)
        due = tomorrow if due is None or tomorrow < due else due

    return Assessment(
        color=color,
        score=score,
        reasons=tuple(reasons),
        quarantine=quarantine,
        green_eligible_on=green_on,
        due_on=due,
        state=State(episode, discharged),
        ruleset_version=rules.version,
        today=today,
    )
