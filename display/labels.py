"""The display's few words in each office language, from the same file the page uses."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

DEFAULT = "en"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    text = (resources.files("display") / "web" / "labels.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def label(key: str, lang: str) -> str:
    table = catalogue().get(lang) or catalogue()[DEFAULT]
    return table.get(key) or catalogue()[DEFAULT][key]


def known(languages: list[str] | tuple[str, ...]) -> list[str]:
    """The office languages that have labels (the default one when none has)."""
    found = [lang for lang in languages if lang in catalogue()]
    return found or [DEFAULT]


def side_by_side(key: str, languages: list[str] | tuple[str, ...], sep: str = " · ") -> str:
    """One label in every office language, each once: "Now serving · Ahora atendiendo"."""
    return sep.join(dict.fromkeys(label(key, lang) for lang in known(languages)))
