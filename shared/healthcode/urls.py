"""Outbound URLs a partner registers (webhooks, JWKS): only public HTTPS hosts, so nobody can make our
functions call into the cloud's own network (metadata endpoints, private services).

Checked when the URL is registered (its name resolved under the deployed policy) and, by the one outbound
client (:mod:`healthcode.adapters.outbound`), before every call — which then connects to the very address
it checked, so a name that answers differently the second time (DNS rebinding) reaches nothing else. The
local stack allows private addresses and plain HTTP (``allow_private``, a setting the template never
sets): its receivers listen on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

Resolve = Callable[[str], list[str]]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address
COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated IPv4-compatible form (::169.254.169.254)


class UnsafeUrl(ValueError):
    """A URL we will not call; the message says why."""


def resolve_name(host: str) -> list[str]:
    """Every address ``host`` resolves to now (the system resolver)."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError as exc:
        raise UnsafeUrl(f"the host {host} does not resolve") from exc


def _embedded(ip: IP) -> list[IP]:
    """The IPv4 addresses an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo):
    a packet to it may end up at them."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    out: list[IP] = []
    if ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if ip in NAT64 or (ip in COMPATIBLE and int(ip) > 1):
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    return out


def public(address: str) -> bool:
    """Whether ``address`` (and every IPv4 address it embeds) is a global unicast address: not private,
    loopback, link-local (the metadata endpoint), CGNAT, unique-local, multicast or reserved."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    for each in (ip, *_embedded(ip)):
        if each.is_multicast or each.is_unspecified or each.is_loopback or each.is_link_local:
            return False
        if isinstance(each, ipaddress.IPv6Address) and each in NAT64:
            continue  # judged by the IPv4 address it embeds (checked in this loop)
        if not each.is_global:
            return False
    return True


def _parts(url: str, allow_private: bool) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("must be an absolute https:// URL")
    if not allow_private and parts.scheme != "https":
        raise UnsafeUrl("must use https")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise UnsafeUrl("has an invalid port") from exc
    return parts


def addresses_to_call(url: str, allow_private: bool = False, resolve: Resolve = resolve_name) -> list[str]:
    """The checked addresses to connect to for ``url``: every address its host resolves to must be
    public (one private answer is enough to refuse: a client could be handed it), unless
    ``allow_private``. :class:`UnsafeUrl` names the problem."""
    host = _parts(url, allow_private).hostname
    assert host is not None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not allow_private and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))):
            raise UnsafeUrl(f"the host {host} is not public") from None
        addresses = resolve(host)
    if not addresses:
        raise UnsafeUrl(f"the host {host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not public(address):
                raise UnsafeUrl(f"the host {host} is a private, loopback or link-local address ({address})")
    return addresses


def check_url(url: str, allow_private: bool = False, resolve: Resolve | None = None) -> str:
    """``url`` if we may call it; otherwise :class:`UnsafeUrl` naming the problem. ``resolve``: a
    name -> addresses function (None: literal addresses only, no lookup). With ``allow_private`` no
    address is refused, so a name is not looked up either."""
    parts = _parts(url, allow_private)
    if allow_private:
        return url
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if resolve is None:
            if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                raise UnsafeUrl(f"the host {host} is not public") from None
            return url
    addresses_to_call(url, allow_private, resolve or resolve_name)
    return url
