"""``/display`` and its endpoints over plain HTTP: who may load them and what they refuse."""

from __future__ import annotations

import aiohttp
import pytest

from server.keys import SPEECH
from tests.conftest import RunningServer


async def get(server: RunningServer, path: str, token: str | None = None) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url + path, headers=headers) as response,
    ):
        return response.status, response.content_type, await response.read()


async def test_page_explains_how_to_sign_in_without_a_token(server: RunningServer) -> None:
    status, kind, body = await get(server, "/display")
    assert (status, kind) == (401, "text/html")
    assert b"not signed in" in body and b"/display?token=" in body


async def test_page_refuses_other_roles_because_their_stream_carries_names(
    server: RunningServer,
) -> None:
    status, kind, body = await get(server, "/display", server.tokens["kiosk"])
    assert (status, kind) == (403, "text/html")
    assert b"for display devices" in body


async def test_page_with_query_token_sets_an_httponly_cookie(server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/display?token={server.tokens['display']}") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        cookie = response.cookies["lobby_token"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        html = await response.text()
    fold, page = html.find('src="/assets/office_state.js"'), html.find('src="/display/display.js"')
    assert 0 < fold < page, "the shared fold loads before the page that uses it"
    status, kind, _ = await get(server, "/assets/office_state.js")
    assert (status, kind) == (200, "text/javascript")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("display.js", "text/javascript"),
        ("display.css", "text/css"),
        ("labels.json", "application/json"),
        ("chime.wav", "audio/wav"),
    ],
)
async def test_page_assets_are_served(server: RunningServer, name: str, kind: str) -> None:
    status, content_type, body = await get(server, f"/display/{name}")
    assert (status, content_type) == (200, kind)
    assert body


async def test_chime_is_a_short_wav(server: RunningServer) -> None:
    _, _, body = await get(server, "/display/chime.wav")
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    assert len(body) < 200_000


@pytest.mark.parametrize("name", ["board.py", "..%2Fboard.py", "display.html.bak", "__init__.py"])
async def test_only_the_listed_assets_are_served(server: RunningServer, name: str) -> None:
    status, _, _ = await get(server, f"/display/{name}")
    assert status == 404


async def test_settings_list_only_languages_with_a_voice(server: RunningServer) -> None:
    status, _, body = await get(server, "/display/settings.json", server.tokens["display"])
    assert status == 200
    assert body == b'{"languages": ["en", "es", "so"], "speech": ["en", "es"]}'


async def test_announcement_is_a_wav(server: RunningServer) -> None:
    status, kind, body = await get(
        server, "/display/announce.wav?number=P-014&counter=w3&lang=en", server.tokens["display"]
    )
    assert (status, kind) == (200, "audio/wav")
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("number=P-014;rm%20-rf&counter=w3&lang=en", 422, "number"),
        ("number=hello&counter=w3&lang=en", 422, "number"),
        ("number=Z-001&counter=w3&lang=en", 422, "number"),
        ("number=P-014&counter=w9&lang=en", 422, "counter"),
        ("number=P-014&counter=w3&lang=de", 422, "lang"),
        ("number=P-014&counter=w3&lang=so", 404, "lang"),
        ("counter=w3&lang=en", 422, "number"),
    ],
)
async def test_announcement_refuses_anything_but_known_numbers_counters_and_voices(
    server: RunningServer, query: str, status: int, field: str
) -> None:
    got, kind, body = await get(server, f"/display/announce.wav?{query}", server.tokens["display"])
    assert (got, kind) == (status, "application/json")
    assert f'"field":"{field}"'.encode() in body


async def test_announcement_needs_the_display_token(server: RunningServer) -> None:
    path = "/display/announce.wav?number=P-014&counter=w3&lang=en"
    assert (await get(server, path))[0] == 401
    assert (await get(server, path, server.tokens["kiosk"]))[0] == 403


async def test_without_espeak_nothing_is_spoken_and_the_page_only_chimes(
    server: RunningServer,
) -> None:
    server.app[SPEECH].program = None  # as on a server without the espeak-ng package
    status, _, body = await get(server, "/display/settings.json", server.tokens["display"])
    assert status == 200 and b'"speech": []' in body
    status, _, _ = await get(
        server, "/display/announce.wav?number=P-014&counter=w3&lang=en", server.tokens["display"]
    )
    assert status == 404
