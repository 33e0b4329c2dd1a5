"""What a colour change says to its holder and to the community office, in the language asked for.

The texts are messages of the gettext catalogue (:mod:`healthcode.i18n`), not code; ``zh-CN`` is this
deployment's default. Pure: no I/O after the catalogue is read once.
"""

from __future__ import annotations

from healthcode import i18n
from healthcode.i18n import DEFAULT_LANGUAGE, N_

_TEXTS = {
    "title.green": N_("Green code"),
    "title.yellow": N_("Yellow code"),
    "title.red": N_("Red code"),
    "body.green": N_("Your health code is green again: you may pass checkpoints as usual."),
    "body.yellow": N_("Your health code turned yellow: stay in home quarantine and check in every day; it turns green when the period ends without symptoms."),
    "body.red": N_("Your health code turned red: go to a central quarantine site within 2 hours, or wait for your community office to contact you."),
    "task.yellow": N_("Home quarantine: visit or call today, make sure home quarantine and daily check-ins happen."),
    "task.red": N_("Central quarantine: contact within 2 hours and arrange transfer to a quarantine site."),
    "task.late_scan": N_(
        "Let through a checkpoint offline on an older colour: contact within 2 hours, find out where they went,"
        " and arrange quarantine."
    ),
    "task.guardianship": N_(
        "Guardianship: meet the resident and the person in person, check both ID cards and that the resident"
        " really cares for them, then confirm or refuse."
    ),
}


def text(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    return i18n.gettext_(_TEXTS[key], lang)


def title(color: str, lang: str = DEFAULT_LANGUAGE) -> str:
    return text(f"title.{color}", lang)


def body(color: str, lang: str = DEFAULT_LANGUAGE) -> str:
    return text(f"body.{color}", lang)


def instruction(color: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """What the community office does for a holder who turned ``color`` (yellow or red)."""
    return text(f"task.{color}", lang)


def quantile(buckets: dict[int, int], fraction: float) -> float | None:
    """The ``fraction`` quantile (nearest rank) of a minute histogram; None when it is empty."""
    total = sum(buckets.values())
    if not total:
        return None
    rank = max(1, -(-int(total * fraction * 1000) // 1000))  # ceil(total * fraction), exact for our inputs
    seen = 0
    for minute in sorted(buckets):
        seen += buckets[minute]
        if seen >= rank:
            return float(minute)
    return float(max(buckets))
