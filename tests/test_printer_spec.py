"""Printer specs: every documented form parses, and every mistake explains the valid forms."""

from __future__ import annotations

import pytest

from hardware import PrinterSpecError, parse_printer_spec
from hardware.printer_spec import DEFAULT_PROFILE, VALID_FORMS, PrinterSpec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("usb:0x04b8:0x0202", PrinterSpec("usb", vendor_id=0x04B8, product_id=0x0202)),
        ("usb:04b8:0202", PrinterSpec("usb", vendor_id=0x04B8, product_id=0x0202)),
        ("USB:0X04B8:0X0E15", PrinterSpec("usb", vendor_id=0x04B8, product_id=0x0E15)),
        (
            "usb:0416:5011?in_ep=0x81&out_ep=0x03",
            PrinterSpec("usb", vendor_id=0x0416, product_id=0x5011, in_ep=0x81, out_ep=0x03),
        ),
        ("tcp://192.168.1.50:9100", PrinterSpec("tcp", host="192.168.1.50", port=9100)),
        ("tcp://192.168.1.50", PrinterSpec("tcp", host="192.168.1.50", port=9100)),
        ("tcp://printer.lan:4242/", PrinterSpec("tcp", host="printer.lan", port=4242)),
        ("tcp://[fe80::1]:9100", PrinterSpec("tcp", host="fe80::1", port=9100)),
        ("tcp://10.0.0.9?timeout=2.5", PrinterSpec("tcp", host="10.0.0.9", timeout=2.5)),
        ("serial:/dev/ttyUSB0", PrinterSpec("serial", path="/dev/ttyUSB0")),
        (
            "serial:/dev/ttyUSB0?baudrate=19200",
            PrinterSpec("serial", path="/dev/ttyUSB0", baudrate=19200),
        ),
        ("serial:COM3?baudrate=115200", PrinterSpec("serial", path="COM3", baudrate=115200)),
        ("file:/dev/usb/lp0", PrinterSpec("file", path="/dev/usb/lp0")),
        ("cups:kiosk-printer", PrinterSpec("cups", queue="kiosk-printer")),
        ("dummy", PrinterSpec("dummy")),
        (" dummy ", PrinterSpec("dummy")),
        ("preview:var/tickets", PrinterSpec("preview", path="var/tickets")),
        (
            "preview:/tmp/t?profile=POS-5890",
            PrinterSpec("preview", path="/tmp/t", profile="POS-5890"),
        ),
        ("dummy?profile=tm-t88v", PrinterSpec("dummy", profile="TM-T88V")),
    ],
)
def test_every_documented_form_parses(spec: str, expected: PrinterSpec) -> None:
    assert parse_printer_spec(spec) == expected


def test_the_default_profile_draws_qr_codes_and_knows_its_paper() -> None:
    from escpos.capabilities import CAPABILITIES

    profile = CAPABILITIES["profiles"][DEFAULT_PROFILE]
    assert profile["features"]["qrCode"] is True
    assert profile["media"]["width"]["pixels"] == 576


@pytest.mark.parametrize(
    "spec",
    [
        "usb:0x04b8:0x0202?profile=POS-5890&timeout=3",
        "tcp://192.168.1.50:4242",
        "tcp://[fe80::1]",
        "serial:/dev/ttyS0?baudrate=19200",
        "file:/dev/usb/lp0",
        "cups:front-desk",
        "dummy",
        "preview:var/tickets",
    ],
)
def test_the_canonical_spelling_parses_back_to_the_same_spec(spec: str) -> None:
    parsed = parse_printer_spec(spec)
    assert parse_printer_spec(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "empty"),
        ("lpt1", "unknown printer kind"),
        ("bluetooth:AA:BB", "unknown printer kind"),
        ("usb:04b8", "usb:VID:PID"),
        ("usb:04b8:0202:1", "usb:VID:PID"),
        ("usb:zz:0202", "not a hex number"),
        ("usb:0x10000:0202", "not a hex number"),
        ("usb:0:0", "never 0"),
        ("usb:04b8:0202?out_ep=0x100", "not a hex number"),
        ("tcp:192.168.1.50", "tcp://HOST[:PORT]"),
        ("tcp://", "host"),
        ("tcp://printer:99999", "port"),
        ("tcp://printer:0", "port"),
        ("tcp://printer:ipp", "port"),
        ("tcp://printer/queue", "nothing after"),
        ("tcp://printer?baudrate=9600", "unknown option 'baudrate'"),
        ("serial:", "serial device is missing"),
        ("serial:/dev/ttyUSB0?baudrate=fast", "must be a number"),
        ("serial:/dev/ttyUSB0?baudrate=-9600", "positive"),
        ("tcp://printer?timeout=0", "positive"),
        ("tcp://printer?timeout=nan", "positive"),
        ("file:", "file path is missing"),
        ("cups:", "queue name is missing"),
        ("cups:front desk", "no spaces"),
        ("dummy:x", "takes no address"),
        ("preview:", "preview directory is missing"),
        ("dummy?profile=NoSuchPrinter", "unknown printer profile"),
        ("dummy?profile=", "has no value"),
        ("dummy?profile=TM-T20II&profile=TM-T88V", "given twice"),
        ("dummy?colour=red", "unknown option 'colour'"),
        ("dummy?profile", "cannot read the options"),
    ],
)
def test_a_bad_spec_says_why_and_lists_every_valid_form(spec: str, reason: str) -> None:
    with pytest.raises(PrinterSpecError) as caught:
        parse_printer_spec(spec)
    message = str(caught.value)
    assert reason in message
    for form in VALID_FORMS:
        assert form in message
    assert "?profile=NAME" in message
    assert isinstance(caught.value, ValueError)  # config loaders catch ValueError
    assert caught.value.spec == spec


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(PrinterSpecError, match="TM-T20II") as caught:
        parse_printer_spec("tcp://printer?profile=TM-T1000")
    assert "POS-5890" in caught.value.reason
