"""End to end through the local HTTP stack: N concurrent clients, each showing its code
(``GET /v1/codes/me``) then having it scanned (``POST /v1/verifications``), against the same HTTP
shell (JWT check, the stack's lock, JSON) doing only the DynamoDB calls those two requests cannot
avoid (account + holder GetItem; ``by_code`` Query + scan-log PutItem). Both runs share one moto
server and are interleaved, so machine noise hits both alike.

What it leaves out, said plainly: the local stack runs one invocation at a time (one lock, as one
Lambda execution environment), and moto, the front and the clients share this machine's two cores
and one interpreter; so requests/s here is the shell's, not AWS's. The ratio is what it measures:
what our functions add on top of the calls they must make.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from healthcode_local.demo_data import declaration, resident_id
from healthcode_local.stack import HttpResult, LocalStack, free_port


class BareShell(LocalStack):
    """The local stack, plus ``/bare/...`` routes: the same front, only the unavoidable calls."""

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpResult:
        if not path.startswith("/bare/"):
            return super().handle(method, path, headers, body)
        claims = self.idp.claims(headers.get("authorization"))
        if claims is None:
            return HttpResult(401, {"content-type": "application/json"}, '{"message":"Unauthorized"}')
        db = self.system.p.clients["dynamodb"]
        p = self.system.p
        with self.lock:
            if path == "/bare/codes/me":
                account = db.get_item(
                    TableName=p.physical("AccountsTable"), Key={"sub": {"S": claims["sub"]}}, ConsistentRead=True
                )["Item"]
                item = db.get_item(
                    TableName=p.physical("HoldersTable"), Key={"holder_id": account["holder_id"]}, ConsistentRead=True
                )["Item"]
                out: Any = {"color": item["color"]["S"], "doc": item["doc"]["S"]}
            else:
                code_id = json.loads(body)["code_id"]
                found = db.query(
                    TableName=p.physical("HoldersTable"),
                    IndexName="by_code",
                    KeyConditionExpression="code_id = :c",
                    ExpressionAttributeValues={":c": {"S": code_id}},
                    Limit=1,
                )["Items"]
                stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
                db.put_item(
                    TableName=p.physical("ScansTable"),
                    Item={
                        "checkpoint_id": {"S": "gate-1"},
                        "scanned_at": {"S": f"{stamp}#{code_id}"},
                        "code_id": {"S": code_id},
                        "color": found[0]["color"],
                        "expires_at": {"N": "1700000000"},
                    },
                )
                out = {"decision": "pass"}
        return HttpResult(200, {"content-type": "application/json"}, json.dumps(out))


def _call(base: str, method: str, path: str, token: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {token}")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def run(levels: tuple[int, ...] = (1, 8, 32), rounds: int = 20) -> dict[str, Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    stack = BareShell(port=free_port(), quiet=True)
    stack.start()
    try:
        return _measure(stack, levels, rounds)
    finally:
        stack.stop()


def _measure(stack: BareShell, levels: tuple[int, ...], rounds: int) -> dict[str, Any]:
    base = stack.url
    people = []
    for i in range(max(levels)):
        body = declaration("王珍波", resident_id("330102", seq=f"{i:03d}"))
        identity = {"id_type": body["id_type"], "id_number": body["id_number"]}
        token = stack.idp.mint(f"load-{i}", ["resident"], identity=identity)
        view = _call(base, "POST", "/v1/applications", token, body)
        code_id = json.loads(__import__("base64").urlsafe_b64decode(view["token"]["value"].split(".")[1] + "=="))["cid"]
        people.append((token, code_id))
    gate = stack.idp.mint(
        "gate", ["checkpoint"], checkpoints=["gate-1"], expires_in=int(timedelta(hours=2).total_seconds())
    )

    def real(person: tuple[str, str]) -> None:
        view = _call(base, "GET", "/v1/codes/me", person[0])
        _call(base, "POST", "/v1/verifications", gate, {"token": view["token"]["value"], "checkpoint_id": "gate-1"})

    def bare(person: tuple[str, str]) -> None:
        _call(base, "GET", "/bare/codes/me", person[0])
        _call(base, "POST", "/bare/verifications", gate, {"code_id": person[1]})

    def block(fn: Any, clients: int, n: int, latencies: list[float]) -> float:
        lock = threading.Lock()

        def client(person: tuple[str, str]) -> None:
            for _ in range(n):
                t = time.perf_counter()
                fn(person)
                with lock:
                    latencies.append(time.perf_counter() - t)

        threads = [threading.Thread(target=client, args=(people[i],)) for i in range(clients)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - start

    def figures(latencies: list[float], wall: float) -> dict[str, float]:
        latencies.sort()
        return {
            "pairs_per_s": len(latencies) / wall,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        }

    def side_by_side(clients: int) -> tuple[dict[str, float], dict[str, float]]:
        """Alternate short blocks of both, so a noisy moment of the machine lands on both alike."""
        samples: dict[Any, list[float]] = {real: [], bare: []}
        walls = {real: 0.0, bare: 0.0}
        blocks = 4
        for _ in range(blocks):
            for fn in (real, bare):
                walls[fn] += block(fn, clients, max(rounds // blocks, 1), samples[fn])
        return figures(samples[real], walls[real]), figures(samples[bare], walls[bare])

    for fn in (real, bare):  # warm both
        block(fn, 1, 3, [])
    out: dict[str, Any] = {}
    for clients in levels:
        ours, shell = side_by_side(clients)
        out[str(clients)] = {
            "handlers": ours,
            "bare_calls": shell,
            "p99_ratio": ours["p99_ms"] / shell["p99_ms"],
            "p50_ratio": ours["p50_ms"] / shell["p50_ms"],
        }
    return out


if __name__ == "__main__":
    print(json.dumps(run(rounds=5), indent=2))
