"""Ticket printing end to end: python-escpos output read back by the independent reader, real
files, and a real loopback TCP "printer" for the network paths (no mocks)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from hardware import (
    PrinterStatus,
    PrintFailed,
    TicketContent,
    TicketPrinter,
    open_printer,
)
from hardware.escpos_reader import (
    Cut,
    Feed,
    QrCode,
    RasterImage,
    StatusQuery,
    TextLine,
    elements_of,
    read_escpos,
)
from hardware.layout import NUMBER_MAX_MAGNIFICATION, number_magnification
from hardware.preview import main as preview_main
from hardware.printer import interpret_status

TICKET = TicketContent(
    office_name="City Hall Service Center",
    number="P-014",
    service_name="Permits and Licensing",
    issued_text="23 Nov 2026 09:14",
    position_text="3 people ahead of you",
    wait_text="About 6–10 minutes",
    info_text="Bring a photo ID and proof of address.",
    status_url="http://192.168.1.10:8080/s/7f3a9c2e41d8?lang=en&v=2",
    qr_caption="Scan to follow your place in line",
    privacy_text="Your name is never shown on the screens",
)

TICKET_ES = replace(
    TICKET,
    service_name="Permisos y licencias",
    issued_text="23 nov 2026 09:14",
    position_text="3 personas antes que usted",
    wait_text="Unos 6–10 minutos",
    info_text="Información: traiga una identificación con foto y un comprobante de domicilio "
    "de este año.",
    qr_caption="¿Quiere seguir su turno? Escanee el código",
    privacy_text="Su nombre nunca aparece en las pantallas",
)


def printed(content: TicketContent = TICKET, spec: str = "dummy") -> list:
    printer = TicketPrinter(spec)
    printer.print_ticket(content)
    return read_escpos(printer.last_output)


def texts(elements: list) -> list[str]:
    return [line.text for line in elements_of(elements, TextLine)]


def joined(elements: list) -> str:
    """All printed text, with wrapped lines joined back by spaces."""
    return " ".join(texts(elements))


# -- what is on the paper ------------------------------------------------------------------------


def test_the_ticket_reads_back_in_order() -> None:
    elements = printed()
    lines = elements_of(elements, TextLine)
    office, number, service = lines[0], lines[1], lines[2]
    assert (office.text, office.bold, office.align) == ("City Hall Service Center", True, "center")
    assert number.text == "P-014" and number.bold and number.align == "center"
    assert service.text == "Permits and Licensing" and service.bold
    assert texts(elements)[3:] == [
        "23 Nov 2026 09:14",
        "3 people ahead of you",
        "About 6–10 minutes",
        "Bring a photo ID and proof of address.",
        "Scan to follow your place in line",
        "Your name is never shown on the screens",
    ]
    assert "?" not in joined(elements)  # no character fell back to python-escpos's '?'


def test_the_number_is_the_largest_thing_on_the_ticket() -> None:
    lines = elements_of(printed(), TextLine)
    number = next(line for line in lines if line.text == "P-014")
    assert number.width == number.height == NUMBER_MAX_MAGNIFICATION == 8
    assert all(line.height < number.height for line in lines if line is not number)
    assert len(number.text) * 12 * number.width <= 576  # fits the 576-dot line


@pytest.mark.parametrize(
    ("number", "size"), [("P-014", 8), ("PER-0142", 6), ("A1", 8), ("LICENSE-00042", 3)]
)
def test_long_numbers_shrink_to_stay_on_one_line(number: str, size: int) -> None:
    assert number_magnification(number, 48) == size
    lines = elements_of(printed(replace(TICKET, number=number)), TextLine)
    assert lines[1].text == number and lines[1].width == size


def test_every_line_fits_the_paper() -> None:
    long = replace(
        TICKET_ES,
        office_name="Centro de Servicios al Ciudadano del Ayuntamiento de la Ciudad",
        service_name="Licencias de construcción, obras menores y ocupación de vía pública",
    )
    for line in elements_of(printed(long), TextLine):
        columns = 64 if line.font == 1 else 48
        assert len(line.text) * line.width <= columns, line.text
    assert "Centro de Servicios al Ciudadano del Ayuntamiento de la Ciudad" in joined(printed(long))


def test_the_qr_code_carries_the_status_url_exactly() -> None:
    elements = printed()
    (qr,) = elements_of(elements, QrCode)
    assert qr.data == TICKET.status_url
    assert qr.align == "center"
    assert qr.error_correction == "M"
    # about 2.5 cm at 203 dpi: easy to scan, and smaller than the number
    assert 150 <= qr.module_size * _modules(qr.data, "M") <= 260
    qr_at = elements.index(qr)
    assert "Scan to follow your place in line" in texts(elements[qr_at:])


def test_the_ticket_ends_with_one_cut_after_the_privacy_line() -> None:
    elements = printed()
    inked = [e for e in elements if not isinstance(e, Feed | StatusQuery)]
    assert isinstance(inked[-1], Cut)
    assert sum(isinstance(e, Cut) for e in elements) == 1
    privacy = inked[-2]
    assert isinstance(privacy, TextLine)
    assert privacy.text == "Your name is never shown on the screens"
    assert privacy.font == 1  # the small font: fine print


def test_without_info_text_nothing_is_printed_for_it() -> None:
    with_info = texts(printed())
    without = texts(printed(replace(TICKET, info_text=None)))
    assert without == [line for line in with_info if not line.startswith("Bring")]
    assert texts(printed(replace(TICKET, info_text="   "))) == without


def test_spanish_text_switches_code_pages_and_reads_back_exactly() -> None:
    printer = TicketPrinter("dummy")
    printer.print_ticket(TICKET_ES)
    data = printer.last_output
    assert b"\x1bt\x10" in data  # ESC t 16 (WPC1252) for the en dash
    elements = read_escpos(data)
    all_text = joined(elements)
    assert "Información: traiga una identificación con foto" in all_text
    assert "comprobante de domicilio de este año." in all_text
    assert "¿Quiere seguir su turno? Escanee el código" in all_text
    assert "Unos 6–10 minutos" in all_text
    assert "\ufffd" not in all_text and "?" not in all_text.replace("¿Quiere seguir su turno?", "")


def test_characters_no_code_page_has_get_plain_stand_ins() -> None:
    content = replace(TICKET, wait_text="About 6\u201210 minutes", qr_caption="Scan\u00a0me")
    all_text = joined(printed(content))
    assert "About 6-10 minutes" in all_text  # U+2012 is in no code page of the printer
    assert "Scan me" in all_text


def test_control_characters_never_reach_the_printer() -> None:
    hostile = replace(TICKET, office_name="City\x1bi Hall\x1dV\x00", info_text="a\r\nb\tc")
    elements = printed(hostile)  # the reader rejects stray commands, so this also checks that
    assert texts(elements)[0] == "Cityi HallV"
    assert "a" in texts(elements) and "b c" in texts(elements)
    assert sum(isinstance(e, Cut) for e in elements) == 1


def test_a_profile_without_native_qr_prints_the_qr_as_an_image() -> None:
    printer = TicketPrinter("dummy?profile=POS-5890")
    assert not printer.supports_native_qr
    printer.print_ticket(TICKET)
    elements = read_escpos(printer.last_output)
    assert elements_of(elements, QrCode) == []
    (image,) = elements_of(elements, RasterImage)
    assert image.width <= 384  # the 58 mm paper of that profile
    assert_raster_is_qr_of(image, TICKET.status_url)
    assert "Scan to follow your place in line" in joined(elements)
    for line in elements_of(elements, TextLine):
        assert len(line.text) * line.width <= (42 if line.font == 1 else 32), line.text


@pytest.mark.parametrize("profile", ["TM-T20II", "POS-5890", "simple", "default", "TM-T88V"])
def test_printing_writes_nothing_to_stdout(profile: str, capfd: pytest.CaptureFixture[str]) -> None:
    # python-escpos print()s when centring an image without a known paper width; on a kiosk
    # that would scribble over the Textual screen
    printer = TicketPrinter(f"dummy?profile={profile}")
    printer.print_ticket(TICKET_ES)
    elements = read_escpos(printer.last_output)
    assert elements_of(elements, QrCode) or elements_of(elements, RasterImage)
    assert capfd.readouterr() == ("", "")


def test_importing_hardware_leaves_logging_alone() -> None:
    script = (
        "import logging, hardware; "
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)


@pytest.mark.parametrize(("field", "value"), [("number", " "), ("status_url", "")])
def test_a_ticket_needs_a_number_and_a_link(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field.replace("_", ".")):
        replace(TICKET, **{field: value})


def test_render_gives_the_bytes_without_printing() -> None:
    printer = TicketPrinter("dummy")
    data = printer.render(TICKET)
    assert printer.last_output == b""
    printer.print_ticket(TICKET)
    assert printer.last_output == data


# -- preview -------------------------------------------------------------------------------------


def test_preview_writes_the_bytes_and_a_picture(tmp_path: Path) -> None:
    when = datetime(2026, 11, 23, 9, 14, 5)
    printer = open_printer(f"preview:{tmp_path / 'tickets'}", clock=lambda: when)
    printer.print_ticket(TICKET_ES)
    files = printer.last_preview
    assert files is not None
    assert files.bin_path.name == "P-014-20261123-091405-000000.bin"
    assert files.bin_path.read_bytes() == printer.last_output
    assert files.png_path == files.bin_path.with_suffix(".png")
    with Image.open(files.png_path) as picture:
        picture.verify()
    with Image.open(files.png_path) as picture:
        assert picture.format == "PNG"
        assert picture.width == 640  # 80 mm roll: 576 printable dots plus the margins
        assert 700 < picture.height < 1600
        gray = picture.convert("L")
        assert gray.getextrema() == (0, 255)
        # ink is centred: the left and right edges of the printable area stay blank
        assert gray.crop((1, 0, 40, picture.height - 2)).getextrema()[0] > 150
    assert printer.status() is PrinterStatus.OK

    printer.print_ticket(TICKET_ES)  # same second, same number: nothing is overwritten
    assert printer.last_preview is not None
    assert printer.last_preview.bin_path.name == "P-014-20261123-091405-000000-1.bin"
    assert len(list((tmp_path / "tickets").glob("*.png"))) == 2


def test_preview_of_an_image_qr_draws_the_qr_dot_for_dot(tmp_path: Path) -> None:
    printer = TicketPrinter(f"preview:{tmp_path}?profile=POS-5890")
    printer.print_ticket(TICKET)
    assert printer.last_preview is not None
    with Image.open(printer.last_preview.png_path) as picture:
        assert picture.width == 384 + 64


def test_preview_works_without_the_dejavu_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    from hardware import preview

    def clear() -> None:
        preview._find_font.cache_clear()
        preview._font.cache_clear()

    clear()
    monkeypatch.setattr(preview, "FONT_DIRS", ())
    try:
        picture = preview.render_ticket(TicketPrinter("dummy").render(TICKET_ES))
    finally:
        clear()
    assert picture.width == 640 and picture.getextrema() == (0, 255)


def test_preview_command_line_renders_saved_bytes(tmp_path: Path) -> None:
    source = tmp_path / "ticket.bin"
    source.write_bytes(TicketPrinter("dummy").render(TICKET))
    assert preview_main([str(source)]) == 0
    with Image.open(tmp_path / "ticket.png") as picture:
        assert picture.width == 640


def test_qr_codes_in_the_pictures_scan(tmp_path: Path) -> None:
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp decodes QR codes when installed")
    for spec in (f"preview:{tmp_path}/a", f"preview:{tmp_path}/b?profile=POS-5890"):
        printer = TicketPrinter(spec)
        printer.print_ticket(TICKET_ES)
        assert printer.last_preview is not None
        with Image.open(printer.last_preview.png_path) as picture:
            found = zxingcpp.read_barcodes(picture.convert("L"))
        assert [code.text for code in found] == [TICKET_ES.status_url]


def test_an_unwritable_preview_directory_fails_plainly(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    printer = TicketPrinter(f"preview:{blocker}/tickets")
    with pytest.raises(PrintFailed, match="Cannot write the ticket preview"):
        printer.print_ticket(TICKET)
    assert printer.last_error is not None


# -- files ---------------------------------------------------------------------------------------


def test_a_file_printer_gets_the_ticket(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    printer = TicketPrinter(f"file:{device}")
    printer.print_ticket(TICKET)
    elements = read_escpos(device.read_bytes())
    assert elements_of(elements, QrCode)[0].data == TICKET.status_url
    assert printer.status() is PrinterStatus.UNKNOWN  # a file cannot answer
    assert not printer.answers_status, "nothing to gain from asking it again"


def test_a_file_in_a_missing_directory_raises_print_failed(tmp_path: Path) -> None:
    printer = TicketPrinter(f"file:{tmp_path / 'no-such-dir' / 'lp0'}")
    with pytest.raises(PrintFailed) as caught:
        printer.print_ticket(TICKET)
    assert "no such file or directory" in str(caught.value)
    assert str(tmp_path / "no-such-dir" / "lp0") in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)
    assert printer.last_error == str(caught.value)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("usb:0x04b8:0x0202", "usb:0x04b8:0x0202"),
        ("serial:/dev/lobby-no-such-tty", "serial:/dev/lobby-no-such-tty"),
        ("cups:lobby-no-such-queue", "cups:lobby-no-such-queue"),
    ],
)
def test_missing_devices_and_libraries_fail_plainly(spec: str, words: str) -> None:
    printer = TicketPrinter(spec, timeout=0.5)
    with pytest.raises(PrintFailed, match=words) as caught:
        printer.print_ticket(TICKET)
    assert "\n" not in str(caught.value)
    expected = PrinterStatus.UNKNOWN if spec.startswith("cups") else PrinterStatus.OFFLINE
    assert printer.status() is expected


# -- network: a real socket on loopback ----------------------------------------------------------

ONLINE, OFFLINE_BIT = 0x12, 0x1A  # DLE EOT 1 replies: fixed bits, bit 3 = offline
PAPER_OK, PAPER_NEAR_END, PAPER_OUT = 0x12, 0x1E, 0x7E  # DLE EOT 4 replies
COVER_OPEN = 0x16  # DLE EOT 2 reply: fixed bits, bit 2 = the cover is open


class FakePrinter:
    """A loopback TCP server that records what it is sent and answers DLE EOT n like a printer.

    With ``replies=None`` it never answers status requests (like a print server without a
    back channel). It hangs up when the client half-closes, as network printers do.
    """

    def __init__(self, replies: dict[int, int] | None) -> None:
        self.replies = replies
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                received = bytearray()
                scanned = 0
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    received += chunk
                    while (at := received.find(b"\x10\x04", scanned)) >= 0 and at + 2 < len(
                        received
                    ):
                        kind = received[at + 2]
                        scanned = at + 3
                        if self.replies is not None and kind in self.replies:
                            conn.sendall(bytes([self.replies[kind]]))
                self.connections.append(bytes(received))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()


@pytest.fixture
def fake_printer() -> Iterator[typing.Callable[[dict[int, int] | None], FakePrinter]]:
    made: list[FakePrinter] = []

    def make(replies: dict[int, int] | None) -> FakePrinter:
        made.append(FakePrinter(replies))
        return made[-1]

    yield make
    for server in made:
        server.close()


def wait_for(condition: typing.Callable[[], bool], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_network_printer_gets_the_whole_ticket(fake_printer) -> None:
    server = fake_printer({1: ONLINE, 4: PAPER_OK})
    printer = TicketPrinter(server.spec, status_timeout=0.5)
    assert printer.status() is PrinterStatus.OK
    printer.print_ticket(TICKET_ES)
    wait_for(lambda: len(server.connections) == 2)  # one connection per status and per ticket
    elements = read_escpos(server.connections[1])
    assert elements[:2] == [StatusQuery(1), StatusQuery(4)]  # paper checked before printing
    assert elements_of(elements, QrCode)[0].data == TICKET_ES.status_url
    assert "¿Quiere seguir su turno? Escanee el código" in joined(elements)
    assert isinstance([e for e in elements if not isinstance(e, Feed)][-1], Cut)


def test_paper_out_is_reported_and_nothing_is_printed(fake_printer) -> None:
    server = fake_printer({1: OFFLINE_BIT, 4: PAPER_OUT})  # empty printers also say offline
    printer = TicketPrinter(server.spec, status_timeout=0.5)
    assert printer.status() is PrinterStatus.PAPER_OUT
    with pytest.raises(PrintFailed, match="out of paper"):
        printer.print_ticket(TICKET)
    wait_for(lambda: len(server.connections) == 2)
    assert elements_of(read_escpos(server.connections[1]), TextLine) == []


@pytest.mark.parametrize(
    ("replies", "status"),
    [
        ({1: ONLINE, 4: PAPER_NEAR_END}, PrinterStatus.PAPER_NEAR_END),
        ({1: OFFLINE_BIT, 4: PAPER_OK}, PrinterStatus.OFFLINE),  # and says no more
        ({1: OFFLINE_BIT, 2: COVER_OPEN, 4: PAPER_OK}, PrinterStatus.COVER_OPEN),
        ({1: OFFLINE_BIT, 2: 0x12, 4: PAPER_OK}, PrinterStatus.OFFLINE),  # not the cover
        ({1: ONLINE, 4: 0x93}, PrinterStatus.UNKNOWN),  # not a DLE EOT reply
        ({1: OFFLINE_BIT}, PrinterStatus.OFFLINE),  # says offline, then goes quiet
        ({1: 0x00, 4: PAPER_OK}, PrinterStatus.UNKNOWN),  # nonsense is not "ok"
    ],
)
def test_status_replies(fake_printer, replies: dict[int, int], status: PrinterStatus) -> None:
    server = fake_printer(replies)
    printer = TicketPrinter(server.spec, status_timeout=1.0)
    assert printer.answers_status
    assert printer.status() is status


def test_a_near_end_printer_still_prints(fake_printer) -> None:
    server = fake_printer({1: ONLINE, 4: PAPER_NEAR_END})
    TicketPrinter(server.spec, status_timeout=0.5).print_ticket(TICKET)
    wait_for(lambda: len(server.connections) == 1)
    assert "P-014" in texts(read_escpos(server.connections[0]))


def test_nobody_listening_means_print_failed_and_offline() -> None:
    with socket.socket() as unused:  # bound but not listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        spec = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
        printer = TicketPrinter(spec, timeout=1, status_timeout=0.5)
        with pytest.raises(PrintFailed) as caught:
            printer.print_ticket(TICKET)
        assert str(caught.value) == (
            f"Cannot reach the ticket printer ({spec}): connection refused."
        )
        assert printer.status() is PrinterStatus.OFFLINE
        assert printer.last_error == str(caught.value)


def test_a_printer_that_never_answers_is_not_ok_and_does_not_stall(fake_printer) -> None:
    server = fake_printer(None)
    started = time.monotonic()
    printer = TicketPrinter(server.spec, status_timeout=0.2)
    assert printer.status() is PrinterStatus.UNKNOWN
    assert time.monotonic() - started < 3.0, "bounded by the status timeout, not the 5 s default"
    assert printer.last_error == "The printer did not answer the status request."

    fresh = TicketPrinter(server.spec, status_timeout=0.2)
    fresh.print_ticket(TICKET)  # no answer to the paper check: print anyway
    fresh.print_ticket(TICKET)  # and do not wait for an answer again
    wait_for(lambda: len(server.connections) == 3)
    first, second = (read_escpos(data) for data in server.connections[1:])
    assert first[0] == StatusQuery(1) and "P-014" in texts(first)
    assert StatusQuery(1) not in second and "P-014" in texts(second)


def test_status_and_printing_share_one_connection_at_a_time(fake_printer) -> None:
    server = fake_printer({1: ONLINE, 4: PAPER_OK})
    printer = TicketPrinter(server.spec, status_timeout=0.5)
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            for _ in range(5):
                assert printer.status() is PrinterStatus.OK
        except BaseException as error:
            errors.append(error)

    poller = threading.Thread(target=poll)
    poller.start()
    for _ in range(3):
        printer.print_ticket(TICKET)
    poller.join(5)
    assert errors == []
    wait_for(lambda: len(server.connections) == 8)


# -- status rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("online", "paper", "status"),
    [
        (None, None, PrinterStatus.UNKNOWN),
        (ONLINE, None, PrinterStatus.UNKNOWN),
        (OFFLINE_BIT, None, PrinterStatus.OFFLINE),
        (ONLINE, PAPER_OK, PrinterStatus.OK),
        (ONLINE, PAPER_NEAR_END, PrinterStatus.PAPER_NEAR_END),
        (ONLINE, PAPER_OUT, PrinterStatus.PAPER_OUT),
        (OFFLINE_BIT, PAPER_OUT, PrinterStatus.PAPER_OUT),
        (OFFLINE_BIT, PAPER_NEAR_END, PrinterStatus.OFFLINE),
    ],
)
def test_interpret_status(online: int | None, paper: int | None, status: PrinterStatus) -> None:
    assert interpret_status(online, paper) is status


def test_status_values_are_what_the_server_accepts() -> None:
    from lobby.protocol import PrinterStatusRequest

    accepted = typing.get_args(typing.get_type_hints(PrinterStatusRequest)["status"])
    assert {status.value for status in PrinterStatus} <= set(accepted)


def test_dummy_is_always_ok() -> None:
    assert TicketPrinter("dummy").status() is PrinterStatus.OK


# -- helpers -------------------------------------------------------------------------------------


def _modules(data: str, level: str) -> int:
    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}
    code = qrcode.QRCode(error_correction=levels[level], border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.modules_count


def assert_raster_is_qr_of(image: RasterImage, data: str) -> None:
    """Sample the printed modules and compare them with the QR symbol for ``data``.

    The symbol is rebuilt with the ``qrcode`` library at each error-correction level; the printed
    dots must match one of them module for module, which only happens if they encode ``data``.
    """
    box = image.black_box()
    assert box is not None, "the image is blank"
    left, top, right, bottom = box
    assert right - left == bottom - top, "a QR code is square"
    for level in (
        qrcode.constants.ERROR_CORRECT_L,
        qrcode.constants.ERROR_CORRECT_M,
        qrcode.constants.ERROR_CORRECT_Q,
        qrcode.constants.ERROR_CORRECT_H,
    ):
        code = qrcode.QRCode(error_correction=level, border=0)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        count = len(matrix)
        if (right - left) % count:
            continue
        module = (right - left) // count
        sampled = [
            [
                image.pixel(left + col * module + module // 2, top + row * module + module // 2)
                for col in range(count)
            ]
            for row in range(count)
        ]
        if sampled == matrix:
            return
    raise AssertionError("the printed image is not the QR code of the data")
