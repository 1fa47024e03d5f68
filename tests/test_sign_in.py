"""Sign-in against guessing, weak passwords and sessions that never end."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from lobby.client import ApiError
from server.auth import hash_password
from server.config import OfficeConfig, parse_config
from server.keys import SESSIONS, SIGN_IN_LIMITS
from server.store.sqlite import SqliteStore
from tests.conftest import CONFIG_PATH, STAFF, RunningServer, running_server

LOBBY = [sys.executable, "-m", "lobby.cli"]


class Later:
    """A clock ``offset`` seconds ahead of ``base``, for limits and sessions."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self.base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self.base() + self.offset


async def sign_in(server: RunningServer, name: str, password: str) -> tuple[int, dict, str]:
    """Status, body and Retry-After of one sign-in."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.url}/api/login", json={"name": name, "password": password}) as r,
    ):
        return r.status, await r.json(), r.headers.get("Retry-After", "")


async def test_five_wrong_passwords_lock_the_name_even_for_the_right_one(
    server: RunningServer,
) -> None:
    clock = Later()
    limits = server.app[SIGN_IN_LIMITS]
    limits.per_name.clock = limits.per_address.clock = clock
    for _ in range(5):
        status, body, _ = await sign_in(server, "clerk", "guess")
        assert (status, body["error"]["code"]) == (401, "bad_credentials")
    status, body, retry = await sign_in(server, "CLERK", STAFF["clerk"])
    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert 0 < int(retry) <= 15 * 60 and "try again in" in body["error"]["message"]
    assert (await sign_in(server, "clerk2", STAFF["clerk2"]))[0] == 200, "others still may"

    clock.offset = 15 * 60 + 1
    assert (await sign_in(server, "clerk", STAFF["clerk"]))[0] == 200


async def test_one_address_trying_many_names_is_stopped(server: RunningServer) -> None:
    # four guesses at each name, under the per-name limit of five: 20 from one address
    names = [*STAFF, *(f"nobody-{n}" for n in range(4))]
    for name in names:
        for _ in range(4 if name in STAFF else 1):
            assert (await sign_in(server, name, "guess"))[0] == 401
    status, body, retry = await sign_in(server, "super", STAFF["super"])
    assert (status, body["error"]["code"]) == (429, "too_many_attempts") and int(retry) > 0


@pytest.fixture
async def real_office(tmp_path: Path, office_config: OfficeConfig) -> AsyncIterator[RunningServer]:
    """The test office without demo mode, with one staff member on a proper password."""
    config = parse_config(CONFIG_PATH.read_text().replace("demo = true", "demo = false"))
    assert not config.security.demo
    async with running_server(tmp_path, config) as running:
        with SqliteStore(running.db).offline() as accounts:
            accounts.add_staff("dana", "clerk", hash_password("a proper long password"))
        yield running


async def test_outside_the_demo_office_demo_and_short_passwords_are_refused(
    real_office: RunningServer,
) -> None:
    status, body, _ = await sign_in(real_office, "clerk", STAFF["clerk"])
    assert (status, body["error"]["code"]) == (403, "weak_password")
    assert "demo passwords" in body["error"]["message"] and "lobby staff add clerk" in str(body)
    assert (await sign_in(real_office, "clerk", "not it at all"))[0] == 401
    assert (await sign_in(real_office, "dana", "a proper long password"))[0] == 200


def test_staff_add_refuses_short_and_demo_passwords(tmp_path: Path) -> None:
    db = str(tmp_path / "lobby.db")
    for password in ("abcd", "super", "nine-char"):
        added = subprocess.run(
            [*LOBBY, "staff", "add", "dana", "--role", "clerk", "--db", db],
            input=password + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 2 and "choose another password" in added.stderr


async def test_a_session_ends_when_idle_too_long_and_after_its_longest_day(
    server: RunningServer,
) -> None:
    sessions = server.app[SESSIONS]
    clock = Later(time.time)
    sessions.clock = clock
    clerk = await server.staff("clerk")
    await clerk.state()
    clock.offset = sessions.idle_sec - 60
    await clerk.state()  # in use: the idle time starts again
    clock.offset += sessions.idle_sec - 60
    await clerk.state()
    clock.offset += sessions.idle_sec + 1
    with pytest.raises(ApiError) as idle:
        await clerk.state()
    assert idle.value.status == 401 and "idle too long" in idle.value.message
    with pytest.raises(ApiError):
        await clerk.state()  # gone, not only refused once

    busy = await server.staff("clerk2")
    for _ in range(int(sessions.max_sec // (sessions.idle_sec / 2)) + 1):
        clock.offset += sessions.idle_sec / 2
        try:
            await busy.state()
        except ApiError as ended:
            assert "signed in too long ago" in ended.message
            break
    else:
        raise AssertionError("a session in constant use never ended")


async def test_sign_out_everywhere_ends_every_session_of_that_person_only(
    server: RunningServer,
) -> None:
    desk, phone, other = (
        await server.staff("clerk"),
        await server.staff("clerk"),
        await server.staff("clerk2"),
    )
    await phone.state()  # cached by the server: the sign-out must reach cached sessions too
    await desk.request("POST", "/api/logout")
    with pytest.raises(ApiError):
        await desk.state()
    await phone.state()  # a plain sign-out ends only its own session

    again = await server.staff("clerk")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{server.url}/api/logout",
            json={"everywhere": True},
            headers={"Authorization": f"Bearer {again.token}"},
        ) as answer,
    ):
        assert answer.status == 200
    for ended in (phone, again):
        with pytest.raises(ApiError) as refused:
            await ended.state()
        assert refused.value.status == 401
    await other.state()
