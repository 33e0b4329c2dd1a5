"""Every human-readable string the API returns, in the language the caller asked for.

The messages are gettext catalogues (``locale/<lang>/LC_MESSAGES/healthcode.po``, compiled to ``.mo``
by ``make i18n`` with Babel); the English text is the message id, so English is the catalogue's source
and needs no file of its own. ``zh-CN`` is this deployment's default.

A message with values is written once, as a template (``"{days} days in {place} until {left}"``), and
formatted in English where it is made: that English line is what is stored (in a holder's reasons, the
history, the audit trail). It is translated where it is answered: :func:`localize` reads the values
back out of the line with the template's pattern and puts them, each one localized in turn, into the
translated template. So lines stored before a translation existed are translated too, and the stored
record stays one language. Pure: no I/O after the catalogues are read once.
"""

from __future__ import annotations

import gettext
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")
DOMAIN = "healthcode"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# what a value looks like, by its placeholder's name (a date, a list of dates, a number, a code): so a
# line is read back one way only ("cough (2020-02-01); fever (2020-02-02)" is two lines, not one)
_DATES = r"[0-9][0-9, -]*?"
_NUMBER = r"-?[0-9][0-9.]*"
_SHAPES = {name: _DATES for name in ("days", "on", "until", "left", "arrived", "earliest")} | {
    name: _NUMBER for name in ("level", "stays", "ongoing", "each", "most", "temperature", "region", "code", "county")
}

# the language of the request being answered (set by the resolver, read where answers are written)
current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue (``pybabel extract -k N_``); returns it unchanged."""
    return message


def language(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header (RFC 9110 §12.5.4, q-values honoured)."""
    return _language((accept_language or "")[:256])


@lru_cache(maxsize=256)  # a few headers are most of the traffic: each is parsed once per environment
def _language(accept_language: str) -> str:
    known = {lang.lower(): lang for lang in LANGUAGES}
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        tag = tag.strip().lower()
        match = known.get(tag) or next((v for k, v in known.items() if k.split("-")[0] == tag.split("-")[0]), None)
        if match and q > best_q and q > 0:
            best, best_q = match, q - i * 1e-6  # ties: the first listed wins
    return best


@lru_cache(maxsize=len(LANGUAGES))
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang.replace("-", "_")])


@lru_cache(maxsize=len(LANGUAGES))
def _templates(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each template message as (its English pattern, its translation), the most specific first."""
    catalog = _translations(lang)
    ids = [m for m in _catalog_ids() if _PLACEHOLDER.search(m)]
    ids.sort(key=lambda m: -len(_PLACEHOLDER.sub("", m)))
    out = []
    for m in ids:
        pattern = ""
        for i, piece in enumerate(_PLACEHOLDER.split(m)):
            pattern += re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>{_SHAPES.get(piece, '.+?')})"
        out.append((re.compile(pattern, re.DOTALL), catalog.gettext(m)))
    return tuple(out)


@lru_cache(maxsize=1)
def _catalog_ids() -> tuple[str, ...]:
    """Every message id of the catalogue (the default language's catalogue has them all)."""
    catalog = _translations(DEFAULT_LANGUAGE)
    return tuple(k for k in getattr(catalog, "_catalog", {}) if isinstance(k, str) and k)


def gettext_(message: str, lang: str | None = None) -> str:
    """``message`` (an English message id) in ``lang`` (default: the request's language)."""
    return _translations(lang or current.get()).gettext(message)


def localize(text: str, lang: str | None = None) -> str:
    """An English line in ``lang``: a message of the catalogue, a template's line with its values read
    back (and each localized), or lines joined by "; "; anything else is returned as it is."""
    lang = lang or current.get()
    if lang == "en" or not text:
        return text
    return _localize(text, lang, 0)


def _localize(text: str, lang: str, depth: int) -> str:
    catalog = _translations(lang)
    exact = catalog.gettext(text)
    if exact is not text and exact != text:
        return exact
    if depth > 3:
        return text
    for pattern, translated in _templates(lang):
        found = pattern.fullmatch(text)
        if found:
            values = {k: _localize(v, lang, depth + 1) for k, v in found.groupdict().items()}
            return translated.format(**values)
    if "; " in text:
        return "; ".join(_localize(part, lang, depth + 1) for part in text.split("; "))
    return text


# What an answer's body says in words, by key: these are localized wherever they appear in a JSON answer
# (a reason's detail, a quarantine's note, a checkpoint's instruction, a notice's title and body).
TEXT_KEYS = frozenset({"detail", "note", "instruction"})


def localize_document(doc: Any, lang: str | None = None) -> Any:
    """``doc`` (a JSON document) with every string under :data:`TEXT_KEYS` localized."""
    lang = lang or current.get()
    if lang == "en":
        return doc
    if isinstance(doc, dict):
        return {
            k: (localize(v, lang) if k in TEXT_KEYS and isinstance(v, str) else localize_document(v, lang))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [localize_document(v, lang) for v in doc]
    return doc
