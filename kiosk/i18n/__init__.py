"""Every word a visitor reads, one TOML file per language in this folder.

Adding a language is adding a file named after its code (``vi.toml``) with the keys of
``en.toml``. A key a file lacks falls back to English, so an unfinished translation never shows a
blank button; the tests list any such gaps for the shipped files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FALLBACK = "en"
FOLDER = Path(__file__).parent


class CatalogueError(ValueError):
    """A language file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Catalogue:
    """All loaded languages: ``texts[language][key]`` is a string or a list of strings."""

    texts: Mapping[str, Mapping[str, str | list[str]]]

    @classmethod
    def load(cls, folder: Path = FOLDER) -> Catalogue:
        texts: dict[str, dict[str, str | list[str]]] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                texts[path.stem] = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise CatalogueError(f"{path}: {exc}") from None
        if FALLBACK not in texts:
            raise CatalogueError(f"{folder}: {FALLBACK}.toml is missing")
        return cls(texts)

    @property
    def languages(self) -> tuple[str, ...]:
        """English first (the fallback), then the others by code."""
        return (FALLBACK, *sorted(code for code in self.texts if code != FALLBACK))

    def has(self, language: str) -> bool:
        return language in self.texts

    def raw(self, language: str, key: str) -> str | list[str]:
        for code in (language, FALLBACK):
            value = self.texts.get(code, {}).get(key)
            if value is not None:
                return value
        raise KeyError(f"no text {key!r} in the catalogue")

    def text(self, language: str, key: str, **values: object) -> str:
        value = self.raw(language, key)
        if not isinstance(value, str):
            raise TypeError(f"catalogue key {key!r} is a list, not a text")
        return value.format_map(values) if values else value

    def name(self, language: str) -> str:
        """The language's name in itself ("Español"), or its code when no file names it."""
        value = self.texts.get(language, {}).get("language_name")
        return value if isinstance(value, str) else language

    def bind(self, language: str) -> Translator:
        return Translator(self, language if self.has(language) else FALLBACK)


@dataclass(frozen=True)
class Translator:
    """The catalogue seen through one language: ``t("your_number", number="P-014")``."""

    catalogue: Catalogue
    language: str

    def __call__(self, key: str, **values: object) -> str:
        return self.catalogue.text(self.language, key, **values)

    def months(self) -> list[str]:
        months = self.catalogue.raw(self.language, "months")
        if isinstance(months, str) or len(months) != 12:
            months = self.catalogue.raw(FALLBACK, "months")
        return list(months)
