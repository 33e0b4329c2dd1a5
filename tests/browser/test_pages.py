"""The three faces in Chromium: a resident declares and shows a code, a checkpoint scans it through the
camera, the authority watches the map. What a person would see is what is asserted."""

from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from healthcode_local.demo_data import resident_id
from tests.browser.conftest import (
    DESKTOP,
    TOKEN_TTL,
    Stack,
    axe_violations,
    camera_browser,
    decode_qr,
    new_page,
    shoot,
)
from tests.stack import wait_until_settled


def _yesterday() -> str:
    return (date.today() - timedelta(days=1)).isoformat()


def _sign_in_resident(page, stack: Stack, sub: str, number: str) -> None:
    page.goto(f"{stack.base}/resident.html")
    form = page.locator("#dev-sign-in")
    form.locator("[name=sub]").fill(sub)
    form.locator("[name=id_number]").fill(number)
    form.get_by_role("button").click()


def _declare(page, name: str, phone: str, contact: str | None = None) -> None:
    form = page.locator("#declaration")
    form.locator("[name=name]").fill(name)
    form.locator("[name=phone]").fill(phone)
    if contact:
        form.locator("[name=contact_kind]").select_option(contact)
        form.locator("[name=contact_on]").fill(_yesterday())
    if not form.locator("[name=attestation]").is_checked():
        form.locator("[name=attestation]").check()
    form.locator("button[type=submit]").click()


def _checkpoint_token(stack: Stack, gate: str) -> str:
    return stack.token("gate-officer", ["checkpoint"], checkpoints=[gate])


def test_a_resident_declares_sees_a_yellow_code_with_chinese_reasons_and_the_qr_in_the_page_verifies(browser, stack):
    page = new_page(browser)
    number = resident_id("330102", "19850312", "101")
    _sign_in_resident(page, stack, "page-resident-1", number)
    page.locator("#declaration").wait_for()

    # a wrong field is named next to the field, in Chinese, and nothing is saved
    _declare(page, "王小明", "12", contact="secondary_contact")
    error = page.locator("#declaration label:has([name=phone]) .field-error")
    error.wait_for()
    assert "phone" in error.inner_text() and "格式不符" in error.inner_text()
    assert page.locator("#declaration [name=phone]").get_attribute("aria-invalid") == "true"

    _declare(page, "王小明", "13800138000", contact="secondary_contact")
    page.locator("#code").wait_for()
    assert page.locator("#color-word").inner_text() == "黄码"
    reasons = page.locator("#reasons").inner_text()
    assert "为次密切接触者" in reasons and "计至" in reasons, reasons  # the reason, in the catalogue's Chinese
    assert page.locator("#progress").inner_text().startswith("0/7")
    assert page.locator("#green-on").inner_text() != "—"
    assert page.locator("#masked-name").inner_text() == "王*明"
    page.wait_for_function("() => /\\d+ 秒后自动刷新/.test(document.getElementById('countdown').textContent)")
    shot = shoot(page, "resident-yellow")
    assert shot.exists()

    # the QR as the screen shows it decodes to a token the checkpoint route accepts
    page.locator("#qr").evaluate("img => img.decode()")
    tokens = decode_qr(page.locator("#qr").screenshot())
    assert len(tokens) == 1
    gate = _checkpoint_token(stack, "gate-7")
    r = stack.call("POST", "/v1/verifications", gate, {"token": tokens[0], "checkpoint_id": "gate-7"})
    assert r.status_code == 200, r.text
    assert r.json()["code_status"] == "valid" and r.json()["color"] == "yellow"
    assert r.json()["instruction"].startswith("禁止通行：黄码")  # the gate reads it in Chinese by default

    assert axe_violations(page) == []
    assert page.errors == []


@pytest.mark.heavy
def test_the_code_refreshes_before_it_expires_without_a_reload(browser, stack):
    page = new_page(browser)
    number = resident_id("330102", "19900101", "102")
    _sign_in_resident(page, stack, "page-resident-2", number)
    page.locator("#declaration").wait_for()
    _declare(page, "李四", "13800138001")
    page.locator("#code").wait_for()
    assert page.locator("#color-word").inner_text() == "绿码"
    page.evaluate("window.__sameDocument = true")  # a reload would lose it
    page.locator("#qr").evaluate("img => img.decode()")
    first_token = decode_qr(page.locator("#qr").screenshot())[0]
    first_expiry = page.locator("#qr").get_attribute("data-expires-at")

    # a new code arrives a quarter of its life before the old one expires (here: 10 s before 40 s)
    page.wait_for_function(
        "old => document.getElementById('qr').dataset.expiresAt !== old", arg=first_expiry, timeout=TOKEN_TTL * 1000
    )
    assert page.evaluate("window.__sameDocument") is True
    page.locator("#qr").evaluate("img => img.decode()")
    second_token = decode_qr(page.locator("#qr").screenshot())[0]
    assert second_token != first_token
    gate = _checkpoint_token(stack, "gate-8")
    r = stack.call("POST", "/v1/verifications", gate, {"token": second_token, "checkpoint_id": "gate-8"})
    assert r.json()["code_status"] == "valid" and r.json()["decision"] == "pass"
    assert page.errors == []


def _camera_video(png: bytes, out: Path) -> Path:
    """Chromium's fake camera input: the picture on a grey desk, as MJPEG frames."""
    code = Image.open(io.BytesIO(png)).convert("RGB")
    code.thumbnail((420, 420))
    frame = Image.new("RGB", (640, 480), (128, 128, 128))
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    with out.open("wb") as f:
        for _ in range(10):
            frame.save(f, format="JPEG", quality=95)
    return out


def test_the_checkpoint_scans_a_code_through_the_camera_and_stops_one_that_turned_red_after_it_was_shown(
    playwright, stack, tmp_path
):
    number = resident_id("330102", "19700707", "103")
    sub = "page-resident-3"
    resident = stack.token(sub, identity={"id_type": "resident_id", "id_number": number})
    body = {
        "name": "赵六",
        "id_type": "resident_id",
        "id_number": number,
        "phone": "13800138003",
        "residence_region": "330102",
        "travel_history": [],
        "contact": {"kind": "none"},
        "symptoms": [],
        "attestation": True,
    }
    assert stack.call("POST", "/v1/applications", resident, body).status_code == 200
    shown = stack.call("GET", "/v1/codes/me/qr.png", resident)
    assert shown.status_code == 200 and shown.headers["X-Code-Color"] == "green"
    assert shown.headers["Content-Type"] == "image/png"

    # after the code was shown, the authority lists the holder as a confirmed case: the code turns red
    admin = stack.token("officer-1", ["health_admin"])
    listed = stack.call("POST", "/admin/v1/cases", admin, {"cases": [{**{k: body[k] for k in ("id_type", "id_number")}, "status": "confirmed"}]})
    assert listed.status_code in (200, 202), listed.text
    deadline = time.monotonic() + 15
    while stack.call("GET", "/v1/codes/me", resident).json()["color"] != "red":
        assert time.monotonic() < deadline, "the case list did not turn the code red"
        time.sleep(0.5)

    video = _camera_video(shown.content, tmp_path / "camera.mjpeg")
    browser = camera_browser(playwright, video)
    try:
        page = new_page(browser)
        page.context.grant_permissions(["camera"], origin=stack.base)
        page.goto(f"{stack.base}/checkpoint.html")
        form = page.locator("#dev-sign-in")
        form.locator("[name=checkpoint]").fill("gate-9")
        form.get_by_role("button").click()
        page.locator("#scanner").wait_for()
        page.locator("#camera").click()
        answer = page.locator("#answer")
        answer.wait_for(state="visible", timeout=20_000)
        assert page.locator("#camera-state").get_attribute("data-decoder") in ("jsQR", "BarcodeDetector")
        assert answer.get_attribute("data-decision") == "stop"
        assert page.locator("#decision").inner_text() == "禁止"
        assert page.locator("#answer-color").inner_text() == "红码"
        assert page.locator("#answer-name").inner_text() == "赵*"
        assert "红码" in page.locator("#instruction").inner_text() and "出示的码为绿码" in page.locator("#instruction").inner_text()
        shoot(page, "checkpoint-stop")
        assert axe_violations(page) == []
        page.locator("#next").click()
        assert page.locator("[data-count=red]").inner_text() == "1"
        shoot(page, "checkpoint-scanner")
        assert axe_violations(page) == []
        assert page.errors == []
    finally:
        browser.close()


def test_the_dashboard_shows_a_level_change_within_seconds_and_uploads_a_case_list(browser, stack, tmp_path):
    page = new_page(browser, phone=False)
    page.goto(f"{stack.base}/dashboard.html")
    page.locator("#dev-sign-in").get_by_role("button").click()
    row = page.locator("#map-table tr[data-code='330328']")
    row.wait_for()
    before = row.get_attribute("data-level")
    page.locator("#stats dd").first.wait_for()
    assert "已发码" in page.locator("#stats").inner_text()

    # another officer sets Wencheng's level: the map on this screen follows within seconds
    admin = stack.token("officer-2", ["health_admin"])
    new_level = "4" if before != "4" else "2"
    r = stack.call("PUT", "/admin/v1/regions/330328", admin, {"level": int(new_level)})
    assert r.status_code == 200, r.text
    changed = time.monotonic()
    page.wait_for_selector(f"#map-table tr[data-code='330328'][data-level='{new_level}']", timeout=10_000)
    assert time.monotonic() - changed < 10
    assert "橙" in row.inner_text()

    # and this officer sets Cangnan's through the form: the map shows it, the region says who set it
    form = page.locator("#level-form")
    form.locator("[name=code]").fill("330327")
    form.locator("[name=level]").select_option("3")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#map-table tr[data-code='330327'][data-level='3']", timeout=10_000)
    form.locator(".form-error", has_text="已保存").wait_for()
    mapped = stack.http.get(f"{stack.base}/v1/map?region=330300", timeout=30).json()["counties"]
    assert next(c for c in mapped if c["code"] == "330327")["set_by"] == "officer-demo"

    # a case list as a CSV file, sent in chunks with a progress bar
    csv = tmp_path / "cases.csv"
    rows = ["id_type,id_number,status,on"]
    rows += [f"resident_id,{resident_id('330328', '19600101', f'{i:03d}')},close_contact,{_yesterday()}" for i in range(1, 6)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.locator("#cases-form [name=file]").set_input_files(str(csv))
    page.locator("#cases-form button[type=submit]").click()
    page.wait_for_function("() => document.getElementById('cases-result').textContent.includes('5 / 5')")
    assert page.locator("#cases-progress").evaluate("p => p.value === p.max")

    # a full rescoring run, watched to its end
    page.locator("#rescore").click()
    page.wait_for_selector("#run-state[data-finished=true]", timeout=30_000)
    assert page.locator("#run-state").inner_text().startswith("已完成")

    # a day ends and is summed: the index of Hangzhou, where a resident lives, has a point to draw
    number = resident_id("330102", "19660606", "105")
    resident = stack.token("page-resident-5", identity={"id_type": "resident_id", "id_number": number})
    body = {"name": "钱七", "id_type": "resident_id", "id_number": number, "phone": "13800138005",
            "residence_region": "330102", "travel_history": [], "contact": {"kind": "none"}, "symptoms": [],
            "attestation": True}
    assert stack.call("POST", "/v1/applications", resident, body).status_code == 200
    clock = stack.http.get(f"{stack.base}/dev/clock", timeout=30).json()["now"]
    tomorrow = datetime.fromisoformat(clock) + timedelta(days=1)
    assert stack.http.put(f"{stack.base}/dev/clock", json={"now": tomorrow.isoformat()}, timeout=30).ok
    wait_until_settled(stack.http, stack.base)  # the day is rolled behind the clock's answer
    form = page.locator("#index-form")
    form.locator("[name=region]").fill("330100")
    form.locator("[name=from]").fill((tomorrow.date() - timedelta(days=2)).isoformat())
    form.locator("[name=to]").fill(tomorrow.date().isoformat())
    form.locator("button").click()
    page.locator("#index-legend li", has_text="上城区").wait_for()
    assert page.locator("#index-chart circle").count() >= 1
    shoot(page, "dashboard")
    assert axe_violations(page) == []
    assert page.errors == []


def test_the_pages_speak_english_when_asked(browser, stack):
    page = new_page(browser, locale="en-GB")
    number = resident_id("330102", "19800808", "104")
    _sign_in_resident(page, stack, "page-resident-4", number)
    page.locator("#declaration").wait_for()
    _declare(page, "Li Lei", "13800138004", contact="secondary_contact")
    page.locator("#code").wait_for()
    assert page.locator("#color-word").inner_text() == "Yellow code"
    assert "secondary contact on" in page.locator("#reasons").inner_text()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.set_viewport_size(DESKTOP)
    assert page.errors == []


def test_a_resident_signs_in_through_openid_connect_with_pkce_and_checks_in(browser, stack):
    """The deployed way in, against the local stack's development OpenID provider."""
    page = new_page(browser)
    page.goto(f"{stack.base}/resident.html")
    page.locator("#oidc-sign-in").click()
    page.wait_for_url("**/dev/oidc/authorize?**")
    asked = page.url
    assert "code_challenge_method=S256" in asked and "redirect_uri=" in asked and "code_challenge=" in asked
    number = resident_id("330102", "19950505", "106")
    page.locator("[name=sub]").fill("page-resident-6")
    page.locator("[name=id_number]").fill(number)
    page.get_by_role("button").click()
    page.wait_for_url(f"{stack.base}/resident.html")  # back, the code and state gone from the address
    page.locator("#declaration").wait_for()
    page.locator("#declaration [name=id_number]").fill(number)
    _declare(page, "孙八", "13800138006", contact="secondary_contact")
    page.locator("#code").wait_for()
    assert page.locator("#color-word").inner_text() == "黄码"

    # the daily check-in from the code card
    checkin = page.locator("#checkin")
    checkin.locator("[name=temperature]").fill("36.6")
    checkin.locator("button[type=submit]").click()
    checkin.locator(".form-error", has_text="今日已打卡").wait_for()
    assert page.locator("#progress").inner_text().startswith("0/7")  # counting starts the day after
    assert page.errors == []
