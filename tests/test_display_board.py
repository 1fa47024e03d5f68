"""The terminal lobby board (``lobby display``) with Textual's pilot, against a real server."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from display.board import LobbyBoard, main
from display.call_lines import CallLine
from lobby import protocol as p
from lobby.client import StreamMessage
from tests.conftest import RunningServer, until, visitor

SIZE = (120, 36)
CHICAGO = timezone(timedelta(hours=-6))
FIXED_NOW = datetime(2026, 11, 23, 10, 42, 0, tzinfo=CHICAGO)


def shown(app: LobbyBoard) -> list[str]:
    return [line.call.number if line.call else "" for line in app.query(CallLine)]


async def test_board_shows_a_call_and_rings_once(server: RunningServer) -> None:
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    app = LobbyBoard(server.url, server.tokens["display"], announce_sec=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)
        await server.kiosk().check_in(visitor("board-0001", name="Zelda Marchetti"))
        await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-001"])
        await pilot.pause()
        assert shown(app)[0] == "P-001"
        first = app.query_one("#now-0", CallLine)
        assert first.call is not None and first.call.counter_name == "Window 1"
        screen = app.export_screenshot()
        assert "Zelda" not in screen and "Marchetti" not in screen
        assert "Now serving · Ahora atendiendo · Hadda la adeegayo" in screen.replace("&#160;", " ")
        await asyncio.sleep(0.4)
        assert app.announced == ["P-001"]


async def test_two_calls_at_once_each_get_their_own_line_and_bell(server: RunningServer) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("pair-0001"))
    await kiosk.check_in(visitor("pair-0002", "billing"))
    one, two = await server.staff("clerk"), await server.staff("clerk2")
    await one.counter_action("w3", "open")
    await two.counter_action("w4", "open")
    app = LobbyBoard(server.url, server.tokens["display"], announce_sec=0.1)
    async with app.run_test(size=SIZE):
        await until(lambda: app.messages > 0)
        await asyncio.gather(one.call_next("w3"), two.call_next("w4"))
        await until(lambda: len(app.announced) == 2)
        assert sorted(app.announced) == ["B-001", "P-001"]
        assert shown(app)[:2] == app.announced[::-1]


async def test_board_resumes_after_a_restart_without_ringing_old_calls(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    await kiosk.check_in(visitor("old-0001"))
    await kiosk.check_in(visitor("old-0002"))
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    first = await clerk.call_next("w1")
    app = LobbyBoard(server.url, server.tokens["display"], announce_sec=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.messages > 0)
        assert shown(app)[0] == "P-001" and app.announced == [], "history is not rung"

        await server.restart()
        mark = app.query_one("#reconnecting")
        await until(lambda: mark.has_class("-on"))
        await until(lambda: not mark.has_class("-on"), timeout=10)

        clerk = await server.staff("clerk")
        await clerk.ticket_action(first.id, "start")
        await clerk.ticket_action(first.id, "complete", p.CompleteRequest(needs_met=True))
        await clerk.call_next("w1")
        await until(lambda: app.announced == ["P-002"])
        await pilot.pause()
        assert shown(app)[:2] == ["P-002", "P-001"]


async def test_a_refused_token_is_explained_on_screen(server: RunningServer) -> None:
    app = LobbyBoard(server.url, "not-a-real-token")
    async with app.run_test(size=SIZE) as pilot:
        problem = app.query_one("#problem")
        await until(lambda: problem.has_class("-on"))
        await pilot.pause()
        assert "refused" in str(problem.render()) and "--token" in str(problem.render())


def test_main_rejects_a_server_address_without_a_scheme(capsys: Any) -> None:
    assert main(argparse.Namespace(server="lobby.local:8080", token="t")) == 2
    assert "http://" in capsys.readouterr().err
    assert main(argparse.Namespace(server="http://x", token="  ")) == 2


# ------------------------------------------------------------------ snapshots


def office_state() -> p.StreamSnapshot:
    def service(
        sid: str, name: str, prefix: str, state: str, waiting: int, low: int, high: int
    ) -> p.ServiceView:
        return p.ServiceView(
            sid, name, prefix, state, "09:00-12:00" if state == "closed" else "08:00-16:30",
            waiting, 4.0, 10.0, p.Estimate(low, high), "",
        )  # fmt: skip

    def call(number: str, counter: str, minutes_ago: int, recall: int = 0) -> p.CallView:
        at = (FIXED_NOW - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")
        return p.CallView(0, at, number, "permits", counter, f"Window {counter[1:]}", recall)

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
        recent_calls=[
            call("P-014", "w3", 1, recall=1),
            call("B-006", "w4", 2),
            call("B-005", "w2", 3),
            call("P-013", "w1", 4),
            call("B-004", "w4", 6),
            call("P-012", "w3", 8),
            call("B-003", "w2", 9),
        ],
    )
    return p.StreamSnapshot(seq=42, type="snapshot", state=state)


async def fixed_stream(on_connection: Callable[[bool], None]) -> AsyncIterator[StreamMessage]:
    on_connection(True)
    yield office_state()
    await asyncio.Event().wait()


def fixed_board() -> LobbyBoard:
    return LobbyBoard("http://unused", "unused", stream=fixed_stream, clock=lambda: FIXED_NOW)


async def wait_for_state(pilot: Any) -> None:
    await until(lambda: pilot.app.messages > 0)
    await pilot.pause()


def test_board_snapshot(snap_compare: Any) -> None:
    assert snap_compare(fixed_board(), terminal_size=SIZE, run_before=wait_for_state)


def test_board_snapshot_on_a_large_wall_terminal(snap_compare: Any) -> None:
    assert snap_compare(fixed_board(), terminal_size=(160, 48), run_before=wait_for_state)
