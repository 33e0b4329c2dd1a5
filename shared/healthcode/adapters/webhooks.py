"""Calls to partner cities' webhooks over HTTPS (urllib3, the HTTP library botocore itself uses).

A request is signed with the scheme partners use towards us (docs/partner-signing.md): we send
``X-HC-Timestamp``, ``X-HC-Nonce`` and ``X-HC-Signature`` over the same five lines, with the partner's
current secret, plus ``X-HC-Delivery`` (the same on every attempt: the receiver de-duplicates on it).
The host is checked against private, loopback and link-local addresses just before each call.
"""

from __future__ import annotations

import secrets as pysecrets
from datetime import datetime
from urllib.parse import urlsplit

import urllib3

from healthcode.api.signing import sign
from healthcode.urls import UnsafeUrl, check_before_call

TIMEOUT = urllib3.Timeout(connect=2.0, read=5.0)


class WebhookFailed(Exception):
    """The receiver did not take the delivery (the message says how); it is retried later."""


class HttpWebhooks:
    def __init__(self, allow_private: bool = False, pool: urllib3.PoolManager | None = None) -> None:
        self._allow_private = allow_private
        self._pool = pool or urllib3.PoolManager(retries=False, timeout=TIMEOUT)

    def post(self, url: str, body: str, secret: str, delivery_id: str, kind: str, now: datetime) -> None:
        try:
            check_before_call(url, self._allow_private)
        except UnsafeUrl as exc:
            raise WebhookFailed(f"refused: {exc}") from exc
        data = body.encode()
        timestamp = str(int(now.timestamp()))
        nonce = pysecrets.token_urlsafe(12)
        path = urlsplit(url).path or "/"
        headers = {
            "Content-Type": "application/json",
            "X-HC-Delivery": delivery_id,
            "X-HC-Event": kind,
            "X-HC-Timestamp": timestamp,
            "X-HC-Nonce": nonce,
            "X-HC-Signature": sign(secret, "POST", path, timestamp, nonce, data),
        }
        try:
            response = self._pool.request("POST", url, body=data, headers=headers, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise WebhookFailed(f"unreachable: {type(exc).__name__}") from exc
        if not 200 <= response.status < 300:
            raise WebhookFailed(f"answered {response.status}")
