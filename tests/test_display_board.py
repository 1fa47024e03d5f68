"""The terminal lobby board (``lobby display``) with Textual's pilot, against a real server."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from display.board import LobbyBoard, main
from display.call_lines import CallLine, EarlierCalls
from lobby import protocol as p
from lobby.client import LobbyClient, StreamMessage, live
from server.keys import OFFICE
from tests.conftest import OpensClients, RunningServer, until, visitor

SIZE = (120, 36)
CHICAGO = timezone(timedelta(hours=-6))
FIXED_NOW = datetime(2026, 11, 23, 10, 42, 0, tzinfo=CHICAGO)


def shown(app: LobbyBoard) -> list[str]:
    """The numbers in block letters, top to bottom ("" for an empty line)."""
    return [line.call.number if line.call else "" for line in app.query(CallLine)]


def earlier(app: LobbyBoard) -> list[str]:
    return [line.split()[0] for line in str(app.query_one(EarlierCalls).render()).splitlines()]


def board(server: OpensClients, delay: float = 1.0, **options: Any) -> LobbyBoard:
    """A board on the real stream, reconnecting after ``delay`` seconds (time for a call to be
    missed)."""
    token = server.tokens["display"]
    return LobbyBoard(
        server.url,
        token,
        stream=lambda on: live(server.url, token, on_connection=on, reconnect_delays=(delay,)),
        **options,
    )


async def drop_display_connections(server: RunningServer) -> None:
    """Cut every display's WebSocket from the server side, as a network blip would."""
    for client in list(server.app[OFFICE].hub.clients):
        if client.audience == "public":
            await client.ws.close()


async def open_counters(server: RunningServer, *pairs: tuple[str, str]) -> list[LobbyClient]:
    clerks = []
    for name, counter in pairs:
        clerk = await server.staff(name)
        await clerk.counter_action(counter, "open")
        clerks.append(clerk)
    return clerks


async def finish(clerk: LobbyClient, ticket: p.TicketView) -> None:
    await clerk.ticket_action(ticket.id, "start")
    await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))


async def serve_three_and_miss_one(
    server: RunningServer, called: Callable[[list[str]], Awaitable[None]]
) -> list[str]:
    """Three visits called together and completed, then a fourth called and marked a no-show:
    the screen's "Now serving" must end empty. ``called`` waits until the screen shows the
    three calls in progress. Returns the four numbers, newest first."""
    kiosk = server.kiosk()
    for i, service in enumerate(("billing", "permits", "permits", "billing")):
        await kiosk.check_in(visitor(f"four-{i:04d}", service))
    counters = ("w4", "w1", "w2")  # Window 4 first: it serves only billing
    clerks = await open_counters(server, *zip(("clerk", "clerk2", "clerk3"), counters, strict=True))
    tickets = [await clerk.call_next(c) for clerk, c in zip(clerks, counters, strict=True)]
    await called([t.number for t in reversed(tickets)])
    for clerk, ticket in zip(clerks, tickets, strict=True):
        await finish(clerk, ticket)
    missed = await clerks[1].call_next("w1")
    await clerks[1].ticket_action(missed.id, "no-show")
    return [missed.number, *(t.number for t in reversed(tickets))]


async def test_board_shows_a_call_and_rings_once(server: RunningServer) -> None:
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    app = board(server, announce_sec=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)
        await server.kiosk().check_in(visitor("board-0001", name="Zelda Marchetti"))
        await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001"])
        await pilot.pause()
        assert shown(app)[0] == "P-001"
        first = app.query_one("#now-0", CallLine)
        assert first.call is not None and first.call.counter_name == "Window 1"
        assert first.has_class("-announcing")
        screen = app.export_screenshot()
        assert "Zelda" not in screen and "Marchetti" not in screen
        assert "Now serving · Ahora atendiendo · Hadda la adeegayo" in screen.replace("&#160;", " ")
        await until(lambda: not first.has_class("-announcing"))
        await asyncio.sleep(0.3)
        assert app.announced == ["P-001"]


async def test_finished_visits_leave_now_serving_for_earlier_calls(
    server: RunningServer,
) -> None:
    app = board(server, announce_sec=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)

        async def three_in_progress(numbers: list[str]) -> None:
            await until(lambda: shown(app)[:3] == numbers)
            assert earlier(app) == []

        numbers = await serve_three_and_miss_one(server, three_in_progress)
        await until(lambda: earlier(app) == numbers, what="all four under earlier calls")
        await pilot.pause()
        assert shown(app) == ["", "", "", ""]
        await until(lambda: len(app.announced) == 4, what="each call rung in its turn")
        assert app.announced == numbers[::-1]


async def test_calls_made_together_each_get_their_own_line_and_bell(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("pair-0001"))
    await kiosk.check_in(visitor("pair-0002", "billing"))
    one, two = await open_counters(server, ("clerk", "w3"), ("clerk2", "w4"))
    app = board(server, announce_sec=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)
        await asyncio.gather(one.call_next("w3"), two.call_next("w4"))
        await until(lambda: len(app.announced) == 2)
        assert sorted(app.announced) == ["B-001", "P-001"]
        await pilot.pause()
        assert shown(app)[:2] == app.announced[::-1], "newest on top, rung oldest first"


async def test_calls_on_show_at_start_are_never_rung(server: RunningServer) -> None:
    await server.kiosk().check_in(visitor("start-0001"))
    (clerk,) = await open_counters(server, ("clerk", "w2"))
    await clerk.call_next("w2")
    app = board(server, announce_sec=0.05)
    async with app.run_test(size=SIZE):
        await until(lambda: shown(app)[0] == "P-001")
        await asyncio.sleep(0.3)
        assert app.announced == []


async def test_a_call_missed_while_disconnected_is_rung_once_after_reconnecting(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("blip-0001"))
    await kiosk.check_in(visitor("blip-0002"))
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    app = board(server, announce_sec=0.05)
    async with app.run_test(size=SIZE):
        await until(lambda: app.messages > 0)
        first = await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001"])

        mark = app.query_one("#reconnecting")
        await drop_display_connections(server)
        await until(lambda: mark.has_class("-on"))
        await finish(clerk, first)
        await clerk.call_next("w1")  # made while the board is away
        await until(lambda: not mark.has_class("-on"), timeout=5)
        await until(lambda: shown(app)[0] == "P-002")
        await until(lambda: app.announced == ["P-001", "P-002"])

        await drop_display_connections(server)
        await until(lambda: mark.has_class("-on"))
        await until(lambda: not mark.has_class("-on"), timeout=5)
        await asyncio.sleep(0.3)
        assert app.announced == ["P-001", "P-002"], "a call already rung is not rung again"
        assert earlier(app) == ["P-001"]


async def test_board_resumes_after_a_restart_without_ringing_old_calls(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("old-0001"))
    await kiosk.check_in(visitor("old-0002"))
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    app = board(server, announce_sec=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)
        first = await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001"])

        await server.restart()
        mark = app.query_one("#reconnecting")
        await until(lambda: mark.has_class("-on"))
        await until(lambda: not mark.has_class("-on"), timeout=10)
        await asyncio.sleep(0.3)
        assert app.announced == ["P-001"], "the restart's snapshot rings nothing again"

        clerk = await server.staff("clerk")
        await finish(clerk, first)
        await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001", "P-002"])
        await pilot.pause()
        assert shown(app)[0] == "P-002" and earlier(app) == ["P-001"]


async def test_a_refused_token_is_explained_on_screen(server: RunningServer) -> None:
    app = LobbyBoard(server.url, "not-a-real-token")
    async with app.run_test(size=SIZE) as pilot:
        problem = app.query_one("#problem")
        await until(lambda: problem.has_class("-on"))
        await pilot.pause()
        assert "refused" in str(problem.render()) and "--token" in str(problem.render())


async def test_quitting_while_calls_are_being_rung_is_clean() -> None:
    """The announcement timer may fire while the app is shutting down."""

    async def busy_stream(on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
        on_connection(True)
        snapshot = office_state()
        yield snapshot
        calls = snapshot.state.calls.now_serving * 100
        yield p.StreamPatch(seq=43, at=snapshot.state.now, cause=["ticket.called"], announce=calls)
        await asyncio.Event().wait()

    for pause in (0.0, 0.005, 0.02):
        app = LobbyBoard("http://unused", "unused", stream=busy_stream, announce_sec=0.0005)
        async with app.run_test(size=(80, 24)):
            await until(lambda board=app: len(board.announced) > 1)
            await asyncio.sleep(pause)


def test_main_rejects_a_server_address_without_a_scheme(capsys: Any) -> None:
    assert main(argparse.Namespace(server="lobby.local:8080", token="t")) == 2
    assert "http://" in capsys.readouterr().err
    assert main(argparse.Namespace(server="http://x", token="  ")) == 2


# ------------------------------------------------------------------ snapshots


def call(number: str, counter: str, minutes_ago: int, recall: int = 0) -> p.CallView:
    at = (FIXED_NOW - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")
    ticket = int(number[2:]) + (100 if number[0] == "B" else 0)
    return p.CallView(ticket, at, number, "permits", counter, f"Window {counter[1:]}", recall)


def office_state() -> p.StreamSnapshot:
    def service(
        sid: str, name: str, prefix: str, state: str, waiting: int, low: int, high: int
    ) -> p.ServiceView:
        return p.ServiceView(
            sid, name, prefix, state, "09:00-12:00" if state == "closed" else "08:00-16:30",
            waiting, 4.0, 10.0, p.Estimate(low, high), "", ahead=waiting,
        )  # fmt: skip

    state = p.StateSnapshot(
        seq=42,
        now=FIXED_NOW.isoformat(timespec="seconds"),
        role="display",
        office=p.OfficeView(
            "City Hall Service Center",
            "America/Chicago",
            ["en", "es", "so"],
            "Welcome. Please take a ticket and have a seat.",
            30,
            "http://127.0.0.1:8080",
        ),
        services=[
            service("permits", "Permits and Licensing", "P", "open", 7, 10, 20),
            service("billing", "Utility Billing", "B", "closing", 2, 5, 10),
            service("records", "Vital Records", "R", "closed", 0, 0, 0),
        ],
        counters=[],
        calls=p.CallsView(
            now_serving=[call("P-014", "w3", 1, recall=1), call("B-006", "w4", 2)],
            earlier=[
                call("B-005", "w2", 3),
                call("P-013", "w1", 4),
                call("B-004", "w4", 6),
                call("P-012", "w3", 8),
                call("B-003", "w2", 9),
            ],
        ),
    )
    return p.StreamSnapshot(seq=42, state=state)


async def fixed_stream(on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
    """The office above, then B-006's call announced (highlighted for the whole snapshot)."""
    on_connection(True)
    snapshot = office_state()
    yield snapshot
    yield p.StreamPatch(
        seq=43,
        at=snapshot.state.now,
        cause=["ticket.called"],
        announce=[snapshot.state.calls.now_serving[1]],
    )
    await asyncio.Event().wait()


def fixed_board() -> LobbyBoard:
    return LobbyBoard(
        "http://unused", "unused", stream=fixed_stream, clock=lambda: FIXED_NOW, announce_sec=3600
    )


async def wait_for_state(pilot: Any) -> None:
    await until(lambda: pilot.app.announced == ["B-006"])
    await pilot.pause()


def test_board_snapshot(snap_compare: Any) -> None:
    assert snap_compare(fixed_board(), terminal_size=SIZE, run_before=wait_for_state)


def test_board_snapshot_on_an_80x24_terminal(snap_compare: Any) -> None:
    assert snap_compare(fixed_board(), terminal_size=(80, 24), run_before=wait_for_state)


def test_board_snapshot_on_a_large_wall_terminal(snap_compare: Any) -> None:
    assert snap_compare(fixed_board(), terminal_size=(160, 48), run_before=wait_for_state)


async def test_a_call_made_as_the_server_went_down_is_rung_once_after_its_restart(
    server: RunningServer,
) -> None:
    """The board missed a call (its link was down) and the server then restarted, forgetting
    what it had announced: the restarted server reads the fresh calls back from its log, so the
    board, naming the seq it holds, still rings the one it missed, and only that one."""
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("down-0001"))
    await kiosk.check_in(visitor("down-0002"))
    (clerk,) = await open_counters(server, ("clerk", "w1"))
    app = board(server, delay=4.0, announce_sec=0.05)
    async with app.run_test(size=SIZE):
        await until(lambda: app.messages > 0)
        first = await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001"])
        mark = app.query_one("#reconnecting")
        await drop_display_connections(server)
        await until(lambda: mark.has_class("-on"))
        await finish(clerk, first)
        await clerk.call_next("w1")  # published while the board is away...
        await server.restart()  # ...and the server restarts before it is back
        assert mark.has_class("-on"), "the board was away the whole time"
        await until(lambda: not mark.has_class("-on"), timeout=10)
        await until(lambda: app.announced == ["P-001", "P-002"])
        await asyncio.sleep(0.3)
        assert app.announced == ["P-001", "P-002"]
