"""boto3 clients, made on first use (never at import time) unless given, and the one place an AWS
exception that escaped an adapter is recognised as load to shed."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from healthcode.adapters.base import is_throttling
from healthcode.errors import Unavailable

# Fail fast and shed load: a few retries with jittered backoff, then the caller gets a 503 problem.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


class Clients:
    """boto3 clients by service name, each made on first use unless given."""

    def __init__(self, given: dict[str, Any] | None = None) -> None:
        self.given = dict(given or {})

    def get(self, service: str) -> Any:
        if service not in self.given:
            self.given[service] = boto3.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]  # any service by name
        return self.given[service]


def as_domain_error(exc: Exception) -> Unavailable | None:
    """Throttling that outlasted the SDK's retries becomes :class:`Unavailable`; anything else None."""
    if isinstance(exc, ClientError) and is_throttling(exc):
        return Unavailable("The service is busy; try again shortly.", retry_after=2)
    return None
