"""The one outbound HTTP client for every URL a partner gives us (its JWKS, its webhook, anything later).

Each call resolves the host once, checks every address it got (:func:`healthcode.urls.public`: private,
loopback, link-local and the metadata endpoint, CGNAT, unique-local, and their IPv4-mapped, -compatible,
NAT64, 6to4 and Teredo forms), then connects to an address it checked — the ``Host`` header and the TLS
name (SNI and certificate check) stay the partner's — so a resolver that answers differently the second
time (DNS rebinding) reaches nothing it did not check. It follows no redirect (a 3xx is a failure: a key
URL that answers 302 to an internal path is never fetched), and caps the answer's size and the time.
urllib3, the HTTP library botocore itself uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3

from healthcode.urls import Resolve, UnsafeUrl, addresses_to_call, resolve_name

TIMEOUT = urllib3.Timeout(connect=2.0, read=5.0)
MAX_BYTES = 256 * 1024


class OutboundFailed(Exception):
    """The call was refused before it was made, or did not get an answer we take; the message says why
    (it never carries what the other side sent)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Outbound:
    def __init__(
        self,
        allow_private: bool = False,
        resolve: Resolve = resolve_name,
        timeout: urllib3.Timeout = TIMEOUT,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        """``allow_private``: the local stack's receivers on 127.0.0.1 (and plain HTTP); never deployed.
        ``resolve``: name -> addresses (the system resolver; a test gives its own)."""
        self._allow_private = allow_private
        self._resolve = resolve
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}

    def request(
        self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> OutboundResponse:
        try:
            addresses = addresses_to_call(url, self._allow_private, self._resolve)
        except UnsafeUrl as exc:
            raise OutboundFailed(f"refused: {exc}") from exc
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = port == (443 if parts.scheme == "https" else 80)
        host_header = (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}")
        sent = {**(headers or {}), "Host": host_header}
        last: Exception | None = None
        for address in addresses:  # every one was checked; the next is tried only if one cannot connect
            pool = self._pool(parts.scheme, address, port, host)
            try:
                response = pool.urlopen(
                    method,
                    target,
                    body=body,
                    headers=sent,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    assert_same_host=False,
                )
            except urllib3.exceptions.NewConnectionError as exc:
                last = exc
                continue
            except urllib3.exceptions.HTTPError as exc:
                raise OutboundFailed(f"unreachable: {type(exc).__name__}") from exc
            try:
                return self._answer(response)
            finally:
                response.release_conn()
        raise OutboundFailed(f"unreachable: {type(last).__name__}")

    def _answer(self, response: urllib3.BaseHTTPResponse) -> OutboundResponse:
        if 300 <= response.status < 400:
            raise OutboundFailed(f"answered {response.status} (a redirect, not followed)")
        try:
            data = response.read(self._max_bytes + 1)
        except urllib3.exceptions.HTTPError as exc:
            raise OutboundFailed(f"unreachable: {type(exc).__name__}") from exc
        if len(data) > self._max_bytes:
            raise OutboundFailed(f"the answer is larger than {self._max_bytes} bytes")
        return OutboundResponse(response.status, data, {k.lower(): v for k, v in response.headers.items()})

    def _pool(self, scheme: str, address: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
        key = (scheme, address, port, host)
        pool = self._pools.get(key)
        if pool is None:
            if scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    address,
                    port,
                    timeout=self._timeout,
                    retries=False,
                    maxsize=2,
                    server_hostname=host,  # SNI: the partner's name, not the address
                    assert_hostname=host,  # the certificate must be the partner's
                    cert_reqs="CERT_REQUIRED",
                )
            else:  # plain HTTP: only with allow_private (the local stack)
                pool = urllib3.HTTPConnectionPool(address, port, timeout=self._timeout, retries=False, maxsize=2)
            self._pools[key] = pool
        return pool
