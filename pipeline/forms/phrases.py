"""The fixed texts every form prints, read from gettext catalogues: one .po file per language.

A translator adds a language by adding `locale/<code>/LC_MESSAGES/papertwin.po` beside this
module (docs/template-format.md). Each message's context (msgctxt) is the phrase's key, its msgid
the English text. A language without a catalogue, or a phrase its catalogue leaves untranslated,
prints in English: the form's own labels still print in that language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel.core import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from pipeline.errors import TemplateError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "papertwin"
SOURCE_LANGUAGE = "en"


def phrase(key: str, lang: str, **values: str) -> str:
    """The phrase `key` in `lang` (English when it has no translation), placeholders filled."""
    source = _catalogue(SOURCE_LANGUAGE)
    if key not in source:
        raise KeyError(f"papertwin has no fixed text called {key!r}")
    found = catalogue_language(lang)
    text = (_catalogue(found).get(key) if found else None) or source[key]
    return text.format(**values)


@cache
def catalogue_language(lang: str) -> str | None:
    """The catalogue that serves `lang` (`de_CH` is served by `de`), or None if there is none."""
    for candidate in _candidates(lang):
        if (LOCALE_DIR / candidate / "LC_MESSAGES" / f"{DOMAIN}.po").is_file():
            return candidate
    return None


def catalogue_languages() -> tuple[str, ...]:
    """Every language papertwin has a catalogue for, in code order."""
    return tuple(sorted(p.parent.parent.name
                        for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


def keys() -> tuple[str, ...]:
    """The key of every fixed text, as the English (source) catalogue has them."""
    return tuple(_catalogue(SOURCE_LANGUAGE))


def _candidates(lang: str) -> list[str]:
    """`pt-BR` -> pt_BR, pt: the exact locale first, then its language."""
    code = lang.strip().replace("-", "_")
    candidates = [code]
    try:
        locale = Locale.parse(code)
        candidates += [str(locale), locale.language]
    except (ValueError, UnknownLocaleError):
        candidates.append(code.split("_")[0].lower())
    return list(dict.fromkeys(c for c in candidates if c and "/" not in c and c != ".."))


@cache
def _catalogue(lang: str) -> Mapping[str, str]:
    """Key -> translated text, for the messages the catalogue translates."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=None, domain=DOMAIN)
    except (OSError, ValueError) as exc:
        raise TemplateError(f"the catalogue {lang}/LC_MESSAGES/{DOMAIN}.po cannot be read: "
                            f"{exc}") from exc
    texts: dict[str, str] = {}
    for message in catalogue:
        if not message.id or not message.context or message.fuzzy:
            continue
        text = message.string if isinstance(message.string, str) else ""
        if text:
            texts[message.context] = text
    return MappingProxyType(texts)
