"""From a case listing to a checkpoint answering red, through the local HTTP stack.

Each trial lists one holder as confirmed (``POST /admin/v1/cases``) and then has a gate scan the code
the holder showed *before* the listing, every 20 ms, until the answer is ``stop``; the time from sending
the listing to that answer is one sample. What is inside: the case list request, the holders table's
stream to the publisher, the rescoring message, the recompute worker's write, the checkpoint's read —
the same functions and the same order as deployed.

What it leaves out, said plainly: the local stack polls streams and queues itself (its events thread,
at once, where Lambda's pollers add their batching window: the template's 1 s on the holders stream and
SQS long polling, up to about 2 s in all), runs one invocation at a time, and shares two cores with moto
and the clients. The bound with a fault that outlasts every retry is not measured here but follows
from the template: the fault's duration, plus at most one redrive sweep (10 minutes), plus the retries.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import urllib.request
from typing import Any

from healthcode_local.demo_data import declaration, resident_id
from healthcode_local.stack import LocalStack, free_port


def _call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {token}")
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def run(trials: int = 30) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stack = LocalStack(port=free_port(), quiet=True)
    stack.start()
    try:
        return _measure(stack, trials)
    finally:
        stack.stop()


def _measure(stack: LocalStack, trials: int) -> dict[str, Any]:
    base = stack.url
    admin = stack.idp.mint("officer-bench", ["health_admin"])
    gate = stack.idp.mint("gate-bench", ["checkpoint"], checkpoints=["gate-bench"])
    samples: list[float] = []
    scans: list[int] = []
    for i in range(trials):
        body = declaration("王珍波", resident_id("330102", seq=f"{700 + i:03d}"))
        who = {"id_type": body["id_type"], "id_number": body["id_number"]}
        me = stack.idp.mint(f"red-{i}", ["resident"], identity=who)
        status, view = _call(base, "POST", "/v1/applications", me, body)
        assert status in (200, 201) and view["color"] == "green", (status, view)
        shown = view["token"]["value"]
        scan = {"token": shown, "checkpoint_id": "gate-bench"}
        assert _call(base, "POST", "/v1/verifications", gate, scan)[1]["decision"] == "pass"
        case = {"cases": [{"id_type": who["id_type"], "id_number": who["id_number"], "status": "confirmed"}]}
        start = time.perf_counter()
        status, _ = _call(base, "POST", "/admin/v1/cases", admin, case)
        assert status in (200, 202), status
        n = 0
        while True:
            n += 1
            answer = _call(base, "POST", "/v1/verifications", gate, scan)[1]
            if answer["decision"] == "stop":
                break
            if time.perf_counter() - start > 60:
                raise RuntimeError("the listing never reached the gate")
            time.sleep(0.02)
        samples.append(time.perf_counter() - start)
        scans.append(n)
    samples.sort()
    return {
        "trials": trials,
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
        "max_ms": samples[-1] * 1000,
        "scans_until_red_median": statistics.median(scans),
        "left_out": "Lambda pollers' batching windows (about 2 s deployed); one invocation at a time",
    }


if __name__ == "__main__":
    print(json.dumps(run(10), indent=2))
