"""The live stream: snapshot then typed patches, folded to the server's own state, private data
filtered, missed calls announced once, and the clock's changes pushed by the tick."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from datetime import datetime
from pathlib import Path

import aiohttp
import msgspec

from lobby import protocol as p
from lobby.client import decode_stream_message
from server.config import OfficeConfig
from server.keys import OFFICE
from tests.conftest import (
    FakeClock,
    RunningServer,
    following,
    running_server,
    until,
    visitor,
)


async def frames(server: RunningServer, token: str, query: str = "", count: int = 1) -> list[dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws{query}", headers={"Authorization": f"Bearer {token}"}
        ) as ws,
    ):
        return [json.loads((await ws.receive(timeout=3)).data) for _ in range(count)]


def published(server: RunningServer, role: str) -> p.StateSnapshot:
    return server.app[OFFICE].state(role)


def comparable(state: p.StateSnapshot) -> dict:
    """A snapshot without its timestamp, for equality between screens."""
    data = msgspec.to_builtins(state)
    data.pop("now")
    data.pop("role")
    return data


async def busy_morning(server: RunningServer) -> p.TicketView:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(
        p.CheckInRequest(
            service="permits",
            client_request_id="private-1",
            name="Ayaan Hirsi",
            address_as="ms",
            language="so",
            needs=["interpreter"],
        )
    )
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text="Ayaan needs form 12"))
    await clerk.ticket_action(ticket.id, "flag", p.FlagRequest(reason="raised voice"))
    await clerk.ticket_action(ticket.id, "start")
    await clerk.safety_alert("w1", "alert-req-1")
    return ticket


async def test_every_screen_folds_to_the_state_the_server_published(
    server: RunningServer,
) -> None:
    supervisor = await server.staff("super")
    clerk = await server.staff("clerk")
    async with (
        following(server, server.tokens["display"]) as display,
        following(server, supervisor.token or "") as boss,
        following(server, clerk.token or "") as desk,
    ):
        ticket = await busy_morning(server)
        await server.kiosk().check_in(visitor("second-01", service="billing"))
        await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
        seq = server.app[OFFICE].published_seq
        await until(lambda: display.seq == boss.seq == desk.seq == seq, what="all caught up")
        assert comparable(display.snapshot()) == comparable(published(server, "display"))
        assert comparable(boss.snapshot()) == comparable(published(server, "supervisor"))
        assert comparable(desk.snapshot()) == comparable(published(server, "clerk"))
        fresh = await supervisor.state()
        assert comparable(fresh) == comparable(boss.snapshot())


async def test_a_finished_visit_leaves_now_serving_at_once(server: RunningServer) -> None:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    first = await kiosk.check_in(visitor("serve-001"))
    second = await kiosk.check_in(visitor("serve-002"))
    await clerk.counter_action("w1", "open")
    async with following(server, server.tokens["display"]) as display:
        await clerk.call_next("w1")
        await until(lambda: [c.number for c in display.calls.now_serving] == [first.number])
        await clerk.ticket_action(first.id, "start")
        await clerk.ticket_action(first.id, "complete", p.CompleteRequest(needs_met=True))
        await until(lambda: not display.calls.now_serving, what="done leaves now serving")
        assert [c.number for c in display.calls.earlier] == [first.number]
        await clerk.call_next("w1")
        await clerk.ticket_action(second.id, "no-show")
        numbers = [second.number, first.number]
        await until(lambda: [c.number for c in display.calls.earlier] == numbers)
        assert display.calls.now_serving == []


async def test_a_call_is_announced_once_and_carries_no_name(server: RunningServer) -> None:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(visitor("announce-1", name="Secret Person"))
    await clerk.counter_action("w1", "open")
    first = (await frames(server, server.tokens["display"]))[0]
    assert first["type"] == "snapshot" and "announce" not in first
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws", headers={"Authorization": f"Bearer {server.tokens['display']}"}
        ) as ws,
    ):
        await ws.receive(timeout=3)  # the snapshot
        await clerk.call_next("w1")
        raw = (await ws.receive(timeout=3)).data
    assert "Secret" not in raw
    patch = decode_stream_message(raw)
    assert isinstance(patch, p.StreamPatch) and patch.cause == ["ticket.called"]
    assert [(c.number, c.counter_name) for c in patch.announce] == [(ticket.number, "Window 1")]
    assert patch.calls is not None and patch.calls.now_serving[0].number == ticket.number


async def test_a_reconnecting_display_hears_the_calls_it_missed_once(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    await kiosk.check_in(visitor("missed-01"))
    await kiosk.check_in(visitor("missed-02"))
    await clerk.counter_action("w1", "open")
    seen = (await frames(server, server.tokens["display"]))[0]["seq"]
    await clerk.call_next("w1")
    back = (await frames(server, server.tokens["display"], f"?since={seen}"))[0]
    assert back["type"] == "snapshot"
    assert [c["number"] for c in back["announce"]] == ["P-001"]
    caught_up = (await frames(server, server.tokens["display"], f"?since={back['seq']}"))[0]
    assert "announce" not in caught_up, "a call already heard is not announced again"
    clock.advance(minutes=3)
    late = (await frames(server, server.tokens["display"], f"?since={seen}"))[0]
    assert "announce" not in late, "a call three minutes old sends nobody to the counter"
    assert late["state"]["calls"]["now_serving"][0]["number"] == "P-001"


async def test_displays_never_receive_private_data_or_safety_alerts(
    server: RunningServer,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws", headers={"Authorization": f"Bearer {server.tokens['display']}"}
        ) as ws,
    ):
        await busy_morning(server)
        await asyncio.sleep(0.3)
        display_text = ""
        with contextlib.suppress(TimeoutError):
            while True:
                display_text += (await ws.receive(timeout=0.5)).data
    display_text += json.dumps(await frames(server, server.tokens["display"]))
    for secret in (
        "Ayaan",
        "Hirsi",
        "interpreter",
        "form 12",
        "raised voice",
        '"language"',
        '"needs"',
        "alert",
        "ticket.noted",
        "ticket.flagged",
    ):
        assert secret not in display_text, secret
    supervisor = await server.staff("super")
    staff_text = json.dumps(await frames(server, supervisor.token or ""))
    assert "Ayaan Hirsi" in staff_text and '"alerts"' in staff_text
    clerk = await server.staff("clerk2")
    clerk_text = json.dumps(await frames(server, clerk.token or ""))
    assert "Ayaan Hirsi" in clerk_text and '"alerts"' not in clerk_text


async def test_a_transfer_patch_frees_the_counter_and_keeps_priority_private(
    server: RunningServer,
) -> None:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(
        p.CheckInRequest(service="billing", client_request_id="transfer-1", needs=["wheelchair"])
    )
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    async with (
        following(server, server.tokens["display"]) as display,
        following(server, clerk.token or "") as desk,
    ):
        moved = await clerk.ticket_action(
            ticket.id, "transfer", p.TransferRequest(service="records")
        )
        assert moved.state == "waiting" and moved.arrived_at == ticket.arrived_at
        assert moved.priority is True and moved.head_start == "wheelchair"
        await until(lambda: display.counters["w1"].state == "open")
        await until(lambda: desk.tickets[ticket.id].service == "records")
    assert display.tickets == {}, "displays hold no tickets"


async def test_the_tick_pushes_what_the_clock_alone_moved(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    office = server.app[OFFICE]
    clerk = await server.staff("clerk")
    await server.kiosk().check_in(visitor("tick-0001"))
    await clerk.counter_action("w1", "open")
    await clerk.counter_action("w1", "break")
    async with following(server, clerk.token or "") as desk:
        target = desk.services["permits"].target_wait_min
        assert desk.services["permits"].wait_level == "ok"
        clock.advance(minutes=target + 1)
        office.tick()
        await until(lambda: desk.services["permits"].wait_level == "over", what="wait over target")
        waiting = next(iter(desk.tickets.values()))
        assert waiting.waited_min == int(target + 1) and waiting.wait_level == "over"
        assert desk.seq == office.published_seq, "a tick moves no seq"
        before = desk.seq
        office.tick()  # nothing moved: nothing is sent
        await asyncio.sleep(0.1)
        assert desk.seq == before


async def test_an_idle_counter_is_nudged_only_after_the_grace_period(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    config = dataclasses.replace(office_config, idle_nudge_sec=60)
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=config.tz))
    async with running_server(tmp_path, config, clock) as server:
        office = server.app[OFFICE]
        clerk = await server.staff("clerk")
        await server.kiosk().check_in(visitor("grace-001"))
        await clerk.counter_action("w1", "open")
        async with following(server, clerk.token or "") as desk:
            assert desk.counters["w1"].idle_nudge is None, "a counter that just opened"
            clock.advance(seconds=59)
            office.tick()
            await asyncio.sleep(0.1)
            assert desk.counters["w1"].idle_nudge is None
            clock.advance(seconds=2)
            office.tick()
            await until(lambda: desk.counters["w1"].idle_nudge is not None, what="the nudge")
            assert desk.counters["w1"].idle_while_waiting_sec == 61


async def test_idle_while_waiting_on_screens_is_today_s(
    clocked_server: tuple[RunningServer, FakeClock],
) -> None:
    server, clock = clocked_server
    office = server.app[OFFICE]
    clerk = await server.staff("clerk")
    await server.kiosk().check_in(visitor("idle-day-1"))
    await clerk.counter_action("w1", "open")
    async with following(server, clerk.token or "") as desk:
        clock.advance(seconds=120)
        office.tick()
        await until(lambda: desk.counters["w1"].idle_while_waiting_sec == 120)
        clock.advance(days=1)
        await office.housekeep()  # yesterday's visitor is closed at the end of the day
        office.tick()
        await until(lambda: desk.counters["w1"].idle_while_waiting_sec == 0, what="a new day")
