"""Checks a ruleset document must pass before it is published, beyond its JSON Schema: the numbers
make sense together, and the worked timelines of product.md score without error under it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from healthcode.scoring.rules import Checkin, Color, Contact, Facts, State, Stay, SymptomReport, evaluate, rank
from healthcode.scoring.ruleset import Ruleset

DAY0 = date(2020, 2, 12)


def problems(rules: Ruleset) -> list[tuple[str, str]]:
    """(field, message) for every number that does not fit with the others."""
    out: list[tuple[str, str]] = []
    if not 0 < rules.yellow_at < rules.red_at:
        out.append(("document.thresholds", "yellow must be above 0 and below red"))
    if rules.stay_min_days > rules.stay_max_days:
        out.append(("document.factors.stay.min_days", "must not exceed max_days"))
    if rules.symptom_max < rules.symptom_each:
        out.append(("document.factors.symptom.max_together", "must be at least each"))
    for name, values in (("base", rules.stay_base), ("per_day", rules.stay_per_day)):
        if any(values[level] > values[level + 1] for level in range(1, 5)):
            out.append((f"document.factors.stay.{name}", "a higher level must never score less than a lower one"))
    return out


# what the service promises whatever the ruleset (product.md): (where, the promise, facts, least colour)
PROMISES: tuple[tuple[str, str, Facts, Color], ...] = (
    ("document.factors.case", "a confirmed case must be red", Facts(case="confirmed"), Color.RED),
    ("document.factors.case", "a suspected case must be at least yellow", Facts(case="suspected"), Color.YELLOW),
    (
        "document.factors.contact",
        "a close contact (yesterday) must be at least yellow",
        Facts(contacts=(Contact("close_contact", DAY0 - timedelta(days=1)),)),
        Color.YELLOW,
    ),
)


def broken_promises(rules: Ruleset) -> list[tuple[str, str]]:
    """(field, message) for every promise the service makes that ``rules`` would break: scored on day 0
    (a new ruleset cannot make a confirmed case green, nor a fever nothing)."""
    now = datetime.combine(DAY0, time(12), tzinfo=rules.zone)
    out = []
    fever = (
        "document.factors.fever",
        "a fever (at the fever temperature, today) must be at least yellow",
        Facts(reports=(SymptomReport(DAY0, (), rules.fever_temperature),)),
        Color.YELLOW,
    )
    for where, promise, facts, least in (*PROMISES, fever):
        try:
            got = evaluate(facts, State(), {}, rules, now).color
        except Exception as exc:  # the dry run reports it too
            out.append((where, f"{promise}; under this ruleset it is an error ({type(exc).__name__})"))
            continue
        if rank(got) < rank(least):
            out.append((where, f"{promise}; under this ruleset it is {got.value}"))
    # a higher region level never scores less: one day's stay at each level, left today
    scores = []
    for level in range(1, 6):
        facts = Facts(stays=(Stay("420111", DAY0 - timedelta(days=1), DAY0),))
        try:
            scores.append(evaluate(facts, State(), {"420111": level}, rules, now).score)
        except Exception:
            return out
    if any(a > b for a, b in zip(scores, scores[1:], strict=False)):
        out.append(("document.factors.stay", f"a higher region level must never score less (scores by level: {scores})"))
    return out


def _d(n: int) -> date:
    return DAY0 + timedelta(days=n)


# product.md's worked timelines: (facts, levels) scored on days 0..20 with daily clean check-ins
TIMELINES: dict[str, tuple[Facts, dict[str, int]]] = {
    "fever at application": (Facts(reports=(SymptomReport(_d(0), (), 38.2),)), {}),
    "3 days in a level-5 district": (Facts(stays=(Stay("420111", _d(-3), _d(0)),)), {"420111": 5}),
    "2 days in a level-4 county, left day -2": (Facts(stays=(Stay("330102", _d(-4), _d(-2)),)), {"330102": 4}),
    "2 days in a level-4 county, left day -5": (Facts(stays=(Stay("330102", _d(-7), _d(-5)),)), {"330102": 4}),
    "close contact on day -3": (Facts(contacts=(Contact("close_contact", _d(-3)),)), {}),
    "confirmed case": (Facts(case="confirmed"), {}),
}


def _colours(rules: Ruleset, facts: Facts, levels: dict[str, int]) -> list[str]:
    """A worked timeline's colour on each of days 0..20 under ``rules``, with daily clean check-ins."""
    state, checkins, out = State(), tuple[Checkin, ...](), []
    for day in range(0, 21):
        if day:
            checkins = (*checkins, Checkin(_d(day), 36.5))
        now = datetime.combine(_d(day), time(12), tzinfo=rules.zone)
        facts_today = Facts(facts.stays, facts.contacts, facts.reports, checkins, facts.case)
        a = evaluate(facts_today, state, levels, rules, now)
        state = a.state
        out.append(a.color.value)
    return out


def dry_run(rules: Ruleset) -> list[str]:
    """Score every worked timeline day by day under ``rules``; returns what failed (empty: all scored)."""
    failures = []
    for name, (facts, levels) in TIMELINES.items():
        try:
            _colours(rules, facts, levels)
        except Exception as exc:  # any failure means: this ruleset cannot score real holders
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures


def timeline_changes(before: Ruleset, after: Ruleset) -> list[str]:
    """Every worked timeline of product.md whose colour on some day differs between ``before`` and
    ``after`` (scored day by day as :func:`dry_run` does): what a new ruleset changes, in words."""
    changed = []
    for name, (facts, levels) in TIMELINES.items():
        try:
            was, will = _colours(before, facts, levels), _colours(after, facts, levels)
        except Exception:  # the dry run reports it
            continue
        differ = [d for d, (x, y) in enumerate(zip(was, will, strict=True)) if x != y]
        if differ:
            d = differ[0]
            more = f" (and {len(differ) - 1} more days)" if len(differ) > 1 else ""
            changed.append(f"{name}: day {d} {was[d]} → {will[d]}{more}")
    return changed
