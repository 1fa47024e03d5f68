"""A server outage at the kiosk: the visitor is told one thing and may leave, the kiosk serves
the next visitor, and every check-in taken meanwhile is kept on disk and sent, in arrival order
with its real arrival time, once the server is back; a visitor who left gets no late print."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from textual.widgets import Button

from hardware import open_printer
from kiosk.outbox import Outbox
from kiosk.screens.welcome import WelcomeScreen
from lobby.client import ApiError
from tests.conftest import FakeClock, RunningServer, until, visitor
from tests.test_kiosk_flow import (
    choose_language,
    finished,
    kiosk_app,
    running,
    supervisor_tickets,
    tap_service,
    text,
)


async def test_server_down_at_the_tap_tells_the_visitor_once_then_prints_when_back(
    server: RunningServer,
) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer)
    async with running(app) as pilot:
        await server.stop()
        await choose_language(pilot, "en")
        tapped = datetime.now().astimezone()
        screen = await tap_service(pilot, "permits")
        assert screen.shown == "pending"
        await until(lambda: screen.shown == "offline")
        assert text(app, "#progress") == "We could not print your ticket."
        assert text(app, "#progress-detail") == (
            f"Please show this screen at the front desk: your place in line is kept from "
            f"{tapped:%H:%M}."
        )
        assert str(screen.query_one("#done", Button).label) == "Finish"
        assert app.pending is None, "the kiosk is free for the next visitor"

        await asyncio.sleep(1.0)
        await server.start()  # while the visitor is still reading: the ticket prints for them
        await finished(screen)
        assert screen.stage == "printed"
        assert text(app, "#your-number") == "Your number is P-001."
        assert len(app.outbox) == 0

    [ticket] = await supervisor_tickets(server)
    assert ticket.acknowledged == "printed"
    assert ticket.received_at is not None, "staff see it was sent late"
    arrived = datetime.fromisoformat(ticket.arrived_at)
    assert abs(arrived - tapped) < timedelta(seconds=1), "the wait runs from the tap"
    assert datetime.fromisoformat(ticket.received_at) - arrived >= timedelta(seconds=1)


async def test_visitors_who_left_get_no_late_print_and_keep_their_order(
    server: RunningServer,
) -> None:
    printer = open_printer("dummy")
    app = kiosk_app(server, printer, idle_timeout=1.0)
    async with running(app) as pilot:
        await server.stop()
        await choose_language(pilot, "en")
        first = await tap_service(pilot, "permits")
        await until(lambda: first.shown == "offline")
        await pilot.click("#done")  # "Finish": the visitor goes to the desk
        await until(lambda: isinstance(app.screen, WelcomeScreen))

        await choose_language(pilot, "es")  # the next visitor is served at once
        second = await tap_service(pilot, "billing")
        await until(lambda: second.shown == "offline")
        assert text(app, "#progress") == "No pudimos imprimir su turno."
        # nobody touches the screen: the idle reset is not paused by the outage
        await until(lambda: isinstance(app.screen, WelcomeScreen), timeout=3.0)
        assert app.language == "en"
        assert len(app.outbox) == 2

        await server.start()
        await until(lambda: len(app.outbox) == 0)
        await asyncio.sleep(0.3)  # a print would have been on its way by now
        assert printer.last_output == b"", "nobody is at the kiosk to take a ticket"
        assert isinstance(app.screen, WelcomeScreen)

    tickets = sorted(await supervisor_tickets(server), key=lambda t: t.id)
    assert [t.number for t in tickets] == ["P-001", "B-001"], "sent in arrival order"
    assert [t.acknowledged for t in tickets] == [None, None]
    assert all(t.received_at is not None for t in tickets)
    assert tickets[0].arrived_at < tickets[1].arrived_at


async def test_check_ins_kept_while_offline_survive_a_kiosk_restart(
    server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.sqlite"
    printer = open_printer("dummy")
    app = kiosk_app(server, printer, outbox=Outbox(path))
    async with running(app) as pilot:
        await server.stop()
        await choose_language(pilot, "en")
        tapped = datetime.now().astimezone()
        screen = await tap_service(pilot, "permits")
        await until(lambda: screen.shown == "offline")
    assert len(Outbox(path)) == 1, "the check-in is on disk when the kiosk stops"

    await server.start()
    restarted = kiosk_app(server, printer, outbox=Outbox(path))
    async with running(restarted):
        await until(lambda: len(restarted.outbox) == 0)
        assert printer.last_output == b""

    [ticket] = await supervisor_tickets(server)
    assert ticket.number == "P-001" and ticket.acknowledged is None
    assert abs(datetime.fromisoformat(ticket.arrived_at) - tapped) < timedelta(seconds=1)
    assert len(Outbox(path)) == 0


async def test_a_late_arrival_is_ordered_and_measured_from_when_it_arrived(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk = server.kiosk()
    first = await kiosk.check_in(visitor("on-time-0001"))
    clock.advance(minutes=10)
    late = await kiosk.check_in(
        visitor("late-000001", arrived_at=clock.now - timedelta(minutes=15))
    )
    assert late.position == 1 and late.waited_min == 15
    assert late.arrived_at == (clock.now - timedelta(minutes=15)).isoformat()
    assert late.received_at == clock.now.isoformat()
    assert late.number == "P-002", "numbers go by when the server heard of it"

    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    called = await clerk.call_next("w1")
    assert called.id == late.id, "the longest wait is called first"

    await server.restart()
    kiosk = server.kiosk()
    again = await kiosk.check_in(visitor("late-000001", arrived_at=clock.now))
    assert (again.id, again.arrived_at) == (late.id, late.arrived_at), "a retry changes nothing"
    assert first.received_at is None


async def test_an_arrival_time_out_of_bounds_is_refused(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk = server.kiosk()
    for rid, moment in (
        ("future-00001", clock.now + timedelta(minutes=5)),
        ("yesterday-01", clock.now - timedelta(days=1)),
    ):
        try:
            await kiosk.check_in(visitor(rid, arrived_at=moment))
        except ApiError as error:
            assert (error.status, error.field) == (422, "arrived_at")
        else:
            raise AssertionError(f"{moment} was accepted")
    drift = await kiosk.check_in(
        visitor("drift-000001", arrived_at=clock.now + timedelta(seconds=30))
    )
    assert drift.arrived_at == clock.now.isoformat() and drift.received_at is None
    clerk = await server.staff("clerk")
    try:
        await clerk.check_in(visitor("walk-in-0001", arrived_at=clock.now))
    except ApiError as error:
        assert (error.status, error.field) == (403, "arrived_at")
    else:
        raise AssertionError("a clerk set an arrival time")
