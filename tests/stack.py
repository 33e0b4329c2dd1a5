"""Runs the local stack (the README's command, without demo data) on free ports for a test session, and
checks that Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Nothing listens there any more (a new server could bind it, as servers do, with SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until_settled(http: requests.Session, base: str, seconds: float = 600) -> None:
    """Poll ``GET /dev/clock`` until the stack says nothing it was set off to do is left."""
    deadline = time.monotonic() + seconds
    while http.get(f"{base}/dev/clock", timeout=30).json()["busy"]:
        assert time.monotonic() < deadline, f"the local stack was still busy after {seconds} s"
        time.sleep(0.1)


@contextmanager
def running_stack(parameters: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """(the stack's base URL, its AWS endpoint) while it runs; ``parameters``: template parameters."""
    port, aws_port = _free_port(), _free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "healthcode_ops",
            "serve",
            "--no-demo",
            "--port",
            str(port),
            "--aws-port",
            str(aws_port),
            *(f"--parameter={k}={v}" for k, v in (parameters or {}).items()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    # read what the stack prints as it comes (a line per request): a pipe nobody reads fills up at
    # 64 KB and the stack would block on its next log line
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/v1/rulesets/current", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            reader.join(timeout=5)
            raise AssertionError("the local stack did not start:\n" + "".join(output))
        time.sleep(0.3)
    try:
        yield base, f"http://127.0.0.1:{aws_port}"
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the local stack did not stop on Ctrl-C") from None
        reader.join(timeout=5)
    out = "".join(output)
    assert proc.returncode == 0 and "stopped" in out, out[-5000:]
    assert _port_is_free(port) and _port_is_free(aws_port), "ports still held after stopping"
