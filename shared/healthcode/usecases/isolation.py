"""One item at a time: a holder or a list entry that fails is retried once, then reported with its
reason, and the job goes on with the others.

Load shedding (:class:`Unavailable`: throttling that outlasted the SDK's retries) and a service fault
(a 5xx from AWS) are not isolated: they are not about one item, so the whole job stops and is retried —
by its queue, then by the redrive sweep once the fault clears (every step is idempotent). Recording them
as one holder's failure would leave a listed case green until the next daily run.
"""

from __future__ import annotations

from collections.abc import Callable

from healthcode.adapters.base import is_service_fault, is_throttling
from healthcode.errors import DomainError, Unavailable

ATTEMPTS = 2


class Isolated(Exception):
    """An item failed every attempt; ``reason`` says why (no personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def isolated[T](work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run ``work``; retry once on an item's own failure; raise :class:`Isolated` with the reason."""
    for attempt in range(attempts):
        try:
            return work()
        except Unavailable:
            raise
        except DomainError as exc:
            reason = exc.detail
        except Exception as exc:  # one item's failure must not stop the job: reported, never swallowed
            if is_throttling(exc) or is_service_fault(exc):
                raise
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        if attempt + 1 == attempts:
            raise Isolated(reason)
    raise AssertionError("unreachable")
