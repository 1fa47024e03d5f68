"""The web pages over plain HTTP: what the public status page sends, and what it never sends."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec
import pytest

from lobby import protocol as p
from tests.conftest import RunningServer, visitor

PRIVATE_KEYS = {"name", "address_as", "addressed_as", "language", "needs", "notes", "flagged"}


def token_of(ticket: p.TicketView) -> str:
    """The secret part of the QR code's address (it may carry ``?lang=`` after it)."""
    return ticket.status_url.split("?", 1)[0].rsplit("/", 1)[1]


async def visit_with_private_details(server: RunningServer) -> p.TicketView:
    """A visit that carries every kind of private data the server stores."""
    ticket = await server.kiosk().check_in(
        visitor(
            "pages-0001",
            name="Maria Garcia",
            address_as="ms",
            language="es",
            needs=["wheelchair", "interpreter"],
        )
    )
    clerk = await server.staff("clerk")
    await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text="Prefers Spanish forms"))
    await clerk.ticket_action(ticket.id, "flag", p.FlagRequest(reason="Raised voice at desk"))
    return ticket


def all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


async def test_status_json_never_carries_name_needs_or_notes(server: RunningServer) -> None:
    ticket = await visit_with_private_details(server)
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    bodies = []
    async with aiohttp.ClientSession() as http:
        url = f"{server.url}/status/{token_of(ticket)}/json"
        for step in ("waiting", "called", "serving"):
            if step == "called":
                await clerk.call_next("w1")
            if step == "serving":
                await clerk.ticket_action(ticket.id, "start")
            async with http.get(url) as response:
                assert response.status == 200
                assert response.headers["Cache-Control"] == "no-store"
                bodies.append((await response.text(), await response.json()))
    for text, data in bodies:
        for secret in ("Maria", "Garcia", "wheelchair", "interpreter", "Spanish", "Raised voice"):
            assert secret not in text
        # Of the private details only the holder's own language, to speak to them in it.
        assert data["language"] == "es"
        assert not all_keys(data["ticket"]) & PRIVATE_KEYS
        assert not (all_keys(data) - {"language"}) & PRIVATE_KEYS
    assert [data["ticket"]["state"] for _, data in bodies] == ["waiting", "called", "serving"]
    assert bodies[1][1]["ticket"]["counter_name"] == "Window 1"
    assert bodies[0][1]["info"] == "Bring a photo ID and proof of address."


async def test_unknown_token_gets_a_friendly_page_not_an_error_dump(
    server: RunningServer,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/status/no-such-ticket") as page:
            assert page.status == 404
            assert page.content_type == "text/html"
            html = await page.text()
        async with http.get(f"{server.url}/status/no-such-ticket/json") as data:
            assert data.status == 404
            assert (await data.json())["error"]["code"] == "not_found"
    assert "We could not find this ticket" in html
    assert "front desk" in html and "recepción" in html and "miiska hore" in html
    assert "Test City Hall" in html
    assert '"error"' not in html


async def test_status_page_is_served_with_a_strict_policy(server: RunningServer) -> None:
    ticket = await server.kiosk().check_in(visitor("pages-0002", "billing", name="Ann Lee"))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/status/{token_of(ticket)}") as page:
            assert page.status == 200 and page.content_type == "text/html"
            html = await page.text()
            policy = page.headers["Content-Security-Policy"]
            assert page.headers["Referrer-Policy"] == "no-referrer"
        async with http.get(f"{server.url}/status/assets/status.js") as script:
            assert script.status == 200 and script.content_type == "text/javascript"
        async with http.get(f"{server.url}/status/assets/../pages.py") as outside:
            assert outside.status == 404
    assert '<script src="/status/assets/status.js"' in html
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "Ann Lee" not in html


async def test_supervisor_page_is_served_to_anyone_and_holds_no_data(
    server: RunningServer,
) -> None:
    await server.kiosk().check_in(visitor("pages-0003", "billing", name="Ann Lee"))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/supervisor") as page:
            assert page.status == 200 and page.content_type == "text/html"
            html = await page.text()
            policy = page.headers["Content-Security-Policy"]
        async with http.get(f"{server.url}/supervisor/assets/supervisor.js") as script:
            assert script.status == 200
        async with http.get(f"{server.url}/supervisor/assets/secrets.txt") as missing:
            assert missing.status == 404
        async with http.get(f"{server.url}/api/state") as state:
            assert state.status == 401
    assert 'id="signin"' in html and "B-001" not in html and "Ann Lee" not in html
    assert f"connect-src 'self' ws://127.0.0.1:{server.port} " in policy
    assert "unsafe-inline" not in policy


async def test_status_json_says_nothing_of_the_other_visitors(server: RunningServer) -> None:
    """Two visitors in the same line: each page knows its own visit and no one else's."""
    kiosk = server.kiosk()
    maria = await visit_with_private_details(server)
    ahmed = await kiosk.check_in(
        visitor(
            "pages-0004",
            name="Ahmed Hassan",
            address_as="mr",
            kiosk_language="so",
            needs=["hearing"],
        )
    )
    clerk = await server.staff("clerk")
    await clerk.ticket_action(ahmed.id, "notes", p.NoteRequest(text="Brings a cousin along"))
    async with aiohttp.ClientSession() as http:

        async def status(ticket: p.TicketView) -> tuple[str, dict[str, Any]]:
            async with http.get(f"{server.url}/status/{token_of(ticket)}/json") as response:
                return await response.text(), await response.json()

        maria_text, maria_data = await status(maria)
        ahmed_text, ahmed_data = await status(ahmed)
    for secret in ("Ahmed", "Hassan", "hearing", "cousin", ahmed.number, token_of(ahmed)):
        assert secret not in maria_text
    for secret in ("Maria", "Garcia", "wheelchair", "interpreter", "Spanish", maria.number):
        assert secret not in ahmed_text
    assert (maria_data["language"], ahmed_data["language"]) == ("es", "so")
    assert (ahmed_data["ticket"]["number"], ahmed_data["ticket"]["position"]) == (ahmed.number, 2)


async def test_the_status_stream_follows_one_visit_and_nothing_private(
    server: RunningServer,
) -> None:
    """Each message is the visit's whole status, sent when a published patch moved that visit:
    the place in line after a call ahead, the call itself; never a name, a need or a note, and
    never another visit's status."""
    later = await server.kiosk().check_in(visitor("pages-stream-0001"))
    ticket = await visit_with_private_details(server)  # a wheelchair: a head start
    clerk = await server.staff("clerk")
    await clerk.counter_action("w1", "open")
    raw: list[str] = []
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/status/{token_of(ticket)}/ws") as mine,
        http.ws_connect(f"{server.url}/status/{token_of(later)}/ws") as theirs,
    ):

        async def next_status(ws: aiohttp.ClientWebSocketResponse) -> p.VisitStatus:
            message = await ws.receive_str(timeout=10)
            raw.append(message)
            return msgspec.json.decode(message, type=p.VisitStatus)

        first = await next_status(mine)
        assert (first.ticket.id, first.ticket.state, first.ticket.position) == (
            ticket.id,
            "waiting",
            1,
        )
        assert first.language == "es" and first.office == "Test City Hall"
        before = await next_status(theirs)
        assert (before.ticket.id, before.ticket.position) == (later.id, 2)

        await clerk.call_next("w1")
        called = await next_status(mine)
        assert called.ticket.state == "called" and called.ticket.counter_name == "Window 1"
        assert called.seq > first.seq
        moved = await next_status(theirs)
        assert (moved.ticket.id, moved.ticket.state, moved.ticket.position) == (
            later.id,
            "waiting",
            1,
        )

        await clerk.ticket_action(ticket.id, "start")
        await clerk.ticket_action(ticket.id, "notes", p.NoteRequest(text="Prefers large print"))
        await clerk.ticket_action(ticket.id, "complete", p.CompleteRequest(needs_met=True))
        while (status := await next_status(mine)).ticket.state != "done":
            assert status.ticket.id == ticket.id
    for message in raw:
        for private in ("Maria", "Garcia", "wheelchair", "interpreter", "Prefers", "Raised"):
            assert private not in message


async def test_the_status_stream_refuses_unknown_visits_and_foreign_pages(
    server: RunningServer,
) -> None:
    ticket = await server.kiosk().check_in(visitor("pages-stream-0101"))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/status/no-such-ticket/ws") as unknown:
            assert unknown.status == 404
            assert (await unknown.json())["error"]["code"] == "not_found"
        url = f"{server.url}/status/{token_of(ticket)}/ws"
        headers = {"Origin": "http://elsewhere.example"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with http.ws_connect(url, headers=headers):
                pass
        assert refused.value.status == 403
