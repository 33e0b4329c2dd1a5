"""The pages in a real browser: the system's Chromium driven by Playwright, against a local stack of
their own (the codes live 40 s here, so a refresh comes within the test). Screenshots go to
``test-output/screenshots/`` at a phone's and a desktop's size."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.stack import running_stack

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
TOKEN_TTL = 40
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium() -> str:
    found = subprocess.run([str(ROOT / "scripts" / "chromium")], capture_output=True, text=True)
    if found.returncode != 0:  # never skipped: make bootstrap installs one
        pytest.fail("no Chromium on this machine: run make bootstrap (it installs Debian's chromium)")
    return found.stdout.strip()


class Stack:
    """The local stack's URL and the API calls a test makes besides the page (another officer, a gate)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def token(self, sub: str, roles: list[str] | None = None, **extra: Any) -> str:
        r = self.http.post(f"{self.base}/dev/tokens", json={"sub": sub, "roles": roles or [], **extra}, timeout=30)
        assert r.status_code == 200, r.text
        return str(r.json()["token"])

    def call(self, method: str, path: str, token: str, body: Any = None, **headers: str) -> requests.Response:
        h = {"Authorization": f"Bearer {token}", **headers}
        return self.http.request(method, f"{self.base}{path}", json=body, headers=h, timeout=30)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with running_stack({"CodeLifetimeSeconds": str(TOKEN_TTL)}) as (base, _aws):
        yield Stack(base)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any, stack: Stack) -> Iterator[Any]:  # closed before the stack stops
    b = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    yield b
    b.close()


def camera_browser(playwright: Any, video: Path) -> Any:
    """A Chromium of its own whose camera is ``video`` (MJPEG frames), permission already granted."""
    return playwright.chromium.launch(
        executable_path=chromium(),
        args=[
            "--no-sandbox",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def new_page(browser: Any, locale: str = "zh-CN", phone: bool = True) -> Any:
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale=locale,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a script's error, a CSP refusal; not an HTTP status the page expects and handles (a 404 before one
    # has a code, a 422 for a wrong field), which Chromium also logs to the console
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None,
    )
    page.errors = errors
    return page


def shoot(page: Any, name: str) -> Path:
    """A screenshot at the page's own size and at the other one (phone ↔ desktop)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = page.viewport_size
    out = SHOTS / f"{name}-{'phone' if first['width'] < 600 else 'desktop'}.png"
    page.screenshot(path=str(out), full_page=True)
    other = DESKTOP if first["width"] < 600 else PHONE
    page.set_viewport_size(other)
    page.screenshot(path=str(SHOTS / f"{name}-{'phone' if other['width'] < 600 else 'desktop'}.png"), full_page=True)
    page.set_viewport_size(first)
    return out


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now (run through the DevTools
    protocol: the pages' CSP admits no injected script, rightly)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
