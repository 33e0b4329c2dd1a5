"""Every item of a Query or Scan, page after page (boto3's paginator: the read side's listings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def every_item(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get("Items", [])
