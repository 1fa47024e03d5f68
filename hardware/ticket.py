"""What goes on a printed ticket.

The kiosk owns the words: it picks the visitor's language, formats dates and builds sentences such
as "3 people ahead". The hardware layer only lays the finished strings out on paper, so it never
needs to know about languages, time zones or the queue, and a new language never touches printing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TicketContent:
    """Every line of one ticket, already localized and formatted by the kiosk.

    Frozen so a ticket handed to a printing thread cannot change while it is being printed.
    """

    office_name: str
    """Printed at the top, e.g. "City Hall Service Center"."""
    number: str
    """The ticket number the displays call, e.g. "P-014"; printed as large as the paper allows."""
    service_name: str
    """The service the visitor checked in for, e.g. "Permits and Licensing"."""
    issued_text: str
    """When the ticket was issued, already formatted, e.g. "23 Nov 2026 09:14"."""
    position_text: str
    """The visitor's place in line, e.g. "3 people ahead"."""
    wait_text: str
    """The expected wait as a range that errs high, e.g. "About 6–10 minutes"."""
    info_text: str | None
    """What to have ready, e.g. "Bring a photo ID and proof of address."; None prints nothing."""
    status_url: str
    """The visitor's status page; encoded in the QR code exactly as given."""
    qr_caption: str
    """Printed under the QR code, e.g. "Scan to follow your place in line"."""
    privacy_text: str
    """Reassurance printed last, e.g. "Your name is never shown on the screens"."""
    wait_note: str | None = None
    """Under the wait, what the range means, e.g. "We estimate on the long side: you may well
    be called sooner."; None prints nothing."""

    def __post_init__(self) -> None:
        """Refuse a ticket that could not be served: without a number or link it is useless."""
        if not self.number.strip():
            raise ValueError("a ticket needs a number")
        if not self.status_url.strip():
            raise ValueError("a ticket needs a status_url for its QR code")
