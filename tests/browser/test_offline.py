"""The gate keeps moving when the network fails; the phone never shows a stale colour as current (issue
31), in Chromium with the browser context offline: what the person at the gate and the resident see."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from healthcode_local.demo_data import resident_id
from tests.browser.conftest import TOKEN_TTL, Stack, axe_violations, camera_browser, new_page, shoot
from tests.browser.test_pages import _camera_video, _declare, _sign_in_resident
from tests.stack import wait_until_settled


@pytest.fixture(autouse=True)
def _real_time(stack: Stack) -> None:
    """The device checks codes and expiry on its own clock: the stack's clock (another test may have moved
    it a day on) is set to real time first, as a deployment's and a phone's agree."""
    now = datetime.now(UTC).isoformat()
    assert stack.http.put(f"{stack.base}/dev/clock", json={"now": now}, timeout=30).ok
    wait_until_settled(stack.http, stack.base)


def _applied(stack: Stack, sub: str, number: str, name: str = "钱七") -> tuple[str, dict]:
    resident = stack.token(sub, identity={"id_type": "resident_id", "id_number": number})
    body = {
        "name": name,
        "id_type": "resident_id",
        "id_number": number,
        "phone": "13800138011",
        "residence_region": "330102",
        "travel_history": [],
        "contact": {"kind": "none"},
        "symptoms": [],
        "attestation": True,
    }
    r = stack.call("POST", "/v1/applications", resident, body)
    assert r.status_code == 200, r.text
    return resident, r.json()


def _server_scans(stack: Stack, gate: str) -> int:
    admin = stack.token("scan-counter", ["health_admin"])
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    r = stack.call("GET", f"/admin/v1/checkpoints/{gate}/scans?on={day}", admin)
    assert r.status_code == 200, r.text
    return int(r.json()["scans"])


def _sign_in_gate(page, stack: Stack, gate: str) -> None:
    page.goto(f"{stack.base}/checkpoint.html")
    form = page.locator("#dev-sign-in")
    form.locator("[name=checkpoint]").fill(gate)
    form.get_by_role("button").click()
    page.locator("#scanner").wait_for()
    page.wait_for_function("() => localStorage.getItem('hc.jwks') !== null")  # the keys, kept for offline checks


def _paste(page, token: str) -> None:
    page.locator("#paste [name=token]").fill(token)
    page.locator("#paste button[type=submit]").click()


def test_an_offline_gate_answers_from_the_signature_refuses_a_forgery_and_uploads_both_once(browser, stack):
    gate = "gate-offline-1"
    _, green = _applied(stack, "offline-holder-1", resident_id("330102", "19880808", "301"))
    token = green["token"]["value"]
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-6]}{'A' * 6 if not sig.endswith('AAAAAA') else 'B' * 6}"
    page = new_page(browser)
    _sign_in_gate(page, stack, gate)
    page.wait_for_function("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()  # now under the service worker
    page.locator("#scanner").wait_for()
    before = _server_scans(stack, gate)

    page.context.set_offline(True)
    _paste(page, token)
    answer = page.locator("#answer")
    answer.wait_for(state="visible")
    assert answer.get_attribute("data-decision") == "offline_pass"
    assert "offline" in answer.get_attribute("class") and "green" in answer.get_attribute("class")
    assert page.locator("#decision").inner_text() == "通行（离线核验）"  # not 通行 as online, never 禁止
    assert page.locator("#answer-color").inner_text() == "绿码"
    assert "签发时的颜色" in page.locator("#answer-note").inner_text()
    assert "Failed to fetch" not in page.locator("body").inner_text()
    shoot(page, "checkpoint-offline-pass")
    assert axe_violations(page) == []
    answer.wait_for(state="hidden", timeout=3000)  # a pass returns to scanning by itself
    assert page.locator("#network").is_visible() and "网络异常" in page.locator("#network").inner_text()

    _paste(page, forged)
    answer.wait_for(state="visible")
    assert answer.get_attribute("data-decision") == "stop"
    assert page.locator("#answer-color").inner_text() == "伪造或篡改的码"
    assert "离线核验" in page.locator("#answer-note").inner_text()
    shoot(page, "checkpoint-offline-forged")
    time.sleep(2)
    assert answer.is_visible(), "a stop waits for the tap"
    page.locator("#next").click()
    assert page.locator("#queue").get_attribute("data-count") == "2"
    assert page.locator("[data-count=green]").inner_text() == "1"
    assert page.locator("[data-count=invalid]").inner_text() == "1"
    page.reload()  # with no network the page still opens, its queue and tally kept
    page.locator("#scanner").wait_for()
    assert page.locator("#queue").get_attribute("data-count") == "2"
    assert "网络异常" in page.locator("#network").inner_text() and page.locator("#network").is_visible()
    shoot(page, "checkpoint-offline-scanner")
    assert _server_scans(stack, gate) == before

    queued = page.evaluate(f"() => localStorage.getItem('hc.queue.{gate}')")
    page.context.set_offline(False)  # the network returns: the queue drains by itself
    page.wait_for_function("() => document.getElementById('queue').dataset.count === '0'", timeout=20_000)
    assert _server_scans(stack, gate) == before + 2
    # the same queue sent again (an answer lost on the way back): each scan still counted once
    page.evaluate("([key, items]) => localStorage.setItem(key, items)", [f"hc.queue.{gate}", queued])
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function(f"() => localStorage.getItem('hc.queue.{gate}') === '[]'", timeout=20_000)
    assert _server_scans(stack, gate) == before + 2
    assert page.errors == []


@pytest.mark.heavy  # it waits out a real code's life: started first, so it never ends the run alone
def test_the_resident_sees_network_trouble_then_an_expired_greyed_code_then_a_fresh_one(browser, stack):
    page = new_page(browser)
    _sign_in_resident(page, stack, "offline-resident-1", resident_id("330102", "19920202", "302"))
    page.locator("#declaration").wait_for()
    _declare(page, "孙八", "13800138012")
    page.locator("#code").wait_for()
    page.wait_for_function("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()  # once more online, so the service worker has every file
    page.locator("#code").wait_for()
    assert page.locator("#stale").is_hidden() and page.locator("#expired-mark").is_hidden()

    page.context.set_offline(True)
    page.locator("#stale").wait_for(state="visible")
    assert "网络异常" in page.locator("#stale").inner_text()
    page.wait_for_function(
        "() => document.getElementById('qr').classList.contains('expired')", timeout=(TOKEN_TTL + 15) * 1000
    )
    assert page.locator("#expired-mark").inner_text() == "已过期"
    clock = page.locator("#clock").inner_text()
    time.sleep(1.2)
    assert page.locator("#clock").inner_text() != clock, "the clock goes on"
    shoot(page, "resident-offline-expired")

    page.reload()  # with no network: the page opens from the service worker, with the last code, greyed
    page.locator("#code").wait_for()
    page.locator("#expired-mark").wait_for(state="visible", timeout=3000)  # the clock's next tick
    assert page.locator("#stale").is_visible()
    assert page.locator("#color-word").inner_text() == "绿码"
    shoot(page, "resident-offline-reloaded")

    back = time.monotonic()
    page.context.set_offline(False)
    page.wait_for_function(
        "() => Date.parse(document.getElementById('qr').dataset.expiresAt) > Date.now()"
        " && !document.getElementById('qr').classList.contains('expired')",
        timeout=5000,
    )
    print(f"\nfresh code {time.monotonic() - back:.2f} s after the network returned")
    assert page.locator("#stale").is_hidden()
    assert page.errors == []


def test_a_colour_changed_on_the_server_reaches_an_open_page_within_15_s(browser, stack):
    number = resident_id("330102", "19930303", "303")
    page = new_page(browser)
    _sign_in_resident(page, stack, "offline-resident-2", number)
    page.locator("#declaration").wait_for()
    _declare(page, "周九", "13800138013")
    page.locator("#code").wait_for()
    assert page.locator("#color-word").inner_text() == "绿码"
    resident = stack.token("offline-resident-2", identity={"id_type": "resident_id", "id_number": number})
    admin = stack.token("officer-2", ["health_admin"])
    case = {"cases": [{"id_type": "resident_id", "id_number": number, "status": "confirmed"}]}
    assert stack.call("POST", "/admin/v1/cases", admin, case).status_code in (200, 202)
    deadline = time.monotonic() + 30
    while stack.call("GET", "/v1/codes/me", resident).json()["color"] != "red":  # the server has turned it red
        assert time.monotonic() < deadline
        time.sleep(0.3)
    changed = time.monotonic()
    page.wait_for_function("() => document.getElementById('code').dataset.color === 'red'", timeout=15_000)
    print(f"\nthe open page showed red {time.monotonic() - changed:.1f} s after the server turned it")
    assert page.locator("#color-word").inner_text() == "红码"
    assert page.errors == []


def test_a_pass_returns_to_scanning_by_itself_and_a_code_held_before_the_camera_counts_once(playwright, stack, tmp_path):
    gate = "gate-camera-once"
    resident, _ = _applied(stack, "camera-holder", resident_id("330102", "19940404", "304"))
    shown = stack.call("GET", "/v1/codes/me/qr.png", resident)
    video = _camera_video(shown.content, tmp_path / "camera.mjpeg")
    browser = camera_browser(playwright, video)
    try:
        page = new_page(browser)
        page.context.grant_permissions(["camera"], origin=stack.base)
        _sign_in_gate(page, stack, gate)
        page.locator("#camera").click()
        answer = page.locator("#answer")
        answer.wait_for(state="visible", timeout=20_000)
        assert answer.get_attribute("data-decision") == "pass"
        answer.wait_for(state="hidden", timeout=3000)  # no tap on 下一位
        time.sleep(6)  # the code stays in front of the camera
        assert page.locator("[data-count=green]").inner_text() == "1"
        assert _server_scans(stack, gate) == 1
        assert page.errors == []
    finally:
        browser.close()


def test_no_camera_is_said_in_words(browser, stack):
    page = new_page(browser)
    _sign_in_gate(page, stack, "gate-no-camera")
    page.locator("#camera").click()
    page.wait_for_function("() => document.getElementById('camera-state').dataset.error !== undefined")
    said = page.locator("#camera-state").inner_text()
    assert "摄像头" in said and "Requested device" not in said


def test_an_offline_gate_checks_a_partner_citys_code_against_the_trust_list_it_kept(browser, stack):
    from healthcode.tokens import TokenSigner, generate_signing_key, public_jwks

    issuer = "https://code.wenzhou.example"
    key = generate_signing_key()
    admin = stack.token("partner-officer", ["health_admin"])
    partner = {
        "name": "温州市",
        "jurisdiction": "3303",
        "scopes": ["verify"],
        "rate_limit_per_minute": 50,
        "issuer": issuer,
        "jwks": public_jwks([key]),
    }
    assert stack.call("PUT", "/admin/v1/partners/wenzhou", admin, partner).status_code == 200
    theirs = TokenSigner(key, issuer).issue("wz-1", "green", datetime.now(ZoneInfo("Asia/Shanghai"))).value
    gate = stack.token("gate-officer", ["checkpoint"], checkpoints=["gate-partner"])
    deadline = time.monotonic() + 30
    while stack.call("POST", "/v1/verifications", gate, {"token": theirs, "checkpoint_id": "gate-partner"}).json()[
        "code_status"
    ] != "valid":  # an unknown issuer makes the service read its trust list again
        assert time.monotonic() < deadline
        time.sleep(1)
    published = stack.http.get(f"{stack.base}/.well-known/trust-list.json", timeout=10).json()
    assert published["issuers"][issuer]["keys"][0]["kid"]

    page = new_page(browser)
    _sign_in_gate(page, stack, "gate-partner")
    page.wait_for_function(f"() => (JSON.parse(localStorage.getItem('hc.jwks')).partners || {{}})['{issuer}']")
    page.context.set_offline(True)
    _paste(page, theirs)
    page.locator("#answer").wait_for(state="visible")
    assert page.locator("#answer").get_attribute("data-decision") == "offline_pass"
    assert "互认城市签发" in page.locator("#answer-note").inner_text()
    page.locator("#next").click()
    other = TokenSigner(generate_signing_key(), issuer).issue("wz-2", "green", datetime.now(ZoneInfo("Asia/Shanghai")))
    _paste(page, other.value)  # the partner's name with a key it never published
    page.locator("#answer").wait_for(state="visible")
    assert page.locator("#answer").get_attribute("data-decision") == "stop"
    page.context.set_offline(False)
    assert page.errors == []
