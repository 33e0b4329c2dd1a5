"""Rescoring work as typed messages: built here, parsed here, nowhere else.

Every way a colour is recomputed in the background is one of these, whether it arrives on the
recompute queue or from the daily schedule (whose input is ``{"kind": "daily"}``). A new kind of job
is a new model in the union below and a branch in :class:`healthcode.usecases.recompute.Recompute`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# A full run's parallel scan segments: 15 million holders within the hour at the queue's concurrency
# (benchmarks/REPORT.md, "Background jobs"; infra/CAPACITY.md).
FULL_RUN_SEGMENTS = 64


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Daily(_Message):
    """Rescore the holders whose due date has come. Without ``shard`` (the schedule, an admin): fan out,
    one message per due shard; with it, walk that shard from ``start_key`` (a continuation resumes)."""

    kind: Literal["daily"] = "daily"
    by: str | None = None
    at: datetime | None = None
    continued: bool = False
    shard: Annotated[int, Field(ge=0)] | None = None
    start_key: dict[str, Any] | None = None


class RegionChanged(_Message):
    """A region's level changed: rescore who stayed there. Without ``county``: fan out, one message per
    part of each county under the region (``county`` = county index × parts + part); with it, page
    through that part's stays from ``start_key``, each page a :class:`HoldersListed` any worker takes."""

    kind: Literal["region"] = "region"
    code: str
    at: datetime | None = None
    county: Annotated[int, Field(ge=0)] | None = None
    start_key: dict[str, Any] | None = None


class HoldersListed(_Message):
    """These holders' authority listings changed (a case list, a partner's contact report)."""

    kind: Literal["holders"] = "holders"
    holder_ids: Annotated[list[str], Field(min_length=1, max_length=1000)]
    cause: str = "authority list"


RECONCILE = "reconcile"  # the "ruleset" of a full run that counts holders for the statistics, changes nothing


class FullRunSegment(_Message):
    """One parallel-scan segment of a full run; the run record says which page it is at."""

    kind: Literal["segment"] = "segment"
    run: str
    segment: Annotated[int, Field(ge=0)]
    total: Annotated[int, Field(ge=1)]
    page: int = 0


RecomputeMessage = Annotated[Daily | RegionChanged | HoldersListed | FullRunSegment, Field(discriminator="kind")]
_MESSAGE: TypeAdapter[RecomputeMessage] = TypeAdapter(RecomputeMessage)


def parse(body: str | bytes | dict[str, Any]) -> RecomputeMessage:
    """A message from a queue body (JSON text) or a schedule's input (a dict); ValueError if it is none."""
    if isinstance(body, dict):
        return _MESSAGE.validate_python(body)
    return _MESSAGE.validate_json(body)


def dump(message: RecomputeMessage) -> str:
    """The wire form: JSON with sorted keys and no unset defaults."""
    return json.dumps(message.model_dump(mode="json", exclude_none=True), sort_keys=True)


def segments(run_id: str, total: int) -> list[FullRunSegment]:
    """The messages that start a full run: one per scan segment."""
    return [FullRunSegment(run=run_id, segment=i, total=total) for i in range(total)]
