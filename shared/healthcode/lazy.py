"""A collaborator made when first needed: so a cold start makes no client and builds no graph its first
request does not use (verify never reads a secret; a run's progress needs no queue)."""

from __future__ import annotations

from collections.abc import Callable


class Lazy[T]:
    """``make()`` once, on the first call."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: tuple[T] | tuple[()] = ()  # empty until made

    def __call__(self) -> T:
        if not self._made:
            self._made = (self._make(),)
        return self._made[0]


def resolve[T](given: T | Lazy[T]) -> T:
    """``given`` itself, or what it makes when it is :class:`Lazy`."""
    if isinstance(given, Lazy):
        made: T = given()
        return made
    return given
