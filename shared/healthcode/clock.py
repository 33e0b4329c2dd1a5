"""The one place "now" comes from, so the local stack's dev clock is seen by every function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    return _source()


def set_source(source: Callable[[], datetime]) -> None:
    """Replace the clock (local stack and tests only; deployed functions use the system clock)."""
    global _source
    _source = source
