"""The one place "now" comes from, so the local stack's dev clock is seen by every function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _source()


def set_source(source: Callable[[], datetime]) -> None:
    """Replace the clock (local stack and tests only; deployed functions use the system clock)."""
    global _source
    _source = source
