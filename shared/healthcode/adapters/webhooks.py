"""Calls to partner cities' webhooks over HTTPS, through the one guarded outbound client
(:mod:`healthcode.adapters.outbound`: checked addresses only, no redirects, capped).

A request is signed with the scheme partners use towards us (docs/partner-signing.md): we send
``X-HC-Timestamp``, ``X-HC-Nonce`` and ``X-HC-Signature`` over the same five lines, with the partner's
current secret, plus ``X-HC-Delivery`` (the same on every attempt: the receiver de-duplicates on it).
"""

from __future__ import annotations

import secrets as pysecrets
from datetime import datetime
from urllib.parse import urlsplit

from healthcode.adapters.outbound import Outbound, OutboundFailed
from healthcode.api.signing import sign


class WebhookFailed(Exception):
    """The receiver did not take the delivery (the message says how); it is retried later."""


class HttpWebhooks:
    def __init__(self, outbound: Outbound) -> None:
        self._outbound = outbound

    def post(self, url: str, body: str, secret: str, delivery_id: str, kind: str, now: datetime) -> None:
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
            response = self._outbound.request("POST", url, body=data, headers=headers)
        except OutboundFailed as exc:
            raise WebhookFailed(str(exc)) from exc
        if not 200 <= response.status < 300:
            raise WebhookFailed(f"answered {response.status}")
