"""How the counter's screens look, each showing an office state a real server computed.

Each picture's morning is played against a server on a fixed clock, and the terminal renders the
state that server would send a clerk: every figure on screen is one the server decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from counter.app import CounterApp
from lobby import protocol as p
from lobby.client import LobbyClient
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, running_server, visitor

SIZE = (120, 36)
SMALL = (80, 24)
Before = Callable[[Pilot[Any]], Awaitable[None]]
Morning = Callable[[RunningServer, FakeClock], Awaitable[None]]
Office = Callable[[Morning], p.StateSnapshot]


@pytest.fixture
def office_after(tmp_path: Path, office_config: Any) -> Office:
    """What a clerk's terminal is sent once a morning, from 09:00, has happened."""

    def played(morning: Morning) -> p.StateSnapshot:
        async def play() -> p.StateSnapshot:
            clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=office_config.tz))
            async with running_server(tmp_path, office_config, clock) as server:
                await morning(server, clock)
                server.app[OFFICE].tick()
                return server.app[OFFICE].state("clerk")

        return asyncio.run(play())

    return played


async def nothing_yet(server: RunningServer, clock: FakeClock) -> None:
    """Opening time: every counter closed, nobody in line."""


async def arrive(server: RunningServer, clock: FakeClock, *visits: tuple[int, str]) -> None:
    """Visitors checking in at the kiosk, ``(minute past nine, service)`` each."""
    kiosk = server.kiosk()
    for index, (minute, service) in enumerate(visits):
        clock.now = clock.now.replace(minute=minute)
        await kiosk.check_in(visitor(f"arrival-{index:03d}", service))


async def opened(server: RunningServer, clock: FakeClock, minute: int) -> LobbyClient:
    clock.now = clock.now.replace(minute=minute)
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    return clerk


async def queues_slipping(server: RunningServer, clock: FakeClock) -> None:
    """Permits past its 10-minute target, billing near its 5 minutes, w1 just opened."""
    await arrive(server, clock, (0, "permits"), (3, "permits"), (5, "permits"), (10, "billing"))
    await opened(server, clock, 14)


async def on_break(server: RunningServer, clock: FakeClock) -> None:
    await queues_slipping(server, clock)
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "break")


async def calling_a_number(server: RunningServer, clock: FakeClock) -> None:
    await arrive(server, clock, (2, "permits"), (6, "permits"), (7, "billing"))
    clerk = await opened(server, clock, 10)
    await clerk.call_next("w1")
    clock.now = clock.now.replace(minute=11)


async def serving_garcia(server: RunningServer, clock: FakeClock) -> None:
    """A named visitor with needs, a note and a transfer, called ahead with a head start."""
    await arrive(server, clock, (2, "permits"), (4, "permits"))
    clock.now = clock.now.replace(minute=5)
    garcia = await server.kiosk().check_in(
        visitor(
            "garcia-001",
            "billing",
            name="Maria Garcia",
            address_as="ms",
            kiosk_language="es",
            needs=["wheelchair", "interpreter"],
        )
    )
    clerk2 = await server.staff("clerk2")
    await clerk2.counter_action("w2", "open")
    clock.now = clock.now.replace(minute=9)
    await clerk2.call_next("w2")
    await clerk2.ticket_action(garcia.id, "start")
    clock.now = clock.now.replace(minute=18)
    note = p.NoteRequest(text="Paid the water bill; needs a fence permit.")
    await clerk2.ticket_action(garcia.id, "notes", note)
    await clerk2.ticket_action(garcia.id, "transfer", p.TransferRequest(service="permits"))
    clerk = await opened(server, clock, 20)
    await clerk.call_next("w1")
    clock.now = clock.now.replace(minute=21)
    await clerk.ticket_action(garcia.id, "start")


def desk(state: p.StateSnapshot) -> CounterApp:
    return CounterApp("http://127.0.0.1:9", "w1", preview=state)


def pressing(*keys: str) -> Before:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    return run


def test_sign_in_screen(snap_compare: Any) -> None:
    app = CounterApp("http://127.0.0.1:9", "w1")
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing())


def test_closed_counter(snap_compare: Any, office_after: Office) -> None:
    assert snap_compare(desk(office_after(nothing_yet)), terminal_size=SIZE)


def test_open_and_idle_with_visitors_waiting_shows_the_banner(
    snap_compare: Any, office_after: Office
) -> None:
    assert snap_compare(desk(office_after(queues_slipping)), terminal_size=SIZE)


def test_calling_a_visitor_who_gave_no_name(snap_compare: Any, office_after: Office) -> None:
    assert snap_compare(desk(office_after(calling_a_number)), terminal_size=SIZE)


def test_serving_a_named_visitor_with_needs(snap_compare: Any, office_after: Office) -> None:
    assert snap_compare(desk(office_after(serving_garcia)), terminal_size=SIZE)


def test_serving_on_a_small_terminal(snap_compare: Any, office_after: Office) -> None:
    assert snap_compare(desk(office_after(serving_garcia)), terminal_size=SMALL)


def test_on_break_with_visitors_waiting_has_no_idle_banner(
    snap_compare: Any, office_after: Office
) -> None:
    assert snap_compare(desk(office_after(on_break)), terminal_size=SIZE)


def test_lost_connection_banner(snap_compare: Any, office_after: Office) -> None:
    async def disconnect(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CounterApp)
        app.model.connected = False
        app.changed.publish(None)
        await pilot.pause()

    app = desk(office_after(queues_slipping))
    assert snap_compare(app, terminal_size=SIZE, run_before=disconnect)


def test_complete_asks_whether_needs_were_met(snap_compare: Any, office_after: Office) -> None:
    app = desk(office_after(serving_garcia))
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("d"))


def test_safety_alert_confirmation_is_discreet(snap_compare: Any, office_after: Office) -> None:
    app = desk(office_after(serving_garcia))
    assert snap_compare(app, terminal_size=SIZE, run_before=pressing("ctrl+e"))
