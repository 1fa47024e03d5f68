"""The fixed texts of a surface in every language: gettext PO catalogues, read with Babel.

One format for every surface that shows fixed words (the kiosk and its printed ticket, the
lobby display's page and board): a folder holds one ``LANG.po`` per language, the format every
translation tool reads. Messages are named by a key (``msgid "your_number"``) and the English
file holds the English text, so code never carries a sentence; a text that changes with a
count is a gettext plural (``msgid_plural``), and each language's ``Plural-Forms`` header, as
Babel writes it from CLDR, picks the form (Spanish and Somali do not count like English).

Babel reads the files and compiles them in memory into the standard library's gettext
objects, so no ``.mo`` file is built or kept. A key a language lacks reads English: an
unfinished translation never shows a blank button (the tests list such gaps).
"""

from __future__ import annotations

import gettext
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

FALLBACK = "en"


class CatalogueError(ValueError):
    """A language file that cannot be read; the message names the file."""


PO_LINE = re.compile(
    r'(#.*|(msgctxt|msgid|msgid_plural|msgstr(\[\d+\])?)\s+"(?:[^"\\]|\\.)*"|"(?:[^"\\]|\\.)*")?'
)
"""A well-formed PO line: blank, a comment, a keyword and a string, or a continued string.
Babel's reader forgives a missing quote (and drops a letter); a translator's slip should be
named instead."""


def read_catalog(path: Path) -> Catalog:
    try:
        data = path.read_bytes()
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not PO_LINE.fullmatch(line.strip()):
                raise ValueError(f"line {number} is not a PO line: {line.strip()[:60]!r}")
        return read_po(io.BytesIO(data), locale=path.stem, abort_invalid=True)
    except (OSError, PoFileError, UnknownLocaleError, ValueError) as error:
        raise CatalogueError(f"{path}: {error}") from None


def _compiled(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Catalogues:
    """Every language of one surface: ``catalogs`` as read (for the tests and the pages'
    JSON), ``translations`` compiled, each falling back to English."""

    catalogs: Mapping[str, Catalog]
    translations: Mapping[str, gettext.GNUTranslations]

    @classmethod
    def load(cls, folder: Path) -> Catalogues:
        catalogs = {path.stem: read_catalog(path) for path in sorted(folder.glob("*.po"))}
        if FALLBACK not in catalogs:
            raise CatalogueError(f"{folder}: {FALLBACK}.po is missing")
        english = _compiled(catalogs[FALLBACK])
        translations: dict[str, gettext.GNUTranslations] = {}
        for code, catalog in catalogs.items():
            compiled = english if code == FALLBACK else _compiled(catalog)
            if compiled is not english:
                compiled.add_fallback(english)
            translations[code] = compiled
        return cls(catalogs, translations)

    @property
    def languages(self) -> tuple[str, ...]:
        """English first (the fallback), then the others by code."""
        return (FALLBACK, *sorted(code for code in self.catalogs if code != FALLBACK))

    def has(self, language: str) -> bool:
        return language in self.catalogs

    def _of(self, language: str) -> gettext.GNUTranslations:
        return self.translations.get(language) or self.translations[FALLBACK]

    def text(self, language: str, key: str) -> str:
        found = self._of(language).gettext(key)
        if found == key and not self._known(key):
            raise KeyError(f"no text {key!r} in the catalogue")
        return found

    def plural(self, language: str, key: str, count: int) -> str:
        """The form of ``key`` for ``count`` by the language's own plural rule."""
        if not self._known(key):
            raise KeyError(f"no text {key!r} in the catalogue")
        return self._of(language).ngettext(key, key, count)

    def _known(self, key: str) -> bool:
        return key in self.catalogs[FALLBACK]

    def table(self, language: str) -> dict[str, str]:
        """Every singular text of a language, English where it has none (for a page's JSON)."""
        return {
            str(message.id): self.text(language, str(message.id))
            for message in self.catalogs[FALLBACK]
            if message.id and isinstance(message.id, str)
        }

    def tables_json(self) -> bytes:
        """Every language's singular texts, with its name in itself (``language_name``), as
        the JSON a page loads: ``{"es": {"language_name": "Español", "title": ...}}``."""
        tables = {
            code: {"language_name": language_name(code), **self.table(code)}
            for code in self.languages
        }
        return json.dumps(tables, ensure_ascii=False).encode()


def language_name(code: str) -> str:
    """A language's name in itself, from CLDR ("Español", "Soomaali"), or its code."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]
