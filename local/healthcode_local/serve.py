"""``healthcode serve``: the whole system on this machine (moto, the HTTP front, schedules, demo data)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import warnings
from typing import Any


def serve(
    *, host: str, port: int, aws_port: int, demo: bool, verbose: bool, parameters: dict[str, str] | None = None
) -> int:
    from healthcode_local.stack import LocalStack

    # routes that count nothing make Powertools warn on every request: noise for a person reading the log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("hc-local").setLevel(logging.INFO)  # one line per request
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not one per moto call
    stack = LocalStack(host, port, aws_port, quiet=not verbose, parameters=parameters)
    stack.start()
    if not verbose:  # the handlers' JSON logs only when asked for (metrics: see LocalSystem quiet)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    if demo:
        from healthcode_local import demo_data

        def call(method: str, path: str, body: Any, sub: str, roles: list[str]) -> tuple[int, Any]:
            # the demo residents are verified as the people they declare
            who = demo_data.declared_identity(body)
            token = stack.idp.mint(
                sub, roles, identity=dict(zip(("id_type", "id_number"), who, strict=True)) if who else None
            )
            r = stack.handle(
                method,
                path,
                {"authorization": f"Bearer {token}", "content-type": "application/json"},
                json.dumps(body).encode(),
            )
            return r.status, r.json()

        demo_data.load(call, stack.clock.now().astimezone(stack.schedule.zone).date())
        stack.pump()
    print(f"healthcode local stack: API {stack.url}  (AWS endpoint http://127.0.0.1:{stack.aws_port})", flush=True)
    print(
        f"  pages: {stack.url}/resident.html  {stack.url}/checkpoint.html  {stack.url}/dashboard.html",
        flush=True,
    )
    print(
        "  dev: POST /dev/tokens {sub, roles, identity?, checkpoints?}; GET|PUT /dev/clock {now}. Ctrl-C stops.",
        flush=True,
    )
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    stack.stop()
    print("stopped", flush=True)
    return 0
