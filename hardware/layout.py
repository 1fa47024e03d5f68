"""The ticket's layout, written as python-escpos calls in text mode.

Text mode (rather than one raster picture of the whole ticket) keeps a ticket to about a
kilobyte, prints at the printer's full speed and uses its own sharp fonts; only the QR code may
become an image, and only on printers that cannot draw QR codes themselves.
"""

from __future__ import annotations

import textwrap
import unicodedata
from functools import lru_cache

import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos

from hardware.ticket import TicketContent

NUMBER_MAX_MAGNIFICATION = 8
"""The largest character size ESC/POS allows (``GS !``); the number uses it when it fits."""

QR_TARGET_DOTS = 200
"""About 25 mm at 203 dpi: big enough for any phone camera at arm's length, small enough to
leave the number the most prominent thing on the ticket."""

QR_MODULE_RANGE = (3, 8)
"""Dots per QR module: under 3 thermal printers blur the modules; over 8 wastes paper."""

SIDE_MARGIN_COLUMNS = 2
"""Blank columns kept on each side of wrapped text so words never touch the paper's edge."""

_FALLBACK = {
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2026": "...",
    "\u2022": "*",
}
"""Plain stand-ins for typographic punctuation, used only when no code page of the printer has the
real character; otherwise python-escpos would print a '?' in the middle of a sentence."""


def lay_out_ticket(printer: Escpos, content: TicketContent) -> None:
    """Send one complete ticket, from reset to cut, to a python-escpos printer object.

    Works on any printer class (a real connection or ``Dummy``), so the bytes a test or preview
    reads are exactly the bytes a printer would receive.
    """
    profile = printer.profile
    columns = profile.get_columns("a")
    fonts = profile.profile_data.get("fonts", {})
    small_font = "b" if "1" in fonts else "a"
    small_columns = profile.get_columns(small_font)
    body = max(columns - 2 * SIDE_MARGIN_COLUMNS, 16)
    small_body = max(small_columns - 2 * SIDE_MARGIN_COLUMNS, 16)

    def write(
        text: str,
        *,
        width: int = 1,
        height: int = 1,
        bold: bool = False,
        font: str = "a",
        wrap_at: int = body,
    ) -> None:
        printer.set(custom_size=True, width=width, height=height, bold=bold, font=font)
        for line in _wrap(_printable(printer, text), max(1, wrap_at // width)):
            printer.textln(line)

    printer.hw("INIT")  # a known state: no style left over from whatever printed before
    printer.set(align="center")
    write(content.office_name, height=2, bold=True)
    printer.ln()

    size = number_magnification(content.number, columns)
    printer.set(smooth=True)  # Epson smooths glyph edges at 4x and larger
    write(content.number, width=size, height=size, bold=True, wrap_at=columns)
    printer.set(smooth=False)

    service = _printable(printer, content.service_name)
    write(service, width=2 if len(service) <= body // 2 else 1, height=2, bold=True)
    write(content.issued_text)
    printer.ln()
    write(content.position_text, height=2, bold=True)
    write(content.wait_text, height=2, bold=True)
    if content.wait_note:
        write(content.wait_note)
    if content.info_text and content.info_text.strip():
        printer.ln()
        write(content.info_text)

    _print_qr(printer, content.status_url)
    write(content.qr_caption)
    printer.ln()
    write(content.privacy_text, font=small_font, wrap_at=small_body)
    printer.set(font="a", bold=False, custom_size=True, width=1, height=1, align="left")
    printer.cut()


def number_magnification(number: str, columns: int) -> int:
    """The largest character size at which ``number`` still fits on one line of the paper."""
    length = max(len(number.strip()), 1)
    return max(1, min(NUMBER_MAX_MAGNIFICATION, columns // length))


def qr_module_size(data: str, max_dots: int) -> int:
    """Dots per module so the symbol is about ``QR_TARGET_DOTS`` wide and fits ``max_dots``."""
    modules = _qr_modules(data)
    low, high = QR_MODULE_RANGE
    size = max(low, min(high, QR_TARGET_DOTS // modules))
    while size > 1 and (modules + 2) * size > max_dots:  # +2: the image QR's 1-module border
        size -= 1
    return size


@lru_cache(maxsize=64)
def _qr_modules(data: str) -> int:
    """Modules per side of the QR symbol for ``data`` at error correction M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.modules_count


def _print_qr(printer: Escpos, url: str) -> None:
    """Draw the status-page QR: natively when the profile says the printer can, else as an image.

    Error correction M survives the scuffs and fading a thermal ticket gets in a pocket.
    """
    width_px = int(printer.profile.profile_data["media"]["width"]["pixels"])
    size = qr_module_size(url, width_px)
    if printer.profile.supports("qrCode"):
        printer.set(align="center")  # native QR ignores center=; it follows ESC a
        printer.ln()
        printer.qr(url, ec=QR_ECLEVEL_M, size=size, native=True)
        printer.ln()
    else:  # python-escpos adds a blank line above the image and two below
        printer.qr(url, ec=QR_ECLEVEL_M, size=size, native=False, center=True)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap each paragraph at ``width`` characters into lines of similar length.

    The printer itself would break words anywhere; and since every line is centred, a paragraph
    that keeps its line count but evens out the lengths reads better than one with a lonely last
    word.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, width)
        narrowest = width
        while narrowest > 1 and len(textwrap.wrap(paragraph, narrowest - 1)) == len(wrapped):
            narrowest -= 1
        lines.extend(textwrap.wrap(paragraph, narrowest) or [""])
    while lines and not lines[-1]:
        lines.pop()
    return lines or [""]


def _printable(printer: Escpos, text: str) -> str:
    """Drop control characters and swap typographic marks the printer has no glyph for.

    Control characters are removed because an ESC or GS inside a configured office name would
    be executed by the printer as a command.
    """
    encoder = printer.magic.encoder
    out: list[str] = []
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    for char in text:
        if char in "\n\r\u2028\u2029":
            out.append("\n")
        elif char == "\t" or unicodedata.category(char) == "Zs":
            out.append(" ")
        elif not char.isprintable():
            continue  # control and invisible format characters
        elif char in _FALLBACK and not _encodable(encoder, char):
            out.append(_FALLBACK[char])
        else:
            out.append(char)
    return "".join(out)


def _encodable(encoder: object, char: str) -> bool:
    """True when some code page of the printer's profile holds ``char``."""
    codepages = getattr(encoder, "codepages", {})
    return any(encoder.can_encode(name, char) for name in codepages)  # type: ignore[attr-defined]
