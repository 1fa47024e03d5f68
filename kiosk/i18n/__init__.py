"""Every word a visitor reads at the kiosk and on the ticket: one gettext PO file per language
in this folder (``lobby.i18n`` reads them with Babel).

Adding a language is adding a file named after its code (``vi.po``) with the keys of
``en.po`` (``pybabel init`` or any PO editor from ``en.po``). A key a file lacks reads English,
so an unfinished translation never shows a blank button; the tests list any such gaps for the
shipped files. Language names and month names come from CLDR through Babel, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_datetime

from lobby.i18n import FALLBACK, CatalogueError, Catalogues, language_name

FOLDER = Path(__file__).parent
ISSUED_PATTERN = "d MMM y, HH:mm"
"""The ticket's check-in time, with the month's short name in the ticket's language."""

__all__ = ["FALLBACK", "Catalogue", "CatalogueError", "Translator"]


@dataclass(frozen=True)
class Catalogue:
    """All loaded languages of the kiosk."""

    catalogues: Catalogues

    @classmethod
    def load(cls, folder: Path = FOLDER) -> Catalogue:
        return cls(Catalogues.load(folder))

    @property
    def languages(self) -> tuple[str, ...]:
        """English first (the fallback), then the others by code."""
        return self.catalogues.languages

    def has(self, language: str) -> bool:
        return self.catalogues.has(language)

    def text(self, language: str, key: str, **values: object) -> str:
        value = self.catalogues.text(language, key)
        return value.format_map(values) if values else value

    def plural(self, language: str, key: str, count: int, **values: object) -> str:
        return self.catalogues.plural(language, key, count).format_map({"count": count, **values})

    def name(self, language: str) -> str:
        """The language's name in itself ("Español"), or its code when CLDR has none."""
        return language_name(language)

    def bind(self, language: str) -> Translator:
        return Translator(self, language if self.has(language) else FALLBACK)


@dataclass(frozen=True)
class Translator:
    """The catalogue seen through one language: ``t("your_number", number="P-014")``."""

    catalogue: Catalogue
    language: str

    def __call__(self, key: str, **values: object) -> str:
        return self.catalogue.text(self.language, key, **values)

    def plural(self, key: str, count: int, **values: object) -> str:
        """``t.plural("ahead", 3)``: the form the language uses for 3 ("About 3 people ahead")."""
        return self.catalogue.plural(self.language, key, count, **values)

    def moment(self, moment: datetime) -> str:
        """A date and time as the ticket prints it ("23 Nov 2026, 09:14"), in this language."""
        return format_datetime(moment, ISSUED_PATTERN, locale=self.language)
