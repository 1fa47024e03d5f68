"""The client the kiosk, the counter terminal and the display board use to talk to the server.

Commands go over HTTP (aiohttp); live state comes over one WebSocket (websockets), resumed with
``?since=SEQ`` after a lost connection so nothing is missed and nothing is shown twice.
Every failure surfaces as :class:`ApiError` (the server refused, with its message) or
:class:`ServerUnreachable` (no answer), so the apps can show a plain message, never a traceback.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgspec
import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from lobby import protocol as p

T = TypeVar("T")
StreamMessage = p.StreamMessage


class ApiError(Exception):
    """The server answered and refused. ``message`` is meant for the person at the screen."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class ServerUnreachable(Exception):
    """No answer from the server (down, network cut, timeout)."""


_stream_decoder = msgspec.json.Decoder(p.StreamMessage)
_error_decoder = msgspec.json.Decoder(p.ErrorResponse)


def decode_stream_message(raw: str | bytes) -> StreamMessage:
    return _stream_decoder.decode(raw)


def ws_url(base_url: str, since: int | None = None) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = f"since={since}" if since is not None else ""
    return urlunsplit((scheme, parts.netloc, "/ws", query, ""))


class LobbyClient:
    """HTTP commands. Create inside a running event loop; close with :meth:`close`."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    async def __aenter__(self) -> LobbyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: msgspec.Struct | None = None,
        result: type[T] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = (
            msgspec.json.encode(body) if body is not None else b"{}" if method == "POST" else None
        )
        try:
            async with self._session.request(
                method, self.base_url + path, data=data, headers=headers, params=params
            ) as response:
                raw = await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ServerUnreachable(f"cannot reach the server at {self.base_url}") from exc
        if response.status >= 400:
            try:
                error = _error_decoder.decode(raw).error
            except msgspec.DecodeError:
                raise ApiError(
                    response.status, "error", raw.decode(errors="replace")[:200]
                ) from None
            raise ApiError(response.status, error.code, error.message, error.field)
        if result is None:
            return msgspec.json.decode(raw)
        return msgspec.json.decode(raw, type=result)

    # -- sessions
    async def login(self, name: str, password: str) -> p.LoginResponse:
        answer: p.LoginResponse = await self.request(
            "POST", "/api/login", p.LoginRequest(name=name, password=password), p.LoginResponse
        )
        self.token = answer.token
        return answer

    async def state(self) -> p.StateSnapshot:
        return await self.request("GET", "/api/state", result=p.StateSnapshot)

    # -- tickets
    async def check_in(self, request: p.CheckInRequest) -> p.TicketView:
        return await self.request("POST", "/api/tickets", request, p.TicketView)

    async def ticket(self, ticket_id: int) -> p.TicketView:
        return await self.request("GET", f"/api/tickets/{ticket_id}", result=p.TicketView)

    async def ticket_action(
        self, ticket_id: int, action: str, body: msgspec.Struct | None = None
    ) -> p.TicketView:
        """``action``: recall, start, no-show, cancel, complete, transfer, notes, flag..."""
        return await self.request("POST", f"/api/tickets/{ticket_id}/{action}", body, p.TicketView)

    async def acknowledged(
        self, ticket_id: int, via: Literal["printed", "screen"] | str, at: datetime | None = None
    ) -> p.TicketView:
        """``at``: when the ticket was printed or shown, by this device's clock."""
        if via not in ("printed", "screen"):
            raise ValueError(f"via must be 'printed' or 'screen', not {via!r}")
        request = p.AcknowledgedRequest(via=via, at=at)
        return await self.ticket_action(ticket_id, "acknowledged", request)

    # -- counters
    async def counter_action(self, counter_id: str, action: str) -> p.CounterView:
        """``action``: open, break, close."""
        return await self.request(
            "POST", f"/api/counters/{counter_id}/{action}", None, p.CounterView
        )

    async def call_next(self, counter_id: str) -> p.TicketView:
        answer: p.CallNextResponse = await self.request(
            "POST", f"/api/counters/{counter_id}/call-next", None, p.CallNextResponse
        )
        return answer.ticket

    async def safety_alert(self, counter_id: str, request_id: str) -> p.AlertView:
        return await self.request(
            "POST",
            f"/api/counters/{counter_id}/alert",
            p.AlertRequest(client_request_id=request_id),
            p.AlertView,
        )

    async def checklist(self, alert_id: int, done: list[int], note: str | None) -> p.AlertView:
        return await self.request(
            "POST", "/api/alerts/checklist", p.ChecklistRequest(alert_id, done, note), p.AlertView
        )

    async def emergency_ack(self, emergency_id: int, counter: str | None = None) -> Any:
        """This screen shows emergency ``emergency_id``: a device says so by its token, a
        counter terminal names its counter."""
        return await self.request(
            "POST",
            "/api/emergency/ack",
            p.EmergencyAckRequest(emergency=emergency_id, counter=counter),
        )

    async def printer_status(self, status: str, detail: str = "") -> Any:
        return await self.request(
            "POST",
            "/api/devices/printer-status",
            p.PrinterStatusRequest(status=status, detail=detail),  # type: ignore[arg-type]
        )


JITTER = 0.25
"""Each reconnect delay is stretched or shrunk by up to this share, at random, so the screens
of a whole office do not all knock at the same instant when their server comes back."""


def reconnect_delay(
    attempt: int, delays: tuple[float, ...], draw: Callable[[], float] = random.random
) -> float:
    """The wait before reconnect ``attempt`` (0 first): the delays in turn, the last one
    repeated, each with its jitter (``draw`` returns a number in [0, 1))."""
    base = delays[min(attempt, len(delays) - 1)]
    return base * (1 - JITTER + 2 * JITTER * draw())


async def live(
    base_url: str,
    token: str,
    *,
    on_connection: Callable[[bool], None] | None = None,
    reconnect_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0),
) -> AsyncIterator[StreamMessage]:
    """Yield the stream's messages for ever, reconnecting by itself.

    Every connection starts with a snapshot; after a reconnect the client names the last seq
    it saw (``?since=``) so the snapshot also announces the calls it missed while they are
    fresh. Fold the messages with :class:`lobby.state.OfficeState`, which ignores anything
    older than what it holds. ``on_connection(False)`` is called when the link drops.
    The seq named is the one the screen holds: a snapshot's own, even below what came before
    (a database put back from a backup), then each patch's.
    """
    last_seq: int | None = None
    attempt = 0
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        try:
            async with connect(
                ws_url(base_url, last_seq),
                additional_headers=headers,
                open_timeout=5,
                ping_interval=20,
            ) as ws:
                attempt = 0
                if on_connection:
                    on_connection(True)
                async for raw in ws:
                    message = decode_stream_message(raw)
                    if isinstance(message, p.StreamSnapshot) or last_seq is None:
                        last_seq = message.seq
                    else:
                        last_seq = max(last_seq, message.seq)
                    yield message
        except InvalidStatus as exc:
            if exc.response.status_code in (401, 403):
                raise ApiError(
                    exc.response.status_code,
                    "unauthorized",
                    "the server refused this device's token",
                ) from None
        except (OSError, ConnectionClosed, TimeoutError, websockets.InvalidHandshake):
            pass
        if on_connection:
            on_connection(False)
        await asyncio.sleep(reconnect_delay(attempt, reconnect_delays))
        attempt += 1
