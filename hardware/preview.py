"""Preview tickets without a printer: the raw bytes plus a picture of the paper.

The ``preview:DIR`` printer spec lets a demo, a developer or a kiosk waiting for its printer run
the whole check-in flow. The picture is drawn from the ESC/POS bytes by ``escpos_reader``, not
from the ticket's fields, so what it shows is what a printer would print, down to code-page
mistakes; the ``.bin`` file next to it can be sent to a real printer later
(``cat ticket.bin > /dev/usb/lp0``) or re-rendered with ``python -m hardware.preview FILE.bin``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hardware.escpos_reader import (
    Barcode,
    Cut,
    Element,
    Feed,
    QrCode,
    RasterImage,
    StatusQuery,
    TextLine,
    TextRun,
    TextStyle,
    read_escpos,
)

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/truetype/freefont"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
"""Where monospaced TrueType fonts usually live (Debian's fonts-dejavu-core first)."""

FONT_FILES = {
    False: (
        "DejaVuSansMono.ttf",
        "LiberationMono-Regular.ttf",
        "NotoSansMono-Regular.ttf",
        "FreeMono.ttf",
        "consola.ttf",
    ),
    True: (
        "DejaVuSansMono-Bold.ttf",
        "LiberationMono-Bold.ttf",
        "NotoSansMono-Bold.ttf",
        "FreeMonoBold.ttf",
        "consolab.ttf",
    ),
}
"""Monospaced fonts keep the picture on the printer's character grid; the first found wins.
Without any of them Pillow's built-in font is used, which lacks accented letters."""

INK = 0
PAPER = 255
EDGE = 200
"""Grey of the paper's outline, so a white ticket stands out on a white page."""

_QR_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


@dataclass(frozen=True, slots=True)
class Paper:
    """Geometry of the printer being imitated, in printer dots (one dot = one pixel).

    The defaults are an 80 mm roll at 203 dpi (Epson TM-T20II): 576 printable dots, font A with
    48 columns of 12x24-dot cells, font B with 64 columns of 9x17-dot cells.
    """

    printable_width: int = 576
    columns: int = 48
    small_columns: int = 64
    side_margin: int = 32
    """Unprintable paper on each side: (80 mm - 72 mm) / 2 at 203 dpi."""
    cutter_gap: int = 96
    """Paper between the print head and the cutter (about 12 mm). At the cut it stays in the
    printer and becomes the top margin of the next ticket, so the picture moves it there."""

    @property
    def width(self) -> int:
        """Width of the whole paper roll in pixels."""
        return self.printable_width + 2 * self.side_margin

    def cell(self, font: int) -> tuple[int, int]:
        """(width, height) in dots of one unmagnified character of font 0 (A) or 1 (B)."""
        if font == 1:
            width = max(self.printable_width // self.small_columns, 4)
            return width, round(width * 17 / 9)
        width = max(self.printable_width // self.columns, 4)
        return width, width * 2


@dataclass(frozen=True, slots=True)
class PreviewFiles:
    """Where one previewed ticket was written."""

    bin_path: Path
    png_path: Path


def write_preview(
    directory: str | Path,
    number: str,
    data: bytes,
    *,
    paper: Paper | None = None,
    code_pages: Mapping[int, str] | None = None,
    when: datetime | None = None,
) -> PreviewFiles:
    """Write ``DIR/<number>-<timestamp>.bin`` and a matching ``.png`` of the ticket's bytes.

    Creates ``directory`` if needed and never overwrites an earlier ticket, so a day of demo
    check-ins stays reviewable. Raises ``OSError`` when the directory cannot be written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    image = render_ticket(data, paper=paper, code_pages=code_pages)
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    stem = f"{_safe_name(number)}-{stamp}"
    for attempt in range(1000):
        name = stem if attempt == 0 else f"{stem}-{attempt}"
        bin_path = folder / f"{name}.bin"
        try:
            with bin_path.open("xb") as handle:
                handle.write(data)
        except FileExistsError:
            continue
        png_path = folder / f"{name}.png"
        image.save(png_path, format="PNG", optimize=True)
        return PreviewFiles(bin_path, png_path)
    raise FileExistsError(f"too many previews named {stem} in {folder}")


def render_ticket(
    data: bytes,
    *,
    paper: Paper | None = None,
    code_pages: Mapping[int, str] | None = None,
) -> Image.Image:
    """Draw ESC/POS bytes as the printed paper (grayscale, one pixel per printer dot)."""
    return render_elements(read_escpos(data, code_pages), paper=paper)


def render_elements(elements: Sequence[Element], *, paper: Paper | None = None) -> Image.Image:
    """Draw elements read by ``escpos_reader`` onto a strip of paper ending in a cut line."""
    paper = paper or Paper()
    canvas = _Canvas(paper)
    for element in elements:
        if isinstance(element, Cut):
            canvas.cut(element)
            break  # anything after the cut belongs to the next ticket
        canvas.draw(element)
    else:
        canvas.cut(None)
    return canvas.finish()


class _Canvas:
    """A growing strip of paper; elements are drawn top to bottom as the printer would."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.image = Image.new("L", (paper.width, 4096), PAPER)
        self.y = paper.cutter_gap
        self.last_ink = self.y
        self.cut_at: int | None = None

    def ensure(self, height: int) -> None:
        """Grow the canvas so ``height`` more pixels fit below ``self.y``."""
        needed = self.y + height + self.paper.cutter_gap + 64
        if needed > self.image.height:
            bigger = Image.new("L", (self.paper.width, max(needed, self.image.height * 2)), PAPER)
            bigger.paste(self.image, (0, 0))
            self.image = bigger

    def x_for(self, width: int, align: str) -> int:
        """Left edge of something ``width`` dots wide under ESC/POS justification."""
        free = self.paper.printable_width - width
        offset = {"left": 0, "center": free // 2, "right": free}.get(align, 0)
        return self.paper.side_margin + max(offset, 0)

    def draw(self, element: Element) -> None:
        """Draw one element and move down by the paper it used."""
        if isinstance(element, TextLine):
            self.text_line(element)
        elif isinstance(element, Feed):
            self.y += element.lines * element.line_spacing + element.dots
            self.ensure(0)
        elif isinstance(element, QrCode):
            self.qr(element)
        elif isinstance(element, RasterImage):
            self.raster(element)
        elif isinstance(element, Barcode):
            self.text_line(
                TextLine(
                    (TextRun(f"[barcode {element.data.decode('latin-1')}]", TextStyle()),),
                    element.align,
                )
            )
        elif isinstance(element, StatusQuery):
            pass

    def text_line(self, line: TextLine) -> None:
        """Draw one line; runs of different sizes share a baseline at the bottom, as on paper."""
        sizes = [self._run_size(run) for run in line.runs]
        tallest = max(height for _, height in sizes)
        advance = max(tallest, line.line_spacing)
        self.ensure(advance)
        x = self.x_for(sum(width for width, _ in sizes), line.align)
        for run, (width, height) in zip(line.runs, sizes, strict=True):
            self._draw_run(run, x, self.y + tallest - height, width, height)
            x += width
        self.last_ink = self.y + tallest
        self.y += advance

    def _run_size(self, run: TextRun) -> tuple[int, int]:
        """Pixel size of a run: character cells times the magnification."""
        cell_w, cell_h = self.paper.cell(run.style.font)
        return cell_w * run.style.width * len(run.text), cell_h * run.style.height

    def _draw_run(self, run: TextRun, x: int, y: int, width: int, height: int) -> None:
        """Render a run's glyphs centred in their cells, stretched for unequal magnifications."""
        style = run.style
        if width == 0:
            return
        cell_w, cell_h = self.paper.cell(style.font)
        scale = style.height  # draw at the vertical size, then stretch to the horizontal one
        glyph_w, glyph_h = cell_w * scale, cell_h * scale
        mask = Image.new("L", (glyph_w * len(run.text), glyph_h), 0)
        pen = ImageDraw.Draw(mask)
        font, stroke = _font(style.bold, cell_w, cell_h, scale)
        ascent, descent = font.getmetrics()
        baseline = (glyph_h - (ascent + descent)) // 2 + ascent
        for index, char in enumerate(run.text):
            if char.isspace():
                continue
            pen.text(
                (index * glyph_w + glyph_w // 2, baseline),
                char,
                fill=255,
                font=font,
                anchor="ms",
                stroke_width=stroke,
                stroke_fill=255,
            )
        if mask.size != (width, height):
            mask = mask.resize((width, height), Image.Resampling.LANCZOS)
        if style.upside_down:
            mask = mask.rotate(180)
        if style.invert:
            self.image.paste(INK, (x, y, x + width, y + height))
            self.image.paste(PAPER, (x, y), mask)
        else:
            self.image.paste(INK, (x, y), mask)
        if style.underline:
            thickness = style.underline * max(1, height // 24)
            self.image.paste(INK, (x, y + height - thickness, x + width, y + height))

    def qr(self, code: QrCode) -> None:
        """Draw a printer-native QR code from its payload, as the printer would."""
        maker = qrcode.QRCode(
            error_correction=_QR_LEVELS.get(code.error_correction, _QR_LEVELS["M"]),
            box_size=1,
            border=0,
        )
        maker.add_data(code.data)
        maker.make(fit=True)
        matrix = maker.get_matrix()
        size = len(matrix) * code.module_size
        self.ensure(size)
        x0 = self.x_for(size, code.align)
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    left = x0 + col * code.module_size
                    top = self.y + row * code.module_size
                    self.image.paste(
                        INK, (left, top, left + code.module_size, top + code.module_size)
                    )
        self.y += size
        self.last_ink = self.y

    def raster(self, picture: RasterImage) -> None:
        """Draw a bit image dot for dot (doubled where the command asked for double density)."""
        bits = Image.frombytes("1", (picture.width_bytes * 8, picture.height), picture.rows)
        bits = bits.crop((0, 0, picture.width, picture.height))
        if picture.scale_x != 1 or picture.scale_y != 1:
            bits = bits.resize(
                (picture.width * picture.scale_x, picture.height * picture.scale_y),
                Image.Resampling.NEAREST,
            )
        self.ensure(bits.height)
        x0 = self.x_for(bits.width, picture.align)
        self.image.paste(INK, (x0, self.y), bits.convert("L"))
        self.y += bits.height
        self.last_ink = self.y

    def cut(self, cut: Cut | None) -> None:
        """End the ticket where the cutter would cut it."""
        if cut is not None:
            self.y += cut.feed_dots
        end = max(self.y - self.paper.cutter_gap, self.last_ink + 24)
        self.cut_at = end

    def finish(self) -> Image.Image:
        """Crop to the ticket, outline the paper and draw the dashed cut line."""
        end = self.cut_at if self.cut_at is not None else self.y
        image = self.image.crop((0, 0, self.paper.width, end + 1))
        pen = ImageDraw.Draw(image)
        right = image.width - 1
        pen.line([(0, end), (0, 0), (right, 0), (right, end)], fill=EDGE, width=1)
        dash, gap = 12, 8
        for x in range(0, image.width, dash + gap):
            pen.line([(x, end), (min(x + dash, right), end)], fill=120, width=1)
        return image


@lru_cache(maxsize=64)
def _font(bold: bool, cell_w: int, cell_h: int, scale: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """A font sized so one character fills one printer cell at ``scale``, and a stroke width.

    The stroke thickens a regular font when no bold face is installed, so bold still shows.
    """
    path = _find_font(FONT_FILES[bold])
    stroke = 0
    if path is None and bold:
        path = _find_font(FONT_FILES[False])
        stroke = max(1, scale // 2)
    if path is None:
        font = ImageFont.load_default(size=max(int(cell_h * 0.8 * scale), 6))
        return font, max(1, scale // 2) if bold else 0  # type: ignore[return-value]
    probe = ImageFont.truetype(str(path), 100)
    advance = probe.getlength("M") / 100
    ascent, descent = probe.getmetrics()
    size = min(cell_w / advance, cell_h / ((ascent + descent) / 100)) * scale
    return ImageFont.truetype(str(path), max(int(size), 6)), stroke


@lru_cache(maxsize=8)
def _find_font(names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` found in ``FONT_DIRS``."""
    for name in names:
        for folder in FONT_DIRS:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def _safe_name(number: str) -> str:
    """A ticket number usable in a file name on any system."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", number.strip()).strip("_")
    return cleaned or "ticket"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hardware.preview TICKET.bin [OUT.png]``: picture saved ticket bytes."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        print("usage: python -m hardware.preview TICKET.bin [OUT.png]", file=sys.stderr)
        return 2
    source = Path(args[0])
    target = Path(args[1]) if len(args) == 2 else source.with_suffix(".png")
    render_ticket(source.read_bytes()).save(target, format="PNG", optimize=True)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
