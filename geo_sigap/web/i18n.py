"""Interface language for the web pages: Bahasa Indonesia first, English second.

Messages live in ``geo_sigap/web/locales/{id,en}.json`` as flat ``key → text`` maps, plus
one ``<area>.{id,en}.json`` pair per page area (merged over them).
A request's locale comes from ``?lang=``, then the ``sigap_lang`` cookie, then
``Accept-Language``, then ``Settings.locale``. Pages get a :class:`Translator` for the
server-rendered shell and the whole message map as JSON for their scripts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
LANG_COOKIE = "sigap_lang"
_DIR = Path(__file__).resolve().parent / "locales"


@lru_cache(maxsize=None)
def messages(locale: str) -> dict[str, str]:
    """All messages of ``locale`` (``id`` or ``en``); unknown locales fall back to ``id``."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    merged = json.loads((_DIR / f"{locale}.json").read_text("utf-8"))
    # a page area may keep its own messages in ``<area>.<locale>.json`` (e.g. posko.id.json)
    for extra in sorted(_DIR.glob(f"*.{locale}.json")):
        merged.update(json.loads(extra.read_text("utf-8")))
    return merged


class Translator:
    """``t(key, **fmt)`` → the text in this locale, falling back to Indonesian, then the key."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._own = messages(self.locale)
        self._base = messages(DEFAULT_LOCALE)

    def __call__(self, key: str, **fmt: object) -> str:
        text = self._own.get(key) or self._base.get(key) or key
        return text.format(**fmt) if fmt else text

    def as_json(self) -> str:
        """The merged message map (Indonesian filled in where a translation is missing)."""
        merged = dict(self._base)
        merged.update(self._own)
        return json.dumps(merged, ensure_ascii=False, sort_keys=True)


def parse_locale(value: str | None) -> str | None:
    """``"en-US"`` → ``"en"``; ``None`` for anything not offered."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LOCALES else None


def pick_locale(query_lang: str | None, cookie_lang: str | None,
                accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Choose the locale of a request (see the module docstring for the order)."""
    for candidate in (query_lang, cookie_lang):
        found = parse_locale(candidate)
        if found:
            return found
    if accept_language:
        weighted = []
        for i, part in enumerate(accept_language.split(",")):
            lang, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((-weight, i, lang))
        for _, _, lang in sorted(weighted):
            found = parse_locale(lang)
            if found:
                return found
    return parse_locale(default) or DEFAULT_LOCALE
