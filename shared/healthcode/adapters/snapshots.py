"""Versioned snapshots kept per execution environment, refreshed ahead of time off the request path.

A hot path (a code view, a verification) must not read a few shared keys per request: at the surge
those keys would take thousands of reads a second on one partition. Instead each execution
environment keeps the last snapshot it read (region levels, the partner trust list) and:

* serves it while it is younger than ``refresh_after``;
* between ``refresh_after`` and ``max_age``, still serves it and starts one background refresh (a
  daemon thread: the request does not wait for it);
* never serves it older than ``max_age``: then the request itself reads it (after a cold start, or
  when the environment was frozen for a while). ``max_age`` is the staleness bound the service states.

Powertools' parameters cache (``max_age``) re-reads on the request that finds the value expired; this
one refreshes ahead, which the parameters utility does not offer. ``max_age == 0`` reads every time
(the local stack and the tests, where a change must show at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from aws_lambda_powertools import Logger

logger = Logger(child=True)
T = TypeVar("T")


def _in_background(fn: Callable[[], None]) -> None:
    threading.Thread(target=fn, daemon=True, name="snapshot-refresh").start()


class Snapshot[T]:
    def __init__(
        self,
        load: Callable[[], T],
        max_age: float,
        refresh_after: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = _in_background,
    ) -> None:
        self._load = load
        self.max_age = max_age
        self._refresh_after = max_age * 2 / 3 if refresh_after is None else refresh_after
        self._monotonic = monotonic
        self._spawn = spawn
        self._lock = threading.Lock()
        self._value: tuple[float, T] | None = None
        self._refreshing = False

    def get(self) -> T:
        now = self._monotonic()
        held = self._value
        if held is None or now - held[0] >= self.max_age:
            return self.fresh()
        if now - held[0] >= self._refresh_after:
            with self._lock:
                start, self._refreshing = not self._refreshing, True
            if start:
                self._spawn(self._refresh)
        return held[1]

    def fresh(self) -> T:
        """Read it now (and keep it)."""
        started = self._monotonic()
        value = self._load()
        self._keep(started, value)
        return value

    def _keep(self, started: float, value: T) -> None:
        with self._lock:
            if self._value is None or started >= self._value[0]:
                self._value = (started, value)

    def _refresh(self) -> None:
        try:
            self.fresh()
        except Exception:  # the next request past max_age reads it itself, and fails there if it must
            logger.exception("background snapshot refresh failed")
        finally:
            with self._lock:
                self._refreshing = False
