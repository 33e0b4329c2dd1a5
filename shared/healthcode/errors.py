"""Domain errors: what went wrong, in the domain's words. They carry no HTTP status; the one mapping
to ``application/problem+json`` lives in :mod:`healthcode.api.problems`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every error a caller can cause."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])


class InvalidInput(DomainError):
    """The request is well-formed but its content is wrong; ``errors`` names the fields."""


class MalformedRequest(DomainError):
    """The request cannot be read at all (not JSON, not the expected shape of bytes)."""


class UnsupportedMediaType(DomainError):
    """The body is not JSON."""


class TooLarge(DomainError):
    """The body is larger than the service reads."""


class Unauthorized(DomainError):
    """No valid credentials (bearer token or partner signature)."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not learn that it does)."""


class Conflict(DomainError):
    """The request contradicts what is stored."""


class _RetryLater(DomainError):
    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimited(_RetryLater):
    """The caller sent more than its share; it may retry after ``retry_after`` seconds."""


class Unavailable(_RetryLater):
    """Load we shed (throttling that outlasted the SDK's retries, a write contended too long)."""


class VersionConflict(Exception):
    """A conditional write lost to a concurrent writer: re-read, re-score, try again."""
