"""Each recorded cause of a colour computation is shown to its holder as one kind."""

from __future__ import annotations

import pytest

from healthcode.usecases.residents import cause_kind


@pytest.mark.parametrize(
    ("recorded", "kind"),
    [
        ("application", "declaration"),
        ("application by a guardian", "declaration"),
        ("check-in", "check-in"),
        ("risk level of region 330106 changed", "region level"),
        ("authority list", "case list"),
        ("contact report by partner ningbo", "partner report"),
        ("new ruleset in force (run r-1)", "ruleset"),
        ("time passed", "time passing"),
        ("unknown", "other"),
    ],
)
def test_recorded_causes_map_to_what_a_holder_is_shown(recorded, kind):
    assert cause_kind(recorded) == kind
