"""Ticket printers: ESC/POS printing with python-escpos, printer status, and previews.

The kiosk builds a ``TicketContent`` (all text already in the visitor's language) and hands it
to a ``TicketPrinter`` made from a one-line spec such as ``tcp://192.168.1.50`` or
``preview:var/tickets``. Printing and status calls block; run them in a worker thread.
"""

from __future__ import annotations

import logging as _logging


def _import_escpos_quietly() -> None:
    """Import python-escpos without letting it configure logging for the whole program.

    Its capabilities module calls ``logging.basicConfig()`` on import, which adds a stderr
    handler to the root logger: log lines would then be written over a Textual screen, and the
    application's own ``basicConfig()`` (a log file, say) would silently do nothing. The
    handler it adds is removed again; handlers the application set up are left alone.
    """
    root = _logging.getLogger()
    before = list(root.handlers)
    import escpos.capabilities  # noqa: F401

    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)


_import_escpos_quietly()

from hardware.printer import PrinterStatus, PrintFailed, TicketPrinter, open_printer  # noqa: E402
from hardware.printer_spec import PrinterSpec, PrinterSpecError, parse_printer_spec  # noqa: E402
from hardware.ticket import TicketContent  # noqa: E402

__all__ = [
    "PrintFailed",
    "PrinterSpec",
    "PrinterSpecError",
    "PrinterStatus",
    "TicketContent",
    "TicketPrinter",
    "open_printer",
    "parse_printer_spec",
]
