"""A check-in answered 201 survives the server process being killed; counters never share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from datetime import datetime
from pathlib import Path

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient, ServerUnreachable
from server.engine import Event, Ticket
from server.keys import OFFICE
from tests.conftest import RunningServer, free_port, seed_accounts, visitor
from tests.server_process import start_server_process


async def test_sigkill_during_a_burst_keeps_every_answered_check_in(tmp_path: Path) -> None:
    db = tmp_path / "lobby.db"
    tokens = seed_accounts(db)
    port = free_port()
    process = await start_server_process(db, port)
    answered: dict[str, p.TicketView] = {}
    url = f"http://127.0.0.1:{port}"

    async def kiosk(worker: int) -> None:
        async with LobbyClient(url, tokens["kiosk"], timeout=2) as client:
            for i in range(1000):
                request = p.CheckInRequest(
                    service="permits", client_request_id=f"burst-{worker:02d}-{i:04d}"
                )
                try:
                    answered[request.client_request_id] = await client.check_in(request)
                except (ServerUnreachable, ApiError):
                    return

    workers = [asyncio.create_task(kiosk(w)) for w in range(16)]
    while len(answered) < 150:
        await asyncio.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    await asyncio.gather(*workers)

    process = await start_server_process(db, port)
    try:
        async with LobbyClient(url) as supervisor:
            await supervisor.login("super", "super")
            state = await supervisor.state()
        kept = {t.id: t.number for t in state.tickets}
        for ticket in answered.values():
            assert kept.get(ticket.id) == ticket.number, f"{ticket.number} was answered but lost"
        assert len(set(kept.values())) == len(kept), "a number was issued twice"
        async with LobbyClient(url, tokens["kiosk"]) as client:
            some_id, some_ticket = next(iter(answered.items()))
            retried = await client.check_in(
                p.CheckInRequest(service="permits", client_request_id=some_id)
            )
            assert retried.id == some_ticket.id, "a retry after the crash made a duplicate"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_concurrent_retries_of_one_check_in_make_one_ticket(server: RunningServer) -> None:
    kiosk = server.kiosk()
    request = p.CheckInRequest(service="billing", client_request_id="same-request-1")
    tickets = await asyncio.gather(*(kiosk.check_in(request) for _ in range(10)))
    assert len({t.id for t in tickets}) == 1
    state = await (await server.staff("super")).state()
    assert [t.number for t in state.tickets] == ["B-001"]


async def test_a_command_cancelled_mid_commit_is_kept_and_stops_nothing(
    server: RunningServer,
) -> None:
    """A caller that goes away while its check-in is being committed (a dropped request, a
    stop) does not cancel the write: the visit is kept and published, and the office goes on
    publishing everything after it."""
    office = server.app[OFFICE]
    engine = office.engine

    def check_in(now: datetime) -> tuple[Ticket, list[Event]]:
        return engine.check_in(
            now, service="permits", request_id="cancelled-0001", status_token="cancelled-tok"
        )

    caller = asyncio.create_task(office.run(check_in))
    await asyncio.sleep(0)  # decided, applied and handed to the store
    caller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await caller
    boss = await server.staff("super")
    after = await server.kiosk().check_in(visitor("after-cancel-01"))
    state = await boss.state()
    numbers = sorted(t.number for t in state.tickets)
    assert numbers == ["P-001", "P-002"] and after.number == "P-002"
    assert office.published_seq == office.store.last_seq
