"""The one outbound client for partners' URLs reaches nothing inside (issue 30): a key URL that redirects
to an internal path, a resolver that answers a public address at the check and loopback at the connect,
and every special address form are refused — against real local HTTP servers that count their hits."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from healthcode.adapters.outbound import Outbound, OutboundFailed
from healthcode.adapters.partners import jwks_fetcher
from healthcode.adapters.webhooks import HttpWebhooks, WebhookFailed
from healthcode.urls import UnsafeUrl, check_url, public

INTERNAL = {"keys": [{"kty": "oct", "k": "aW50ZXJuYWwtc2VjcmV0"}], "internal": True}
NOW = datetime(2020, 2, 17, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Server:
    """A server on 127.0.0.1 that answers /jwks with a 302 to /internal, /internal with internal JSON,
    /big with 300 KiB and /hook with 204; it counts every request by path."""

    def __init__(self) -> None:
        hits: dict[str, int] = {}
        self.hits = hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits[self.path] = hits.get(self.path, 0) + 1
                if self.path == "/jwks":
                    self.send_response(302)
                    self.send_header("Location", "/internal")
                    self.end_headers()
                elif self.path == "/big":
                    body = b"[" + b"0," * 150_000 + b"0]"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/internal":
                    body = json.dumps(INTERNAL).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(204)
                    self.end_headers()

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()




def test_a_key_url_that_redirects_to_an_internal_path_is_not_followed_even_where_loopback_is_allowed(server):
    fetch = jwks_fetcher(Outbound(allow_private=True))  # the local stack's policy: loopback allowed...
    assert fetch(f"http://127.0.0.1:{server.port}/jwks") is None  # ...but no redirect is followed
    assert server.hits == {"/jwks": 1}  # the internal path was never asked for
    with pytest.raises(OutboundFailed, match="302"):
        Outbound(allow_private=True).request("GET", f"http://127.0.0.1:{server.port}/jwks")


def test_under_the_deployed_policy_a_key_url_on_loopback_is_never_called(server):
    fetch = jwks_fetcher(Outbound())
    assert fetch(f"https://127.0.0.1:{server.port}/internal") is None
    named = jwks_fetcher(Outbound(resolve=lambda host: ["127.0.0.1"]))
    assert named(f"https://keys.ningbo.example:{server.port}/internal") is None
    assert server.hits == {}


def test_a_resolver_that_changes_its_answer_between_check_and_connect_reaches_nothing_inside(server):
    # the first answer is checked and is the one connected to; the second (loopback) is never asked for.
    # 192.0.0.171 would be refused as not global, so the "public" first answer is a real public address
    # that cannot be reached from this machine (no internet here): the call fails, loopback sees nothing
    answers = iter([["8.8.8.8"], ["127.0.0.1"], ["127.0.0.1"]])
    asked: list[str] = []

    def resolve(host: str) -> list[str]:
        asked.append(host)
        return next(answers)

    hooks = HttpWebhooks(Outbound(resolve=resolve, timeout=__import__("urllib3").Timeout(connect=0.5, read=0.5)))
    with pytest.raises(WebhookFailed):
        hooks.post(f"https://rebind.example:{server.port}/hook", "{}", "secret", "d-1", "color_changed", NOW)
    assert asked == ["rebind.example"]  # resolved once: the connection went to the address checked
    assert server.hits == {}


def test_an_answer_larger_than_the_cap_is_refused(server):
    with pytest.raises(OutboundFailed, match="larger"):
        Outbound(allow_private=True).request("GET", f"http://127.0.0.1:{server.port}/big")
    ok = Outbound(allow_private=True).request("POST", f"http://127.0.0.1:{server.port}/hook", b"{}")
    assert ok.status == 204


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.7",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # the instance metadata endpoint
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # the metadata endpoint over IPv6 (unique-local)
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:7f00:1",
        "::169.254.169.254",  # IPv4-compatible (deprecated, still routed by some stacks)
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata endpoint
        "64:ff9b::7f00:1",  # NAT64 of loopback
        "64:ff9b:1::a9fe:a9fe",  # the local-use NAT64 prefix
        "2002:a9fe:a9fe::1",  # 6to4 of the metadata endpoint
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (its server or client address is not ours to trust)
    ],
)
def test_every_special_address_form_is_refused(address):
    assert not public(address)
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeUrl):
        check_url(f"https://{literal}/hook")
    with pytest.raises(UnsafeUrl):
        check_url("https://partner.example/hook", resolve=lambda host: ["8.8.8.8", address])


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_and_their_nat64_forms_pass(address):
    assert public(address)


def test_registration_resolves_names_under_the_deployed_policy(system, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")
    names = {"hooks.ningbo.example": ["8.8.8.8"], "meta.evil.example": ["64:ff9b::a9fe:a9fe"]}
    system.configure(resolve=lambda host: names.get(host, []))
    base = {"name": "x", "jurisdiction": "33", "scopes": ["verify"], "rate_limit_per_minute": 1}
    hook = {"webhook_events": ["color_changed"]}
    evil = system.admin("PUT", "/admin/v1/partners/evil", base | hook | {"webhook_url": "https://meta.evil.example/x"})
    assert evil.status == 422 and "64:ff9b::a9fe:a9fe" in evil.json()["errors"][0]["message"]
    gone = system.admin("PUT", "/admin/v1/partners/evil", base | hook | {"webhook_url": "https://nowhere.example/x"})
    assert gone.status == 422 and "does not resolve" in gone.json()["errors"][0]["message"]
    ok = system.admin("PUT", "/admin/v1/partners/ningbo", base | hook | {"webhook_url": "https://hooks.ningbo.example/x"})
    assert ok.status == 200, ok.body
    assert system.admin("GET", "/admin/v1/partners/evil/deliveries").json()["items"] == []


def test_the_template_never_allows_private_urls():
    from healthcode_local.template import Template

    doc = json.dumps(Template().doc, default=str)
    assert "ALLOW_PRIVATE_URLS" not in doc
