"""The terminal apps through a real server restart: ``lobby serve`` killed (SIGKILL) or stopped
(SIGTERM) under the kiosk, the counter terminal and the board, then started again on the same
database. Each must end holding exactly the state the server serves (``GET /api/state`` at the
same seq), carry on working, and the board must ring each call once: the calls made while it
was away once it is back, none twice."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from counter.app import CounterApp
from counter.screens.desk import DeskScreen
from hardware import open_printer
from kiosk.app import KioskApp
from kiosk.backend import ServerBackend
from kiosk.outbox import Outbox
from lobby import protocol as p
from lobby.client import LobbyClient, reconnect_delay
from lobby.state import OfficeState
from tests.conftest import STAFF, until, visitor
from tests.server_process import ServerProcess, server_process
from tests.test_counter_app import sign_in
from tests.test_display_board import board as display_board
from tests.test_kiosk_flow import choose_language, finished, tap_service

SIGNALS = [pytest.param(signal.SIGKILL, id="sigkill"), pytest.param(signal.SIGTERM, id="sigterm")]
FAST = (0.05, 0.1, 0.2)
SIZE = (120, 36)
SAME_STATE_SEC = 15.0


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async with server_process(tmp_path) as running:
        yield running


def comparable(state: p.StateSnapshot) -> dict[str, Any]:
    """A state as plain data, without the moment it was taken, items in id order."""
    plain: dict[str, Any] = msgspec.to_builtins(state)
    plain.pop("now")
    for key in ("services", "counters", "tickets", "alerts"):
        plain[key] = sorted(plain.get(key, []), key=lambda item: str(item["id"]))
    return plain


async def holds_the_servers_state(
    server: ServerProcess, token: Callable[[], str | None], held: Callable[[], OfficeState]
) -> None:
    """Wait until the screen's state is exactly what the server serves its role at that seq
    (a tick landing between the two reads is waited out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SAME_STATE_SEC
    while True:
        key = token()
        mine = held()
        if key is not None and mine.ready:
            served = await server.state(key)
            shown = comparable(mine.snapshot(served.role))
            if shown == comparable(served):
                return
        if loop.time() > deadline:
            difference = (
                {k for k in shown if shown[k] != comparable(served)[k]}
                if key is not None and mine.ready
                else "no state"
            )
            raise AssertionError(f"the screen does not hold the server's state: {difference}")
        await asyncio.sleep(0.05)


async def counter_open(server: ServerProcess, name: str, counter: str) -> LobbyClient:
    clerk = await server.staff(name)
    await clerk.counter_action(counter, "open")
    return clerk


async def finish(clerk: LobbyClient, ticket: p.TicketView) -> None:
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))


@pytest.mark.parametrize("how", SIGNALS)
async def test_board_resumes_from_its_last_seq_and_rings_each_call_once(
    office: ServerProcess, how: signal.Signals
) -> None:
    token = office.tokens["display"]
    board = display_board(office, delay=4.0, announce_sec=0.05)
    kiosk = office.kiosk()
    for i in range(3):
        await kiosk.check_in(visitor(f"board-restart-{i}"))
    clerk = await counter_open(office, "clerk", "w1")
    async with board.run_test(size=SIZE):
        await until(lambda: board.state.ready, what="the board's first snapshot")
        first = await clerk.call_next("w1")
        await until(lambda: board.announced == ["P-001"], what="the first call rung")
        mark = board.query_one("#reconnecting")

        await office.restart(how)
        await until(lambda: mark.has_class("-on"), what="the board marks the lost link")
        # Made as soon as the server is back, before the board (waiting 3 to 5 s) reconnects:
        # only a board that names its last seq hears of this call.
        clerk = await office.staff("clerk")
        await finish(clerk, first)
        await clerk.call_next("w1")
        assert mark.has_class("-on"), "the call was made while the board was away"
        await until(lambda: not mark.has_class("-on"), timeout=10, what="the board is back")
        await holds_the_servers_state(office, lambda: token, lambda: board.state)
        await until(lambda: board.announced == ["P-001", "P-002"], what="the missed call rung")

        second = await office.staff("clerk2")
        await second.counter_action("w2", "open")
        await second.call_next("w2")
        await until(lambda: board.announced == ["P-001", "P-002", "P-003"])
        await holds_the_servers_state(office, lambda: token, lambda: board.state)
        await asyncio.sleep(0.3)
        assert board.announced == ["P-001", "P-002", "P-003"], "no call is rung twice"


@pytest.mark.parametrize("how", SIGNALS)
async def test_kiosk_holds_the_servers_state_and_checks_in_after_a_restart(
    office: ServerProcess, how: signal.Signals, tmp_path: Path
) -> None:
    token = office.tokens["kiosk"]
    app = KioskApp(
        lambda: ServerBackend(office.url, token, timeout=2.0, reconnect_delays=FAST),
        open_printer("dummy"),
        retry_delays=FAST,
        outbox=Outbox(tmp_path / "outbox.sqlite"),
        outage_after=0.5,
    )
    kiosk = office.kiosk()
    async with app.run_test(size=(110, 40)) as pilot:
        await until(lambda: app.office is not None and app.query(".language"))
        await kiosk.check_in(visitor("kiosk-restart-1"))
        await holds_the_servers_state(office, lambda: token, lambda: app.office_state)

        await office.restart(how)
        clerk = await counter_open(office, "clerk", "w1")
        await clerk.call_next("w1")
        await office.kiosk().check_in(visitor("kiosk-restart-2", "billing"))
        await holds_the_servers_state(office, lambda: token, lambda: app.office_state)

        # and a visitor checks in at it as before: two taps, a ticket
        await choose_language(pilot, "en")
        await finished(await tap_service(pilot, "records"))
        await holds_the_servers_state(office, lambda: token, lambda: app.office_state)
    boss = await office.staff("super")
    numbers = sorted(t.number for t in (await boss.state()).tickets)
    assert numbers == ["B-001", "P-001", "R-001"]


@pytest.mark.parametrize("how", SIGNALS)
async def test_counter_keeps_its_session_and_desk_through_a_restart(
    office: ServerProcess, how: signal.Signals
) -> None:
    app = CounterApp(office.url, "w1", reconnect_delays=FAST)
    kiosk = office.kiosk()
    for i in range(3):
        await kiosk.check_in(visitor(f"counter-restart-{i}"))
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(app, pilot, "clerk", STAFF["clerk"])
        await until(lambda: isinstance(app.screen, DeskScreen), what="the desk opens")
        await until(lambda: app.model.ready and app.model.connected)
        await until(lambda: app.model.state == "open", what="the counter is open")
        await pilot.press("c")
        await until(lambda: app.model.state == "calling", what="calling P-001")

        def token() -> str | None:
            return app.session.token

        await holds_the_servers_state(office, token, lambda: app.model.office)
        await office.restart(how)
        other = await counter_open(office, "clerk2", "w2")
        await other.call_next("w2")  # while this desk is away
        assert isinstance(app.screen, DeskScreen), "the session outlives the restart"
        await holds_the_servers_state(office, token, lambda: app.model.office)

        await pilot.press("a")
        await until(lambda: app.model.state == "serving", what="the visitor arrived")
        await holds_the_servers_state(office, token, lambda: app.model.office)


def test_reconnect_delays_step_up_and_spread_so_screens_do_not_knock_together() -> None:
    delays = (0.5, 1.0, 5.0)
    assert [reconnect_delay(n, delays, lambda: 0.5) for n in range(5)] == [0.5, 1.0, 5.0, 5.0, 5.0]
    assert reconnect_delay(0, delays, lambda: 0.0) == 0.375
    assert 0.62 < reconnect_delay(0, delays, lambda: 0.999) <= 0.625
