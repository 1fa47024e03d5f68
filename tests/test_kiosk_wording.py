"""What the kiosk says and prints, in every language, without a terminal or a server."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from hardware import open_printer
from hardware.escpos_reader import QrCode, elements_of, iter_text, read_escpos
from hardware.printer import code_pages_of
from kiosk.i18n import Catalogue, CatalogueError
from kiosk.printer_health import PrinterHealth
from kiosk.visit import VisitorDetails, new_request_id
from kiosk.widgets.big_number import FONT, block_lines, can_draw
from kiosk.widgets.qr_block import matrix_from_lines, qr_lines, qr_matrix
from kiosk.wording import ahead_text, greeting, service_line, ticket_content, wait_sentence
from lobby import protocol as p

CATALOGUE = Catalogue.load()
NOW = datetime(2026, 11, 23, 9, 14)


def ticket(position: int | None = 4, low: int = 6, high: int = 10) -> p.TicketView:
    return p.TicketView(
        id=7,
        number="P-014",
        service="permits",
        state="waiting",
        arrived_at="2026-11-23T09:14:05-06:00",
        called_at=None,
        counter=None,
        position=position,
        estimate=p.Estimate(low, high),
        status_url="http://192.168.1.10:8080/status/abc123",
        service_name="Permits and Licensing",
    )


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("en", 1, "About 1 person ahead"),
        ("en", 2, "About 2 people ahead"),
        ("es", 1, "Aproximadamente 1 persona delante"),
        ("es", 21, "Aproximadamente 21 personas delante"),
        ("so", 1, "Qiyaastii 1 qof ayaa kaa horreeya"),
    ],
)
def test_counts_take_the_plural_form_of_their_language(
    language: str, count: int, expected: str
) -> None:
    assert ahead_text(CATALOGUE.bind(language), count) == expected


def test_the_three_languages_the_issue_names_are_shipped() -> None:
    assert {"en", "es", "so"} <= set(CATALOGUE.languages)
    assert [CATALOGUE.name(code) for code in ("en", "es", "so", "vi")] == [
        "English",
        "Español",
        "Soomaali",
        "Tiếng Việt",
    ], "language names come from CLDR"


PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def test_adding_a_language_is_adding_a_file(tmp_path: Path) -> None:
    (tmp_path / "en.po").write_text(
        PO_HEADER + 'msgid "welcome"\nmsgstr "Welcome"\n\nmsgid "back"\nmsgstr "Back"\n',
        encoding="utf-8",
    )
    (tmp_path / "vi.po").write_text(
        PO_HEADER + 'msgid "welcome"\nmsgstr "Xin chào"\n', encoding="utf-8"
    )
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.languages == ("en", "vi")
    vi = catalogue.bind("vi")
    assert vi("welcome") == "Xin chào"
    assert vi("back") == "Back", "a missing translation falls back to English"
    assert catalogue.bind("xx").language == "en"
    with pytest.raises(KeyError):
        vi("no_such_key")


def test_a_broken_language_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "en.po").write_text(PO_HEADER + 'msgid "welcome"\nmsgstr "Welcome"\n')
    (tmp_path / "es.po").write_text(PO_HEADER + 'msgid "welcome"\nmsgstr "Bienvenidos\n')
    with pytest.raises(CatalogueError, match=r"es\.po"):
        Catalogue.load(tmp_path)


@pytest.mark.parametrize(
    ("name", "address_as", "expected"),
    [
        ("Maria Garcia", "ms", "Welcome, Ms. Garcia."),
        ("  José  de la  Cruz ", "mr", "Welcome, Mr. Cruz."),
        ("Sam Lee", "mx", "Welcome, Mx. Lee."),
        ("Maria Garcia", "first_name", "Welcome, Maria."),
        ("Maria Garcia", "number", "Welcome."),
        ("Maria Garcia", None, "Welcome."),
        ("", "ms", "Welcome."),
    ],
)
def test_greeting_follows_the_form_of_address(
    name: str, address_as: str | None, expected: str
) -> None:
    assert greeting(CATALOGUE.bind("en"), VisitorDetails(name, address_as)) == expected


def test_greeting_uses_the_titles_of_the_visitors_language() -> None:
    details = VisitorDetails("Maria Garcia", "ms")
    assert greeting(CATALOGUE.bind("es"), details) == "Le damos la bienvenida, Sra. Garcia."
    assert greeting(CATALOGUE.bind("so"), details) == "Ku soo dhawoow, Marwo Garcia."


def test_no_name_and_untitled_names_are_never_sent() -> None:
    rid = new_request_id()
    assert 8 <= len(rid) <= 64 and rid != new_request_id()
    hidden = VisitorDetails("Maria Garcia", "number").request("permits", rid, "es")
    assert (hidden.name, hidden.address_as, hidden.kiosk_language) == (None, None, "es")
    nothing = VisitorDetails().request("permits", rid, "en")
    assert (nothing.name, nothing.address_as, nothing.language, nothing.needs) == (
        None,
        None,
        None,
        [],
    )
    full = VisitorDetails("Maria Garcia", "ms", "es", ["interpreter", "wheelchair"])
    request = full.request("permits", rid, "en")
    assert (request.name, request.address_as, request.language) == ("Maria Garcia", "ms", "es")
    assert request.needs == ["wheelchair", "interpreter"]


def test_the_confirmation_sentence_of_the_issue() -> None:
    en = CATALOGUE.bind("en")
    assert wait_sentence(en, ticket(4, 6, 10)) == ("About 3 people ahead — around 6 to 10 minutes.")
    assert wait_sentence(en, ticket(2, 3, 6)) == "About 1 person ahead — around 3 to 6 minutes."
    assert wait_sentence(en, ticket(1, 0, 2)) == "You are next — up to 2 minutes."
    assert wait_sentence(en, ticket(None)) == (
        "Please have a seat and watch the screens for your number."
    )
    assert wait_sentence(CATALOGUE.bind("es"), ticket(4, 6, 10)) == (
        "Aproximadamente 3 personas delante — entre 6 y 10 minutos."
    )


def service(ahead: int, waiting: int = 0, state: str = "open") -> p.ServiceView:
    return p.ServiceView(
        "permits", "Permits", "P", state, "08:00-16:30", waiting, 4.0, 10, p.Estimate(6, 10), "",
        ahead=ahead,
    )  # fmt: skip


def test_service_line_shows_the_people_ahead_or_the_hours() -> None:
    en = CATALOGUE.bind("en")
    assert service_line(en, service(ahead=3, waiting=3)) == "About 3 people ahead · about 6–10 min"
    assert service_line(en, service(ahead=1, waiting=0)) == (
        "About 1 person ahead · about 6–10 min"
    ), "a visitor of another service at the same counters is ahead too"
    assert service_line(en, service(ahead=0)) == "You are next · about 6–10 min"
    assert service_line(en, service(ahead=2, state="closed")) == "Closed now · Hours 08:00-16:30"


@pytest.mark.parametrize("language", ["en", "es", "so"])
@pytest.mark.parametrize("ahead", [0, 1, 4])
def test_the_button_says_what_the_ticket_then_says(language: str, ahead: int) -> None:
    t = CATALOGUE.bind(language)
    issued = ticket(position=ahead + 1, low=6, high=10)
    content = ticket_content(
        t, issued, office_name="City Hall", service_name="", info=None, now=NOW
    )
    assert content.position_text
    assert service_line(t, service(ahead)).startswith(f"{content.position_text} · ")
    assert wait_sentence(t, issued).startswith(f"{content.position_text} — ")
    for figure in ("6", "10"):
        assert figure in service_line(t, service(ahead)) and figure in content.wait_text


@pytest.mark.parametrize("language", ["en", "es", "so"])
def test_printed_ticket_carries_number_service_wait_qr_and_privacy_line(language: str) -> None:
    t = CATALOGUE.bind(language)
    content = ticket_content(
        t,
        ticket(),
        office_name="City Hall",
        service_name="Permits and Licensing",
        info="Bring a photo ID.",
        now=NOW,
    )
    printer = open_printer("dummy")
    printer.print_ticket(content)
    elements = read_escpos(printer.last_output, code_pages_of(printer.profile))
    lines = list(iter_text(elements))
    assert "P-014" in lines and "Permits and Licensing" in lines
    assert content.issued_text in lines
    assert content.issued_text.startswith("23 ") and "09:14" in content.issued_text
    assert t("privacy_line") in lines
    [qr] = elements_of(elements, QrCode)
    assert qr.data == "http://192.168.1.10:8080/status/abc123"


def test_printer_health_reports_changes_once_and_keeps_known_trouble() -> None:
    health = PrinterHealth()
    health.polled("ok")
    assert health.due() == ("ok", "")
    health.sent(("ok", ""))
    health.polled("ok")
    assert health.due() is None, "an unchanged state is not reported again"
    health.failed("Cannot reach the ticket printer: no such file or directory.")
    report = health.due()
    assert report is not None and report[0] == "error"
    health.sent(report)
    health.polled("unknown", "The printer did not answer the status request.")
    assert health.due() is None, "silence does not hide a failure"
    health.printed()
    assert health.due() == ("ok", "")
    health.polled("paper_out")
    assert health.due() == ("paper_out", "")


def test_block_letters_cover_ticket_numbers() -> None:
    assert can_draw("P-014") and can_draw("ab-999") and not can_draw("P/1") and not can_draw("")
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == set(FONT)
    rows = block_lines("P-014")
    assert len(rows) == 7
    assert rows[0].startswith("████████")


def test_on_screen_qr_code_holds_exactly_the_status_link() -> None:
    url = "http://192.168.1.10:8080/status/Zq3xY7pLmN2a"
    lines = qr_lines(url)
    matrix = qr_matrix(url)
    assert len(lines) == (len(matrix) + 1) // 2
    assert matrix_from_lines(lines)[: len(matrix)] == matrix
    assert matrix != qr_matrix(url + "x")
