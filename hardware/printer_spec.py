"""Printer specs: one short string that says where the ticket printer is.

A kiosk is configured with a single command-line value such as ``tcp://192.168.1.50`` or
``usb:0x04b8:0x0202``, so installers can switch printers without editing code, and a test or a
demo can use ``dummy`` or ``preview:DIR`` without any hardware. Parsing is strict and the error
lists every valid form, because a typo found at start-up beats a kiosk that silently never prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

PrinterKind = Literal["usb", "tcp", "serial", "file", "cups", "dummy", "preview"]

DEFAULT_PROFILE = "TM-T20II"
"""Epson TM-T20II: a common 80 mm kiosk printer; python-escpos knows its 576-dot paper width and
that it draws QR codes natively, and most ESC/POS printers of that class behave the same way."""

DEFAULT_TCP_PORT = 9100
"""The raw-printing port every networked ESC/POS printer listens on."""

DEFAULT_BAUDRATE = 9600
"""The factory setting of most serial receipt printers."""

VALID_FORMS = (
    "usb:VID:PID                  e.g. usb:0x04b8:0x0202 (USB vendor and product id, hex)",
    "tcp://HOST[:PORT]            e.g. tcp://192.168.1.50:9100 (port defaults to 9100)",
    "serial:DEVICE[?baudrate=N]   e.g. serial:/dev/ttyUSB0?baudrate=19200 (default 9600)",
    "file:PATH                    e.g. file:/dev/usb/lp0",
    "cups:QUEUE                   e.g. cups:kiosk-printer (a raw CUPS queue)",
    "dummy                        keeps the bytes in memory (tests)",
    "preview:DIR                  writes each ticket to DIR as .bin and .png (demos, no printer)",
)
"""Shown in every spec error, so the person fixing a config file sees the answer right there."""

_COMMON_OPTIONS = "Any form also takes ?profile=NAME (python-escpos printer profile, default {})."

_OPTIONS: dict[str, frozenset[str]] = {
    "usb": frozenset({"profile", "timeout", "in_ep", "out_ep"}),
    "tcp": frozenset({"profile", "timeout"}),
    "serial": frozenset({"profile", "timeout", "baudrate"}),
    "file": frozenset({"profile"}),
    "cups": frozenset({"profile"}),
    "dummy": frozenset({"profile"}),
    "preview": frozenset({"profile"}),
}
"""Which ``?key=value`` options each kind understands; anything else is a typo worth reporting."""

_USB_ID = re.compile(r"^(?:0x)?([0-9a-f]{1,4})$", re.IGNORECASE)


class PrinterSpecError(ValueError):
    """A printer spec that cannot be used; the message explains why and lists every valid form."""

    def __init__(self, spec: str, reason: str) -> None:
        """Keep the offending spec and the reason apart so callers can show either."""
        self.spec = spec
        self.reason = reason
        forms = "\n".join(f"  {form}" for form in VALID_FORMS)
        super().__init__(
            f"invalid printer spec {spec!r}: {reason}.\nValid forms:\n{forms}\n"
            + _COMMON_OPTIONS.format(DEFAULT_PROFILE)
        )


@dataclass(frozen=True, slots=True)
class PrinterSpec:
    """A parsed printer spec. Only the fields of its ``kind`` are set; the rest keep defaults."""

    kind: PrinterKind
    profile: str = DEFAULT_PROFILE
    vendor_id: int | None = None
    """usb: the USB vendor id."""
    product_id: int | None = None
    """usb: the USB product id."""
    in_ep: int | None = None
    """usb: input endpoint, for printers that do not use python-escpos's default 0x82."""
    out_ep: int | None = None
    """usb: output endpoint, for printers that do not use python-escpos's default 0x01."""
    host: str | None = None
    """tcp: host name or address (IPv6 without brackets)."""
    port: int = DEFAULT_TCP_PORT
    """tcp: the raw-printing port."""
    path: str | None = None
    """serial: the device; file: the file or device node; preview: the output directory."""
    baudrate: int = DEFAULT_BAUDRATE
    """serial: line speed; must match the printer's DIP switches or settings."""
    queue: str | None = None
    """cups: the CUPS queue name (set it up as a raw queue)."""
    timeout: float | None = None
    """usb/tcp/serial: seconds to wait for the printer; None lets the printer pick a default."""

    def __str__(self) -> str:
        """Give back a canonical spec, so logs and error messages show one spelling per printer."""
        if self.kind == "usb":
            base = f"usb:0x{self.vendor_id:04x}:0x{self.product_id:04x}"
        elif self.kind == "tcp":
            host = f"[{self.host}]" if self.host and ":" in self.host else self.host
            base = f"tcp://{host}:{self.port}"
        elif self.kind == "serial":
            base = f"serial:{self.path}"
        elif self.kind == "cups":
            base = f"cups:{self.queue}"
        elif self.kind == "dummy":
            base = "dummy"
        else:
            base = f"{self.kind}:{self.path}"
        options: list[str] = []
        if self.kind == "serial" and self.baudrate != DEFAULT_BAUDRATE:
            options.append(f"baudrate={self.baudrate}")
        if self.in_ep is not None:
            options.append(f"in_ep=0x{self.in_ep:02x}")
        if self.out_ep is not None:
            options.append(f"out_ep=0x{self.out_ep:02x}")
        if self.timeout is not None:
            options.append(f"timeout={self.timeout:g}")
        if self.profile != DEFAULT_PROFILE:
            options.append(f"profile={self.profile}")
        return base + (f"?{'&'.join(options)}" if options else "")


def parse_printer_spec(spec: str) -> PrinterSpec:
    """Parse a printer spec such as ``tcp://192.168.1.50`` (see ``VALID_FORMS``).

    Raises ``PrinterSpecError`` (a ``ValueError``) for anything it cannot use, including an
    unknown ``?profile=``, so a misconfigured kiosk fails at start-up rather than at the first
    visitor.
    """
    text = spec.strip()
    if not text:
        raise PrinterSpecError(spec, "it is empty")
    base, _, query = text.partition("?")
    scheme, sep, rest = base.partition(":")
    kind = scheme.lower()
    if kind == "dummy" and not sep:
        rest = ""
    elif not sep:
        raise PrinterSpecError(spec, f"unknown printer kind {scheme!r}")
    if kind not in _OPTIONS:
        raise PrinterSpecError(spec, f"unknown printer kind {scheme!r}")
    options = _parse_options(spec, kind, query)
    fields: dict[str, object] = {}
    if "profile" in options:
        fields["profile"] = _parse_profile(spec, options["profile"])
    if "timeout" in options:
        fields["timeout"] = _parse_number(spec, "timeout", options["timeout"], float)
    if kind == "usb":
        fields.update(_parse_usb(spec, rest, options))
    elif kind == "tcp":
        fields.update(_parse_tcp(spec, rest))
    elif kind == "serial":
        fields["path"] = _require(spec, rest, "the serial device is missing")
        if "baudrate" in options:
            fields["baudrate"] = _parse_number(spec, "baudrate", options["baudrate"], int)
    elif kind in ("file", "preview"):
        what = "the file path" if kind == "file" else "the preview directory"
        fields["path"] = _require(spec, rest, f"{what} is missing")
    elif kind == "cups":
        queue = _require(spec, rest, "the CUPS queue name is missing")
        if re.search(r"[\s/#]", queue):
            raise PrinterSpecError(spec, "a CUPS queue name has no spaces, '/' or '#'")
        fields["queue"] = queue
    elif rest:
        raise PrinterSpecError(spec, "'dummy' takes no address")
    return PrinterSpec(kind=kind, **fields)  # type: ignore[arg-type]


def _parse_options(spec: str, kind: str, query: str) -> dict[str, str]:
    """Read ``?key=value&...`` and reject keys this kind does not use (usually typos)."""
    if not query:
        return {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise PrinterSpecError(spec, f"cannot read the options {query!r}") from None
    options: dict[str, str] = {}
    for key, value in pairs:
        if key not in _OPTIONS[kind]:
            allowed = ", ".join(sorted(_OPTIONS[kind]))
            raise PrinterSpecError(spec, f"unknown option {key!r} for {kind} (allowed: {allowed})")
        if key in options:
            raise PrinterSpecError(spec, f"option {key!r} is given twice")
        if not value:
            raise PrinterSpecError(spec, f"option {key!r} has no value")
        options[key] = value
    return options


def _parse_profile(spec: str, name: str) -> str:
    """Accept only profiles python-escpos knows, since an unknown one fails only when printing."""
    from escpos.capabilities import CAPABILITIES  # imported late: it loads a large database

    profiles: dict[str, object] = CAPABILITIES["profiles"]
    if name in profiles:
        return name
    for known in profiles:  # forgive the case: "tm-t20ii" is clearly TM-T20II
        if known.lower() == name.lower():
            return known
    raise PrinterSpecError(
        spec, f"unknown printer profile {name!r} (known: {', '.join(sorted(profiles))})"
    )


def _parse_number(spec: str, key: str, value: str, kind: type[int] | type[float]) -> int | float:
    """Parse a positive number option; zero or negative timeouts and speeds make no sense."""
    try:
        number = kind(value)
    except ValueError:
        raise PrinterSpecError(spec, f"option {key!r} must be a number, not {value!r}") from None
    if not number > 0 or number != number or number == float("inf"):
        raise PrinterSpecError(spec, f"option {key!r} must be a positive number")
    return number


def _parse_usb(spec: str, rest: str, options: dict[str, str]) -> dict[str, object]:
    """Read ``VID:PID`` (hex, ``0x`` optional) and optional endpoint overrides."""
    parts = rest.split(":")
    if len(parts) != 2:
        raise PrinterSpecError(spec, "a USB printer is usb:VID:PID, e.g. usb:0x04b8:0x0202")
    ids = [_parse_hex(spec, part, "USB id", 0xFFFF) for part in parts]
    if 0 in ids:
        raise PrinterSpecError(spec, "USB vendor and product ids are never 0")
    fields: dict[str, object] = {"vendor_id": ids[0], "product_id": ids[1]}
    for key in ("in_ep", "out_ep"):
        if key in options:
            fields[key] = _parse_hex(spec, options[key], f"option {key!r}", 0xFF)
    return fields


def _parse_hex(spec: str, text: str, what: str, maximum: int) -> int:
    """Parse a hex number such as ``04b8`` or ``0x04b8`` no larger than ``maximum``."""
    match = _USB_ID.match(text.strip())
    value = int(match.group(1), 16) if match else -1
    if not 0 <= value <= maximum:
        raise PrinterSpecError(spec, f"{what} {text!r} is not a hex number up to 0x{maximum:x}")
    return value


def _parse_tcp(spec: str, rest: str) -> dict[str, object]:
    """Read ``//HOST[:PORT]``; IPv6 hosts go in brackets as in any URL."""
    if not rest.startswith("//"):
        raise PrinterSpecError(spec, "a network printer is tcp://HOST[:PORT]")
    url = urlsplit("tcp:" + rest)
    try:
        port = url.port
    except ValueError:
        raise PrinterSpecError(spec, "the port must be a number from 1 to 65535") from None
    if not url.hostname:
        raise PrinterSpecError(spec, "the printer's host name or address is missing")
    if url.path not in ("", "/") or url.username or url.password or url.fragment:
        raise PrinterSpecError(spec, "a network printer is tcp://HOST[:PORT] with nothing after")
    if port == 0:
        raise PrinterSpecError(spec, "the port must be a number from 1 to 65535")
    return {"host": url.hostname, "port": port if port is not None else DEFAULT_TCP_PORT}


def _require(spec: str, value: str, reason: str) -> str:
    """Return ``value`` or fail with ``reason`` when it is blank."""
    if not value.strip():
        raise PrinterSpecError(spec, reason)
    return value
