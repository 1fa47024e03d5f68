"""A ticket number drawn in block letters seven rows tall, readable from a wheelchair or a queue.

Textual's ``Digits`` has no letters, and ticket numbers start with a service prefix ("P-014"),
so this carries its own 5x7 font for A-Z, 0-9 and "-".
"""

from __future__ import annotations

from textual.widgets import Static

GLYPH_ROWS = 7
PIXEL = "██"
GAP = "  "

_FONT_SOURCE = """
0 .###. #...# #...# #...# #...# #...# .###.
1 ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.
2 .###. #...# ....# ...#. ..#.. .#... #####
3 ##### ...#. ..#.. ...#. ....# #...# .###.
4 ...#. ..##. .#.#. #..#. ##### ...#. ...#.
5 ##### #.... ####. ....# ....# #...# .###.
6 ..##. .#... #.... ####. #...# #...# .###.
7 ##### ....# ...#. ..#.. .#... .#... .#...
8 .###. #...# #...# .###. #...# #...# .###.
9 .###. #...# #...# .#### ....# ...#. .##..
A .###. #...# #...# ##### #...# #...# #...#
B ####. #...# #...# ####. #...# #...# ####.
C .###. #...# #.... #.... #.... #...# .###.
D ####. #...# #...# #...# #...# #...# ####.
E ##### #.... #.... ####. #.... #.... #####
F ##### #.... #.... ####. #.... #.... #....
G .###. #...# #.... #.### #...# #...# .####
H #...# #...# #...# ##### #...# #...# #...#
I .###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.
J ..### ...#. ...#. ...#. ...#. #..#. .##..
K #...# #..#. #.#.. ##... #.#.. #..#. #...#
L #.... #.... #.... #.... #.... #.... #####
M #...# ##.## #.#.# #.#.# #...# #...# #...#
N #...# #...# ##..# #.#.# #..## #...# #...#
O .###. #...# #...# #...# #...# #...# .###.
P ####. #...# #...# ####. #.... #.... #....
Q .###. #...# #...# #...# #.#.# #..#. .##.#
R ####. #...# #...# ####. #.#.. #..#. #...#
S .#### #.... #.... .###. ....# ....# ####.
T ##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..
U #...# #...# #...# #...# #...# #...# .###.
V #...# #...# #...# #...# #...# .#.#. ..#..
W #...# #...# #...# #.#.# #.#.# #.#.# .#.#.
X #...# #...# .#.#. ..#.. .#.#. #...# #...#
Y #...# #...# .#.#. ..#.. ..#.. ..#.. ..#..
Z ##### ....# ...#. ..#.. .#... #.... #####
- ... ... ... ### ... ... ...
"""

FONT: dict[str, tuple[str, ...]] = {
    line.split()[0]: tuple(line.split()[1:]) for line in _FONT_SOURCE.strip().splitlines()
}


def can_draw(text: str) -> bool:
    return bool(text) and all(char in FONT for char in text.upper())


def block_lines(text: str) -> list[str]:
    """The rows of ``text`` in block letters; raises KeyError for a character without a glyph."""
    glyphs = [FONT[char] for char in text.upper()]
    rows = []
    for row in range(GLYPH_ROWS):
        cells = (
            "".join(PIXEL if dot == "#" else " " * len(PIXEL) for dot in glyph[row])
            for glyph in glyphs
        )
        rows.append(GAP.join(cells).rstrip())
    return rows


class BigNumber(Static):
    """The ticket number in block letters; plain bold text for a character the font lacks."""

    DEFAULT_CSS = """
    BigNumber {
        width: auto;
        height: auto;
        text-style: bold;
    }
    """

    def __init__(self, number: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.number = number
        self.show(number)

    def show(self, number: str) -> None:
        self.number = number
        self.update("\n".join(block_lines(number)) if can_draw(number) else number)
