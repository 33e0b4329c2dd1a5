"""Outbound URLs a partner registers (webhooks, JWKS): only public HTTPS hosts, so nobody can make our
functions call into the cloud's own network (metadata endpoints, private services).

Checked when the URL is registered and again, against the addresses the name resolves to *then*, before
every call (a name may be re-pointed at a private address after registration). The local stack allows
private addresses and plain HTTP (``allow_private``): its receivers listen on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolve = Callable[[str], list[str]]


class UnsafeUrl(ValueError):
    """A URL we will not call; the message says why."""


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError as exc:
        raise UnsafeUrl(f"the host {host} does not resolve") from exc


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_private: bool = False, resolve: Resolve | None = None) -> str:
    """``url`` if we may call it; otherwise :class:`UnsafeUrl` naming the problem. ``resolve``: a
    name -> addresses function (None: no lookup, literal addresses only — at registration time)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("must be an absolute https:// URL")
    if allow_private:
        return url
    if parts.scheme != "https":
        raise UnsafeUrl("must use https")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UnsafeUrl(f"the host {host} is not public") from None
        addresses = resolve(host) if resolve is not None else []
    for address in addresses:
        if not _public(address):
            raise UnsafeUrl(f"the host {host} is a private, loopback or link-local address ({address})")
    return url


def check_before_call(url: str, allow_private: bool = False) -> str:
    """As :func:`check_url`, resolving the host now (just before a call)."""
    return check_url(url, allow_private, _resolve)
