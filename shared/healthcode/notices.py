"""What a colour change says to its holder and to the community office, in the language asked for.

The texts are data (``catalogue/notices.json``), not code; ``zh-CN`` is this deployment's default.
Pure: no I/O after the catalogue is read once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

DEFAULT_LANGUAGE = "zh-CN"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("healthcode.catalogue").joinpath("notices.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def language(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header (RFC 9110 §12.5.4, q-values honoured)."""
    known = {lang.lower(): lang for lang in catalogue()}
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        tag = tag.strip().lower()
        match = known.get(tag) or next((v for k, v in known.items() if k.split("-")[0] == tag.split("-")[0]), None)
        if match and q > best_q and q > 0:
            best, best_q = match, q - i * 1e-6  # ties: the first listed wins
    return best


def text(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    table = catalogue()
    return table.get(lang, table[DEFAULT_LANGUAGE]).get(key) or table[DEFAULT_LANGUAGE][key]


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
