"""A ticket number drawn in block letters seven rows tall, readable from a wheelchair or a queue.

Textual's ``Digits`` has no letters, and ticket numbers start with a service prefix ("P-014"),
so this carries its own 5x7 font for A-Z, 0-9 and "-".
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

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


class BigNumber(Widget):
    """The ticket number in block letters where they fit, else in plain bold text: a number
    wrapped over two lines of block letters would be unreadable (a narrow screen with the QR
    code beside it), and the sentence above it names the number too."""

    DEFAULT_CSS = """
    BigNumber {
        width: 100%;
        height: auto;
        text-style: bold;
    }
    """

    number: reactive[str] = reactive("", layout=True)

    def __init__(self, number: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.number = number

    def show(self, number: str) -> None:
        self.number = number

    def lines(self, width: int) -> list[str]:
        """What is drawn in ``width`` columns."""
        if can_draw(self.number):
            blocks = block_lines(self.number)
            if max(map(len, blocks)) <= width:
                return blocks
        return [self.number]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Content:
        return Content("\n".join(self.lines(self.size.width)))
