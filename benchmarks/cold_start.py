"""Cold start: each handler module's import time / ``import boto3`` time, in fresh interpreters.

Runs are interleaved (boto3, apply, verify, ...) and repeated, and the median is taken, so machine
noise hits numerator and denominator alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.first_answer import HTTP

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import importlib, importlib.util, sys, time
t = time.perf_counter()
if sys.argv[1] == "boto3":
    import boto3
elif sys.argv[1] == "floor":  # what any Powertools HTTP handler with validation imports
    import boto3
    for name in sys.argv[2:]:
        importlib.import_module(name)
else:
    spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(time.perf_counter() - t)
"""


def measure(target: str) -> float:
    env = os.environ | {"AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "0"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, target, *(HTTP if target == "floor" else [])],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        check=True,
    )
    return float(out.stdout.strip())


def run(repeats: int = 9) -> dict[str, dict[str, float]]:
    targets = {"boto3": "boto3", "floor": "floor"} | {
        p.parent.name: str(p) for p in sorted((REPO / "functions").glob("*/app.py"))
    }
    for t in targets.values():  # warm the bytecode caches once
        measure(t)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(repeats):
        for name, target in targets.items():
            samples[name].append(measure(target))
    base = statistics.median(samples["boto3"])
    return {
        name: {"median_ms": statistics.median(v) * 1000, "ratio_to_boto3": statistics.median(v) / base}
        for name, v in samples.items()
    }


if __name__ == "__main__":
    for name, r in run().items():
        print(f"{name:10s} {r['median_ms']:7.1f} ms  {r['ratio_to_boto3']:.2f} x boto3")
