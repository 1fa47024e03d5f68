"""The ESC/POS reader, checked against byte sequences written from the Epson command reference.

None of these bytes come from python-escpos: the reader is the independent witness the printer
tests rely on, so it is tested on its own.
"""

from __future__ import annotations

import pytest

from hardware.escpos_reader import (
    Barcode,
    Cut,
    EscposReadError,
    Feed,
    QrCode,
    RasterImage,
    StatusQuery,
    TextLine,
    elements_of,
    read_escpos,
)

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"


def lines(data: bytes) -> list[TextLine]:
    return elements_of(read_escpos(data), TextLine)


def test_plain_lines_and_blank_lines() -> None:
    elements = read_escpos(b"one\n\ntwo\n")
    assert elements == [
        TextLine(lines(b"one\n")[0].runs),
        Feed(lines=1),
        TextLine(lines(b"two\n")[0].runs),
    ]
    assert [line.text for line in lines(b"one\n\ntwo")] == ["one", "two"]  # unterminated too


def test_print_mode_and_character_size() -> None:
    # ESC ! 0x38: bold + double height + double width; GS ! 0x77: 8x8; ESC E 0: bold off
    (big, huge, plain) = lines(
        ESC + b"!\x38A\n" + GS + b"!\x77B\n" + ESC + b"E\x00" + GS + b"!\x00C\n"
    )
    assert (big.bold, big.width, big.height) == (True, 2, 2)
    assert (huge.bold, huge.width, huge.height) == (True, 8, 8)
    assert (plain.bold, plain.width, plain.height) == (False, 1, 1)
    assert lines(ESC + b"M\x01small\n")[0].font == 1


def test_invalid_character_size_is_an_error() -> None:
    with pytest.raises(EscposReadError, match="GS !"):
        read_escpos(GS + b"!\x88X\n")


def test_alignment_counts_only_at_the_start_of_a_line() -> None:
    data = ESC + b"a\x01centred" + ESC + b"a\x02 still centred\n" + b"right\n"
    first, second = lines(data)
    assert (first.text, first.align) == ("centred still centred", "center")
    assert (second.text, second.align) == ("right", "right")


def test_style_changes_mid_line_make_runs() -> None:
    (line,) = lines(b"Wait: " + ESC + b"E\x01" + b"5 min\n")
    assert [(run.text, run.style.bold) for run in line.runs] == [("Wait: ", False), ("5 min", True)]
    assert line.bold is False


def test_code_pages_follow_esc_t_and_reset_with_esc_at() -> None:
    assert lines(b"\xa4\n")[0].text == "ñ"  # page 0 (CP437) by default
    assert lines(ESC + b"t\x02" + b"\xb5\n")[0].text == "Á"  # CP850
    assert lines(ESC + b"t\x10" + b"6\x9610 \x80\n")[0].text == "6–10 €"  # WPC1252
    assert lines(ESC + b"t\x11" + b"\x8f\n")[0].text == "П"  # CP866
    reset = ESC + b"t\x10" + b"\xe9\n" + ESC + b"@" + b"\xe9\n"
    assert [line.text for line in lines(reset)] == ["é", "Θ"]  # back to CP437 after ESC @
    assert lines(ESC + b"t\x1e" + b"\xe9\n")[0].text == "\ufffd"  # page without a codec


def test_a_printer_specific_code_page_table() -> None:
    data = ESC + b"t\x12\x8c\n"
    assert lines(data)[0].text == "î"  # Epson: page 18 is CP852
    (line,) = elements_of(read_escpos(data, {18: "cp862"}), TextLine)
    assert line.text == "\u05dc"  # a printer whose page 18 is Hebrew


def qr_function(fn: int, payload: bytes) -> bytes:
    body = b"1" + bytes([fn]) + payload
    return GS + b"(k" + bytes([len(body) % 256, len(body) // 256]) + body


def test_native_qr_code() -> None:
    data = (
        ESC
        + b"a\x01"
        + qr_function(65, b"2\x00")
        + qr_function(67, b"\x06")
        + qr_function(69, b"1")
        + qr_function(80, b"0" + "https://x.test/s/é?a=1&b=2".encode())
        + qr_function(81, b"0")
    )
    assert read_escpos(data) == [
        QrCode(
            "https://x.test/s/é?a=1&b=2",
            module_size=6,
            error_correction="M",
            model=2,
            align="center",
        )
    ]


def test_qr_print_without_data_is_an_error() -> None:
    with pytest.raises(EscposReadError, match="without stored data"):
        read_escpos(qr_function(81, b"0"))


def test_raster_image() -> None:
    # GS v 0, normal density, 2 bytes wide (16 dots), 2 rows
    data = ESC + b"a\x01" + GS + b"v0\x00\x02\x00\x02\x00" + b"\x80\x01\xff\x00"
    (image,) = read_escpos(data)
    assert isinstance(image, RasterImage)
    assert (image.width, image.height, image.align) == (16, 2, "center")
    assert image.pixel(0, 0) and image.pixel(15, 0) and not image.pixel(1, 0)
    assert image.pixel(7, 1) and not image.pixel(8, 1)
    assert image.black_box() == (0, 0, 16, 2)


def test_graphics_and_column_images() -> None:
    store = b"0p0\x01\x011" + b"\x08\x00\x01\x00" + b"\xf0"
    graphics = GS + b"(L" + bytes([len(store), 0]) + store + GS + b"(L\x02\x0002"
    (image,) = read_escpos(graphics)
    assert isinstance(image, RasterImage)
    assert [image.pixel(x, 0) for x in range(8)] == [True] * 4 + [False] * 4
    column = ESC + b"*\x00\x02\x00" + b"\x80\x01" + b"\n"
    (band,) = read_escpos(column)
    assert isinstance(band, RasterImage) and (band.width, band.height) == (2, 8)
    assert band.pixel(0, 0) and band.pixel(1, 7) and not band.pixel(1, 0)


@pytest.mark.parametrize(
    ("command", "cut"),
    [
        (GS + b"V\x00", Cut(partial=False)),
        (GS + b"V0", Cut(partial=False)),
        (GS + b"V\x01", Cut(partial=True)),
        (GS + b"VA\x10", Cut(partial=False, feed_dots=16)),
        (GS + b"VB\x00", Cut(partial=True)),
    ],
)
def test_cuts(command: bytes, cut: Cut) -> None:
    assert read_escpos(b"last" + command)[-1] == cut
    assert isinstance(read_escpos(b"last" + command)[0], TextLine)  # the line prints first


def test_feeds_merge_and_keep_their_spacing() -> None:
    data = b"\n" + ESC + b"d\x03" + ESC + b"3\x40\n" + ESC + b"J\x0a"
    assert read_escpos(data) == [Feed(lines=4), Feed(lines=1, dots=10, line_spacing=64)]
    assert read_escpos(b"text" + ESC + b"d\x02")[1:] == [Feed(lines=1)]  # the line used one


def test_status_queries_barcodes_and_harmless_commands() -> None:
    data = (
        DLE
        + b"\x04\x04"
        + ESC
        + b"p\x00\x19\xfa"
        + GS
        + b"|\x04"
        + GS
        + b"b\x01"
        + ESC
        + b"{\x00"
        + GS
        + b"B\x00"
        + ESC
        + b"-\x00"
        + b"\x1c."
        + ESC
        + b"c5\x00"
        + GS
        + b"k\x04CODE39\x00"
        + GS
        + b"kI\x04ABCD"
    )
    elements = read_escpos(data)
    assert elements[0] == StatusQuery(4)
    assert [b.data for b in elements_of(elements, Barcode)] == [b"CODE39", b"ABCD"]


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"ok\n" + ESC + b"\x99", 3),
        (b"ok\n" + GS + b"\x99", 3),
        (b"ok\n" + DLE + b"\x99", 3),
        (b"\x07", 0),
        (ESC + b"a\x07", 0),
    ],
)
def test_unknown_commands_are_errors_with_their_offset(data: bytes, offset: int) -> None:
    with pytest.raises(EscposReadError) as caught:
        read_escpos(data)
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    "data", [ESC, GS + b"!", GS + b"v0\x00\x02\x00\x02\x00\x80", GS + b"(k\x05\x001P"]
)
def test_a_truncated_stream_is_an_error(data: bytes) -> None:
    with pytest.raises(EscposReadError, match="stream ends"):
        read_escpos(data)
