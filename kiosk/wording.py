"""The sentences a visitor reads on screen and on paper, built from server data in one language.

Kept apart from the screens so the printed ticket and the confirmation screen always say the same
thing, and so the wording can be tested without a terminal.
"""

from __future__ import annotations

from datetime import datetime

from hardware import TicketContent
from kiosk.i18n import Translator
from kiosk.visit import VisitorDetails
from lobby import protocol as p

TITLE_KEYS = {"mr": "title_mr", "ms": "title_ms", "mx": "title_mx"}


def addressed_as(t: Translator, details: VisitorDetails) -> str | None:
    """How to greet the visitor, the way the counter screen will: "Ms. Garcia", "Maria" or None.

    Mirrors the server's ``addressed_as`` (which the kiosk is never sent, as it is private),
    with the title in the kiosk's language.
    """
    name = details.given_name
    if name is None or details.address_as is None:
        return None
    parts = name.split()
    if details.address_as == "first_name":
        return parts[0]
    return f"{t(TITLE_KEYS[details.address_as])} {parts[-1]}"


def greeting(t: Translator, details: VisitorDetails) -> str:
    who = addressed_as(t, details)
    return t("greeting_named", who=who) if who else t("greeting_plain")


def ahead_text(t: Translator, ahead: int) -> str:
    """ "About 3 people ahead": the one wording of the service button, the confirmation and the
    printed ticket, so what a visitor reads before the tap is what their ticket says after it."""
    if ahead <= 0:
        return t("ahead_zero")
    return t.plural("ahead", ahead)


def range_text(t: Translator, key: str, estimate: p.Estimate) -> str:
    """An estimate through the ``{key}_up_to`` or ``{key}_range`` text: "up to 2 min"."""
    if estimate.low_min <= 0:
        return t(f"{key}_up_to", high=estimate.high_min)
    return t(f"{key}_range", low=estimate.low_min, high=estimate.high_min)


def service_line(t: Translator, service: p.ServiceView) -> str:
    """The second line of a service's button: what a visitor checking in now would be told."""
    if service.state == "closed":
        return t("service_closed", hours=service.hours)
    return f"{ahead_text(t, service.ahead)} · {range_text(t, 'estimate', service.estimate)}"


def ticket_ahead(ticket: p.TicketView) -> int | None:
    """People ahead of a ticket still waiting: its place in line, less the visitor."""
    return None if ticket.position is None else ticket.position - 1


def wait_sentence(t: Translator, ticket: p.TicketView) -> str:
    """ "About 3 people ahead — around 6 to 10 minutes." (or the screens hint when unknown)."""
    ahead = ticket_ahead(ticket)
    if ahead is None or ticket.estimate is None:
        return t("watch_screens")
    return t(
        "wait_sentence", ahead=ahead_text(t, ahead), wait=range_text(t, "wait", ticket.estimate)
    )


def issued_text(t: Translator, arrived_at: str, fallback: datetime) -> str:
    """The check-in time as the server recorded it, in the office's time zone."""
    try:
        moment = datetime.fromisoformat(arrived_at)
    except ValueError:
        moment = fallback
    return t.moment(moment)


def ticket_wait_text(t: Translator, ticket: p.TicketView) -> str:
    if ticket.estimate is None:
        return t("ticket_wait_unknown")
    return range_text(t, "ticket_wait", ticket.estimate)


def ticket_content(
    t: Translator,
    ticket: p.TicketView,
    *,
    office_name: str,
    service_name: str,
    info: str | None,
    now: datetime,
) -> TicketContent:
    """Everything printed on the ticket, in the language the visitor chose. Never the name."""
    ahead = ticket_ahead(ticket)
    return TicketContent(
        office_name=office_name,
        number=ticket.number,
        service_name=service_name or ticket.service_name or ticket.service,
        issued_text=issued_text(t, ticket.arrived_at, now),
        position_text=ahead_text(t, ahead) if ahead is not None else "",
        wait_text=ticket_wait_text(t, ticket),
        info_text=info or None,
        status_url=ticket.status_url,
        qr_caption=t("scan_hint"),
        privacy_text=t("privacy_line"),
        wait_note=t("estimate_note") if ticket.estimate is not None else None,
    )
