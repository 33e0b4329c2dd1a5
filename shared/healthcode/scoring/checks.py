"""Checks a ruleset document must pass before it is published, beyond its JSON Schema: the numbers
make sense together, and the worked timelines of product.md score without error under it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from healthcode.scoring.rules import Checkin, Contact, Facts, State, Stay, SymptomReport, evaluate
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


def dry_run(rules: Ruleset) -> list[str]:
    """Score every worked timeline day by day under ``rules``; returns what failed (empty: all scored)."""
    failures = []
    for name, (facts, levels) in TIMELINES.items():
        state, checkins = State(), tuple[Checkin, ...]()
        try:
            for day in range(0, 21):
                if day:
                    checkins = (*checkins, Checkin(_d(day), 36.5))
                now = datetime.combine(_d(day), time(12), tzinfo=rules.zone)
                facts_today = Facts(facts.stays, facts.contacts, facts.reports, checkins, facts.case)
                state = evaluate(facts_today, state, levels, rules, now).state
        except Exception as exc:  # any failure means: this ruleset cannot score real holders
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures
