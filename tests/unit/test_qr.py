"""The code as a picture: its colour in words, error correction Q, the token read back, and a token
small enough for a QR a cheap scanner reads at arm's length."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import zxingcpp
from PIL import Image

from healthcode import qr
from healthcode.tokens import TokenSigner, generate_signing_key
from healthcode_local.template import Template

MAX_VERSION = 16  # 81 x 81 modules: README, "The pages"


def test_a_code_of_the_default_issuer_fits_version_16_at_level_q():
    issuer = Template().parameter_defaults()["CodeIssuer"]
    token = TokenSigner(generate_signing_key(), issuer).issue("8f8574bc5d4c4501a3e0b10c61bf0f6a", "yellow",
                                                             datetime.now(UTC)).value
    assert qr.version(token) <= MAX_VERSION, (len(token), qr.version(token))


def test_the_qr_names_its_colour_in_the_asked_language_and_holds_a_token_at_level_q():
    token = "eyJhbGciOiJFUzI1NiJ9." + "A" * 280 + ".sig"
    svg = qr.svg(token, "yellow", "zh-CN")
    assert "<title>黄码</title>" in svg and 'data-color="yellow"' in svg and qr.COLORS["yellow"] in svg
    assert "<title>Yellow code</title>" in qr.svg(token, "yellow", "en")
    assert qr.symbol(token).error in ("Q", "H")
    for color in ("green", "yellow", "red"):
        png = qr.png(token, color, "zh-CN")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        assert image.getpixel((2, 2)) == Image.new("RGB", (1, 1), qr.COLORS[color]).getpixel((0, 0))
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [token]
