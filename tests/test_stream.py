"""The live stream: resume without gaps, fresh snapshot when too old, private data filtered."""

from __future__ import annotations

import json

import aiohttp

from lobby import protocol as p
from server.keys import OFFICE
from server.stream import REPLAY_LIMIT
from tests.conftest import RunningServer


async def frames(server: RunningServer, token: str, query: str = "", count: int = 1) -> list[dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws{query}", headers={"Authorization": f"Bearer {token}"}
        ) as ws,
    ):
        return [json.loads((await ws.receive(timeout=3)).data) for _ in range(count)]


async def busy_morning(server: RunningServer) -> None:
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


async def test_resume_sends_exactly_what_was_missed(server: RunningServer) -> None:
    first = (await frames(server, server.tokens["display"]))[0]
    assert first["type"] == "snapshot"
    await busy_morning(server)
    missed = await frames(server, server.tokens["display"], f"?since={first['seq']}", count=4)
    kinds = [m["kind"] for m in missed]
    assert kinds == ["ticket.checked_in", "counter.opened", "ticket.called", "ticket.started"]
    seqs = [m["seq"] for m in missed]
    assert seqs == sorted(seqs) and seqs[0] == first["seq"] + 1


async def test_a_resume_older_than_the_buffer_gets_a_fresh_snapshot(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    for i in range(3):
        await kiosk.check_in(p.CheckInRequest(service="billing", client_request_id=f"old-{i:05d}"))
    hub = server.app[OFFICE].hub
    while len(hub.buffer) > 1:
        hub.buffer.popleft()  # as if REPLAY_LIMIT events had passed since
    assert REPLAY_LIMIT >= 1000
    message = (await frames(server, server.tokens["display"], "?since=1"))[0]
    assert message["type"] == "snapshot" and message["seq"] == hub.last_seq
    assert message["state"]["services"][1]["waiting"] == 3


async def test_displays_never_receive_private_data_or_safety_alerts(
    server: RunningServer,
) -> None:
    await busy_morning(server)
    display_text = json.dumps(await frames(server, server.tokens["display"], "?since=0", 4))
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
    ):
        assert secret not in display_text, secret
    supervisor = await server.staff("super")
    staff_text = json.dumps(await frames(server, supervisor.token or "", "?since=0", 7))
    assert "Ayaan Hirsi" in staff_text and "alert.raised" in staff_text
    clerk = await server.staff("clerk2")
    clerk_text = json.dumps(await frames(server, clerk.token or "", "?since=0", 6))
    assert "Ayaan Hirsi" in clerk_text and "alert.raised" not in clerk_text


async def test_a_transfer_event_carries_the_counter_it_freed(server: RunningServer) -> None:
    kiosk, clerk = server.kiosk(), await server.staff("clerk")
    ticket = await kiosk.check_in(
        p.CheckInRequest(service="billing", client_request_id="transfer-1", needs=["wheelchair"])
    )
    await clerk.counter_action("w1", "open")
    await clerk.call_next("w1")
    await clerk.ticket_action(ticket.id, "start")
    start = server.app[OFFICE].hub.last_seq
    moved = await clerk.ticket_action(ticket.id, "transfer", p.TransferRequest(service="records"))
    assert moved.state == "waiting" and moved.arrived_at == ticket.arrived_at
    assert moved.priority is True, "staff see the priority flag"
    event = (await frames(server, server.tokens["display"], f"?since={start}"))[0]
    assert event["kind"] == "ticket.transferred"
    assert event["counter"]["id"] == "w1" and event["counter"]["state"] == "open"
    assert "priority" not in event["ticket"], "priority hints at a need: staff only"
