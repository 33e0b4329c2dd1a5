"""Domain errors and their one mapping to HTTP problems (RFC 9457 ``application/problem+json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a caller can cause. ``status`` is the HTTP status it maps to."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body


def invalid(detail: str, errors: list[FieldError]) -> DomainError:
    return DomainError(detail, errors, 422, "Invalid input", "/problems/invalid-input")


def malformed(detail: str) -> DomainError:
    return DomainError(detail, [], 400, "Malformed request", "/problems/malformed-request")


def unauthorized(detail: str) -> DomainError:
    return DomainError(detail, [], 401, "Unauthorized", "/problems/unauthorized", {"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> DomainError:
    return DomainError(detail, [], 403, "Forbidden", "/problems/forbidden")


def not_found(detail: str) -> DomainError:
    return DomainError(detail, [], 404, "Not found", "/problems/not-found")


def conflict(detail: str) -> DomainError:
    return DomainError(detail, [], 409, "Conflict", "/problems/conflict")


def too_large(detail: str) -> DomainError:
    return DomainError(detail, [], 413, "Payload too large", "/problems/payload-too-large")


def unavailable(detail: str, retry_after: int = 1) -> DomainError:
    return DomainError(
        detail, [], 503, "Service unavailable", "/problems/unavailable", {"Retry-After": str(retry_after)}
    )


class VersionConflict(Exception):  # noqa: N818 - a domain event, not a caller error
    """A conditional write lost to a concurrent writer: re-read, re-score, try again."""
