"""The smaller defences: slow headers, page headers, the cookie over https, WebSocket message
size, open files, and which clerk may act on whose visitor."""

from __future__ import annotations

import asyncio
import dataclasses
import resource
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from lobby import protocol as p
from lobby.client import ApiError
from server.app import raise_open_files_limit
from server.config import OfficeConfig
from tests.conftest import RunningServer, free_port, running_server, seed_accounts, visitor
from tests.test_pages import token_of


@pytest.fixture
async def quick_to_drop(
    tmp_path: Path, office_config: OfficeConfig
) -> AsyncIterator[RunningServer]:
    """A server that gives a connection one second to send its headers."""
    db = tmp_path / "lobby.db"
    running = RunningServer(office_config, db, free_port(), seed_accounts(db), header_timeout=1.0)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_slow_headers_are_cut_off_and_others_still_served(
    quick_to_drop: RunningServer,
) -> None:
    async def slowloris() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", quick_to_drop.port)
        began = time.monotonic()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: lobby\r\n")
        try:
            for n in range(100):  # a header line every 0.2 s, never the blank line
                await writer.drain()
                writer.write(f"X-Slow-{n}: a\r\n".encode())
                try:
                    if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                        break
                except TimeoutError:
                    continue
        except ConnectionError:
            pass
        writer.close()
        return time.monotonic() - began

    held = await asyncio.gather(*(slowloris() for _ in range(50)))
    assert max(held) < 5, f"a slow client held its socket {max(held):.1f} s"
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{quick_to_drop.url}/healthz") as answer,
    ):
        assert answer.status == 200


async def test_every_html_page_carries_a_policy_nosniff_and_no_referrer(
    server: RunningServer,
) -> None:
    ticket = await server.kiosk().check_in(visitor("headers-01"))
    clerk = await server.staff("clerk")
    pages = [
        ("/", None),
        ("/supervisor", None),
        (f"/status/{token_of(ticket)}", None),
        ("/status/not-a-ticket", None),
        ("/display", None),  # not signed in: the how-to page
        ("/display", clerk.token),  # a staff sign-in: refused, with the how-to page
        (f"/display?token={server.tokens['display']}", None),
    ]
    async with aiohttp.ClientSession() as session:
        for path, token in pages:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with session.get(server.url + path, headers=headers) as answer:
                assert answer.content_type == "text/html", path
                assert "default-src" in answer.headers.get("Content-Security-Policy", ""), path
                assert "script-src 'unsafe-inline'" not in answer.headers["Content-Security-Policy"]
                assert answer.headers.get("X-Content-Type-Options") == "nosniff", path
                assert answer.headers.get("Referrer-Policy") == "no-referrer", path
        async with session.get(f"{server.url}/api/nothing-here") as refused:
            assert refused.headers.get("X-Content-Type-Options") == "nosniff"


async def test_the_session_cookie_is_secure_when_the_office_is_served_over_https(
    tmp_path: Path, office_config: OfficeConfig
) -> None:
    config = dataclasses.replace(office_config, public_url="https://lobby.example.org")
    async with running_server(tmp_path, config) as server:
        clerk = await server.staff("super")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/supervisor?token={clerk.token}") as answer,
        ):
            cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_the_stream_closes_on_a_large_client_message(server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{server.url}/ws", headers={"Authorization": f"Bearer {server.tokens['display']}"}
        ) as ws,
    ):
        await ws.receive()  # the snapshot
        await ws.send_str("x" * 64 * 1024)
        while True:
            message = await asyncio.wait_for(ws.receive(), 5)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


def test_the_open_files_limit_is_raised_toward_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        now = raise_open_files_limit()
        assert now == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert now >= min(hard, 65_536) if hard != resource.RLIM_INFINITY else now >= 65_536
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_clerk_describes_only_waiting_visitors_and_those_at_their_own_counter(
    server: RunningServer,
) -> None:
    kiosk = server.kiosk()
    clerk, other, boss = (
        await server.staff("clerk"),
        await server.staff("clerk2"),
        await server.staff("super"),
    )
    await kiosk.check_in(visitor("rule-served"))
    waiting = await kiosk.check_in(visitor("rule-waiting"))
    await clerk.counter_action("w1", "open")
    await other.counter_action("w2", "open")
    served = await clerk.call_next("w1")

    note, flag = p.NoteRequest(text="asked for a form"), p.FlagRequest(reason="raised voice")
    for action, body in (("notes", note), ("flag", flag)):
        with pytest.raises(ApiError) as refused:
            await other.ticket_action(served.id, action, body)
        assert refused.value.status == 403 and "Window 1" in refused.value.message
        await clerk.ticket_action(served.id, action, body)  # their own visitor
        await boss.ticket_action(served.id, action, body)  # a supervisor: anyone's
        await other.ticket_action(waiting.id, action, body)  # nobody's yet: the front desk's

    alert = await clerk.safety_alert("w1", "rule-alert-01")
    with pytest.raises(ApiError) as not_theirs:
        await other.checklist(alert.id, [0], None)
    assert not_theirs.value.status == 403
    await clerk.checklist(alert.id, [0], "moved away")
    await boss.checklist(alert.id, [0, 1], None)
