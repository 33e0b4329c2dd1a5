"""What the pages rely on, through API Gateway events: the code as a picture, the words in the asked
language (zh-CN by default), and cache headers on the public documents."""

from __future__ import annotations

import io
from datetime import timedelta

import zxingcpp
from PIL import Image

from tests.people import application

ZH = {"accept-language": ""}  # nothing asked: the deployment's default, zh-CN
EN = {"accept-language": "en-US,en;q=0.9"}


def _secondary_contact(system):
    on = (system.now - timedelta(days=1)).date().isoformat()
    return application(contact={"kind": "secondary_contact", "on": on})


def test_the_code_as_svg_and_png_is_a_fresh_token_in_its_colour_named_in_words(system):
    me = system.resident("pic")
    assert me("POST", "/v1/applications", _secondary_contact(system)).status == 200
    svg = me("GET", "/v1/codes/me/qr.svg", headers=ZH)
    assert svg.status == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["cache-control"] == "no-store" and svg.headers["x-code-color"] == "yellow"
    assert svg.headers["x-token-lifetime"] == "300" and svg.headers["content-language"] == "zh-CN"
    assert "<title>黄码</title>" in svg.body and 'aria-label="黄码"' in svg.body
    assert "<title>Yellow code</title>" in me("GET", "/v1/codes/me/qr.svg", headers=EN).body

    png = me("GET", "/v1/codes/me/qr.png", headers=ZH)
    assert png.status == 200 and png.headers["content-type"] == "image/png" and png.raw is not None
    tokens = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.raw)))]
    assert len(tokens) == 1
    v = system.checkpoint({"token": tokens[0], "checkpoint_id": "gate-7"}).json()
    assert (v["code_status"], v["color"], v["decision"]) == ("valid", "yellow", "stop")


def test_no_picture_without_a_code_or_a_sign_in(system):
    nobody = system.resident("no-code-yet")
    r = nobody("GET", "/v1/codes/me/qr.png", headers=ZH)
    assert r.status == 404 and r.json()["title"] == "未找到" and "申报" in r.json()["detail"]
    assert system.http("GET", "/v1/codes/me/qr.svg").status == 401


def test_reasons_and_instructions_come_in_the_asked_language_chinese_by_default(system):
    me = system.resident("lang")
    assert me("POST", "/v1/applications", _secondary_contact(system)).status == 200
    zh = me("GET", "/v1/codes/me", headers=ZH)
    assert zh.headers["content-language"] == "zh-CN" and "Accept-Language" in zh.headers["vary"]
    assert "为次密切接触者（计至" in zh.json()["reasons"][0]["detail"]
    en = me("GET", "/v1/codes/me", headers=EN)
    assert en.json()["reasons"][0]["detail"].startswith("secondary contact on")
    assert {k: v for k, v in zh.json().items() if k not in ("reasons", "token")} == {
        k: v for k, v in en.json().items() if k not in ("reasons", "token")
    }  # only the words differ

    token = en.json()["token"]["value"]
    claims = {"sub": "gate-1", "scope": "checkpoint", "checkpoints": "gate-7"}
    body = {"token": token, "checkpoint_id": "gate-7"}
    gate_zh = system.http("POST", "/v1/verifications", body, claims=claims, headers=ZH).json()
    assert gate_zh["instruction"].startswith("禁止通行：黄码。")
    gate_en = system.http("POST", "/v1/verifications", body, claims=claims, headers=EN).json()
    assert gate_en["instruction"].startswith("Stop: yellow code.")


def test_a_refused_declaration_names_its_fields_in_the_asked_language(system):
    me = system.resident("wrong")
    bad = application(phone="12", contact={"kind": "close_contact"})
    zh = me("POST", "/v1/applications", bad, headers=ZH)
    assert zh.status == 422 and zh.json()["title"] == "输入有误"
    assert {(e["field"], e["message"]) for e in zh.json()["errors"]} >= {("phone", "格式不符（应匹配 ^\\+?\\d{6,15}$）")}
    en = me("POST", "/v1/applications", bad, headers=EN)
    assert en.json()["title"] == "Invalid input" and en.json()["errors"][0]["message"].startswith("String should match")
    future = application(contact={"kind": "close_contact", "on": (system.now + timedelta(days=2)).date().isoformat()})
    r = me("POST", "/v1/applications", future, headers=ZH).json()
    assert r["detail"] == "申报信息有误；未保存任何信息。"
    assert {"field": "contact.on", "message": "不能是将来的日期"} in r["errors"]
    assert me("GET", "/v1/codes/me").status == 404  # nothing was saved


def test_public_documents_say_how_long_they_may_be_kept(system):
    assert system.http("GET", "/.well-known/jwks.json").headers["cache-control"] == "public, max-age=300"
    for path in ("/v1/rulesets", "/v1/rulesets/current", "/v1/map"):
        assert system.http("GET", path).headers["cache-control"] == "public, max-age=60", path
