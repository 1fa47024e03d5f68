"""The clerk's session: one HTTP client, the token, and plain-language failures.

Every command the terminal sends goes through :meth:`Session.attempt`, so a refusal or a lost
connection always reaches the clerk as a sentence, never as a traceback. A rejected token
(the session was revoked) sends the terminal back to the sign-in screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lobby import protocol as p
from lobby.client import ApiError, LobbyClient, ServerUnreachable

T = TypeVar("T")
UNREACHABLE = "The server cannot be reached. Check the network and try again."
SIGNED_OUT = "Your session has ended. Please sign in again."


@dataclass
class Outcome(Generic[T]):
    result: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def sentence(message: str) -> str:
    """Server messages are lower-case fragments ("nobody Window 1 serves is waiting")."""
    message = message.strip()
    if not message:
        return "The server refused this."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


class Session:
    def __init__(self, server_url: str, counter_id: str, timeout: float = 5.0) -> None:
        self.server_url = server_url.rstrip("/")
        self.counter_id = counter_id
        self.timeout = timeout
        self.on_signed_out: Callable[[], None] | None = None
        self._client: LobbyClient | None = None

    @property
    def client(self) -> LobbyClient:
        """Created on first use, inside the app's running event loop (aiohttp needs one)."""
        if self._client is None:
            self._client = LobbyClient(self.server_url, timeout=self.timeout)
        return self._client

    @property
    def token(self) -> str | None:
        return self._client.token if self._client else None

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    async def sign_in(self, name: str, password: str) -> Outcome[p.CounterView]:
        """Sign in and open the counter in one step: a clerk at 8 a.m. wants one step."""
        if not name.strip() or not password:
            return Outcome(error="Enter your name and your password.")
        try:
            await self.client.login(name.strip(), password)
        except ApiError as exc:
            if exc.status == 401:
                return Outcome(error="That name or password is not right. Please try again.")
            return Outcome(error=sentence(exc.message))
        except ServerUnreachable:
            return Outcome(error=UNREACHABLE)
        opened = await self.attempt(lambda c: c.counter_action(self.counter_id, "open"))
        if not opened.ok:
            self.client.token = None
        return opened

    def sign_out(self) -> None:
        if self._client is not None:
            self._client.token = None

    async def attempt(self, call: Callable[[LobbyClient], Awaitable[T]]) -> Outcome[T]:
        try:
            return Outcome(result=await call(self.client))
        except asyncio.CancelledError:
            raise
        except ApiError as exc:
            if exc.status == 401:
                self.sign_out()
                if self.on_signed_out is not None:
                    self.on_signed_out()
                return Outcome(error=SIGNED_OUT)
            return Outcome(error=sentence(exc.message))
        except ServerUnreachable:
            return Outcome(error=UNREACHABLE)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
