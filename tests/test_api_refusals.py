"""Bad input gets a clear 4xx with a JSON body, and nothing stored changes."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import RunningServer

LONG = "x" * 5000


async def stored_state(server: RunningServer) -> tuple[int, list[tuple[str, str]]]:
    state = await (await server.staff("super")).state()
    return state.seq, [(t.number, t.state) for t in state.tickets]


async def raw(
    server: RunningServer, method: str, path: str, token: str | None, body: bytes | None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, server.url + path, data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


CHECK_INS = [
    # (body, status, code, field)
    (b"{not json", 400, "malformed_json", None),
    (b"[1, 2]", 422, "invalid", None),
    (b'{"service": 7, "client_request_id": "abcdefgh"}', 422, "invalid", "service"),
    (b'{"client_request_id": "abcdefgh"}', 422, "invalid", "service"),
    (b'{"service": "permits"}', 422, "invalid", "client_request_id"),
    (b'{"service": "permits", "client_request_id": "short"}', 422, "invalid", "client_request_id"),
    (b'{"service": "nope", "client_request_id": "abcdefgh"}', 422, "invalid", "service"),
    (
        b'{"service": "permits", "client_request_id": "abcdefgh", "colour": "red"}',
        422,
        "invalid",
        "colour",
    ),
    (
        f'{{"service": "permits", "client_request_id": "abcdefgh", "name": "{LONG}"}}'.encode(),
        422,
        "invalid",
        "name",
    ),
    (
        b'{"service": "permits", "client_request_id": "abcdefgh", "needs": ["flying"]}',
        422,
        "invalid",
        "needs[0]",
    ),
    (
        b'{"service": "permits", "client_request_id": "abcdefgh", "address_as": "king"}',
        422,
        "invalid",
        "address_as",
    ),
    (
        b'{"service": "permits", "client_request_id": "abcdefgh", "language": "fr"}',
        422,
        "invalid",
        "language",
    ),
    (
        b'{"service": "permits", "client_request_id": "abcdefgh", "appointment": true}',
        403,
        "forbidden",
        "appointment",
    ),
    (b"{" + b'"name": "' + b"y" * 70000 + b'"}', 413, "too_large", None),
]


@pytest.mark.parametrize(("body", "status", "code", "field"), CHECK_INS)
async def test_bad_check_in_is_refused_and_changes_nothing(
    server: RunningServer, body: bytes, status: int, code: str, field: str | None
) -> None:
    before = await stored_state(server)
    got_status, payload = await raw(server, "POST", "/api/tickets", server.tokens["kiosk"], body)
    assert got_status == status, payload
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]
    assert payload["error"].get("field") == field
    assert await stored_state(server) == before


ACCESS = [
    # (method, path, who, status)
    ("POST", "/api/tickets", None, 401),
    ("POST", "/api/tickets", "display", 403),
    ("POST", "/api/tickets", "bogus-token", 401),
    ("GET", "/api/state", None, 401),
    ("POST", "/api/counters/w1/open", "kiosk", 403),
    ("POST", "/api/counters/w1/call-next", "display", 403),
    ("GET", "/api/reports/summary", "kiosk", 403),
    ("POST", "/api/office/notice", "display", 403),
    ("POST", "/api/counters/w9/open", "clerk", 404),
    ("POST", "/api/tickets/999/start", "clerk", 404),
    ("POST", "/api/tickets/abc/start", "clerk", 404),
    # '³'.isdigit() is true and int('³') raises: the path's type decides, not str methods
    ("POST", "/api/tickets/%C2%B3/start", "clerk", 404),
    ("GET", "/api/tickets/%C2%B3", "clerk", 404),
    ("POST", "/api/tickets/0/notes", "clerk", 404),
    ("POST", "/api/tickets/99999999999999999999/flag", "clerk", 404),
    ("POST", "/api/counters/%C2%B3/open", "clerk", 404),
    ("POST", "/api/counters/W1/call-next", "clerk", 404),
    ("GET", "/api/no-such-thing", "clerk", 404),
    ("DELETE", "/api/tickets", "clerk", 405),
]


@pytest.mark.parametrize(("method", "path", "who", "status"), ACCESS)
async def test_missing_auth_wrong_role_and_unknown_ids(
    server: RunningServer, method: str, path: str, who: str | None, status: int
) -> None:
    token = who
    if who in ("kiosk", "display"):
        token = server.tokens[who]
    elif who == "clerk":
        token = (await server.staff("clerk")).token
    before = await stored_state(server)
    body = b'{"service": "permits", "client_request_id": "abcdefgh"}' if method == "POST" else None
    got_status, payload = await raw(server, method, path, token, body)
    assert got_status == status, payload
    assert set(payload["error"]) >= {"code", "message"}
    assert await stored_state(server) == before


async def test_actions_the_state_does_not_allow_get_409_saying_why(server: RunningServer) -> None:
    kiosk = server.kiosk()
    clerk = await server.staff("clerk")
    from lobby import protocol as p
    from lobby.client import ApiError

    ticket = await kiosk.check_in(p.CheckInRequest(service="permits", client_request_id="c-000001"))
    await clerk.counter_action("w1", "open")
    before = await stored_state(server)
    for action in ("start", "recall", "no-show", "complete"):
        with pytest.raises(ApiError) as refused:
            await clerk.ticket_action(ticket.id, action)
        assert refused.value.status == 409
        assert "P-001" in refused.value.message and "waiting" in refused.value.message
    assert await stored_state(server) == before


async def test_a_clerk_cannot_act_on_another_clerks_counter(server: RunningServer) -> None:
    from lobby import protocol as p
    from lobby.client import ApiError

    await server.kiosk().check_in(p.CheckInRequest(service="permits", client_request_id="c-000002"))
    first = await server.staff("clerk")
    second = await server.staff("clerk2")
    await first.counter_action("w1", "open")
    ticket = await first.call_next("w1")
    with pytest.raises(ApiError) as refused:
        await second.ticket_action(ticket.id, "start")
    assert refused.value.status == 403
    with pytest.raises(ApiError) as taken:
        await second.call_next("w1")
    assert taken.value.status == 403


async def test_browser_websocket_from_a_foreign_origin_is_rejected(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as rejected:
            await session.ws_connect(
                server.url + "/ws",
                headers={
                    "Origin": "http://evil.example",
                    "Authorization": f"Bearer {server.tokens['display']}",
                },
            )
        assert rejected.value.status == 403
        ws = await session.ws_connect(
            server.url + "/ws",
            headers={"Origin": server.url, "Authorization": f"Bearer {server.tokens['display']}"},
        )
        first = await ws.receive_json(timeout=3)
        assert first["type"] == "snapshot"
        await ws.close()
