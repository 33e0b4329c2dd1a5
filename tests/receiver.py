"""A partner city's webhook receiver on 127.0.0.1, for tests: it checks our signature, fails on demand
and counts what it accepted (each delivery id at most once)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from healthcode.api.signing import matches


class Receiver:
    """A partner city's webhook on 127.0.0.1: checks our signature, fails on demand, counts deliveries."""

    def __init__(self) -> None:
        self.secret = ""
        self.fail_first = 0  # fail this many attempts of each delivery
        self.always_fail = False
        self.attempts: Counter[str] = Counter()
        self.accepted: dict[str, dict] = {}  # delivery id -> body
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                h = self.headers
                signed = matches(
                    [receiver.secret],
                    h["X-HC-Signature"],
                    "POST",
                    self.path,
                    h["X-HC-Timestamp"],
                    h["X-HC-Nonce"],
                    body,
                )
                delivery = h["X-HC-Delivery"]
                receiver.attempts[delivery] += 1
                if not signed:
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.always_fail or receiver.attempts[delivery] <= receiver.fail_first:
                    self.send_response(503)
                else:
                    assert delivery not in receiver.accepted, "a delivery accepted twice"
                    receiver.accepted[delivery] = json.loads(body)
                    self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/healthcode"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kinds(self) -> Counter[str]:
        return Counter(b["kind"] for b in self.accepted.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
