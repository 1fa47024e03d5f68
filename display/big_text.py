"""Large block letters for the terminal board: ticket numbers readable across a room.

A small pixel font (5 pixels high) drawn with block characters, at two sizes: ``half`` packs
two pixel rows into one text row with half blocks (3 rows high), ``full`` draws each pixel as
two full-block columns (5 rows high, square pixels on a usual terminal font).
"""

from __future__ import annotations

from typing import Literal

from rich.style import Style
from rich.text import Text

Size = Literal["half", "full"]

GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "O": (".#.", "#.#", "#.#", "#.#", ".#."),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".#.", "#.#", "#.#", "##.", ".##"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    "-": ("...", "...", "###", "...", "..."),
    " ": (".", ".", ".", ".", "."),
    "→": ("..#..", "...#.", "#####", "...#.", "..#.."),
}
HEIGHT = {"half": 3, "full": 5}
HALF_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def drawable(text: str) -> bool:
    return all(ch in GLYPHS for ch in text.upper())


def width(text: str, size: Size) -> int:
    """Columns ``text`` takes at ``size`` (one blank pixel column between letters)."""
    if not text:
        return 0
    pixels = sum(len(GLYPHS[ch][0]) for ch in text.upper()) + len(text) - 1
    return pixels * (2 if size == "full" else 1)


def _pixel_rows(text: str) -> list[str]:
    rows = ["" for _ in range(5)]
    for i, ch in enumerate(text.upper()):
        glyph = GLYPHS[ch]
        for r in range(5):
            rows[r] += ("." if i else "") + glyph[r]
    return rows


def render(text: str, size: Size) -> list[str]:
    """The text as block-character lines (``HEIGHT[size]`` of them)."""
    rows = _pixel_rows(text)
    if size == "full":
        return ["".join("██" if px == "#" else "  " for px in row) for row in rows]
    rows.append("." * len(rows[0]))
    return [
        "".join(
            HALF_BLOCKS[(top == "#", bottom == "#")]
            for top, bottom in zip(rows[r], rows[r + 1], strict=True)
        )
        for r in range(0, 6, 2)
    ]


def styled(parts: list[tuple[str, Style]], size: Size, gap: int = 2) -> list[Text]:
    """Several differently coloured pieces side by side, as one block of Rich text lines."""
    lines = [Text() for _ in range(HEIGHT[size])]
    for index, (piece, style) in enumerate(parts):
        drawn = render(piece, size)
        for line, row in zip(lines, drawn, strict=True):
            if index:
                line.append(" " * gap)
            line.append(row, style)
    return lines
