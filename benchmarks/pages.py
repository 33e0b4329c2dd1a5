"""Scan to answer in the checkpoint page, in Chromium against the local HTTP stack: online (the API
answers) and offline (the browser context offline, the device checks the signature with WebCrypto), and
how soon a resident page shows a fresh code once the network returns.

Measured inside the page (``performance.now()`` from the paste's submit to the answer on screen), so
Playwright's own round trips are not in the figures. What it leaves out, said plainly: the camera's
decoding (a frame every 150 ms, then jsQR or BarcodeDetector: at most one frame's wait on top), the
network between a real gate and API Gateway (the local stack is on the same machine), and Lambda's cold
starts; the local stack runs one invocation at a time on two shared cores.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from healthcode_local.demo_data import declaration, resident_id

ROOT = Path(__file__).resolve().parents[1]

TIMED_SCAN = """async (token) => {
  const box = document.getElementById('answer');
  box.hidden = true;
  const field = document.querySelector('#paste [name=token]');
  field.value = token;
  const start = performance.now();
  const shown = new Promise((done) => {
    const seen = new MutationObserver(() => { if (!box.hidden) { seen.disconnect(); done(performance.now() - start); } });
    seen.observe(box, { attributes: true, attributeFilter: ['hidden'] });
  });
  document.querySelector('#paste button[type=submit]').click();
  const ms = await shown;
  return { ms, decision: box.dataset.decision };
}"""


def _quantiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"p50_ms": statistics.median(xs), "p90_ms": xs[int(0.9 * (len(xs) - 1))], "n": len(xs)}


def run(repeats: int = 20) -> dict[str, Any]:
    import requests
    from playwright.sync_api import sync_playwright

    from tests.stack import running_stack

    chromium = subprocess.run([str(ROOT / "scripts" / "chromium")], capture_output=True, text=True, check=True).stdout.strip()
    with running_stack({"CodeLifetimeSeconds": "300"}) as (base, _aws), sync_playwright() as p:
        http = requests.Session()

        def token(sub: str, **extra: Any) -> str:
            return str(http.post(f"{base}/dev/tokens", json={"sub": sub, **extra}, timeout=30).json()["token"])

        codes = []
        for i in range(repeats):
            body = declaration("王珍波", resident_id("330106", seq=f"{500 + i:03d}"))
            me = token(f"bench-page-{i}", identity={"id_type": body["id_type"], "id_number": body["id_number"]})
            r = http.post(f"{base}/v1/applications", json=body, headers={"authorization": f"Bearer {me}"}, timeout=30)
            codes.append(r.json()["token"]["value"])
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_context().new_page()
            page.goto(f"{base}/checkpoint.html")
            page.locator("#dev-sign-in [name=checkpoint]").fill("bench-gate")
            page.locator("#dev-sign-in").get_by_role("button").click()
            page.locator("#scanner").wait_for()
            page.wait_for_function("() => localStorage.getItem('hc.jwks') !== null")
            page.evaluate(TIMED_SCAN, codes[0])  # warm: the first request opens the connection
            online = [page.evaluate(TIMED_SCAN, c) for c in codes]
            page.context.set_offline(True)
            offline = [page.evaluate(TIMED_SCAN, c) for c in codes]
            page.context.set_offline(False)
            started = time.monotonic()
            page.wait_for_function("() => document.getElementById('queue').dataset.count === '0'", timeout=60_000)
            drained = time.monotonic() - started
        finally:
            browser.close()
    assert {o["decision"] for o in online} == {"pass"} and {o["decision"] for o in offline} == {"offline_pass"}
    return {
        "online": _quantiles([o["ms"] for o in online]),
        "offline": _quantiles([o["ms"] for o in offline]),
        "queue_drained_s": drained,
        "queued": repeats,
    }


if __name__ == "__main__":
    print(run())
