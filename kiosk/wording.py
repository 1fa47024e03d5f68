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


def waiting_text(t: Translator, count: int) -> str:
    if count == 0:
        return t("waiting_zero")
    return t("waiting_one") if count == 1 else t("waiting_many", count=count)


def range_text(t: Translator, key: str, estimate: p.Estimate) -> str:
    """An estimate through the ``{key}_up_to`` or ``{key}_range`` text: "up to 2 min"."""
    if estimate.low_min <= 0:
        return t(f"{key}_up_to", high=estimate.high_min)
    return t(f"{key}_range", low=estimate.low_min, high=estimate.high_min)


def service_line(t: Translator, service: p.ServiceView) -> str:
    """The second line of a service's button: the queue as a new arrival would meet it."""
    if service.state == "closed":
        return t("service_closed", hours=service.hours)
    return f"{waiting_text(t, service.waiting)} · {range_text(t, 'estimate', service.estimate)}"


def ahead_text(t: Translator, position: int | None) -> str | None:
    if position is None:
        return None
    ahead = max(position - 1, 0)
    if ahead == 0:
        return t("ahead_zero")
    return t("ahead_one") if ahead == 1 else t("ahead_many", count=ahead)


def estimate_of(ticket: p.TicketView) -> p.Estimate | None:
    return ticket.estimate or ticket.quoted_estimate


def wait_sentence(t: Translator, ticket: p.TicketView) -> str:
    """ "About 3 people ahead — around 6 to 10 minutes." (or the screens hint when unknown)."""
    ahead = ahead_text(t, ticket.position)
    estimate = estimate_of(ticket)
    if ahead is None or estimate is None:
        return t("watch_screens")
    return t("wait_sentence", ahead=ahead, wait=range_text(t, "wait", estimate))


def issued_text(t: Translator, arrived_at: str, fallback: datetime) -> str:
    """The check-in time as the server recorded it, in the office's time zone."""
    try:
        moment = datetime.fromisoformat(arrived_at)
    except ValueError:
        moment = fallback
    return t(
        "issued",
        day=moment.day,
        month=t.months()[moment.month - 1],
        year=moment.year,
        time=moment.strftime("%H:%M"),
    )


def ticket_wait_text(t: Translator, ticket: p.TicketView) -> str:
    estimate = estimate_of(ticket)
    if estimate is None:
        return t("ticket_wait_unknown")
    return range_text(t, "ticket_wait", estimate)


def ticket_content(
    t: Translator,
    ticket: p.TicketView,
    *,
    office_name: str,
    info: str | None,
    now: datetime,
) -> TicketContent:
    """Everything printed on the ticket, in the language the visitor chose. Never the name."""
    return TicketContent(
        office_name=office_name,
        number=ticket.number,
        service_name=ticket.service_name or ticket.service,
        issued_text=issued_text(t, ticket.arrived_at, now),
        position_text=ahead_text(t, ticket.position) or "",
        wait_text=ticket_wait_text(t, ticket),
        info_text=info or None,
        status_url=ticket.status_url,
        qr_caption=t("scan_hint"),
        privacy_text=t("privacy_line"),
    )
