"""Read an ESC/POS byte stream back into what a printer would put on paper.

Written from the Epson ESC/POS command reference, independently of python-escpos, so tests check
the bytes a printer really receives instead of trusting the library that produced them, and so
the preview can draw a ticket from the very bytes a printer would get. It covers the commands a
receipt printer uses for text, sizes, code pages, QR codes, raster images and cuts; an unknown
command raises ``EscposReadError`` rather than being skipped, so nothing is silently misread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

Align = Literal["left", "center", "right"]

EPSON_CODE_PAGES: dict[int, str] = {
    0: "cp437",
    1: "katakana",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    13: "cp857",
    14: "cp737",
    15: "iso8859_7",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    32: "cp720",
    33: "cp775",
    34: "cp855",
    35: "cp861",
    36: "cp862",
    37: "cp864",
    38: "cp869",
    39: "iso8859_2",
    40: "iso8859_15",
    44: "cp1125",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
    53: "kz1048",
}
"""``ESC t n`` page numbers of Epson TM printers (TM-T20II and most current models) as Python
codec names. Pages without a Python codec are left out and decode to U+FFFD."""

QR_ERROR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}

DEFAULT_LINE_SPACING = 30
"""Dots fed per line when no ``ESC 3`` is given: Epson's default of about 1/6 inch."""


class EscposReadError(ValueError):
    """The bytes are not ESC/POS this reader understands; ``offset`` points at the problem."""

    def __init__(self, offset: int, message: str) -> None:
        """Keep the byte offset so a failing test shows where the stream went wrong."""
        self.offset = offset
        super().__init__(f"at byte {offset}: {message}")


@dataclass(frozen=True, slots=True)
class TextStyle:
    """Character attributes in force when a run of text was received."""

    bold: bool = False
    underline: int = 0
    width: int = 1
    """Horizontal magnification, 1 to 8."""
    height: int = 1
    """Vertical magnification, 1 to 8."""
    font: int = 0
    """0 for font A (12x24 dots on most printers), 1 for the smaller font B."""
    invert: bool = False
    upside_down: bool = False
    smooth: bool = False


@dataclass(frozen=True, slots=True)
class TextRun:
    """A piece of one printed line that shares one style."""

    text: str
    style: TextStyle


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line of text. ESC/POS lets the style change mid-line, hence the runs."""

    runs: tuple[TextRun, ...]
    align: Align = "left"
    line_spacing: int = DEFAULT_LINE_SPACING
    """Dots the line feeds when its characters are shorter than that (``ESC 3``)."""

    @property
    def text(self) -> str:
        """The line's characters, whatever their style."""
        return "".join(run.text for run in self.runs)

    @property
    def width(self) -> int:
        """The largest horizontal magnification on the line."""
        return max((run.style.width for run in self.runs), default=1)

    @property
    def height(self) -> int:
        """The largest vertical magnification on the line (it sets the line's height)."""
        return max((run.style.height for run in self.runs), default=1)

    @property
    def bold(self) -> bool:
        """True when every visible character of the line is bold."""
        visible = [run for run in self.runs if run.text.strip()]
        return bool(visible) and all(run.style.bold for run in visible)

    @property
    def font(self) -> int:
        """The font of the line's first visible run."""
        return next((run.style.font for run in self.runs if run.text.strip()), 0)


@dataclass(frozen=True, slots=True)
class Feed:
    """Paper fed without printing: blank lines (at the line spacing then in force) or dots."""

    lines: int = 0
    dots: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code the printer draws itself (``GS ( k``), with the data exactly as stored."""

    data: str
    module_size: int
    error_correction: str
    model: int
    align: Align


@dataclass(frozen=True, slots=True)
class RasterImage:
    """A 1-bit image (``GS v 0``, ``GS ( L`` or ``ESC *``); ``rows`` are packed MSB first."""

    width: int
    height: int
    rows: bytes
    align: Align
    scale_x: int = 1
    scale_y: int = 1

    @property
    def width_bytes(self) -> int:
        """Bytes per row of ``rows``."""
        return (self.width + 7) // 8

    def pixel(self, x: int, y: int) -> bool:
        """True where the printer burns a dot."""
        byte = self.rows[y * self.width_bytes + x // 8]
        return bool(byte & (0x80 >> (x % 8)))

    def black_box(self) -> tuple[int, int, int, int] | None:
        """(left, top, right, bottom) of the printed dots, exclusive; None for a blank image."""
        left, top, right, bottom = self.width, self.height, -1, -1
        for y in range(self.height):
            row = self.rows[y * self.width_bytes : (y + 1) * self.width_bytes]
            if not any(row):
                continue
            xs = [x for x in range(self.width) if self.pixel(x, y)]
            left, right = min(left, xs[0]), max(right, xs[-1])
            top, bottom = min(top, y), y
        if right < 0:
            return None
        return left, top, right + 1, bottom + 1


@dataclass(frozen=True, slots=True)
class Barcode:
    """A 1-D barcode the printer draws (``GS k``)."""

    symbology: int
    data: bytes
    align: Align


@dataclass(frozen=True, slots=True)
class Cut:
    """The cutter fires here; ``feed_dots`` is extra feed requested before cutting (``GS V B``)."""

    partial: bool
    feed_dots: int = 0


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """A real-time status request (``DLE EOT n``); prints nothing but the printer answers it."""

    kind: int


Element = TextLine | Feed | QrCode | RasterImage | Barcode | Cut | StatusQuery
E = TypeVar("E", TextLine, Feed, QrCode, RasterImage, Barcode, Cut, StatusQuery)


def elements_of(elements: Iterable[Element], kind: type[E]) -> list[E]:
    """The elements of one type, in print order (a convenience for tests and callers)."""
    return [element for element in elements if isinstance(element, kind)]


def read_escpos(data: bytes, code_pages: Mapping[int, str] | None = None) -> list[Element]:
    """Turn ESC/POS bytes into the elements a printer would produce, in order.

    ``code_pages`` maps ``ESC t n`` numbers to Python codec names; the default is Epson's table
    (``EPSON_CODE_PAGES``). Pass a printer profile's own table for printers that number pages
    differently. Raises ``EscposReadError`` for bytes it does not understand.
    """
    return _Reader(data, EPSON_CODE_PAGES if code_pages is None else code_pages).read()


@dataclass
class _State:
    """Printer modes that ``ESC @`` resets."""

    style: TextStyle = field(default_factory=TextStyle)
    align: Align = "left"
    code_page: int = 0
    line_spacing: int = DEFAULT_LINE_SPACING
    qr_model: int = 2
    qr_module: int = 3
    qr_error: str = "L"
    qr_data: bytes | None = None
    graphics: RasterImage | None = None


_ALIGN: dict[int, Align] = {
    0: "left",
    48: "left",
    1: "center",
    49: "center",
    2: "right",
    50: "right",
}


class _Reader:
    """A single pass over the stream; one instance per call of ``read_escpos``."""

    def __init__(self, data: bytes, code_pages: Mapping[int, str]) -> None:
        self.data = data
        self.code_pages = code_pages
        self.pos = 0
        self.state = _State()
        self.out: list[Element] = []
        self.runs: list[TextRun] = []
        self.line_align: Align | None = None

    # -- helpers -------------------------------------------------------------------------------

    def take(self, count: int, what: str) -> bytes:
        """Consume ``count`` bytes or fail: a truncated command means a truncated ticket."""
        if self.pos + count > len(self.data):
            raise EscposReadError(self.pos, f"stream ends inside {what}")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        """Consume one parameter byte."""
        return self.take(1, what)[0]

    def style(self, **changes: object) -> None:
        """Change the current character style."""
        self.state.style = replace(self.state.style, **changes)  # type: ignore[arg-type]

    def add_text(self, text: str) -> None:
        """Append characters to the line being built, merging runs of the same style."""
        if self.line_align is None:
            self.line_align = self.state.align  # Epson applies ESC a only at a line's start
        style = self.state.style
        if self.runs and self.runs[-1].style == style:
            self.runs[-1] = TextRun(self.runs[-1].text + text, style)
        else:
            self.runs.append(TextRun(text, style))

    def end_line(self, feed: bool) -> bool:
        """Print the buffered line, if any; with ``feed`` an empty buffer still feeds one line."""
        if self.runs:
            self.out.append(
                TextLine(tuple(self.runs), self.line_align or "left", self.state.line_spacing)
            )
            self.runs = []
            self.line_align = None
            return True
        if feed:
            self.feed(lines=1)
        return False

    def flush(self) -> None:
        """Print what is buffered before a command that needs the start of a line."""
        self.end_line(feed=False)

    def feed(self, lines: int = 0, dots: int = 0) -> None:
        """Record paper feed, merging consecutive feeds at the same spacing."""
        spacing = self.state.line_spacing
        last = self.out[-1] if self.out else None
        if isinstance(last, Feed) and last.line_spacing == spacing:
            self.out[-1] = Feed(last.lines + lines, last.dots + dots, spacing)
        else:
            self.out.append(Feed(lines, dots, spacing))

    def decode(self, value: int) -> str:
        """Decode one character byte with the code page selected by the last ``ESC t``."""
        if value < 0x80:
            return chr(value)
        codec = self.code_pages.get(self.state.code_page)
        if codec is None:
            return "\ufffd"
        if codec == "katakana":
            return chr(0xFF61 + value - 0xA1) if 0xA1 <= value <= 0xDF else "\ufffd"
        try:
            return bytes([value]).decode(codec)
        except (UnicodeDecodeError, LookupError):
            return "\ufffd"

    # -- main loop -----------------------------------------------------------------------------

    def read(self) -> list[Element]:
        """Walk the stream once; text bytes accumulate until a line ends."""
        data = self.data
        while self.pos < len(data):
            start = self.pos
            value = data[self.pos]
            self.pos += 1
            if value == 0x0A:  # LF
                self.end_line(feed=True)
            elif value == 0x0D:  # CR: ignored by printers with auto line feed off (the default)
                pass
            elif value == 0x09:  # HT
                self.add_text("\t")
            elif value == 0x1B:
                self.escape(start)
            elif value == 0x1D:
                self.group(start)
            elif value == 0x10:
                self.dle(start)
            elif value == 0x1C:
                self.fs(start)
            elif value >= 0x20 and value != 0x7F:
                end = self.pos
                while end < len(data) and data[end] >= 0x20 and data[end] != 0x7F:
                    end += 1
                self.add_text("".join(self.decode(b) for b in data[start:end]))
                self.pos = end
            else:
                raise EscposReadError(start, f"unexpected control byte 0x{value:02x}")
        self.flush()
        return self.out

    def escape(self, start: int) -> None:
        """``ESC x ...`` commands."""
        command = self.byte("ESC")
        st = self.state
        if command == 0x40:  # ESC @ initialize
            self.flush()
            self.state = _State()
        elif command == 0x21:  # ESC ! print mode
            n = self.byte("ESC !")
            self.style(
                font=n & 1,
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif command == 0x45:  # ESC E bold
            self.style(bold=bool(self.byte("ESC E") & 1))
        elif command == 0x47:  # ESC G double-strike: looks bold on paper
            self.style(bold=bool(self.byte("ESC G") & 1))
        elif command == 0x2D:  # ESC - underline
            self.style(underline=self.byte("ESC -") % 48)
        elif command == 0x4D:  # ESC M font
            self.style(font=self.byte("ESC M") % 48)
        elif command == 0x61:  # ESC a justification
            n = self.byte("ESC a")
            if n not in _ALIGN:
                raise EscposReadError(start, f"ESC a with invalid value {n}")
            st.align = _ALIGN[n]
        elif command == 0x74:  # ESC t code page
            st.code_page = self.byte("ESC t")
        elif command == 0x7B:  # ESC { upside-down
            self.style(upside_down=bool(self.byte("ESC {") & 1))
        elif command == 0x64:  # ESC d print and feed n lines
            n = self.byte("ESC d")
            printed = self.end_line(feed=False)
            if n - printed > 0:
                self.feed(lines=n - printed)
        elif command == 0x4A:  # ESC J print and feed n dots
            n = self.byte("ESC J")
            self.flush()
            self.feed(dots=n)
        elif command == 0x32:  # ESC 2 default line spacing
            st.line_spacing = DEFAULT_LINE_SPACING
        elif command == 0x33:  # ESC 3 line spacing in dots
            st.line_spacing = self.byte("ESC 3")
        elif command in (0x20, 0x52, 0x55, 0x72, 0x3D):
            self.byte("ESC parameter")  # spacing, charset, direction, color, peripheral: no ink
        elif command == 0x63:  # ESC c 3/4/5 n: sensors and panel buttons
            self.take(2, "ESC c")
        elif command == 0x70:  # ESC p m t1 t2: cash drawer pulse
            self.take(3, "ESC p")
        elif command == 0x2A:  # ESC * m nL nH d...: one band of a column-format image
            self.column_image()
        else:
            raise EscposReadError(start, f"unknown command ESC 0x{command:02x}")

    def group(self, start: int) -> None:
        """``GS x ...`` commands."""
        command = self.byte("GS")
        if command == 0x21:  # GS ! character size
            n = self.byte("GS !")
            width, height = (n >> 4) + 1, (n & 0x0F) + 1
            if width > 8 or height > 8:
                raise EscposReadError(start, f"GS ! with invalid size 0x{n:02x}")
            self.style(width=width, height=height)
        elif command == 0x42:  # GS B reverse (white on black)
            self.style(invert=bool(self.byte("GS B") & 1))
        elif command == 0x62:  # GS b smoothing
            self.style(smooth=bool(self.byte("GS b") & 1))
        elif command in (0x7C, 0x48, 0x66, 0x68, 0x77):
            self.byte("GS parameter")  # density, barcode HRI position, font, height, width
        elif command in (0x4C, 0x57):  # GS L left margin, GS W print area width
            self.take(2, "GS L/W")
        elif command == 0x56:  # GS V cut
            self.cut(start)
        elif command == 0x28:  # GS ( x pL pH ...
            self.extended(start)
        elif command == 0x76:  # GS v 0 raster image
            self.raster(start)
        elif command == 0x6B:  # GS k barcode
            self.barcode(start)
        else:
            raise EscposReadError(start, f"unknown command GS 0x{command:02x}")

    def dle(self, start: int) -> None:
        """``DLE x`` real-time commands."""
        command = self.byte("DLE")
        if command == 0x04:  # DLE EOT n: transmit real-time status
            self.out.append(StatusQuery(self.byte("DLE EOT")))
        elif command == 0x05:  # DLE ENQ n: real-time request
            self.byte("DLE ENQ")
        elif command == 0x14:  # DLE DC4 fn ...: real-time pulse / clear buffer
            self.take(3, "DLE DC4")
        else:
            raise EscposReadError(start, f"unknown command DLE 0x{command:02x}")

    def fs(self, start: int) -> None:
        """``FS x`` commands (only the kanji mode switches, which carry no ink)."""
        command = self.byte("FS")
        if command not in (0x2E, 0x26):  # FS . cancel kanji mode, FS & select kanji mode
            raise EscposReadError(start, f"unknown command FS 0x{command:02x}")

    # -- commands with payloads ----------------------------------------------------------------

    def cut(self, start: int) -> None:
        """``GS V m [n]``: functions A (cut now) and B/C/D (feed, then cut)."""
        self.flush()
        m = self.byte("GS V")
        if m in (0, 48, 1, 49):
            self.out.append(Cut(partial=m in (1, 49)))
        elif m in (65, 66, 97, 98, 103, 104):
            n = self.byte("GS V")
            self.out.append(Cut(partial=m in (66, 98, 104), feed_dots=n))
        else:
            raise EscposReadError(start, f"GS V with invalid mode {m}")

    def extended(self, start: int) -> None:
        """``GS ( k`` (2-D codes) and ``GS ( L`` (graphics); other functions are skipped whole."""
        kind = self.byte("GS (")
        low, high = self.take(2, "GS ( length")
        body = self.take(low + 256 * high, "GS ( data")
        if kind == 0x6B:
            self.two_d_code(start, body)
        elif kind == 0x4C:
            self.graphics(start, body)

    def two_d_code(self, start: int, body: bytes) -> None:
        """``GS ( k``: the QR functions 165/167/169/180/181; other symbologies are ignored."""
        if len(body) < 2:
            raise EscposReadError(start, "GS ( k too short")
        cn, fn, params = body[0], body[1], body[2:]
        if cn != 49:  # not QR (PDF417 and others carry no text we check)
            return
        st = self.state
        if fn == 65:  # model
            if not params or params[0] not in (49, 50, 51):
                raise EscposReadError(start, "QR model must be 1, 2 or micro")
            st.qr_model = params[0] - 48
        elif fn == 67:  # module size
            if not params or not 1 <= params[0] <= 16:
                raise EscposReadError(start, "QR module size must be 1-16")
            st.qr_module = params[0]
        elif fn == 69:  # error correction
            if not params or params[0] not in QR_ERROR_LEVELS:
                raise EscposReadError(start, "QR error correction must be 48-51")
            st.qr_error = QR_ERROR_LEVELS[params[0]]
        elif fn == 80:  # store data; first parameter byte is m = 48
            st.qr_data = params[1:]
        elif fn == 81:  # print the stored symbol
            if st.qr_data is None:
                raise EscposReadError(start, "QR print without stored data")
            self.flush()
            try:
                text = st.qr_data.decode("utf-8")
            except UnicodeDecodeError:
                raise EscposReadError(start, "QR data is not UTF-8") from None
            self.out.append(QrCode(text, st.qr_module, st.qr_error, st.qr_model, st.align))
        elif fn != 82:  # 82 asks for the symbol size: no ink
            raise EscposReadError(start, f"unknown QR function {fn}")

    def graphics(self, start: int, body: bytes) -> None:
        """``GS ( L``: store a raster graphic (fn 112) and print it (fn 50)."""
        if len(body) < 2:
            raise EscposReadError(start, "GS ( L too short")
        fn = body[1]
        if fn == 112 and len(body) >= 10:  # m fn a bx by c xL xH yL yH d...
            scale_x, scale_y = body[3], body[4]
            width = body[6] + 256 * body[7]
            height = body[8] + 256 * body[9]
            rows = body[10:]
            if len(rows) != (width + 7) // 8 * height:
                raise EscposReadError(start, "GS ( L image data has the wrong length")
            self.state.graphics = RasterImage(
                width, height, rows, self.state.align, scale_x, scale_y
            )
        elif fn == 50:
            if self.state.graphics is None:
                raise EscposReadError(start, "GS ( L print without a stored graphic")
            self.flush()
            self.out.append(replace(self.state.graphics, align=self.state.align))
        # other functions (density, tone) carry no picture

    def raster(self, start: int) -> None:
        """``GS v 0 m xL xH yL yH d...``: print a raster bit image."""
        if self.byte("GS v") != 0x30:
            raise EscposReadError(start, "GS v must be followed by '0'")
        m = self.byte("GS v 0")
        x_low, x_high, y_low, y_high = self.take(4, "GS v 0 size")
        width_bytes = x_low + 256 * x_high
        height = y_low + 256 * y_high
        rows = self.take(width_bytes * height, "GS v 0 image")
        self.flush()
        self.out.append(
            RasterImage(
                width_bytes * 8,
                height,
                rows,
                self.state.align,
                scale_x=2 if m % 48 in (1, 3) else 1,
                scale_y=2 if m % 48 in (2, 3) else 1,
            )
        )

    def column_image(self) -> None:
        """``ESC * m nL nH d...``: an 8- or 24-dot band stored column by column."""
        m = self.byte("ESC *")
        low, high = self.take(2, "ESC * size")
        width = low + 256 * high
        band = 24 if m in (32, 33) else 8
        columns = self.take(width * band // 8, "ESC * image")
        self.flush()
        width_bytes = (width + 7) // 8
        rows = bytearray(width_bytes * band)
        for x in range(width):
            for y in range(band):
                byte = columns[x * (band // 8) + y // 8]
                if byte & (0x80 >> (y % 8)):
                    rows[y * width_bytes + x // 8] |= 0x80 >> (x % 8)
        self.out.append(RasterImage(width, band, bytes(rows), self.state.align))
        # the LF that ends the band moves the paper by the band itself, not by a text line
        if self.pos < len(self.data) and self.data[self.pos] == 0x0A:
            self.pos += 1

    def barcode(self, start: int) -> None:
        """``GS k m``: NUL-terminated data (m 0-6) or length-prefixed data (m 65+)."""
        m = self.byte("GS k")
        if m <= 6:
            end = self.data.find(b"\x00", self.pos)
            if end < 0:
                raise EscposReadError(start, "GS k data is not NUL-terminated")
            payload = self.data[self.pos : end]
            self.pos = end + 1
        else:
            payload = self.take(self.byte("GS k length"), "GS k data")
        self.flush()
        self.out.append(Barcode(m, payload, self.state.align))


def iter_text(elements: Iterable[Element]) -> Iterator[str]:
    """The text of every printed line, in order (handy for ``in`` checks in tests)."""
    for element in elements:
        if isinstance(element, TextLine):
            yield element.text
