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
class Override:
    """A colour the health authority imposed, approved by two people (dual control): in force through
    ``until`` (the last day, in the ruleset's zone). It never makes a listed case green."""

    color: Color
    reason: str
    until: date


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything known about a holder that the rules look at."""

    stays: tuple[Stay, ...] = ()
    contacts: tuple[Contact, ...] = ()  # declared by the holder or listed by the authority
    reports: tuple[SymptomReport, ...] = ()  # symptoms declared at application
    checkins: tuple[Checkin, ...] = ()
    case: str | None = None  # authority list: confirmed | suspected (None once cleared)
    overrides: tuple[Override, ...] = ()  # in the order they were approved: the last in force applies


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
    note: str | None = None  # e.g. why today's check-in does not count


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
    ongoing: bool = False  # a stay still going on: while it lasts, the episode cannot end
    level: int = 0  # stays: the region's level (to group many stays into one reason line)
    days: int = 0  # stays: days counted


def N_(message: str) -> str:
    """Marks a message for the catalogue (``make i18n``); the rules stay pure and English, and the line
    is translated where it is answered (:mod:`healthcode.i18n`)."""
    return message


# The reasons' lines: English templates, translated where they are answered (healthcode.i18n)
CASE_LINE = N_("listed by the health authority as a {kind} case")
CASE_KINDS = (N_("confirmed"), N_("suspected"))
SYMPTOM_NAMES = (  # a symptom's name in a reason: its kind with spaces
    N_("cough"),
    N_("sore throat"),
    N_("fatigue"),
    N_("shortness of breath"),
    N_("diarrhoea"),
    N_("loss of taste or smell"),
)
CONTACT_LINE = {
    "close_contact": N_("close contact on {on} (counts until {until})"),
    "secondary_contact": N_("secondary contact on {on} (counts until {until})"),
}
NAMED_PLACE = N_("{name} ({region}, risk level {level})")
PLACE = N_("region {region} (risk level {level})")
STAY_LINE = {  # (still there, one day)
    (True, False): N_("{days} days in {place} since {arrived}, still there: quarantine cannot end while the stay goes on"),
    (True, True): N_("1 day in {place} since {arrived}, still there: quarantine cannot end while the stay goes on"),
    (False, False): N_("{days} days in {place} until {left}"),
    (False, True): N_("1 day in {place} until {left}"),
}
STAYS_LINE = N_("{stays} stays in level-{level} regions, {days} days in all")
STAYS_ONGOING_LINE = N_(
    "{stays} stays in level-{level} regions, {days} days in all"
    " ({ongoing} still going on: quarantine cannot end while a stay goes on)"
)
FEVER_LINE = N_("fever reported on {days}")
FEVER_MEASURED_LINE = N_("fever ({temperature} °C) reported on {days}")
SYMPTOM_DAYS = N_("{symptom} ({days})")
SYMPTOMS_LINE = N_("{listed}: {each} each, at most {most}")
EARLY_CHECKIN_NOTE = N_("Today's check-in came before this quarantine started today; counting starts tomorrow.")
OVERRIDE_LINE = N_("override by the health authority: {reason}, until {until}")

MAX_STAY_LINES = 5  # more stays than this are summed up per level in the reasons
LEVELS = range(1, 6)


# ----------------------------------------------------------------------------- rules


def local_day(now: datetime, rules: Ruleset) -> date:
    """The calendar day of ``now`` in the ruleset's time zone (check-ins are one per such day)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(rules.zone).date()


def is_clean(checkin: Checkin, rules: Ruleset) -> bool:
    return checkin.temperature < rules.fever_temperature and not checkin.symptoms


def merge_checkins(checkins: Iterable[Checkin]) -> tuple[Checkin, ...]:
    """One check-in per day, in the order given: a later one replaces the temperature, but a symptom
    once reported that day stays reported (so that day is not clean)."""
    by_day: dict[date, Checkin] = {}
    for c in checkins:
        earlier = by_day.get(c.on)
        if earlier is None:
            by_day[c.on] = c
        else:
            symptoms = tuple(sorted(set(earlier.symptoms) | set(c.symptoms)))
            by_day[c.on] = Checkin(c.on, c.temperature, symptoms)
    return tuple(by_day.values())


def _check_levels(levels: Mapping[str, int]) -> None:
    for code, level in levels.items():
        if type(level) is not int or level not in LEVELS:
            raise ValueError(f"risk level {level!r} of region {code} is outside 1..5")


def _sources(
    facts: Facts, levels: Mapping[str, int], rules: Ruleset, today: date, names: Mapping[str, str], present: set[str]
) -> list[_Source]:
    """The risk sources that earn points today; ``present`` receives the key of every fact still in
    the window, including those that earn nothing today (a stay in a region now at level 1)."""
    out: list[_Source] = []
    if facts.case:
        present.add("case")
        pts = rules.case_points.get(facts.case, 0)
        out.append(_Source("case", facts.case, pts, CASE_LINE.format(kind=facts.case), None))

    seen: set[str] = set()
    for c in facts.contacts:
        age = (today - c.on).days
        if age < 0 or age > rules.contact_window:
            continue
        key = f"contact:{c.kind}:{c.on.isoformat()}"
        if key in seen:
            continue
        seen.add(key)
        present.add(key)
        until = c.on + timedelta(days=rules.contact_window)
        line = CONTACT_LINE[c.kind].format(on=c.on.isoformat(), until=until.isoformat())
        out.append(_Source(key, c.kind, rules.contact_points[c.kind], line, until))

    for s in facts.stays:
        if s.arrived_on > today:
            continue
        end = s.left_on if s.left_on is not None else today
        if s.left_on is not None and (today - s.left_on).days > rules.stay_window:
            continue
        level = levels.get(s.region, 1)
        days = min(max((end - s.arrived_on).days, rules.stay_min_days), rules.stay_max_days)
        pts = rules.stay_base[level] + rules.stay_per_day[level] * days
        key = f"stay:{s.region}:{s.arrived_on.isoformat()}"
        present.add(key)
        if pts <= 0:
            continue
        name = names.get(s.region)
        place = (NAMED_PLACE if name else PLACE).format(name=name, region=s.region, level=level)
        ends: date | None = None if s.left_on is None else s.left_on + timedelta(days=rules.stay_window)
        template = STAY_LINE[(s.left_on is None, days == 1)]
        line = template.format(days=days, place=place, arrived=s.arrived_on.isoformat(), left=s.left_on)
        grows = s.left_on is None and rules.stay_per_day[level] > 0 and days < rules.stay_max_days
        out.append(_Source(key, "stay", pts, line, ends, grows, s.left_on is None, level, days))

    def symptoms_on(day: date, names_: Iterable[str], temperature: float | None) -> None:
        age = (today - day).days
        if age < 0 or age >= rules.symptom_window:
            return
        until = day + timedelta(days=rules.symptom_window - 1)
        kinds = set(names_)
        present.update(f"symptom:{day.isoformat()}:{k}" for k in kinds)
        if "fever" in kinds or (temperature is not None and temperature >= rules.fever_temperature):
            present.add(f"symptom:{day.isoformat()}:fever")
            kinds.discard("fever")
            t = f"{temperature:.1f}" if temperature is not None and temperature >= rules.fever_temperature else ""
            out.append(_Source(f"symptom:{day.isoformat()}:fever", "fever", rules.fever_points, t, until))
        for kind in sorted(kinds & rules.symptom_kinds):
            out.append(
                _Source(
                    f"symptom:{day.isoformat()}:{kind}", "symptom", rules.symptom_each, kind.replace("_", " "), until
                )
            )

    for r in facts.reports:
        symptoms_on(r.on, r.symptoms, r.temperature)
    for ci in merge_checkins(facts.checkins):
        symptoms_on(ci.on, ci.symptoms, ci.temperature)
    return out


def _total(sources: list[_Source], rules: Ruleset) -> tuple[int, list[Reason]]:
    """Sum the sources into a score and the reasons that explain it (one line per factor)."""
    score = 0
    reasons: list[Reason] = []
    fever: list[_Source] = []
    symptom_days: dict[str, list[str]] = {}
    group_stays = sum(1 for s in sources if s.factor == "stay") > MAX_STAY_LINES
    stay_levels: dict[int, list[_Source]] = {}
    for s in sources:
        if s.factor == "stay" and group_stays:
            score += s.points
            stay_levels.setdefault(s.level, []).append(s)
        elif s.factor == "fever":
            fever.append(s)
        elif s.factor == "symptom":
            symptom_days.setdefault(s.detail, []).append(s.key.split(":")[1])
        else:
            score += s.points
            reasons.append(Reason(s.factor, s.points, s.detail))
    for level in sorted(stay_levels, reverse=True):
        group = stay_levels[level]
        days_in_all = sum(s.days for s in group)
        ongoing = sum(1 for s in group if s.ongoing)
        template = STAYS_ONGOING_LINE if ongoing else STAYS_LINE
        detail = template.format(stays=len(group), level=level, days=days_in_all, ongoing=ongoing)
        reasons.append(Reason("stay", sum(s.points for s in group), detail))
    if fever:
        days = sorted({s.key.split(":")[1] for s in fever})
        temperature = fever[-1].detail  # the last one's temperature, if it was measured
        detail = (FEVER_MEASURED_LINE if temperature else FEVER_LINE).format(temperature=temperature, days=", ".join(days))
        score += rules.fever_points
        reasons.append(Reason("fever", rules.fever_points, detail))
    if symptom_days:
        pts = min(rules.symptom_each * len(symptom_days), rules.symptom_max)
        score += pts
        listed = "; ".join(
            SYMPTOM_DAYS.format(symptom=k, days=", ".join(sorted(v))) for k, v in sorted(symptom_days.items())
        )
        line = SYMPTOMS_LINE.format(listed=listed, each=rules.symptom_each, most=rules.symptom_max)
        reasons.append(Reason("symptoms", pts, line))
    return score, reasons


def _color(score: int, rules: Ruleset) -> Color:
    if score >= rules.red_at:
        return Color.RED
    if score >= rules.yellow_at:
        return Color.YELLOW
    return Color.GREEN


def _count_checkins(
    checkins: Iterable[Checkin], started_on: date, today: date, required: int | None, rules: Ruleset
) -> tuple[int, date | None, int]:
    """Walk the days after ``started_on``: a clean check-in adds one, a missed day or symptoms restart.

    Returns the run still unbroken today (no check-in yet today is not a missed day), the first day a
    run reached ``required`` (None if none did) and the longest run so far.
    """
    by_day = {c.on: c for c in checkins if started_on < c.on <= today}
    run = best = 0
    day = started_on + timedelta(days=1)
    while day <= today:
        c = by_day.get(day)
        if c is not None and is_clean(c, rules):
            run += 1
            best = max(best, run)
            if required and run >= required:
                return run, day, best
        elif not (day == today and c is None):
            run = 0
        day += timedelta(days=1)
    return run, None, best


def _undischarged(sources: list[_Source], discharged: Mapping[str, tuple[int, date]]) -> list[_Source]:
    if not discharged:
        return sources
    return [s for s in sources if s.key not in discharged or s.points > discharged[s.key][0]]


def _discharge(discharged: dict[str, tuple[int, date]], sources: Iterable[_Source], today: date) -> None:
    for s in sources:
        # remembered while its fact is in the window (see ``present``); ``until`` says how long at most
        until = s.until if s.until is not None else today + timedelta(days=3650)
        prev = discharged.get(s.key)
        if prev is None or prev[0] < s.points:
            discharged[s.key] = (s.points, until)


def _first_green_day(
    und: list[_Source], started_on: date, checkins: tuple[Checkin, ...], today: date, rules: Ruleset
) -> date | None:
    """The first day the holder is green if every day from today that has no check-in yet gets a clean
    one (today too: the day is not over). The colour steps down as risk leaves the window, and each
    colour needs its own number of clean check-ins, counting those already done in the episode."""
    run, _, best = _count_checkins(checkins, started_on, today, None, rules)
    settled = today <= started_on or any(c.on == today for c in checkins)
    start = today + timedelta(days=1) if settled else today
    first_run = run + 1  # the run on ``start``
    exits = sorted(
        {s.until + timedelta(days=1) for s in und if s.until is not None and s.until + timedelta(days=1) > start}
    )
    bounds = [start, *exits]
    for i, seg_start in enumerate(bounds):
        still = [s for s in und if s.until is None or s.until >= seg_start]
        color = _color(_total(still, rules)[0], rules)
        if color is Color.GREEN:
            return seg_start
        required = rules.checkins_required.get(color.value)
        if not required:
            continue
        if best >= required:
            return seg_start
        by_checkins = max(seg_start, start + timedelta(days=required - first_run))
        if i + 1 == len(bounds) or by_checkins < bounds[i + 1]:
            return by_checkins
    return None


def _covered(s: _Source, episode: Episode) -> bool:
    return s.key in episode.covers and s.points <= episode.covers[s.key]


def _served_before_today(
    episode: Episode, und: list[_Source], checkins: tuple[Checkin, ...], today: date, rules: Ruleset
) -> bool:
    """Whether the episode ended at the start of today, before anything new was known today: its own
    risks (not new ones) leave it at a colour whose count the check-ins up to yesterday met. Without
    this, when the holder is next evaluated would decide the colour — a new risk arriving before the
    first evaluation of the day would be added to risks the episode had already served (path
    independence: product.md, "Settled details")."""
    known = [s for s in und if _covered(s, episode)]
    if len(known) == len(und) or any(s.ongoing for s in known):
        return False  # nothing new: the evaluation below counts today too; or a stay goes on
    color = _color(_total(known, rules)[0], rules)
    required = rules.checkins_required.get(color.value)
    if color is Color.GREEN or not required:
        return False  # green: the episode ends without discharging (as below); no count: it cannot end so
    _, done_on, _ = _count_checkins(checkins, episode.started_on, today - timedelta(days=1), required, rules)
    return done_on is not None


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
        region code -> risk level 1..5 for every region in ``facts.stays`` (missing: level 1); any
        other level is refused with ``ValueError``.
    rules:
        the ruleset in force.
    now:
        a timezone-aware instant; its calendar day in the ruleset's zone is "today".
    region_names:
        optional code -> name, used only to make reasons readable.
    """
    today = local_day(now, rules)
    _check_levels(levels)
    names = region_names or {}
    checkins = merge_checkins(facts.checkins)
    present: set[str] = set()
    sources = _sources(facts, levels, rules, today, names, present)
    # Discharged risk stays discharged while its fact is in the window, even on days it earns nothing
    # (a region set to level 1 and back): only new or increased risk starts an episode again.
    discharged = {k: v for k, v in state.discharged.items() if v[1] >= today and k in present}
    episode = state.episode

    # A case episode ends only by clearance: when the authority no longer lists the case,
    # everything that episode was for is discharged.
    if episode is not None and episode.is_case and "case" not in present:
        _discharge(discharged, (s for s in sources if s.key in episode.covers), today)
        episode = None

    und = _undischarged(sources, discharged)
    if episode is not None and not episode.is_case and _served_before_today(episode, und, checkins, today, rules):
        # The episode's count was met by yesterday's check-ins at the colour its own risks score today:
        # it ended at midnight, whenever this evaluation runs; new risk starts a new one from there.
        _discharge(discharged, (s for s in und if _covered(s, episode)), today)
        und = _undischarged(sources, discharged)
        episode = None
    score, reasons = _total(und, rules)
    color = _color(score, rules)
    exposed = any(s.ongoing for s in und)  # a stay still going on: the episode cannot end

    if color is Color.GREEN:
        episode = None
    else:
        is_case = any(s.key == "case" for s in und)
        new_risk = episode is None or any(s.key not in episode.covers or s.points > episode.covers[s.key] for s in und)
        if new_risk:
            # quarantine runs from the last exposure; the colour is the one the score gives (the worse)
            episode = Episode(color, today, {s.key: s.points for s in und}, is_case)
        else:
            assert episode is not None
            # the episode's colour follows its remaining risk (stepping down), its count goes on
            episode = Episode(color, episode.started_on, episode.covers, is_case)
            required = rules.checkins_required.get(color.value)
            if not is_case and not exposed and required:
                _, done_on, _ = _count_checkins(checkins, episode.started_on, today, required, rules)
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
        run, _, _ = _count_checkins(checkins, episode.started_on, today, None, rules)
        note = None
        if episode.started_on == today and any(c.on == today and is_clean(c, rules) for c in checkins):
            note = EARLY_CHECKIN_NOTE
        quarantine = Quarantine(rules.quarantine_kind[q_key], required, run, episode.started_on, note)
        if not episode.is_case and not exposed and required:
            green_on = _first_green_day(und, episode.started_on, checkins, today, rules)

    # The scheduler only needs a holder when time alone can change the colour: a risk source
    # leaves the window (the colour steps down, or an episode's count is met at the lower colour),
    # or an ongoing stay earns more points tomorrow.
    due: date | None = None
    if color is not Color.GREEN:
        ends = [s.until + timedelta(days=1) for s in und if s.until is not None and s.until >= today]
        due = min(ends) if ends else None
    if any(s.grows for s in und):
        tomorrow = today + timedelta(days=1)
        due = tomorrow if due is None or tomorrow < due else due

    assessed = Assessment(
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
    return _overridden(assessed, facts)


def override_in_force(facts: Facts, today: date) -> Override | None:
    """The override that applies today: the last approved whose day has not passed. A green override
    does not apply to a listed case (only the authority's ``cleared`` ends a case)."""
    for o in reversed(facts.overrides):
        if o.until >= today and not (o.color is Color.GREEN and facts.case):
            return o
    return None


def _overridden(a: Assessment, facts: Facts) -> Assessment:
    """The assessment with an override in force on top: its colour, and a first reason line that says
    so. The rules' own reasons stay listed and their episode goes on underneath (check-ins still
    count), so the colour the rules give returns the day after the override ends."""
    o = override_in_force(facts, a.today)
    if o is None:
        return a
    line = Reason("override", 0, OVERRIDE_LINE.format(reason=o.reason, until=o.until.isoformat()))
    ends = o.until + timedelta(days=1)
    due = ends if a.due_on is None or ends < a.due_on else a.due_on
    if o.color is Color.GREEN:
        quarantine, green_on = None, None
    else:
        quarantine = a.quarantine
        green_on = ends if a.color is Color.GREEN else (a.green_eligible_on and max(a.green_eligible_on, ends))
    return a._replace(
        color=o.color, reasons=(line, *a.reasons), quarantine=quarantine, green_eligible_on=green_on, due_on=due
    )
