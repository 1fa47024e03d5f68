"""Every surface's fixed texts are gettext catalogues, complete in every shipped language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
from babel.messages.catalog import Catalog

from counter.labels import TEXTS
from display.labels import catalogues as display_catalogues
from kiosk.i18n import Catalogue
from lobby.i18n import Catalogues
from server.speech import PHRASES
from tests.conftest import RunningServer

PLACEHOLDER = re.compile(r"{(\w+)}")


def forms(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Each message of a PO catalogue as a tuple of its forms (one, or one per plural form)."""
    return {
        str(m.id if isinstance(m.id, str) else m.id[0]): (
            tuple(m.string) if isinstance(m.string, tuple | list) else (m.string,)
        )
        for m in catalog
        if m.id
    }


STATUS = Catalogues.load(Path(__file__).parent.parent / "server" / "web" / "status")
SURFACES = {
    "kiosk": Catalogue.load().catalogues,
    "display": display_catalogues(),
    "status page": STATUS,
    "speech": Catalogues.load(PHRASES),
    "counter": TEXTS,
}


@pytest.mark.parametrize(
    ("surface", "language"),
    [(name, code) for name, found in SURFACES.items() for code in found.languages if code != "en"],
)
def test_each_language_has_every_text_with_its_placeholders(surface: str, language: str) -> None:
    catalogs: Catalogues = SURFACES[surface]
    english = forms(catalogs.catalogs["en"])
    other = forms(catalogs.catalogs[language])
    assert sorted(set(english) - set(other)) == [], "untranslated keys fall back to English"
    assert sorted(set(other) - set(english)) == [], "keys English lacks are never used"
    for key, texts in other.items():
        assert len(texts) in (1, catalogs.catalogs[language].num_plurals), key
    for key, texts in english.items():
        assert all(other[key]), f"{surface}/{language}: {key} is not translated"
        wanted = set(PLACEHOLDER.findall(texts[-1]))
        assert all(set(PLACEHOLDER.findall(text)) == wanted for text in other[key]), key


@pytest.mark.parametrize(
    ("path", "catalogues", "key", "somali"),
    [
        ("/display/labels.json", display_catalogues(), "now_serving", "Hadda la adeegayo"),
        ("/status/assets/labels.json", STATUS, "your_ticket", "Tigidhkaaga"),
    ],
)
async def test_the_pages_are_served_their_catalogues(
    server: RunningServer, path: str, catalogues: Catalogues, key: str, somali: str
) -> None:
    async with aiohttp.ClientSession() as http, http.get(server.url + path) as response:
        served = await response.json()
    assert served == json.loads(catalogues.tables_json())
    assert served["so"][key] == somali
    assert served["so"]["language_name"] == "Soomaali", "the name comes from CLDR"
    assert served["en"]["language_name"] == "English"
