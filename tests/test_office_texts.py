"""Office texts in every office language: the config gives them per language (or one string),
a missing translation reads the first language's (one rule, at load), ``lobby check-config``
lists every gap, and every surface shows the visitor's language."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from hardware import open_printer
from hardware.escpos_reader import iter_text, read_escpos
from hardware.printer import code_pages_of
from lobby import protocol as p
from lobby.cli import main as lobby
from server.config import ConfigError, OfficeConfig, parse_config
from tests.conftest import CONFIG_PATH, running_server, without_emergencies
from tests.test_kiosk_flow import (
    choose_language,
    finished,
    kiosk_app,
    running,
    service_button,
    tap_service,
    text,
)

TRANSLATED = (
    CONFIG_PATH.read_text()
    .replace(
        'name = "Permits and Licensing"',
        'name = { en = "Permits and Licensing", es = "Permisos y Licencias" }',
    )
    .replace(
        'info = "Bring a photo ID and proof of address."',
        'info = { en = "Bring a photo ID and proof of address.", '
        'es = "Traiga una identificación con foto.", so = "Keen aqoonsi sawir leh." }',
    )
    .replace('name = "Window 1"', 'name = { en = "Window 1", es = "Ventanilla 1" }')
    .replace('notice = "Test notice"', 'notice = { en = "Test notice", es = "Aviso de prueba" }')
)


def translated() -> OfficeConfig:
    return parse_config(TRANSLATED, "translated.toml")


def test_each_text_is_complete_in_every_office_language() -> None:
    config = translated()
    [permits, billing, _] = config.services
    assert permits.names == {
        "en": "Permits and Licensing",
        "es": "Permisos y Licencias",
        "so": "Permits and Licensing",  # no Somali: the first language's
    }
    assert permits.name == "Permits and Licensing", "the plain name is the first language's"
    assert permits.infos["so"] == "Keen aqoonsi sawir leh."
    assert billing.names == dict.fromkeys(("en", "es", "so"), "Utility Billing")  # a plain string
    assert config.counters[0].names["es"] == "Ventanilla 1"
    assert config.notices == {"en": "Test notice", "es": "Aviso de prueba", "so": "Test notice"}
    assert "services[0].name: no 'so' text (shows the 'en' one)" in config.gaps
    assert "services[0].info: no 'so' text (shows the 'en' one)" not in config.gaps
    assert "services[1].info: no 'es' text (shows the 'en' one)" not in config.gaps, (
        "an empty text has nothing to translate"
    )
    assert "counters[1].name: no 'es' text (shows the 'en' one)" in config.gaps


def test_a_one_language_office_has_no_gaps() -> None:
    one = without_emergencies(CONFIG_PATH.read_text()).replace(
        'languages = ["en", "es", "so"]', 'languages = ["es"]'
    )
    assert parse_config(one).gaps == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('es = "Permisos y Licencias"', 'fr = "Permis"'), "services[0].name: 'fr' is not one"),
        (('en = "Permits and Licensing", ', ""), "services[0].name: needs a text in 'en'"),
        (('es = "Ventanilla 1"', 'es = ""'), "counters[0].name"),
    ],
)
def test_a_wrong_translation_table_is_named(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_config(TRANSLATED.replace(*change), "bad.toml")


def test_check_config_lists_every_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "office.toml"
    path.write_text(TRANSLATED)
    assert lobby(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    for gap in translated().gaps:
        assert f"  {gap}\n" in out
    assert f"{len(translated().gaps)} missing translations" in out

    demo = Path(__file__).parent.parent / "examples" / "demo.toml"
    assert lobby(["check-config", "--config", str(demo)]) == 0
    assert "Every office text is given in every office language." in capsys.readouterr().out

    path.write_text(TRANSLATED.replace('es = "Ventanilla 1"', 'xx1 = "?"'))
    assert lobby(["check-config", "--config", str(path)]) == 2
    assert "counters[0].name" in capsys.readouterr().err


async def test_a_spanish_visit_reads_the_office_texts_in_spanish(tmp_path: Path) -> None:
    async with running_server(tmp_path, translated()) as server:
        printer = open_printer("dummy")
        app = kiosk_app(server, printer)
        async with running(app) as pilot:
            assert text(app, "#notice") == "Test notice\nAviso de prueba", "welcome: every one"
            await choose_language(pilot, "es")
            assert text(app, "#notice") == "Aviso de prueba"
            assert str(service_button(app, "permits").label).startswith("Permisos y Licencias\n")
            assert str(service_button(app, "billing").label).startswith("Utility Billing\n")
            screen = await tap_service(pilot, "permits")
            await finished(screen)
            assert text(app, "#service-name") == "Permisos y Licencias"
            assert text(app, "#info") == "Traiga una identificación con foto."
            ticket = screen.ticket
            assert ticket is not None
        printed = list(iter_text(read_escpos(printer.last_output, code_pages_of(printer.profile))))
        assert "Permisos y Licencias" in printed
        assert "Traiga una identificación con foto." in printed
        assert "Permits and Licensing" not in printed

        clerk = await server.staff("clerk")
        await clerk.counter_action("w1", "open")
        await clerk.call_next("w1")
        token = ticket.status_url.split("?")[0].rsplit("/", 1)[1]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.url}/status/{token}/json") as response,
        ):
            data = await response.json()
        assert data["language"] == "es"
        assert data["ticket"]["service_name"] == "Permisos y Licencias"
        assert data["ticket"]["counter_name"] == "Ventanilla 1"
        assert data["info"] == "Traiga una identificación con foto."
        assert data["notice"] == "Aviso de prueba"

        supervisor = await server.staff("super")
        await supervisor.request(
            "POST", "/api/office/notice", p.NoticeRequest(text="Cerramos a las 3 · Closing at 3")
        )
        state = await supervisor.state()
        assert state.office.notices == dict.fromkeys(
            ("en", "es", "so"), "Cerramos a las 3 · Closing at 3"
        ), "a supervisor's notice, typed in one language, is shown as typed"
