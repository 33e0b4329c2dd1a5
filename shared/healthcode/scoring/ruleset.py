"""The scoring rules as data: a versioned, published document the scoring code loads.

The document (``rulesets/<version>.json``) is what ``GET /v1/rulesets/current`` returns, so anyone
can check how a colour is computed. This module only parses it into a fast, immutable form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A parsed ruleset. ``document`` is the published JSON, unchanged."""

    version: str
    effective_from: datetime
    zone: ZoneInfo
    red_at: int
    yellow_at: int
    stay_window: int
    contact_window: int
    symptom_window: int
    case_points: dict[str, int]
    contact_points: dict[str, int]
    stay_base: tuple[int, ...]  # indexed by level 0..5 (0 unused)
    stay_per_day: tuple[int, ...]
    stay_min_days: int
    stay_max_days: int
    fever_points: int
    fever_temperature: float
    symptom_each: int
    symptom_max: int
    symptom_kinds: frozenset[str]
    checkins_required: dict[str, int | None]  # by colour ("yellow", "red") and "case"
    quarantine_kind: dict[str, str]
    document: dict[str, Any]

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Ruleset:
        """Parse a ruleset document; a KeyError, TypeError or ValueError means it is not one."""
        f = doc["factors"]
        stay = f["stay"]
        q = doc["quarantine"]
        return cls(
            version=doc["version"],
            effective_from=_aware(datetime.fromisoformat(doc["effective_from"])),
            zone=ZoneInfo(doc["time_zone"]),
            red_at=int(doc["thresholds"]["red"]),
            yellow_at=int(doc["thresholds"]["yellow"]),
            stay_window=int(doc["windows"]["stay_days"]),
            contact_window=int(doc["windows"]["contact_days"]),
            symptom_window=int(doc["windows"]["symptom_days"]),
            case_points={k: int(v) for k, v in f["case"].items()},
            contact_points={k: int(v) for k, v in f["contact"].items()},
            stay_base=(0, *(int(stay["base"][str(level)]) for level in range(1, 6))),
            stay_per_day=(0, *(int(stay["per_day"][str(level)]) for level in range(1, 6))),
            stay_min_days=int(stay["min_days"]),
            stay_max_days=int(stay["max_days"]),
            fever_points=int(f["fever"]["points"]),
            fever_temperature=float(f["fever"]["temperature_at_least"]),
            symptom_each=int(f["symptom"]["each"]),
            symptom_max=int(f["symptom"]["max_together"]),
            symptom_kinds=frozenset(f["symptom"]["kinds"]),
            checkins_required={k: v["checkins_required"] for k, v in q.items() if isinstance(v, dict)},
            quarantine_kind={k: v["kind"] for k, v in q.items() if isinstance(v, dict)},
            document=doc,
        )

    @property
    def fact_days(self) -> int:
        """How long a stay or contact can still count under this ruleset (its longest window)."""
        return max(self.stay_window, self.contact_window)

    @property
    def symptoms_accepted(self) -> frozenset[str]:
        """Every symptom a declaration or check-in may name (fever included)."""
        return self.symptom_kinds | {"fever"}


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("effective_from needs a UTC offset")
    return t


def ruleset_schema() -> dict[str, Any]:
    """The published JSON Schema of ruleset documents."""
    return dict(json.loads(resources.files("healthcode.scoring.rulesets").joinpath("schema.json").read_text("utf-8")))


@lru_cache(maxsize=8)
def load_ruleset(version: str = DEFAULT_VERSION) -> Ruleset:
    """Load a bundled ruleset version (cached: the documents are immutable)."""
    text = resources.files("healthcode.scoring.rulesets").joinpath(f"{version}.json").read_text("utf-8")
    return Ruleset.from_document(json.loads(text))
