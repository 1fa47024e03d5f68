"""The display's few words in each language: the gettext PO files in ``display/web/labels/``,
which the server also serves to the page as JSON (``/display/labels.json``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from lobby.i18n import FALLBACK, Catalogues

DEFAULT = FALLBACK
FOLDER = Path(str(resources.files("display") / "web" / "labels"))


@cache
def catalogues() -> Catalogues:
    return Catalogues.load(FOLDER)


def label(key: str, lang: str) -> str:
    return catalogues().text(lang, key)


def known(languages: list[str] | tuple[str, ...]) -> list[str]:
    """The office languages that have labels (the default one when none has)."""
    found = [lang for lang in languages if catalogues().has(lang)]
    return found or [DEFAULT]


def side_by_side(key: str, languages: list[str] | tuple[str, ...], sep: str = " · ") -> str:
    """One label in every office language, each once: "Now serving · Ahora atendiendo"."""
    return sep.join(dict.fromkeys(label(key, lang) for lang in known(languages)))
