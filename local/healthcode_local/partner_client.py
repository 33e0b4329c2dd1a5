"""A reference client for partner cities: signs each request as docs/partner-signing.md describes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from healthcode.api.signing import sign


def signed_headers(
    partner_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or uuid.uuid4().hex
    return {
        "X-HC-Partner": partner_id,
        "X-HC-Timestamp": ts,
        "X-HC-Nonce": nonce,
        "X-HC-Signature": sign(secret, method, path, ts, nonce, body),
        "Content-Type": "application/json",
    }


class PartnerClient:
    def __init__(self, base_url: str, partner_id: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        """``clock``: unix seconds for X-HC-Timestamp (the local stack's dev clock when it has been moved)."""
        self.base_url = base_url.rstrip("/")
        self.partner_id = partner_id
        self.secret = secret
        self.clock = clock
        self.http = requests.Session()

    def request(self, method: str, path: str, body: Any) -> requests.Response:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = signed_headers(self.partner_id, self.secret, method, path, data, int(self.clock()))
        return self.http.request(method, self.base_url + path, data=data, headers=headers, timeout=30)

    def verify(self, token: str) -> requests.Response:
        return self.request("POST", "/partner/v1/verifications", {"token": token})

    def region_risks(self, risks: list[dict[str, Any]]) -> requests.Response:
        return self.request("PUT", "/partner/v1/region-risks", risks)

    def contact_reports(self, reports: list[dict[str, Any]]) -> requests.Response:
        return self.request("POST", "/partner/v1/contact-reports", reports)
