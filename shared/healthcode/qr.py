"""The code as a picture: the token as a QR symbol (segno), framed in the holder's colour, with the
colour's name under it in words (绿码 / 黄码 / 红码), so colour is never the only sign.

Error correction is level Q (a quarter of the symbol may be lost: a cracked screen, a glare) or
better where the same symbol size allows (segno raises it for free). The quiet zone is the standard's
4 modules, white, inside the coloured frame. Pure: token and colour in, bytes out.
"""

from __future__ import annotations

import io
from functools import lru_cache
from html import escape  # quotes too: the title goes into an attribute (xml.sax would cost 10 ms of a cold start)
from importlib import resources
from typing import TYPE_CHECKING

from healthcode import i18n

if TYPE_CHECKING:
    import segno

ERROR = "q"
QUIET = 4  # modules of white around the symbol (ISO/IEC 18004 asks for 4)
FRAME = 3  # modules of colour around the quiet zone
LABEL = 9  # modules of height under the symbol for the colour's name
COLORS = {"green": "#1a9e3a", "yellow": "#f2b600", "red": "#d42b2b"}
TITLES = {"green": i18n.N_("Green code"), "yellow": i18n.N_("Yellow code"), "red": i18n.N_("Red code")}


def symbol(token: str) -> segno.QRCode:
    import segno  # 70 ms to import: only the picture routes pay for it, not every cold start of apply

    return segno.make(token, error=ERROR, micro=False)


def version(token: str) -> int:
    """The QR version (size: 17 + 4 × version modules a side) the token needs."""
    return int(symbol(token).version)


def svg(token: str, color: str, lang: str) -> str:
    """The framed symbol as an SVG document (scales to any screen)."""
    qr = symbol(token)
    side = qr.symbol_size(scale=1, border=QUIET)[0]
    outer = side + 2 * FRAME
    height = outer + LABEL
    fill = COLORS[color]
    title = i18n.gettext_(TITLES[color], lang)
    modules = qr.svg_inline(scale=1, border=QUIET, dark="#000", light="#fff", omitsize=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {outer} {height}" role="img" '
        f'aria-label="{escape(title)}" data-color="{color}" data-version="{qr.version}">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{outer}" height="{height}" rx="2" fill="{fill}"/>'
        f'<svg x="{FRAME}" y="{FRAME}" width="{side}" height="{side}" viewBox="0 0 {side} {side}">{modules}</svg>'
        f'<text x="{outer / 2}" y="{outer + LABEL * 0.62}" text-anchor="middle" font-size="{LABEL * 0.62:.1f}" '
        f'font-weight="bold" fill="#fff" font-family="sans-serif">{escape(title)}</text>'
        "</svg>"
    )


@lru_cache(maxsize=8)
def _label(color: str, lang: str) -> bytes:
    """The colour's name as a picture (drawn once from WenQuanYi Micro Hei by scripts/qr-labels; a Lambda
    has no CJK font to draw it with)."""
    name = f"{color}.{lang}.png"
    return resources.files("healthcode.qr_labels").joinpath(name).read_bytes()


def png(token: str, color: str, lang: str, scale: int = 8) -> bytes:
    """The framed symbol as a PNG, ``scale`` pixels a module."""
    from PIL import Image  # only this route draws pixels: the other routes do not pay for the import

    qr = symbol(token)
    side = qr.symbol_size(scale=scale, border=QUIET)[0]
    frame, label_h = FRAME * scale, LABEL * scale
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=QUIET, dark="#000", light="#fff")
    image = Image.new("RGB", (int(side) + 2 * frame, int(side) + 2 * frame + label_h), COLORS[color])
    image.paste(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), (frame, frame))
    label = Image.open(io.BytesIO(_label(color, lang))).convert("RGBA")
    label.thumbnail((image.width - 2 * frame, int(label_h * 0.8)))
    at = ((image.width - label.width) // 2, int(side) + 2 * frame + (label_h - label.height) // 2 - frame // 2)
    image.paste(label, at, label)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
