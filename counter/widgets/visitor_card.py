"""The visitor at this counter: who they are, how to greet them, and what they need.

Private data (name, language, needs, notes) is shown here and nowhere else in the terminal:
notifications and logs use the ticket number only.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from counter.labels import (
    TICKET_STATE_LABELS,
    WAIT_COLOURS,
    clock_text,
    language_name,
    minutes_text,
    need_label,
)
from counter.model import CounterModel
from lobby import protocol as p


class VisitorCard(Static):
    def show(self, model: CounterModel) -> None:
        ticket = model.current
        self.update(_no_visitor(model) if ticket is None else _visitor(model, ticket))


def _no_visitor(model: CounterModel) -> RenderableType:
    state = model.state
    waiting = model.eligible_waiting
    if state == "closed":
        hint = "The counter is closed. Press o to open it."
    elif state == "break":
        hint = "On break. Press b to resume."
    elif waiting:
        hint = f"{waiting} waiting. Press c to call the next visitor."
    else:
        hint = "Nobody is waiting for this counter."
    return Group(Text("No visitor at the counter", style="bold"), Text(""), Text(hint))


def _visitor(model: CounterModel, ticket: p.TicketView) -> RenderableType:
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append(ticket.number, style="bold")
    head.append("   ")
    head.append(TICKET_STATE_LABELS.get(ticket.state, ticket.state), style="bold reverse")
    if ticket.recalls:
        times = "once" if ticket.recalls == 1 else f"{ticket.recalls} times"
        head.append(f"   recalled {times}", style="yellow")
    greeting = Text()
    greeting.append("Greet as  ", style="dim")
    greeting.append(ticket.addressed_as or ticket.number, style="bold #7fdbff")

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(ratio=1)
    if ticket.name and ticket.name != ticket.addressed_as:
        facts.add_row("Name", ticket.name)
    facts.add_row("Service", ticket.service_name or model.office.service_name(ticket.service))
    facts.add_row("Language", language_name(ticket.language))
    facts.add_row("Needs", _needs(ticket))
    facts.add_row("Waited", _waited(ticket))
    if ticket.received_at:
        facts.add_row("Check-in", _sent_late(ticket))
    if ticket.head_start:
        facts.add_row("Priority", Text(f"Head start: {ticket.head_start}", style="bold yellow"))
    if ticket.transfers:
        facts.add_row("Transfers", _transfers(model, ticket))
    facts.add_row("Notes", _notes(ticket))
    if ticket.flagged:
        facts.add_row("Flagged", Text(ticket.flagged, style="magenta"))
    return Group(head, Text(""), greeting, Text(""), facts)


def _needs(ticket: p.TicketView) -> Text:
    if not ticket.needs:
        return Text("none recorded", style="dim")
    return Text(" · ".join(need_label(n) for n in ticket.needs), style="bold yellow")


def _waited(ticket: p.TicketView) -> Text:
    text = Text()
    if ticket.waited_min is None:
        text.append("—", style="bold")
    else:
        colour = WAIT_COLOURS[ticket.wait_level or "ok"]
        text.append(minutes_text(ticket.waited_min), style=f"bold {colour}")
    text.append(f"  (arrived {clock_text(ticket.arrived_at)}", style="dim")
    if ticket.called_at:
        text.append(f", first called {clock_text(ticket.called_at)}", style="dim")
    text.append(")", style="dim")
    return text


def _sent_late(ticket: p.TicketView) -> Text:
    """A check-in the kiosk kept while it could not reach the server: the visitor was told to
    show the kiosk screen at the front desk, and may have no printed ticket."""
    return Text(
        f"taken by the kiosk while offline at {clock_text(ticket.arrived_at)}, "
        f"received {clock_text(ticket.received_at)}: the visitor may have no printed ticket",
        style="yellow",
    )


def _transfers(model: CounterModel, ticket: p.TicketView) -> Text:
    lines = Text()
    for index, transfer in enumerate(ticket.transfers):
        if index:
            lines.append("\n")
        lines.append(f"{clock_text(transfer.at)} ")
        lines.append(model.office.service_name(transfer.from_service))
        lines.append(" → ")
        lines.append(model.office.service_name(transfer.to_service), style="bold")
        if transfer.by_counter:
            lines.append(f" ({model.office.counter_name(transfer.by_counter)})", style="dim")
    return lines


def _notes(ticket: p.TicketView) -> Text:
    if not ticket.notes:
        return Text("none yet", style="dim")
    lines = Text()
    for index, note in enumerate(ticket.notes):
        if index:
            lines.append("\n")
        lines.append(f"{clock_text(note.at)} ", style="dim")
        if note.by:
            lines.append(f"{note.by}: ", style="dim")
        lines.append(note.text)
    return lines
