"""Emergency mode on a real server: every audience is told at once, check-in and calling pause
with a clear 409 and nothing stored, the queue comes back in its order, a restart keeps it."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import Any

import aiohttp
import msgspec
import pytest

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient
from server.keys import OFFICE
from tests.conftest import FakeClock, RunningServer, following, until, visitor


async def start(
    client: LobbyClient, kind: str = "evacuate", rid: str | None = None
) -> p.EmergencyView:
    view: p.EmergencyView = await client.request(
        "POST",
        "/api/emergency",
        p.EmergencyStartRequest(kind=kind, request_id=rid),
        p.EmergencyView,
    )
    return view


async def end(client: LobbyClient) -> p.EmergencyEnded:
    ended: p.EmergencyEnded = await client.request(
        "POST", "/api/emergency/end", p.EmptyBody(), p.EmergencyEnded
    )
    return ended


async def ack(client: LobbyClient, emergency: int, counter: str | None = None) -> p.EmergencyScreen:
    screen: p.EmergencyScreen = await client.request(
        "POST",
        "/api/emergency/ack",
        p.EmergencyAckRequest(emergency=emergency, counter=counter),
        p.EmergencyScreen,
    )
    return screen


def logged(server: RunningServer, prefix: str = "") -> list[tuple[str, str]]:
    with sqlite3.connect(server.db) as db:
        return [
            (kind, data)
            for kind, data in db.execute("SELECT kind, data FROM events ORDER BY seq")
            if kind.startswith(prefix)
        ]


async def refused(call: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_every_audience_sees_the_emergency_in_the_first_patch_after_the_command(
    server: RunningServer,
) -> None:
    supervisor = await server.staff("super")
    async with (
        following(server, server.tokens["display"]) as display,
        following(server, server.tokens["kiosk"]) as kiosk,
        following(server, (await server.staff("clerk")).token or "") as clerk,
        following(server, supervisor.token or "") as boss,
    ):
        started = await start(supervisor, "drill")
        screens = (display, kiosk, clerk, boss)
        await until(lambda: all(s.office.emergency is not None for s in screens))
        for screen in screens:
            shown = screen.office.emergency
            assert shown is not None and shown.id == started.id and shown.drill
            assert set(shown.instruction) == {"en", "es", "so"} == set(shown.heading)
            assert shown.heading["en"] == "DRILL"
        assert display.office.emergency and display.office.emergency.screens == []
        assert display.office.emergency.started_by == "", "no staff name on a public screen"
        assert boss.office.emergency and boss.office.emergency.started_by == "super"
        assert display.office.emergency.checklist == [], "the checklist is for staff"
        assert clerk.office.emergency and clerk.office.emergency.checklist
        assert clerk.office.emergency.screens == [], "only supervisors see who acknowledged"
        assert boss.office.emergency and [s.screen for s in boss.office.emergency.screens] == [
            "display:test-display",
            "kiosk:test-kiosk",
        ]
        await end(supervisor)
        await until(lambda: all(s.office.emergency is None for s in screens))


async def test_check_in_and_call_next_are_refused_and_nothing_is_stored(
    server: RunningServer,
) -> None:
    kiosk, clerk, supervisor = (
        server.kiosk(),
        await server.staff("clerk"),
        await server.staff("super"),
    )
    await kiosk.check_in(visitor("before-1"))
    await clerk.counter_action("w1", "open")
    await start(supervisor)
    events = logged(server)
    error = await refused(kiosk.check_in(visitor("during-1", name="Ada Lovelace")))
    assert (error.status, error.code) == (409, "emergency")
    assert error.message == "Check-in is paused: the office is in emergency mode."
    error = await refused(clerk.call_next("w1"))
    assert (error.status, error.code) == (409, "emergency")
    assert logged(server) == events, "a refusal stores nothing"
    again = await kiosk.check_in(visitor("before-1"))
    assert again.number == "P-001", "a retry of a check-in made before is answered as before"


async def test_a_raw_check_in_gets_the_409_body_of_the_contract(server: RunningServer) -> None:
    await start(await server.staff("super"))
    headers = {"Authorization": f"Bearer {server.tokens['kiosk']}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.url + "/api/tickets",
            json={"service": "permits", "client_request_id": "abcdefgh"},
            headers=headers,
        ) as response,
    ):
        assert response.status == 409
        assert await response.json() == {
            "error": {
                "code": "emergency",
                "message": "Check-in is paused: the office is in emergency mode.",
            }
        }


async def test_start_is_idempotent_by_request_id_and_refused_while_one_is_on(
    server: RunningServer,
) -> None:
    supervisor = await server.staff("super")
    first = await start(supervisor, "evacuate", "start-1")
    assert await start(supervisor, "evacuate", "start-1") == first
    assert len(logged(server, "emergency.")) == 1
    error = await refused(start(supervisor, "shelter", "start-1"))
    assert (error.status, error.code, error.field) == (409, "conflict", "request_id")
    error = await refused(start(supervisor, "shelter", "start-2"))
    assert (error.status, error.code) == (409, "emergency_active")
    ended = await end(supervisor)
    assert ended.ended == first.id
    error = await refused(end(supervisor))
    assert (error.status, error.code) == (409, "no_emergency")
    again = await start(supervisor, "evacuate", "start-1")
    assert again.id == first.id, "a start retried after the end is the same emergency"
    assert [kind for kind, _ in logged(server, "emergency.")] == [
        "emergency.started",
        "emergency.ended",
    ]


async def test_an_unknown_kind_is_a_400_naming_the_configured_kinds(server: RunningServer) -> None:
    error = await refused(start(await server.staff("super"), "flood"))
    assert (error.status, error.code, error.field) == (400, "unknown_kind", "kind")
    assert "evacuate, shelter, drill" in error.message


async def test_only_a_supervisor_starts_or_ends_it(server: RunningServer) -> None:
    error = await refused(start(await server.staff("clerk")))
    assert error.status == 403
    error = await refused(start(server.display()))
    assert error.status == 403


async def test_screens_acknowledge_once_and_a_late_ack_is_not_current(
    server: RunningServer,
) -> None:
    supervisor, clerk = await server.staff("super"), await server.staff("clerk")
    await clerk.counter_action("w2", "open")
    started = await start(supervisor)
    shown = await ack(server.display(), started.id)
    assert shown.screen == "display:test-display" and shown.acknowledged_at
    assert await ack(server.display(), started.id) == shown
    by_counter = await ack(clerk, started.id, counter="w2")
    assert (by_counter.screen, by_counter.name) == ("counter:w2", "Window 2")
    assert len(logged(server, "emergency.acknowledged")) == 2, "a second ack stores nothing"
    error = await refused(ack(clerk, started.id))
    assert (error.status, error.field) == (422, "counter")
    error = await refused(ack(await server.staff("clerk2"), started.id, counter="w2"))
    assert error.status == 403, "another clerk's counter"
    error = await refused(ack(server.kiosk(), started.id + 100))
    assert (error.status, error.code) == (409, "not_current")
    state = await supervisor.state()
    assert state.office.emergency is not None
    acked = {s.screen: s.acknowledged_at is not None for s in state.office.emergency.screens}
    assert acked == {"counter:w2": True, "display:test-display": True, "kiosk:test-kiosk": False}
    await end(supervisor)
    error = await refused(ack(server.kiosk(), started.id))
    assert (error.status, error.code) == (409, "not_current")


async def test_a_screen_that_did_not_acknowledge_is_marked_late_by_the_clock(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    supervisor = await server.staff("super")
    async with following(server, supervisor.token or "") as boss:
        started = await start(supervisor)
        clock.advance(seconds=3)
        await ack(server.display(), started.id)
        await until(lambda: boss.office.emergency is not None and boss.office.emergency.screens)

        def late() -> dict[str, bool]:
            shown = boss.office.emergency
            return {s.screen: s.late for s in shown.screens} if shown else {}

        await until(lambda: late() == {"display:test-display": False, "kiosk:test-kiosk": False})
        clock.advance(seconds=p.EMERGENCY_ACK_SEC)
        server.app[OFFICE].tick()
        await until(lambda: late() == {"display:test-display": False, "kiosk:test-kiosk": True})


async def test_the_queue_is_called_in_its_order_after_the_end(server: RunningServer) -> None:
    kiosk, clerk, supervisor = (
        server.kiosk(),
        await server.staff("clerk"),
        await server.staff("super"),
    )
    numbers = [(await kiosk.check_in(visitor(f"queue-{i:03d}"))).number for i in range(4)]
    await clerk.counter_action("w1", "open")
    await start(supervisor)
    await refused(clerk.call_next("w1"))
    await end(supervisor)
    called = []
    for _ in numbers:
        ticket = await clerk.call_next("w1")
        called.append(ticket.number)
        await clerk.ticket_action(ticket.id, "start")
        await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
    assert called == numbers


async def test_a_restart_keeps_the_emergency_and_its_acknowledgements(
    server: RunningServer,
) -> None:
    supervisor = await server.staff("super")
    started = await start(supervisor, "shelter")
    await ack(server.display(), started.id)
    await server.restart()
    state = await (await server.staff("super")).state()
    assert state.office.emergency is not None
    assert (state.office.emergency.id, state.office.emergency.kind) == (started.id, "shelter")
    acked = [s.screen for s in state.office.emergency.screens if s.acknowledged_at]
    assert acked == ["display:test-display"]
    error = await refused(server.kiosk().check_in(visitor("after-restart")))
    assert error.code == "emergency"


async def test_the_emergency_log_and_screens_hold_no_visitor_name(server: RunningServer) -> None:
    kiosk, supervisor = server.kiosk(), await server.staff("super")
    await kiosk.check_in(visitor("named-001", name="Grace Hopper", needs=["wheelchair"]))
    started = await start(supervisor)
    await ack(server.display(), started.id)
    await refused(kiosk.check_in(visitor("named-002", name="Ada Lovelace")))
    await end(supervisor)
    for _, data in logged(server, "emergency."):
        assert "Grace" not in data and "Hopper" not in data and "wheelchair" not in data
    assert not any("Ada" in data for _, data in logged(server))


async def test_a_status_page_shows_the_emergency_at_once_and_no_longer_after(
    server: RunningServer,
) -> None:
    ticket = await server.kiosk().check_in(visitor("status-0001", kiosk_language="so"))
    token = ticket.status_url.split("?")[0].rsplit("/", 1)[1]
    supervisor = await server.staff("super")
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/status/{token}/ws") as ws,
    ):
        first = msgspec.json.decode(await ws.receive_str(), type=p.VisitStatus)
        assert first.emergency is None
        started = await start(supervisor, "evacuate")
        status = msgspec.json.decode(await ws.receive_str(), type=p.VisitStatus)
        while status.emergency is None:
            status = msgspec.json.decode(await ws.receive_str(), type=p.VisitStatus)
        assert status.emergency.id == started.id
        assert status.emergency.instruction["so"] == "Tijaabo: ka bax albaabka kuugu dhow."
        assert status.emergency.screens == [] and status.emergency.checklist == []
        async with http.get(f"{server.url}/status/{token}/json") as response:
            assert (await response.json())["emergency"]["kind"] == "evacuate"
        await end(supervisor)
        while status.emergency is not None:
            status = msgspec.json.decode(await ws.receive_str(), type=p.VisitStatus)


async def test_the_events_log_names_the_emergency_and_its_screens_never_a_visitor(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lobby.events")
    supervisor = await server.staff("super")
    await server.kiosk().check_in(visitor("logged-0001", name="Grace Hopper"))
    started = await start(supervisor, "drill")
    await ack(server.display(), started.id)
    await end(supervisor)
    lines = [r.getMessage() for r in caplog.records if r.name == "lobby.events"]
    emergency = [line for line in lines if line.startswith("emergency.")]
    assert emergency == [
        f"emergency.started seq={started.id} emergency={started.id} emergency_kind=drill",
        f"emergency.acknowledged seq={started.id + 1} emergency={started.id}"
        " screen=display:test-display",
        f"emergency.ended seq={started.id + 2} emergency={started.id}",
    ]
    assert not any("Grace" in line or "Hopper" in line for line in lines)


async def test_a_check_in_a_kiosk_queued_while_cut_off_keeps_its_place_during_one(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    """The visitor left the kiosk with a place promised before it could show the instruction:
    the place is kept, and the wait reported as one the emergency interrupted."""
    server, clock = clocked_server
    kiosk, supervisor = server.kiosk(), await server.staff("super")
    took = clock.now
    clock.advance(minutes=2)
    await start(supervisor)
    clock.advance(minutes=1)
    late = await kiosk.check_in(visitor("queued-0001", arrived_at=took))
    assert late.arrived_at == took.isoformat(timespec="seconds")
    error = await refused(kiosk.check_in(visitor("live-00001")))
    assert error.code == "emergency", "a check-in made now is refused all the same"
    await server.restart()  # the visit records take up the emergency where they left it
    clock.advance(minutes=1)
    second = await server.kiosk().check_in(
        visitor("queued-0002", arrived_at=took + timedelta(minutes=1))
    )
    supervisor = await server.staff("super")
    await end(supervisor)
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    assert (await clerk.call_next("w1")).id == late.id, "first in line, by its arrival"
    report: dict[str, Any] = await supervisor.request("GET", "/api/reports/summary")
    during = report["services"]["permits"]["during_emergencies"]
    assert (during["visits"], during["called"]) == (2, 1)
    assert second.number == "P-002"
