"""What a write keeps follows the rulesets: a longer window or a longer quarantine never loses the facts
it counts (issue 30: a 21-day contact window used to publish and then lose days 15-21 on every write)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from healthcode.models import CheckinRequest
from healthcode.scoring.ruleset import Ruleset, load_ruleset
from healthcode.usecases.recolor import retention
from tests.fakes import World
from tests.unit.test_usecases import declare, own, residents

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2020, 3, 20, 9, 0, tzinfo=SHANGHAI)


def ruleset(version: str, effective: datetime, **change) -> Ruleset:
    doc = copy.deepcopy(load_ruleset("v1").document) | {"version": version, "effective_from": effective.isoformat()}
    for path, value in change.items():
        section, key = path.split("__")
        doc[section][key] = value
    return Ruleset.from_document(doc)


def stored(w: World):
    return w.holders.get(w.holders.accounts["u1"])


def close_contact(days_ago: int):
    return declare(contact={"kind": "close_contact", "on": (NOW - timedelta(days=days_ago)).date().isoformat()})


def test_a_21_day_contact_window_in_force_keeps_and_scores_a_contact_18_days_ago():
    w = World()
    w.rulesets.publish(ruleset("v2", NOW - timedelta(days=1), windows__contact_days=21))
    view = own(w, "u1", close_contact(18), NOW)
    assert view.color == "red"  # a close contact is 100 points while it is inside the window
    assert [c.kind for c in stored(w).contacts] == ["close_contact"]


def test_an_announced_longer_window_keeps_what_it_will_count_before_it_applies():
    w = World()
    w.rulesets.publish(ruleset("v2", NOW + timedelta(days=1), windows__contact_days=21))
    view = own(w, "u1", close_contact(16), NOW)  # outside v1's 14 days: green today...
    assert view.color == "green"
    assert len(stored(w).contacts) == 1  # ...but kept for v2
    later = residents(w).check_in("u1", CheckinRequest(temperature=36.5, symptoms=[]), NOW + timedelta(days=1, hours=1))
    assert later.color == "red"  # v2 in force: 17 days ago is inside 21


def test_the_windows_in_force_alone_still_prune_what_no_ruleset_counts():
    w = World()
    view = own(w, "u1", close_contact(16), NOW)
    assert view.color == "green" and stored(w).contacts == []
    assert retention(w.rulesets.versions(), NOW).fact_days == 14


def test_a_quarantine_of_40_check_ins_with_a_60_day_symptom_window_ends_after_40_clean_days():
    w = World()
    quarantine = {"kind": "home", "checkins_required": 40}
    w.rulesets.publish(ruleset("v2", NOW - timedelta(days=1), quarantine__yellow=quarantine, windows__symptom_days=60))
    view = own(w, "u1", declare(temperature=38.2), NOW)
    assert view.color == "yellow" and view.quarantine.checkins_required == 40
    for day in range(1, 41):
        view = residents(w).check_in("u1", CheckinRequest(temperature=36.5, symptoms=[]), NOW + timedelta(days=day))
        if day < 40:
            assert (view.color, view.quarantine.checkins_done) == ("yellow", day)
    assert view.color == "green"


# ------------------------------------------------------------------ rulesets that keep their promises


def test_a_ruleset_scoring_confirmed_cases_0_or_raising_thresholds_out_of_reach_is_refused_with_the_reason():
    import pytest

    from healthcode.errors import InvalidInput
    from healthcode.models import RulesetPublishRequest
    from tests.unit.test_usecases import authority

    w = World()
    ahead = (NOW + timedelta(days=3)).isoformat()
    zero = copy.deepcopy(load_ruleset("v1").document) | {"version": "v2", "effective_from": ahead}
    zero["factors"]["case"] = {"confirmed": 0, "suspected": 0}
    with pytest.raises(InvalidInput) as refused:
        authority(w).publish_ruleset(RulesetPublishRequest(document=zero), "officer", NOW)
    messages = [e.message for e in refused.value.errors if e.field == "document.factors.case"]
    assert any(m.startswith("a confirmed case must be red") for m in messages), messages
    out_of_reach = copy.deepcopy(load_ruleset("v1").document) | {"version": "v3", "effective_from": ahead}
    out_of_reach["thresholds"] = {"red": 1000, "yellow": 999}
    with pytest.raises(InvalidInput) as refused:
        authority(w).publish_ruleset(RulesetPublishRequest(document=out_of_reach), "officer", NOW)
    assert {e.field for e in refused.value.errors} >= {"document.factors.contact", "document.factors.fever"}
    assert w.rulesets.published == {}


def test_publishing_lists_the_worked_timelines_whose_colour_the_new_rules_change():
    from healthcode.models import RulesetPublishRequest
    from tests.unit.test_usecases import authority

    w = World()
    ahead = (NOW + timedelta(days=3)).isoformat()
    milder = copy.deepcopy(load_ruleset("v1").document) | {"version": "v2", "effective_from": ahead}
    milder["factors"]["contact"]["close_contact"] = 50  # a close contact yellow, not red
    view = authority(w).publish_ruleset(RulesetPublishRequest(document=milder), "officer", NOW)
    assert view.timelines_changed, view
    assert any(t.startswith("close contact on day -3: day 0 red → yellow") for t in view.timelines_changed)
    same = copy.deepcopy(load_ruleset("v1").document) | {"version": "v3", "effective_from": ahead, "description": "x"}
    assert authority(w).publish_ruleset(RulesetPublishRequest(document=same), "officer", NOW).timelines_changed == []
