"""The pure rules: facts + region levels + remembered state + ruleset + now in, a colour with reasons out.

Nothing here does I/O (beyond reading the bundled ruleset documents of this package), reads a clock or
knows about AWS or HTTP; everything else in the layer calls it. ``rules`` holds ``evaluate`` and the
episode logic, ``ruleset`` the published rules as data.
"""

from healthcode.scoring.rules import (
    Assessment,
    Checkin,
    Color,
    Contact,
    Episode,
    Facts,
    Override,
    Quarantine,
    Reason,
    State,
    Stay,
    SymptomReport,
    evaluate,
    local_day,
    rank,
)
from healthcode.scoring.ruleset import DEFAULT_VERSION, Ruleset, load_ruleset

__all__ = [
    "DEFAULT_VERSION",
    "Assessment",
    "Checkin",
    "Color",
    "Contact",
    "Episode",
    "Facts",
    "Override",
    "Quarantine",
    "Reason",
    "Ruleset",
    "State",
    "Stay",
    "SymptomReport",
    "evaluate",
    "load_ruleset",
    "local_day",
    "rank",
]
