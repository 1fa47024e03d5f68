"""A QR code drawn with half-block characters, for when the ticket could not be printed.

Each character cell holds two QR modules stacked (a terminal cell is about twice as tall as it
is wide), so the code comes out square and a phone can scan it straight off the kiosk screen.
The widget's colours must stay dark-on-light: most phone scanners reject inverted codes.
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from textual.widgets import Static

QUIET_ZONE = 2
"""Modules of white border. The standard asks for 4; on a lit screen 2 scans reliably and saves
space the number needs."""

_HALF_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True is dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_lines(data: str) -> list[str]:
    matrix = qr_matrix(data)
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    return [
        "".join(_HALF_BLOCKS[(top, bottom)] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(matrix[::2], matrix[1::2], strict=True)
    ]


def matrix_from_lines(lines: list[str]) -> list[list[bool]]:
    """Read the modules back from drawn lines (the inverse of ``qr_lines``, for checking)."""
    top = {char: pair[0] for pair, char in _HALF_BLOCKS.items()}
    bottom = {char: pair[1] for pair, char in _HALF_BLOCKS.items()}
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([top[char] for char in line])
        rows.append([bottom[char] for char in line])
    return rows


class QrBlock(Static):
    DEFAULT_CSS = """
    QrBlock {
        width: auto;
        height: auto;
        color: #000000;
        background: #ffffff;
    }
    """

    def __init__(self, data: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.data = data
        if data:
            self.show(data)

    def show(self, data: str) -> None:
        self.data = data
        self.update("\n".join(qr_lines(data)))
