"""Print tickets and read printer status through python-escpos.

Everything here blocks: opening a USB device, connecting to a network printer and waiting for a
status reply all take real time, and a printer that does not answer takes a full timeout. Call
``print_ticket`` and ``status`` from a worker thread (Textual ``@work(thread=True)`` or
``await asyncio.to_thread(printer.print_ticket, content)``), never on the event loop.

Each ticket opens the connection, prints and closes again, because many network printers accept
one TCP connection at a time and a kiosk that held it open would lock out everybody else; it also
means a printer that was switched off and on again simply works at the next ticket.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from escpos.capabilities import CAPABILITIES, Profile, get_profile_class
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from escpos.printer import CupsPrinter, Dummy, File, Network, Serial, Usb

from hardware.layout import lay_out_ticket
from hardware.preview import Paper, PreviewFiles, write_preview
from hardware.printer_spec import PrinterSpec, parse_printer_spec
from hardware.ticket import TicketContent

log = logging.getLogger(__name__)
RT_STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"
"""``DLE EOT 2``: why the printer is offline; bit 2 is set while the cover is open."""

STATUS_KINDS = frozenset({"usb", "serial", "tcp"})
"""Connections that carry the printer's answers back; files and CUPS queues are one-way."""

_MISSING_DEPENDENCY = {
    "usb": "USB printers need the pyusb package (install lobby[usb]) and libusb",
    "serial": "serial printers need the pyserial package (install lobby[serial])",
    "cups": "CUPS printing needs the pycups package (pip install pycups) and libcups",
}


class _Usb(Usb):
    """python-escpos's ``Usb`` with a finalizer that stays quiet.

    Without pyusb its ``close()`` raises, and the base class calls ``close()`` from ``__del__``,
    so Python would write "Exception ignored in ..." to stderr, over a Textual screen.
    """

    def __del__(self) -> None:
        """Close if possible; a finalizer has nobody to report a failure to."""
        with contextlib.suppress(Exception):
            self.close()


_CLASSES: dict[str, type[Escpos]] = {
    "usb": _Usb,
    "serial": Serial,
    "tcp": Network,
    "file": File,
    "cups": CupsPrinter,
    "dummy": Dummy,
    "preview": Dummy,
}


class PrinterStatus(StrEnum):
    """What the printer says about itself. Values match the wire protocol's printer status."""

    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    """Reporting itself offline because its cover is open (``DLE EOT 2``)."""
    OFFLINE = "offline"
    """Unreachable, or reporting itself offline with paper present and the cover shut (or not
    saying why)."""
    UNKNOWN = "unknown"
    """The connection cannot tell (file, CUPS) or the printer did not answer the question."""


PROBLEMS = {
    PrinterStatus.PAPER_NEAR_END: "The ticket printer's paper is running low.",
    PrinterStatus.PAPER_OUT: "The ticket printer is out of paper.",
    PrinterStatus.COVER_OPEN: "The ticket printer's cover is open.",
    PrinterStatus.OFFLINE: "The ticket printer is offline (an error or a paper jam).",
    PrinterStatus.UNKNOWN: "The printer did not answer the status request.",
}
"""What a printer's answer means, in the words staff read on the supervisor page."""


class PrintFailed(Exception):
    """A ticket could not be printed; ``str()`` is a plain sentence fit for a staff screen."""

    def __init__(self, message: str, spec: str, cause: str = "error") -> None:
        """Keep the spec apart so logs can group failures by printer, and the cause (a
        ``PrinterStatus`` value, or "error") so supervisors read "out of paper" at once."""
        super().__init__(message)
        self.spec = spec
        self.cause = cause


def build_profile(name: str, fallback_width: int | None = None) -> Profile:
    """A python-escpos profile that always knows its paper width in dots.

    python-escpos ``print()``s a warning to stdout when it centres an image on a profile without
    a media width, which would scribble over a Textual screen; so a profile without one gets
    ``fallback_width`` or, failing that, font A's columns times the usual 12-dot cell.
    """
    base = get_profile_class(name)
    data = copy.deepcopy(base.profile_data)
    media = data.setdefault("media", {})
    width = media.setdefault("width", {})
    if not isinstance(width.get("pixels"), int):
        columns = int(data.get("fonts", {}).get("0", {}).get("columns", 48))
        width["pixels"] = fallback_width or columns * 12
    cls = type(f"Ticket{base.__name__}", (Profile,), {"profile_data": data})
    return cls(columns=None, features=data.get("features", {}))


def code_pages_of(profile: Profile) -> dict[int, str]:
    """The profile's ``ESC t`` numbers as Python codec names, for reading its bytes back."""
    encodings = CAPABILITIES["encodings"]
    pages: dict[int, str] = {}
    for number, name in profile.profile_data.get("codePages", {}).items():
        codec = encodings.get(name, {}).get("python_encode")
        if not codec:
            continue
        try:
            codecs.lookup(codec)
        except LookupError:
            continue
        pages[int(number)] = codec
    return pages


def paper_of(profile: Profile) -> Paper:
    """The preview geometry of a profile: printable dots and the columns of fonts A and B."""
    fonts = profile.profile_data.get("fonts", {})
    columns = int(fonts.get("0", {}).get("columns", 48))
    small = int(fonts.get("1", {}).get("columns", round(columns * 4 / 3)))
    return Paper(
        printable_width=int(profile.profile_data["media"]["width"]["pixels"]),
        columns=columns,
        small_columns=small,
    )


class TicketPrinter:
    """One configured ticket printer. It holds no connection between tickets.

    Safe to share between threads: a lock keeps a status poll from opening a second connection
    while a ticket prints (a network printer would refuse it).
    """

    def __init__(
        self,
        spec: str | PrinterSpec,
        *,
        timeout: float = 5.0,
        status_timeout: float = 1.0,
        check_before_print: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        """Configure a printer; nothing is opened until the first ticket or status query.

        ``timeout`` bounds connecting and sending (a spec's ``?timeout=`` wins);
        ``status_timeout`` bounds each status question, short because a silent printer should
        not hold a visitor up. With ``check_before_print`` a printer that can answer is asked
        first, so a ticket is refused at once when the paper is out instead of printing by
        surprise when someone refills it.
        """
        self.spec = spec if isinstance(spec, PrinterSpec) else parse_printer_spec(spec)
        self.timeout = self.spec.timeout or timeout
        self.status_timeout = status_timeout
        self.check_before_print = check_before_print
        self.clock = clock
        self.profile = build_profile(self.spec.profile)
        self.last_output: bytes = b""
        """Bytes of the last ticket for ``dummy`` and ``preview`` printers (empty otherwise)."""
        self.last_preview: PreviewFiles | None = None
        """Files written for the last ticket by a ``preview`` printer."""
        self.last_error: str | None = None
        """Why the last print or status query failed, in words for a staff screen."""
        self._lock = threading.Lock()
        self._answers_status: bool | None = None

    def __repr__(self) -> str:
        """Show the canonical spec, which is what people configure and grep logs for."""
        return f"TicketPrinter({str(self.spec)!r})"

    @property
    def answers_status(self) -> bool:
        """True when ``status()`` asks the printer itself; otherwise its answer never changes."""
        return self.spec.kind in STATUS_KINDS

    @property
    def supports_native_qr(self) -> bool:
        """True when the profile says the printer draws QR codes itself (``GS ( k``)."""
        return bool(self.profile.supports("qrCode"))

    def render(self, content: TicketContent) -> bytes:
        """The exact bytes this printer would be sent for ``content``; no IO at all."""
        dummy = Dummy(profile=self.profile)
        lay_out_ticket(dummy, content)
        return dummy.output

    def print_ticket(self, content: TicketContent) -> None:
        """Print one ticket: open, (check paper), send, cut, close. Blocks; run it in a thread.

        Raises ``PrintFailed`` with a plain message when the printer cannot be reached, is out
        of paper or offline (when it says so), or the connection breaks while sending.
        """
        with self._lock:
            self.last_error = None
            try:
                if self.spec.kind == "dummy":
                    self.last_output = self.render(content)
                elif self.spec.kind == "preview":
                    self._print_preview(content)
                else:
                    self._print_device(content)
            except PrintFailed as failure:
                self.last_error = str(failure)
                log.warning("ticket %s not printed on %s: %s", content.number, self.spec, failure)
                raise

    def status(self) -> PrinterStatus:
        """Ask the printer how it is. Blocks up to three times ``status_timeout``.

        Only USB, serial and network printers can answer; file and CUPS printers report
        UNKNOWN, dummy and preview printers OK. No answer is never taken as "paper is fine".
        """
        if self.spec.kind in ("dummy", "preview"):
            return PrinterStatus.OK
        if not self.answers_status:
            return PrinterStatus.UNKNOWN
        with self._lock:
            self.last_error = None
            try:
                connection = self._open(self.status_timeout)
            except PrintFailed as failure:
                self.last_error = str(failure)
                return PrinterStatus.OFFLINE
            try:
                result = self._query(connection)
            finally:
                self._close(connection, raise_errors=False)
            self.last_error = PROBLEMS.get(result)
            return result

    # -- printing ------------------------------------------------------------------------------

    def _print_preview(self, content: TicketContent) -> None:
        """Write the ticket's bytes and picture instead of printing them."""
        data = self.render(content)
        self.last_output = data
        assert self.spec.path is not None
        try:
            self.last_preview = write_preview(
                Path(self.spec.path),
                content.number,
                data,
                paper=paper_of(self.profile),
                code_pages=code_pages_of(self.profile),
                when=self.clock(),
            )
        except OSError as error:
            raise PrintFailed(
                f"Cannot write the ticket preview to {self.spec.path}: {_reason(error)}.",
                str(self.spec),
            ) from error

    def _print_device(self, content: TicketContent) -> None:
        """Send a ticket over a real connection, closing it whatever happens."""
        connection = self._open(self.timeout)
        try:
            if self.check_before_print and self.answers_status:
                self._check_ready(connection)
            lay_out_ticket(connection, content)
            self._finish_sending(connection)
        except (EscposError, OSError) as error:
            self._close(connection, raise_errors=False)
            raise PrintFailed(
                f"The ticket printer ({self.spec}) stopped while printing: {_reason(error)}.",
                str(self.spec),
            ) from error
        except BaseException:
            self._close(connection, raise_errors=False)
            raise
        self._close(connection, raise_errors=True)

    def _check_ready(self, connection: Escpos) -> None:
        """Refuse to print when the printer says it cannot, before sending a single byte.

        A printer that never answers is remembered as such, so later tickets do not each wait
        for a reply that will not come; a ``status()`` call that gets an answer undoes that.
        """
        if self._answers_status is False:
            return
        self._set_read_timeout(connection, self.status_timeout)
        try:
            state = self._query(connection)
        finally:
            self._set_read_timeout(connection, self.timeout)
        if state in (PrinterStatus.PAPER_OUT, PrinterStatus.COVER_OPEN, PrinterStatus.OFFLINE):
            raise PrintFailed(PROBLEMS[state], str(self.spec), state.value)

    # -- connections ---------------------------------------------------------------------------

    def _connection(self, timeout: float) -> Escpos:
        """A python-escpos object for the spec, not yet opened."""
        spec, profile = self.spec, self.profile
        if spec.kind == "tcp":
            return Network(spec.host, spec.port, timeout=timeout, profile=profile)
        if spec.kind == "usb":
            endpoints: dict[str, int] = {}
            if spec.in_ep is not None:
                endpoints["in_ep"] = spec.in_ep
            if spec.out_ep is not None:
                endpoints["out_ep"] = spec.out_ep
            return _Usb(
                spec.vendor_id,
                spec.product_id,
                timeout=max(1, int(timeout * 1000)),  # pyusb counts milliseconds
                profile=profile,
                **endpoints,
            )
        if spec.kind == "serial":
            return Serial(spec.path, baudrate=spec.baudrate, timeout=timeout, profile=profile)
        if spec.kind == "file":
            return File(spec.path, profile=profile)
        if spec.kind == "cups":
            return CupsPrinter(spec.queue, profile=profile)
        return Dummy(profile=profile)

    def _open(self, timeout: float) -> Escpos:
        """Create and open the connection, turning every way that fails into ``PrintFailed``."""
        try:
            connection = self._connection(timeout)
            connection.open()
        except (RuntimeError, ValueError) as error:
            # RuntimeError: python-escpos's "optional dependency missing", or pycups failing to
            # reach the CUPS server; ValueError: pyusb finding no libusb backend.
            message = str(error) or type(error).__name__
            if not _CLASSES[self.spec.kind].is_usable():
                message = _MISSING_DEPENDENCY[self.spec.kind]
            raise PrintFailed(f"Cannot use {self.spec}: {message}.", str(self.spec)) from error
        except (EscposError, OSError) as error:
            raise PrintFailed(
                f"Cannot reach the ticket printer ({self.spec}): {_reason(error)}.",
                str(self.spec),
                PrinterStatus.OFFLINE.value,
            ) from error
        return connection

    def _close(self, connection: Escpos, *, raise_errors: bool) -> None:
        """Close the connection; a failure here can mean the last bytes never left."""
        try:
            connection.close()
        except (EscposError, OSError) as error:
            if raise_errors:
                raise PrintFailed(
                    f"The ticket printer ({self.spec}) did not take the ticket: {_reason(error)}.",
                    str(self.spec),
                ) from error
            log.debug("closing %s failed: %s", self.spec, error)

    def _finish_sending(self, connection: Escpos) -> None:
        """On a network printer, wait until it has taken every byte before closing.

        Closing a TCP socket that still holds unread bytes (a late status reply, an automatic
        status message) resets the connection and can drop the end of the ticket. So say
        "done" (half-close), read until the printer hangs up, and only then close; the wait is
        bounded because some printers keep the connection open until it is closed on them.
        """
        device = getattr(connection, "_device", None)
        if not isinstance(connection, Network) or not device:
            return
        device.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + min(self.timeout, 1.0)
        while (left := deadline - time.monotonic()) > 0:
            device.settimeout(left)
            try:
                if not device.recv(256):
                    return
            except TimeoutError:
                return

    @staticmethod
    def _set_read_timeout(connection: Escpos, seconds: float) -> None:
        """Shorten or restore how long a read waits (network socket and serial port only)."""
        device = getattr(connection, "_device", None)
        if isinstance(connection, Network) and device:
            device.settimeout(seconds)
        elif isinstance(connection, Serial) and device:
            device.timeout = seconds

    # -- status --------------------------------------------------------------------------------

    def _query(self, connection: Escpos) -> PrinterStatus:
        """Ask ``DLE EOT 1`` (printer) and ``DLE EOT 4`` (paper) and combine the answers.

        python-escpos's ``paper_status()`` reads an empty reply as "paper adequate"; this reads
        the raw replies through ``query_status`` so silence stays silence.
        """
        online = _ask(connection, RT_STATUS_ONLINE)
        paper = _ask(connection, RT_STATUS_PAPER) if online is not None else None
        self._answers_status = online is not None
        status = interpret_status(online, paper)
        if status is PrinterStatus.OFFLINE and online is not None:
            cause = _ask(connection, RT_STATUS_OFFLINE_CAUSE)
            if cause is not None and cause & 0x04:
                return PrinterStatus.COVER_OPEN
        return status


def interpret_status(online: int | None, paper: int | None) -> PrinterStatus:
    """Combine the printer-status and paper-sensor bytes (None: no usable answer).

    Out of paper wins over offline because an empty printer also reports itself offline, and
    "out of paper" is what the clerk needs to hear.
    """
    if online is None:
        return PrinterStatus.UNKNOWN
    offline = bool(online & 0x08)
    if paper is None:
        return PrinterStatus.OFFLINE if offline else PrinterStatus.UNKNOWN
    if paper & 0x60 == 0x60:
        return PrinterStatus.PAPER_OUT
    if offline:
        return PrinterStatus.OFFLINE
    if paper & 0x0C == 0x0C:
        return PrinterStatus.PAPER_NEAR_END
    return PrinterStatus.OK


def _ask(connection: Escpos, request: bytes) -> int | None:
    """Send one real-time status request; the reply byte, or None for silence or nonsense.

    Every ``DLE EOT`` reply has bits 1 and 4 set and bits 0 and 7 clear; anything else is not
    an answer from an ESC/POS printer (an echo, a print server's banner) and is ignored.
    """
    try:
        reply = connection.query_status(request)
    except (TimeoutError, OSError, EscposError, NotImplementedError):
        return None
    if not reply:
        return None
    value = reply[0]
    if value & 0x93 != 0x12:
        return None
    return value


def _reason(error: BaseException) -> str:
    """The plain cause of a failure: the OS's words when there are some, else the message."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError):
            return "no answer in time"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror[0].lower() + current.strerror[1:]
        current = current.__cause__ or current.__context__
    if isinstance(error, DeviceNotFoundError):
        return error.msg.strip().splitlines()[0] if error.msg.strip() else "device not found"
    return str(error) or type(error).__name__


def open_printer(spec: str | PrinterSpec, **options: object) -> TicketPrinter:
    """Parse ``spec`` and return its ``TicketPrinter`` (raises ``PrinterSpecError``).

    Named for what callers want; it connects to nothing, since every ticket opens and closes
    its own connection. ``options`` go to ``TicketPrinter``.
    """
    return TicketPrinter(spec, **options)  # type: ignore[arg-type]
