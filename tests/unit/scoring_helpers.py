"""Builders for scoring tests: day numbers relative to a fixed day 0, as in product.md's timelines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from healthcode.scoring import Assessment, Checkin, Facts, State, evaluate
from healthcode.scoring.ruleset import load_ruleset

RULES = load_ruleset("v1")
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2020, 2, 12)


def d(n: int) -> date:
    return DAY0 + timedelta(days=n)


def at(n: int, hour: int = 12) -> datetime:
    return datetime.combine(d(n), time(hour), tzinfo=SHANGHAI)


def clean(n: int) -> Checkin:
    return Checkin(on=d(n), temperature=36.5)


class Holder:
    """Carries facts and state from one evaluation to the next, as the service does."""

    def __init__(self, facts: Facts, levels: dict[str, int] | None = None) -> None:
        self.facts = facts
        self.levels = dict(levels or {})
        self.state = State()
        self.last: Assessment | None = None

    def evaluate(self, day: int) -> Assessment:
        self.last = evaluate(self.facts, self.state, self.levels, RULES, at(day))
        self.state = self.last.state
        return self.last

    def check_in(self, day: int, temperature: float = 36.5, symptoms: tuple[str, ...] = ()) -> Assessment:
        self.facts = Facts(
            stays=self.facts.stays,
            contacts=self.facts.contacts,
            reports=self.facts.reports,
            checkins=(*[c for c in self.facts.checkins if c.on != d(day)], Checkin(d(day), temperature, symptoms)),
            case=self.facts.case,
        )
        return self.evaluate(day)
