"""First answer and memory, in fresh interpreters against one moto server (the same for both sides).

* **First answer**: a new process imports the handler and answers its first request (code view,
  verification, ...). The baseline is a new process that imports boto3, makes the clients and makes
  exactly the AWS calls that first invocation made (recorded in a warm-up run, replayed with the
  same parameters). The ratio is what our code adds to the calls a cold start cannot avoid.
* **The library floor**: a new process that imports the libraries the handler is built on (boto3,
  pydantic's BaseModel, Powertools' logger, metrics and HTTP resolver or batch processor, and joserfc where a code is
  signed or checked), then makes the same calls as the baseline: what any handler built on them pays
  before a line of ours runs. Its ratio to the baseline is the least the first-answer ratio can be
  without leaving those libraries.
* **Memory**: the handler process's resident set after import, after the first invocation and after
  1,000 invocations (moto runs in another process, so its memory is not counted).

Runs are interleaved (handler, baseline, floor, handler, ...) and the medians taken.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, time, os, io, contextlib
mode, spec_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(spec_path))

def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

class Ctx:
    function_name = spec["function"]; memory_limit_in_mb = 512; invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:x"
    aws_request_id = "req"; log_group_name = "g"; log_stream_name = "s"
    def get_remaining_time_in_millis(self): return 300000

sink = io.StringIO()
if os.environ.get("HC_PROFILE") and mode == "handler":  # by hand: where a cold start's time goes
    import cProfile, atexit
    profiler = cProfile.Profile(); profiler.enable()
    atexit.register(lambda: (profiler.disable(), profiler.dump_stats(os.environ["HC_PROFILE"] + spec["function"])))
t = time.perf_counter()
if mode in ("baseline", "floor"):
    import boto3, importlib
    if mode == "floor":
        for name in spec["floor_imports"]:
            importlib.import_module(name)
    clients = {}
    for service, op, params in spec["calls"]:
        if service not in clients:
            clients[service] = boto3.client(service)
        try:
            clients[service]._make_api_call(op, params)
        except clients[service].exceptions.ClientError:
            pass
    first = time.perf_counter() - t
    json.dump({"first_s": first}, open(out_path, "w"))
else:
    import importlib.util
    m = importlib.util.spec_from_file_location("handler", spec["module"])
    mod = importlib.util.module_from_spec(m)
    m.loader.exec_module(mod)
    imported = time.perf_counter() - t
    rss_import = rss_kb()
    with contextlib.redirect_stdout(sink):
        out = mod.handler(spec["event"], Ctx())
    first = time.perf_counter() - t
    rss_first = rss_kb()
    result = {"first_s": first, "import_s": imported, "rss_import_kb": rss_import, "rss_first_kb": rss_first,
              "answer": str(out)[:200]}
    if mode == "memory":
        for _ in range(1000):
            sink.seek(0); sink.truncate()
            with contextlib.redirect_stdout(sink):
                mod.handler(spec["event"], Ctx())
        result["rss_1000_kb"] = rss_kb()
    json.dump(result, open(out_path, "w"))
"""


# the libraries every function stands on (pydantic.main: BaseModel; ``import pydantic`` alone defers it)
COMMON = ["pydantic.main", "aws_lambda_powertools.logging", "aws_lambda_powertools.metrics"]
HTTP = [*COMMON, "aws_lambda_powertools.event_handler"]
FLOOR_IMPORTS = {
    "ApplyFunction": [*HTTP, "joserfc.jws"],  # a code view signs a fresh code
    "VerifyFunction": [*HTTP, "joserfc.jws"],
    "AdminFunction": HTTP,
    "RecomputeFunction": [*COMMON, "aws_lambda_powertools.utilities.batch"],
}


def _probe(mode: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-c", PROBE, mode, str(spec_path), str(out_path)],
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{mode} probe of {spec['function']} failed: {done.stderr[-2000:]}")
        return dict(json.loads(out_path.read_text()))


def _recorded_calls(system: Any, function: str, event: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The AWS calls a cold invocation of ``function`` makes (fresh services: nothing cached)."""
    from healthcode import wiring

    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        # the request as sent: these services speak JSON, so the body is the call's parameters
        body = params.get("body") or b"{}"
        calls.append((model.service_model.service_name, model.name, json.loads(body)))

    system.configure()
    clients = dict(system.p.clients)
    assert wiring.services().clients.get("dynamodb") is clients["dynamodb"]  # the one every adapter uses
    for c in clients.values():
        c.meta.events.register("before-call.*.*", record, unique_id="first-answer")
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            system.invoke(function, event)
    finally:
        for c in clients.values():
            c.meta.events.unregister("before-call.*.*", unique_id="first-answer")
    return calls


def measure(
    system: Any, endpoint: str, cases: dict[str, tuple[str, dict[str, Any]]], repeats: int, memory: bool
) -> dict[str, Any]:
    """``cases``: name -> (function logical id, event). ``system``: a LocalSystem on ``endpoint``."""
    out: dict[str, Any] = {}
    for name, (function, event) in cases.items():
        spec_fn = system.template.functions[function]
        env = (
            os.environ
            | system.p.environment(function)
            | {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
                "PYTHONDONTWRITEBYTECODE": "0",
            }
        )
        spec = {
            "function": function,
            "module": str(spec_fn.module_path),
            "event": event,
            "calls": _recorded_calls(system, function, event),
            "floor_imports": FLOOR_IMPORTS.get(function, HTTP),
        }
        _probe("handler", spec, env)  # bytecode caches warm
        _probe("baseline", spec, env)
        handler, baseline, floor = [], [], []
        for _ in range(repeats):
            handler.append(_probe("handler", spec, env))
            baseline.append(_probe("baseline", spec, env)["first_s"])
            floor.append(_probe("floor", spec, env)["first_s"])
        first = statistics.median(h["first_s"] for h in handler)
        row: dict[str, Any] = {
            "function": function,
            "aws_calls": [f"{s}.{o}" for s, o, _ in spec["calls"]],
            "first_answer_ms": first * 1000,
            "import_ms": statistics.median(h["import_s"] for h in handler) * 1000,
            "baseline_ms": statistics.median(baseline) * 1000,
            "ratio": first / statistics.median(baseline),
            "floor_ms": statistics.median(floor) * 1000,
            "floor_ratio": statistics.median(floor) / statistics.median(baseline),
            "answer": handler[0]["answer"][:80],
        }
        if memory:
            m = _probe("memory", spec, env)
            row |= {k: m[k] / 1024 for k in ("rss_import_kb", "rss_first_kb", "rss_1000_kb")}
        out[name] = row
    return out
